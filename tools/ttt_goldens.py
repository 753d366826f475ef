#!/usr/bin/env python3
"""Goldens for pgverify's backward pass, optimizers and score-first TTT, computed by the challenge's code.

Run by hand (never in CI):  /work/venv/bin/python tools/ttt_goldens.py [--shared ../shared] [--threads 2]

- The baseline GPT comes from ../shared/corpus/parameter-golf/train_gpt.py (importlib, run time).
- The TTT evaluator is the record's own `eval_val_sliding_ttt`, exec'd (via `ast`, only that function)
  from records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon/train_gpt.py.
- Optimizers are torch.optim's own SGD / Adam / AdamW.
Nothing of that code is copied here. Everything runs in float32 on CPU. See tools/README.md
("## ttt_goldens.py") and fixtures/ttt/README.md.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import math
import sys
import time
import types
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_goldens import LogitCapture, attach_forward_logits, load_module, write_shard  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "ttt"
TINY_WEIGHTS = ROOT / "fixtures" / "eval" / "tiny.weights.json"
TTT_RECORD = "records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon/train_gpt.py"
LORA_RECORD = "records/track_10min_16mb/2026-03-17_LoRA_TTT/train_gpt.py"
# Per-document LoRA TTT settings (the record's names); small chunks so that every document trains.
LORA = dict(ttt_lora_rank=4, ttt_lora_lr=0.01, ttt_chunk_size=64, ttt_eval_seq_len=128, ttt_batch_size=4,
            beta1=0.9, beta2=0.95)
# A later record whose TTT scores every target exactly once; its code is lzma+base85 packed.
TTT_RECORD_ONCE = "records/track_10min_16mb/2026-04-08_SP8192_ParallelResid_ScoreFirstTTT/train_gpt.py"

# Tokens: a slice of the real-text val shard that starts at a BOS and spans six documents.
SLICE_START = 16461
SLICE_TARGETS = 8192
SEQ_LEN = 64

# TTT settings for the golden (the record's Hyperparameters names). lr is raised from the record's
# 0.002 so that adaptation visibly moves a random model; chunk 2048 gives 4 chunks of 32 sequences.
TTT = dict(ttt_lr=0.05, ttt_epochs=2, ttt_chunk_tokens=2048, ttt_freeze_blocks=1, ttt_momentum=0.9,
           ttt_batch_seqs=8, ttt_grad_clip=1.0)
STRIDE = 24  # does not divide seq_len: the record's tail windows rescore the last tokens
SCORE_BATCH_SEQS = 32


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_raw_weights(path: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    doc = json.loads(path.read_text())
    blob = (path.parent / doc["blob"]).read_bytes()
    state = {}
    for t in doc["tensors"]:
        n = int(np.prod(t["shape"])) if t["shape"] else 1
        values = np.frombuffer(blob, dtype="<f4", count=n, offset=t["offset"]).copy()
        state[t["name"]] = torch.from_numpy(values.reshape(t["shape"]))
    return doc, state


def build_model(baseline, config: dict, state: dict, capture: LogitCapture):
    model = baseline.GPT(
        vocab_size=config["vocab_size"], num_layers=config["num_layers"], model_dim=config["model_dim"],
        num_heads=config["num_heads"], num_kv_heads=config["num_kv_heads"], mlp_mult=config["mlp_mult"],
        tie_embeddings=config["tie_embeddings"], tied_embed_init_std=0.005,
        logit_softcap=config["logit_softcap"], rope_base=config["rope_base"], qk_gain_init=1.5,
    ).float()
    model.load_state_dict({k: v.float().clone() for k, v in state.items()}, strict=True)
    attach_forward_logits(model, capture)
    return model


def allow_training_after_inference(baseline) -> None:
    """The baseline's Rotary caches cos/sin; tables built under `torch.inference_mode()` (scoring)
    cannot be saved for backward (training). Drop such a cached table outside inference mode so it is
    rebuilt: the same values, a normal tensor. (The records' own models work around it themselves.)"""
    original = baseline.Rotary.forward

    def forward(self, seq_len, device, dtype):
        cached = self._cos_cached
        if cached is not None and cached.is_inference() and not torch.is_inference_mode_enabled():
            self._cos_cached = None
        return original(self, seq_len, device, dtype)
    baseline.Rotary.forward = forward


def sample_indices(count: int) -> list[int]:
    picks = sorted({(i * count) // 8 for i in range(8)} | {count - 1})
    return picks


def gradient_case(baseline, capture, config, state, tokens: torch.Tensor, batch: int, name: str) -> dict:
    model = build_model(baseline, config, state, capture)
    model.train()
    local = tokens[: batch * SEQ_LEN + 1].to(torch.int64)
    x = local[:-1].reshape(batch, SEQ_LEN)
    y = local[1:].reshape(batch, SEQ_LEN)
    loss = model(x, y)
    loss.backward()
    grads = {}
    for pname, p in model.named_parameters():
        g = p.grad.detach().to(torch.float64).reshape(-1)
        idx = sample_indices(g.numel())
        grads[pname] = dict(shape=list(p.shape), sum=g.sum().item(), abs_sum=g.abs().sum().item(),
                            max_abs=g.abs().max().item(), indices=idx, values=[g[i].item() for i in idx])
    return dict(name=name, tie_embeddings=config["tie_embeddings"], batch=batch, seq_len=SEQ_LEN,
                loss=loss.item(), gradients=grads)


def optimizer_cases() -> list[dict]:
    gen = torch.Generator().manual_seed(7)
    p0 = torch.randn(12, generator=gen)
    grads = [torch.randn(12, generator=gen) for _ in range(5)]
    specs = [
        ("sgd_momentum", torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
        ("sgd_nesterov_wd", torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        ("sgd_dampening", torch.optim.SGD, dict(lr=0.05, momentum=0.5, dampening=0.2)),
        ("adam", torch.optim.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
        ("adam_l2", torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
        ("adamw", torch.optim.AdamW, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
    ]
    cases = []
    for name, cls, kwargs in specs:
        p = torch.nn.Parameter(p0.clone())
        opt = cls([p], **kwargs)
        trajectory = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            trajectory.append(p.detach().tolist())
        options = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
        cases.append(dict(name=name, optimizer=cls.__name__, options=options, trajectory=trajectory))
    return dict(initial=p0.tolist(), gradients=[g.tolist() for g in grads], cases=cases)


def load_record_ttt(shared: Path):
    """exec only `eval_val_sliding_ttt` from the record (its module imports flash-attention)."""
    path = shared / "corpus" / "parameter-golf" / TTT_RECORD
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "eval_val_sliding_ttt"]
    assert len(wanted) == 1, "record layout changed"
    fn = wanted[0]
    marks = [n.lineno for n in ast.walk(fn) if isinstance(n, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "is_last_chunk" for t in n.targets)]
    assert len(marks) == 1, "record layout changed (is_last_chunk)"
    namespace = dict(torch=torch, F=torch.nn.functional, math=math, time=time, dist=torch.distributed,
                     nn=torch.nn, Tensor=torch.Tensor, Hyperparameters=object)
    exec(compile(ast.Module(body=wanted, type_ignores=[]), str(path), "exec"), namespace)
    return namespace["eval_val_sliding_ttt"], marks[0], path


class CompileFree:
    """`torch` for the packed record's function, with `torch.compile` as the identity (CPU, float32)."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def compile(fn, **_):
        return fn


def load_packed_record_ttt(shared: Path):
    """Unpacks (lzma of base85: read, not run) the record's code and execs only its
    `eval_val_sliding_ttt`; returns it with the line that ends a chunk's scoring phase."""
    import lzma
    import base64
    path = shared / "corpus" / "parameter-golf" / TTT_RECORD_ONCE
    packed = [n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) > 1000]
    assert len(packed) == 1, "record layout changed (packed code)"
    source = lzma.decompress(base64.b85decode(packed[0])).decode("utf-8")
    # The unpacked module uses Python 3.12 f-strings elsewhere; parse only the function's own text
    # (from its `def` to the next top-level statement), line numbers kept.
    start = source.index("\ndef eval_val_sliding_ttt(") + 1
    end = min(i for i in (source.find("\ndef ", start), source.find("\nclass ", start)) if i > 0)
    first_line = source[:start].count("\n")
    tree = ast.parse(source[start:end])
    ast.increment_lineno(tree, first_line)
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "eval_val_sliding_ttt"]
    assert len(wanted) == 1, "record layout changed"
    marks = [n.lineno for n in ast.walk(wanted[0]) if isinstance(n, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "is_last_chunk" for t in n.targets)]
    assert len(marks) == 1, "record layout changed (is_last_chunk)"
    logs = []
    namespace = dict(torch=CompileFree(), F=torch.nn.functional, math=math, time=time, dist=torch.distributed,
                     log=logs.append)
    exec(compile(ast.Module(body=wanted, type_ignores=[]), f"{path} (unpacked)", "exec"), namespace)
    return namespace["eval_val_sliding_ttt"], marks[0], path, logs


def run_ttt(ttt_fn, score_line: int, model, tokens, luts, settings: dict, packed_logs=None) -> dict:
    """Runs the record's function; a line tracer reads its running sums each time a chunk's scoring
    phase ends (the `is_last_chunk = ...` line), which gives the per-chunk loss sequence."""
    args = types.SimpleNamespace(train_seq_len=SEQ_LEN, **settings)
    snapshots = []

    def local_tracer(frame, event, arg):
        if event == "line" and frame.f_lineno == score_line:
            f = frame.f_locals
            snapshots.append((f["ci"], f["loss_sum"].item(), f["token_count"].item(), f["byte_count"].item()))
        return local_tracer

    def global_tracer(frame, event, arg):
        return local_tracer if frame.f_code.co_name == "eval_val_sliding_ttt" else None

    logs = [] if packed_logs is None else packed_logs
    logs.clear()
    sys.settrace(global_tracer)
    try:
        if packed_logs is None:
            loss, bpb = ttt_fn(args, model, 0, 1, torch.device("cpu"), tokens, *luts,
                               stride=STRIDE, batch_seqs=SCORE_BATCH_SEQS, log0=logs.append)
        else:  # 2026-04-08's signature: (h, base_model, rank, world_size, device, val_data, stride)
            args.eval_seq_len = SEQ_LEN
            val_data = types.SimpleNamespace(val_tokens=tokens, base_bytes_lut=luts[0],
                                             has_leading_space_lut=luts[1], is_boundary_token_lut=luts[2])
            loss, bpb = ttt_fn(args, model, 0, 1, torch.device("cpu"), val_data, STRIDE)
    finally:
        sys.settrace(None)
    chunks, prev = [], (0.0, 0.0, 0.0)
    for ci, ls, tc, bc in snapshots:
        chunks.append(dict(chunk=ci, loss_sum=ls - prev[0], tokens=tc - prev[1], bytes=bc - prev[2],
                           loss=(ls - prev[0]) / (tc - prev[1])))
        prev = (ls, tc, bc)
    return dict(val_loss=loss, val_bpb=bpb, chunks=chunks, log=logs)


def lora_uniform(document: int, adapter: int, count: int, bound: np.float32) -> np.ndarray:
    """pgverify's LoRA `A` draws (Reference.LoRAInit): SplitMix64 of doc<<40 + adapter<<32 + element,
    top 24 bits as a uniform in [0, 1), scaled to [-bound, bound) in float32."""
    with np.errstate(over="ignore"):
        z = (np.uint64(document) << np.uint64(40)) + (np.uint64(adapter) << np.uint64(32)) + np.arange(count, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    unit = (z >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)
    return (np.float32(2) * unit - np.float32(1)) * bound


def run_lora_ttt(shared: Path, config: dict, state: dict, shard: Path, luts, lr: float) -> dict:
    """The record's own eval_val_ttt_lora on its own GPT (the baseline's, plus LoRA hooks) with the tiny
    weights. One documented change: each adapter's `A` is drawn from pgverify's deterministic stream
    for its document (the record draws from torch's global RNG, whose state after training no verifier
    can replay); the record's code is otherwise untouched."""
    path = shared / "corpus" / "parameter-golf" / LORA_RECORD
    record = load_module("pg_lora_record", path)
    starts = [int(i) for i in np.nonzero(record.load_data_shard(shard).numpy() == 1)[0]]
    current = {"batch": None}

    def init(lora):
        batch = current["batch"]
        if batch is None or len(batch) != lora.lm_head_lora.A.shape[0]:
            return  # the record's first, unused construction
        with torch.no_grad():
            adapters = [lora.lm_head_lora, *lora.q_loras, *lora.v_loras]
            for b, (doc_start, _) in enumerate(batch):
                doc = starts.index(doc_start)
                for index, adapter in enumerate(adapters):
                    bound = np.float32(1) / np.sqrt(np.float32(adapter.in_features))
                    values = lora_uniform(doc, index, adapter.A[b].numel(), bound)
                    adapter.A[b].copy_(torch.from_numpy(values).reshape(adapter.A[b].shape))
                    adapter.B[b].zero_()

    original_init, original_reset = record.BatchedTTTLoRA.__init__, record.BatchedTTTLoRA.reset

    def patched_init(self, *a, **k):
        original_init(self, *a, **k)
        init(self)

    def patched_reset(self):
        original_reset(self)
        init(self)
    record.BatchedTTTLoRA.__init__, record.BatchedTTTLoRA.reset = patched_init, patched_reset

    model = record.GPT(
        vocab_size=config["vocab_size"], num_layers=config["num_layers"], model_dim=config["model_dim"],
        num_heads=config["num_heads"], num_kv_heads=config["num_kv_heads"], mlp_mult=config["mlp_mult"],
        tie_embeddings=config["tie_embeddings"], tied_embed_init_std=0.005,
        logit_softcap=config["logit_softcap"], rope_base=config["rope_base"], qk_gain_init=1.5).float()
    model.load_state_dict({k: v.float().clone() for k, v in state.items()}, strict=True)
    args = types.SimpleNamespace(val_files=str(shard), **dict(LORA, ttt_lora_lr=lr))

    def local_tracer(frame, event, arg):
        if event == "line":
            current["batch"] = frame.f_locals.get("batch")
        return local_tracer

    def global_tracer(frame, event, arg):
        return local_tracer if frame.f_code.co_name == "eval_val_ttt_lora" else None
    sys.settrace(global_tracer)
    try:
        started = time.perf_counter()
        loss, bpb = record.eval_val_ttt_lora(args, model, 0, 1, torch.device("cpu"), *luts)
    finally:
        sys.settrace(None)
    return dict(val_loss=loss, val_bpb=bpb, seconds=time.perf_counter() - started, documents=len(starts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-ttt", action="store_true")
    opts = parser.parse_args()
    shared = Path(opts.shared).resolve()
    torch.set_num_threads(opts.threads)
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)

    baseline_path = shared / "corpus" / "parameter-golf" / "train_gpt.py"
    baseline = load_module("pg_baseline", baseline_path)
    capture = LogitCapture()
    baseline.F = capture
    allow_training_after_inference(baseline)
    doc, state = load_raw_weights(TINY_WEIGHTS)
    config = doc["config"]
    assert doc["seq_len"] == SEQ_LEN

    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    stream = baseline.load_data_shard(shard)
    piece = stream[SLICE_START: SLICE_START + SLICE_TARGETS + 1].numpy()
    assert piece[0] == 1, "slice must start at a BOS"
    write_shard(OUT / "val_slice.bin", piece)
    tokens = baseline.load_validation_tokens(str(OUT / "val_slice.bin"), SEQ_LEN)
    assert tokens.numel() == SLICE_TARGETS + 1
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    luts = baseline.build_sentencepiece_luts(sp, config["vocab_size"], torch.device("cpu"))

    provenance = dict(
        baseline=str(baseline_path.relative_to(shared)), baseline_sha256=sha256(baseline_path),
        weights="fixtures/eval/tiny.weights.json", torch=torch.__version__,
        tokens=f"val/small/fineweb_val_000000.bin[{SLICE_START}:{SLICE_START + SLICE_TARGETS + 1}]",
        documents=int((piece == 1).sum()))

    # Gradients of the mean loss: the tiny model (untied) and the same weights tied (no lm_head).
    tied_config = dict(config, tie_embeddings=True)
    tied_state = {k: v for k, v in state.items() if k != "lm_head.weight"}
    grads = dict(provenance=provenance, cases=[
        gradient_case(baseline, capture, config, state, tokens, 3, "tiny_untied"),
        gradient_case(baseline, capture, tied_config, tied_state, tokens[700:], 2, "tiny_tied"),
    ])
    grads["cases"][1]["token_offset"] = 700
    grads["cases"][0]["token_offset"] = 0
    (OUT / "gradients.json").write_text(json.dumps(grads, indent=1) + "\n")
    (OUT / "optimizers.json").write_text(json.dumps(dict(torch=torch.__version__, **optimizer_cases()), indent=1) + "\n")
    if opts.skip_ttt:
        return

    ttt_fn, score_line, record_path = load_record_ttt(shared)
    results = {}
    for label, epochs in (("pre_ttt", 0), ("ttt", TTT["ttt_epochs"])):
        model = build_model(baseline, config, state, capture)
        started = time.perf_counter()
        results[label] = run_ttt(ttt_fn, score_line, model, tokens, luts, dict(TTT, ttt_epochs=epochs))
        results[label]["seconds"] = time.perf_counter() - started
        print(label, results[label]["val_loss"], results[label]["val_bpb"], f"{results[label]['seconds']:.1f}s")
    lora_path = shared / "corpus" / "parameter-golf" / LORA_RECORD
    lora_results = dict(settings=LORA, record=str(lora_path.relative_to(shared)), record_sha256=sha256(lora_path),
                        init="pgverify LoRAInit (SplitMix64), see run_lora_ttt")
    for label, lr in (("pre_ttt", 0.0), ("ttt", LORA["ttt_lora_lr"])):
        lora_results[label] = run_lora_ttt(shared, config, state, OUT / "val_slice.bin", luts, lr)
        print("lora", label, lora_results[label]["val_loss"], lora_results[label]["val_bpb"])
    (OUT / "lora_ttt_golden.json").write_text(json.dumps(dict(provenance=provenance, **lora_results), indent=1) + "\n")

    once_fn, once_line, once_path, once_logs = load_packed_record_ttt(shared)
    model = build_model(baseline, config, state, capture)
    results["ttt_exactly_once"] = run_ttt(once_fn, once_line, model, tokens, luts, TTT, packed_logs=once_logs)
    results["ttt_exactly_once"]["record"] = str(once_path.relative_to(shared))
    results["ttt_exactly_once"]["record_sha256"] = sha256(once_path)
    print("ttt_exactly_once", results["ttt_exactly_once"]["val_loss"], results["ttt_exactly_once"]["val_bpb"])
    out = dict(provenance=dict(provenance, record=str(record_path.relative_to(shared)),
                               record_sha256=sha256(record_path), threads=opts.threads),
               settings=dict(TTT, train_seq_len=SEQ_LEN, stride=STRIDE, score_batch_seqs=SCORE_BATCH_SEQS),
               **results)
    (OUT / "ttt_golden.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
