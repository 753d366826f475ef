#!/usr/bin/env python3
"""Goldens for chunked score-first SGD TTT (`eval_val_sliding_ttt`) on a record-family model, computed by
the record's OWN model and TTT function.

Run by hand (never in CI):  /work/venv/bin/python tools/family_chunked_ttt_goldens.py [--shared ../shared] [--only CASE]

Two cases, each written to fixtures/ttt/family-chunked/<case>/:

`parallelmuon-0323`: records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon/train_gpt.py is exec'd from the shared
corpus at run time as tools/family_goldens.py execs the March records (its CPU stand-ins for flash
attention/triton/torch.compile, env set before exec so `Hyperparameters` read it). Its `GPT` is built by the
record's own `eval_model = GPT(...)` call at tiny dimensions (BigramHash with projection, value embeddings on
two blocks, SmearGate(dim), XSA, partial RoPE, ln_scale, parameter banks), every parameter random and
nonzero (family_goldens.randomize), and the record's own `eval_val_sliding_ttt` runs on a slice of
../shared/val with small TTT settings. Harness adaptations (documented in fixtures/ttt/family-chunked/README.md):
  * the line tracer of tools/ttt_goldens.py reads the function's running sums when a chunk's scoring phase
    ends (`is_last_chunk = ...`): per-chunk loss/tokens/bytes; nothing in the function changes;
  * the record's `Rotary` caches cos/sin built under `torch.inference_mode()` (scoring); in float32 on CPU
    `.to(dtype)` hands that inference tensor to training, which autograd refuses, so the cached table is
    rebuilt outside inference mode (ttt_goldens.allow_training_after_inference: same values);
  * CUDA autocast is inert on CPU (float32 throughout); one rank (no all-reduce).
Runs: `pre_ttt` (ttt_epochs 0), `ttt`, and `ttt_late_qat` (the same with the record's
`CastedLinear._qat_enabled = True`, as its runs leave it after late QAT: the CastedLinear projections
(bigram.proj, ve_shared.proj) train through int6 fake quantisation with a straight-through gradient).

`looped-0406`: records/track_10min_16mb/2026-04-06_SP8192_QK5_LegalTTT_1.0828/train_gpt.py is a
self-extracting wrapper (lzma2 raw + base85): the harness decodes it (reads, never runs the wrapper) and
execs every top-level statement of the decoded module that Python 3.11 compiles (two use 3.12-only
f-strings: `gptq_mixed_quantize` and `train_and_eval`, quantisation and the training driver, neither on the
eval path; listed in the golden as `skipped_statements`). Its `GPT(h)` (the 2026-04 core: looped
layers, gated U-Net skips, XSA, partial RoPE, ln_scale; no banks: a frozen block freezes every tensor) is
built at tiny dims with vocab 1024, random nonzero weights, `looping_active = True` as its
`train_and_eval` sets before the TTT eval, and its own `eval_val_sliding_ttt` (windows scoring each target
once, `eval_seq_len` windows) runs on the same slice: `pre_ttt` and `ttt`.
"""
from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import importlib
import json
import lzma
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_goldens as fg  # noqa: E402
import ttt_goldens as tg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT_ROOT = ROOT / "fixtures" / "ttt" / "family-chunked"
RECORD = "2026-03-23_LeakyReLU_LegalTTT_ParallelMuon"
LOOPED_RECORD = "2026-04-06_SP8192_QK5_LegalTTT_1.0828"
TOKENIZER = "fineweb_1024_bpe.model"

# Tiny March-family shape (the record's own env names). 3 layers: 1 encoder + 2 decoder blocks, one skip.
ENV = dict(
    NUM_LAYERS="3", MODEL_DIM="32", NUM_HEADS="4", NUM_KV_HEADS="2", MLP_MULT="3", VOCAB_SIZE="1024",
    ROPE_DIMS="4", ROPE_BASE="10000", LOGIT_SOFTCAP="30", QK_GAIN_INIT="1.5", TIE_EMBEDDINGS="1",
    XSA_LAST_N="2", LN_SCALE="1", DTG_ENABLED="0", GATED_ATTENTION="0", VALUE_RESIDUAL="0",
    BIGRAM_VOCAB_SIZE="97", BIGRAM_DIM="16", VE_ENABLED="1", VE_DIM="8", VE_LAYERS="1,2",
    TRAIN_SEQ_LEN="128", EVAL_SEQ_LEN="128", MTP_NUM_HEADS="0", WORLD_SIZE="1", RANK="0", LOCAL_RANK="0",
    # TTT: lr raised from the record's 0.002 so adaptation visibly moves a random model; 1 frozen block
    # (its scalars freeze; its matrices live in the banks and train, as in the record).
    TTT_ENABLED="1", TTT_LR="0.05", TTT_EPOCHS="2", TTT_CHUNK_TOKENS="1024", TTT_FREEZE_BLOCKS="1",
    TTT_MOMENTUM="0.9", TTT_BATCH_SEQS="3", TTT_GRAD_CLIP="1.0", EVAL_STRIDE="48",
)
STRIDE = 48  # does not divide 128: the record's tail windows rescore the last targets
TARGETS = 3840  # 30 sequences of 128; chunks of 1,024 -> 4 chunks (the last 768 targets, never trained on)
HP_NAMES = ["vocab_size", "num_layers", "model_dim", "num_heads", "num_kv_heads", "mlp_mult", "tie_embeddings",
            "logit_softcap", "rope_base", "rope_dims", "ln_scale", "qk_gain_init", "xsa_last_n",
            "bigram_vocab_size", "bigram_dim", "ve_enabled", "ve_dim", "ve_layers", "eval_seq_len", "train_seq_len",
            "ttt_lr", "ttt_epochs", "ttt_chunk_tokens", "ttt_freeze_blocks", "ttt_momentum", "ttt_batch_seqs",
            "ttt_grad_clip", "eval_stride"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def summary(tensor: torch.Tensor) -> dict:
    t = tensor.detach().double().reshape(-1)
    n = t.numel()
    indices = sorted(set(int(round(i * (n - 1) / 8)) for i in range(9)))
    return dict(sum=float(t.sum()), abs_sum=float(t.abs().sum()), indices=indices, values=[float(t[i]) for i in indices])


def run(mod, model, tokens, luts, mark: int, epochs: int, packed: bool = False) -> dict:
    """The record's eval_val_sliding_ttt with a line tracer at the end of each chunk's scoring phase."""
    args = mod.Hyperparameters()
    args.ttt_epochs = epochs
    snapshots, logs = [], []

    def local_tracer(frame, event, arg):
        if event == "line" and frame.f_lineno == mark:
            f = frame.f_locals
            snapshots.append((f["ci"], f["loss_sum"].item(), f["token_count"].item(), f["byte_count"].item()))
        return local_tracer

    def global_tracer(frame, event, arg):
        return local_tracer if frame.f_code.co_name == "eval_val_sliding_ttt" else None

    sys.settrace(global_tracer)
    try:
        started = time.perf_counter()
        if packed:  # 2026-04-0x: (h, base_model, rank, world_size, device, val_data, stride), module-level `log`
            mod.log = lambda msg, console=True: logs.append(msg)
            val_data = types.SimpleNamespace(val_tokens=tokens, base_bytes_lut=luts[0], has_leading_space_lut=luts[1],
                                             is_boundary_token_lut=luts[2])
            loss, bpb = mod.eval_val_sliding_ttt(args, model, 0, 1, torch.device("cpu"), val_data, STRIDE)
        else:
            loss, bpb = mod.eval_val_sliding_ttt(args, model, 0, 1, torch.device("cpu"), tokens, *luts,
                                                 stride=STRIDE, log0=logs.append)
    finally:
        sys.settrace(None)
    chunks, prev = [], (0.0, 0.0, 0.0)
    for ci, ls, tc, bc in snapshots:
        chunks.append(dict(chunk=ci, loss_sum=ls - prev[0], tokens=tc - prev[1], bytes=bc - prev[2],
                           loss=(ls - prev[0]) / (tc - prev[1])))
        prev = (ls, tc, bc)
    return dict(val_loss=loss, val_bpb=bpb, chunks=chunks, log=logs, seconds=time.perf_counter() - started)


def slice_stream(shared: Path, folder: Path) -> tuple[np.ndarray, int]:
    """TARGETS + 1 tokens of the val shard from the document start where they cross the most documents."""
    source = fg.read_shard(shared / "val" / "fineweb_val_000000.bin")
    start = fg.densest_documents(source, TARGETS + 1)
    stream = source[start:start + TARGETS + 1].copy()
    fg.write_shard(folder / "val_tokens.bin", stream)
    return stream, start


def final_summaries(state: dict) -> dict:
    return {name: summary(state[name]) for name in sorted(state)}


def run_parallel_muon(shared: Path) -> None:
    out = OUT_ROOT / "parallelmuon-0323"
    out.mkdir(parents=True, exist_ok=True)
    script = shared / fg.RECORDS / RECORD / "train_gpt.py"
    _, mark, _ = tg.load_record_ttt(shared)  # the `is_last_chunk = ...` line of this record's function
    assert tg.TTT_RECORD.endswith(f"{RECORD}/train_gpt.py")
    stream, start = slice_stream(shared, out)

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(ENV, DATA_PATH=tmp, TOKENIZER_PATH=str(shared / "tokenizers" / TOKENIZER))
        mod = fg.exec_record(script, env)
        tg.allow_training_after_inference(mod)
        args = mod.Hyperparameters()
        call = compile(fg.record_call(script.read_text(encoding="utf-8"), "eval_model", "GPT"), str(script), "eval")

        def fresh_model(state=None):
            model = eval(call, {"GPT": mod.GPT, "args": args}).float()
            if state is None:
                fg.randomize(model, seed=20240523)
            else:
                model.load_state_dict(state, strict=True)
            return model

        initial = {k: v.clone() for k, v in fresh_model().state_dict().items()}
        fg.write_raw_weights(mod._unbank_state_dict(initial, args.num_layers), out, args.train_seq_len)
        sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / TOKENIZER))
        luts = mod.build_sentencepiece_luts(sp, args.vocab_size, torch.device("cpu"))
        tokens = torch.from_numpy(stream.astype(np.int64)).to(torch.int64)

        runs = {}
        for label, epochs, qat in (("pre_ttt", 0, False), ("ttt", args.ttt_epochs, False),
                                   ("ttt_late_qat", args.ttt_epochs, True)):
            mod.CastedLinear._qat_enabled = qat
            model = fresh_model(initial)
            runs[label] = run(mod, model, tokens, luts, mark, epochs)
            if epochs > 0:
                runs[label]["final_weights"] = final_summaries(mod._unbank_state_dict(model.state_dict(), args.num_layers))
            print(label, runs[label]["val_loss"], runs[label]["val_bpb"], f"{runs[label]['seconds']:.1f}s")
        mod.CastedLinear._qat_enabled = False

    golden = dict(
        record=f"records/track_10min_16mb/{RECORD}", record_sha256=sha256(script), torch=torch.__version__,
        function="eval_val_sliding_ttt", tokenizer=TOKENIZER,
        val_source=dict(shard="val/fineweb_val_000000.bin", offset=int(start), tokens=int(len(stream)),
                        documents=int((stream == 1).sum())),
        env=ENV, hyperparameters={n: getattr(args, n) for n in HP_NAMES if hasattr(args, n)},
        stride=STRIDE, score_batch_seqs=32, banked=True, window_rule="tail", **runs)
    (out / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")


# 2026-04-06 at tiny dims (its env names). 4 layers, loop of blocks 1-2 once more: encoder [0,1,2], decoder
# [1,2,3] when looping is active, three gated skips.
LOOPED_ENV = dict(
    NUM_LAYERS="4", MODEL_DIM="32", EMBEDDING_DIM="32", NUM_HEADS="4", NUM_KV_HEADS="2", MLP_MULT="4",
    VOCAB_SIZE="1024", ROPE_DIMS="4", ROPE_BASE="10000", LOGIT_SOFTCAP="30", QK_GAIN_INIT="5.0", TIE_EMBEDDINGS="1",
    XSA_LAST_N="4", LN_SCALE="1", SKIP_GATES_ENABLED="1", NUM_LOOPS="1", LOOP_START="1", LOOP_END="2",
    TRAIN_SEQ_LEN="128", EVAL_SEQ_LEN="128", ROPE_TRAIN_SEQ_LEN="128", WORLD_SIZE="1", RANK="0", LOCAL_RANK="0",
    TTT_ENABLED="1", TTT_LR="0.05", TTT_EPOCHS="2", TTT_CHUNK_TOKENS="1024", TTT_FREEZE_BLOCKS="1",
    TTT_MOMENTUM="0.9", TTT_BATCH_SEQS="3", TTT_GRAD_CLIP="1.0", EVAL_STRIDE="48",
)
LOOPED_HP_NAMES = HP_NAMES + ["num_loops", "loop_start", "loop_end", "skip_gates_enabled", "embedding_dim"]


def decoded_record(path: Path) -> str:
    """The module a self-extracting wrapper runs: its one long string literal, base85 then lzma (xz or raw lzma2)."""
    packed = [n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) > 1000]
    assert len(packed) == 1, "record layout changed (packed code)"
    raw = base64.b85decode(packed[0])
    try:
        return lzma.decompress(raw).decode("utf-8")
    except lzma.LZMAError:
        return lzma.decompress(raw, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2}]).decode("utf-8")


def exec_compilable(source: str, name: str, env: dict) -> tuple[types.ModuleType, list[str]]:
    """Execs each top-level statement (decorators kept with their def) that this Python compiles, in order,
    with `env` as the environment; returns the module and the first lines of the statements skipped."""
    os.environ.clear()
    os.environ.update(fg._BASE_ENV)
    os.environ.update(env)
    lines = source.split("\n")
    statements, current = [], []
    for number, line in enumerate(lines, 1):
        starts = line and not line[0].isspace() and not line.startswith(("else", "elif", "except", "finally", ")"))
        if starts and current and not lines[current[-1][0] - 1].startswith("@"):
            statements.append(current)
            current = []
        current.append((number, line))
    statements.append(current)
    module = types.ModuleType(name)
    module.__file__ = name
    skipped = []
    for statement in statements:
        first = statement[0][0]
        text = "\n" * (first - 1) + "\n".join(line for _, line in statement)  # line numbers kept
        try:
            code = compile(text, name, "exec")
        except SyntaxError:
            skipped.append(statement[0][1][:60] if not statement[0][1].startswith("@") else statement[1][1][:60])
            continue
        exec(code, module.__dict__)
    return module, skipped


def run_looped(shared: Path) -> None:
    out = OUT_ROOT / "looped-0406"
    out.mkdir(parents=True, exist_ok=True)
    script = shared / fg.RECORDS / LOOPED_RECORD / "train_gpt.py"
    source = decoded_record(script)
    name = f"{script} (decoded)"
    stream, start = slice_stream(shared, out)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(LOOPED_ENV, DATA_DIR=tmp + "/")
        mod, skipped = exec_compilable(source, name, env)
        h = mod.Hyperparameters()
        function_start = source.split("\n").index(next(line for line in source.split("\n")
                                                        if line.startswith("def eval_val_sliding_ttt(")))
        mark = next(i + 1 for i, line in enumerate(source.split("\n")) if i > function_start
                    and line.lstrip().startswith("is_last_chunk="))

        def fresh_model(state=None):
            model = mod.GPT(h).float()
            if state is None:
                fg.randomize(model, seed=20240524)
            else:
                model.load_state_dict(state, strict=True)
            model.looping_active = True  # as train_and_eval does for its TTT model
            return model

        initial = {k: v.clone() for k, v in fresh_model().state_dict().items()}
        fg.write_raw_weights(initial, out, h.eval_seq_len)
        sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / TOKENIZER))
        luts = mod.build_sentencepiece_luts(sp, h.vocab_size, torch.device("cpu"))
        tokens = torch.from_numpy(stream.astype(np.int64)).to(torch.int64)
        runs = {}
        for label, epochs in (("pre_ttt", 0), ("ttt", h.ttt_epochs)):
            model = fresh_model(initial)
            runs[label] = run(mod, model, tokens, luts, mark, epochs, packed=True)
            if epochs > 0:
                runs[label]["final_weights"] = final_summaries(model.state_dict())
            print("looped", label, runs[label]["val_loss"], runs[label]["val_bpb"], f"{runs[label]['seconds']:.1f}s")

    golden = dict(
        record=f"records/track_10min_16mb/{LOOPED_RECORD}", record_sha256=sha256(script), torch=torch.__version__,
        function="eval_val_sliding_ttt", tokenizer=TOKENIZER, skipped_statements=skipped,
        val_source=dict(shard="val/fineweb_val_000000.bin", offset=int(start), tokens=int(len(stream)),
                        documents=int((stream == 1).sum())),
        env=LOOPED_ENV, hyperparameters={n: getattr(h, n) for n in LOOPED_HP_NAMES if hasattr(h, n)},
        stride=STRIDE, score_batch_seqs=h.ttt_batch_seqs, banked=False, window_rule="once", **runs)
    (out / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--only", choices=["parallelmuon-0323", "looped-0406"])
    opts = parser.parse_args()
    shared = Path(opts.shared).resolve()
    torch.set_num_threads(2)
    importlib.import_module("torch._dynamo")  # before the triton stand-ins (see phased_ttt_goldens.py)
    fg.install_stubs()
    if opts.only in (None, "parallelmuon-0323"):
        run_parallel_muon(shared)
    if opts.only in (None, "looped-0406"):
        run_looped(shared)


if __name__ == "__main__":
    main()
