#!/usr/bin/env python3
"""Golden val_loss / val_bpb numbers for pgverify's reference model, computed by the challenge's own code.

Run by hand (never in CI):  /work/venv/bin/python tools/eval_goldens.py [--shared ../shared]

The baseline train_gpt.py (GPT class, eval_val, build_sentencepiece_luts, load_validation_tokens,
quantize/dequantize_state_dict_int8) is imported from the shared corpus at run time, and the sliding
evaluator is exec'd from a record's train_gpt.py; nothing of that code is copied here. Everything runs
in float32 on CPU. See tools/README.md ("## eval_goldens.py") and fixtures/eval/README.md.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import io
import json
import math
import os
import sys
import tempfile
import types
import zlib
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as real_F

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "eval"
SLIDING_RECORD = "records/track_10min_16mb/2026-04-01_Vocab4096_MLPMult4_WD085/train_gpt.py"

# The tiny random model: every edge case the reference must get right, kept small.
TINY = dict(vocab_size=1030, num_layers=3, model_dim=24, num_heads=4, num_kv_heads=2, mlp_mult=2,
            tie_embeddings=False, logit_softcap=20.0, rope_base=500.0)
TINY_SEQ_LEN = 64
# Matrices above this many elements get int8 per-row rows in the tiny artifact (baseline: 65,536),
# so the fixture artifact exercises int8 rows, fp16 passthrough and fp32 control tensors.
TINY_INT8_KEEP_FLOAT_MAX_NUMEL = 1024


def load_module(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LogitsReady(Exception):
    """Raised by LogitCapture to stop the forward once the logits exist (no loss is needed)."""


class LogitCapture:
    """Stands in for `torch.nn.functional` inside the baseline module: identical, except that when
    `armed`, cross_entropy keeps the logits it is given and stops the forward there, so the
    baseline's own forward yields logits (`forward_logits`) without a wasted loss computation."""

    def __init__(self):
        self.logits = None
        self.armed = False

    def __getattr__(self, name):
        return getattr(real_F, name)

    def cross_entropy(self, logits, targets, *args, **kwargs):
        if self.armed:
            self.logits = logits
            raise LogitsReady
        return real_F.cross_entropy(logits, targets, *args, **kwargs)


def attach_forward_logits(model, capture: LogitCapture) -> None:
    def forward_logits(input_ids):
        capture.armed = True
        try:
            model(input_ids, torch.zeros_like(input_ids))
        except LogitsReady:
            pass
        finally:
            capture.armed = False
        return capture.logits.reshape(input_ids.shape[0], input_ids.shape[1], -1)
    model.forward_logits = forward_logits


def load_record_sliding(shared: Path):
    """exec only `eval_val_sliding` and `_loss_bpb` from the record (its imports need CUDA kernels)."""
    path = shared / "corpus" / "parameter-golf" / SLIDING_RECORD
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wanted = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("eval_val_sliding", "_loss_bpb")]
    assert len(wanted) == 2, "record layout changed"
    namespace = dict(torch=torch, F=real_F, math=math, dist=torch.distributed, nn=torch.nn,
                     Tensor=torch.Tensor, Hyperparameters=object, ValidationData=object)
    exec(compile(ast.Module(body=wanted, type_ignores=[]), str(path), "exec"), namespace)
    return namespace["eval_val_sliding"]


def write_shard(path: Path, tokens: np.ndarray) -> None:
    header = np.zeros(256, dtype="<i4")
    header[0], header[1], header[2] = 20240520, 1, tokens.size
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(tokens.astype("<u2").tobytes())


def write_weights(stem: str, state: dict[str, torch.Tensor], config: dict, seq_len: int) -> None:
    index, blob = [], io.BytesIO()
    for name in sorted(state):
        t = state[name].detach().to(torch.float32).contiguous()
        index.append(dict(name=name, shape=list(t.shape), offset=blob.tell()))
        blob.write(t.numpy().astype("<f4").tobytes())
    (OUT / f"{stem}.weights.f32").write_bytes(blob.getvalue())
    doc = dict(format="pgverify-raw-f32", version=1, blob=f"{stem}.weights.f32", config=config,
               seq_len=seq_len, tensors=index)
    (OUT / f"{stem}.weights.json").write_text(json.dumps(doc, indent=1) + "\n")


def write_luts(stem: str, luts) -> None:
    base, space, boundary = luts
    doc = dict(base_bytes=base.tolist(), has_leading_space=[bool(v) for v in space.tolist()],
               is_boundary=[bool(v) for v in boundary.tolist()])
    (OUT / f"{stem}.luts.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def build_model(baseline, config: dict, state: dict[str, torch.Tensor], capture: LogitCapture):
    model = baseline.GPT(
        vocab_size=config["vocab_size"], num_layers=config["num_layers"], model_dim=config["model_dim"],
        num_heads=config["num_heads"], num_kv_heads=config["num_kv_heads"], mlp_mult=config["mlp_mult"],
        tie_embeddings=config["tie_embeddings"], tied_embed_init_std=0.005,
        logit_softcap=config["logit_softcap"], rope_base=config["rope_base"], qk_gain_init=1.5,
    ).float()
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    model.eval()
    attach_forward_logits(model, capture)
    return model


def val_tokens(baseline, shard: Path, seq_len: int, max_tokens: int | None, scratch: Path) -> torch.Tensor:
    """The baseline's load_validation_tokens over the shard, or over a prefix shard of max_tokens+1 tokens."""
    if max_tokens is None:
        return baseline.load_validation_tokens(str(shard), seq_len)
    prefix = baseline.load_data_shard(shard)[: max_tokens + 1].numpy()
    path = scratch / f"prefix_{max_tokens}.bin"
    write_shard(path, prefix)
    return baseline.load_validation_tokens(str(path), seq_len)


def run_cases(baseline, sliding, model, luts, shard, seq_len, cases, scratch):
    results = []
    for mode, stride, max_tokens in cases:
        tokens = val_tokens(baseline, shard, seq_len, max_tokens, scratch)
        if mode == "standard":
            args = types.SimpleNamespace(val_batch_size=seq_len * 8, train_seq_len=seq_len)
            loss, bpb = baseline.eval_val(args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
            n_tokens = tokens.numel() - 1
            y = tokens[1:].long()
            x = tokens[:-1].long()
        else:
            h = types.SimpleNamespace(eval_seq_len=seq_len, eval_stride=stride, rank=0, world_size=1)
            data = types.SimpleNamespace(val_tokens=tokens, base_bytes_lut=luts[0],
                                         has_leading_space_lut=luts[1], is_boundary_token_lut=luts[2])
            loss, bpb = sliding(h, torch.device("cpu"), data, model)
            # Every target is scored exactly once by this record's scheme (checked in fixtures README).
            n_tokens = tokens.numel() - 1
            y = tokens[1:].long()
            x = tokens[:-1].long()
        n_bytes = (luts[0][y].to(torch.float64)
                   + (luts[1][y] & ~luts[2][x]).to(torch.float64)).sum().item()
        # The evaluators return only (loss, bpb); their bpb must equal ours from the counts, which
        # confirms that every target was scored exactly once.
        assert abs(loss / math.log(2.0) * n_tokens / n_bytes - bpb) < 1e-9, "token/byte counts disagree"
        results.append(dict(mode=mode, stride=stride, max_tokens=max_tokens, seq_len=seq_len,
                            val_loss=float(loss), val_bpb=float(bpb), tokens=int(n_tokens), bytes=int(n_bytes)))
        print(f"  {mode:8s} stride={stride} max_tokens={max_tokens}: val_loss={loss:.8f} val_bpb={bpb:.8f} "
              f"tokens={n_tokens} bytes={int(n_bytes)}", flush=True)
    return results


def spot_checks(model, tokens: torch.Tensor, seq_len: int) -> dict:
    """First window's logits (a corner) and per-token NLL, for debugging a mismatch."""
    x = tokens[:seq_len].long()[None]
    y = tokens[1:seq_len + 1].long()
    with torch.inference_mode():
        logits = model.forward_logits(x)[0]
        nll = real_F.cross_entropy(logits.float(), y, reduction="none")
    return dict(window_start=0, logits_rows=[0, 1, seq_len - 1], logits_columns=16,
                logits=[logits[r, :16].tolist() for r in (0, 1, seq_len - 1)],
                nll_first=nll[:32].tolist())


def random_tiny_state(baseline, generator: torch.Generator) -> dict[str, torch.Tensor]:
    model = baseline.GPT(**TINY, tied_embed_init_std=0.005, qk_gain_init=1.5)
    state = {}
    for name, p in model.state_dict().items():
        noise = torch.randn(p.shape, generator=generator)
        if name.endswith("resid_mix"):
            value = torch.stack((1.0 + 0.2 * noise[0], 0.4 * noise[1]))
        elif "q_gain" in name:
            value = 1.5 + 0.3 * noise
        elif any(s in name for s in ("attn_scale", "mlp_scale", "skip_weights")):
            value = 0.6 + 0.3 * noise
        elif name == "tok_emb.weight":
            value = noise
        else:  # linear weights (out, in)
            value = noise / math.sqrt(p.shape[1]) * 1.5
        state[name] = value.float().contiguous()
    return state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    torch.compile = lambda fn, **kwargs: fn  # the record compiles forward_logits for CUDA; eager on CPU
    shared = opts.shared.resolve()
    OUT.mkdir(parents=True, exist_ok=True)

    baseline = load_module("pg_baseline", shared / "corpus" / "parameter-golf" / "train_gpt.py")
    capture = LogitCapture()
    baseline.F = capture
    sliding = load_record_sliding(shared)
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    goldens = dict(generator="tools/eval_goldens.py", baseline="corpus/parameter-golf/train_gpt.py",
                   sliding_record=SLIDING_RECORD, torch=torch.__version__, dtype="float32", device="cpu",
                   models={})

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)

        # (a) the real baseline artifact, dequantized by the baseline's own function.
        print("baseline-2L64d", flush=True)
        blob = (shared / "artifacts" / "taleef7-baseline-2L64d" / "final_model.int8.ptz").read_bytes()
        state = baseline.dequantize_state_dict_int8(torch.load(io.BytesIO(zlib.decompress(blob)), map_location="cpu"))
        config = dict(vocab_size=1024, num_layers=2, model_dim=64, num_heads=4, num_kv_heads=2, mlp_mult=1,
                      tie_embeddings=True, logit_softcap=30.0, rope_base=10000.0)
        model = build_model(baseline, config, state, capture)
        luts = baseline.build_sentencepiece_luts(sp, config["vocab_size"], torch.device("cpu"))
        write_weights("baseline-2L64d", state, config, 1024)
        write_luts("baseline-2L64d", luts)
        cases = [("standard", None, None), ("sliding", 64, None), ("standard", None, 4096), ("sliding", 64, 4096)]
        with torch.inference_mode():
            results = run_cases(baseline, sliding, model, luts, shard, 1024, cases, scratch)
        goldens["models"]["baseline-2L64d"] = dict(
            source="../shared/artifacts/taleef7-baseline-2L64d/final_model.int8.ptz",
            tokenizer="../shared/tokenizers/fineweb_1024_bpe.model",
            val="../shared/val/small/fineweb_val_000000.bin",
            weights="baseline-2L64d.weights.json", luts="baseline-2L64d.luts.json", config=config,
            cases=results, spot=spot_checks(model, baseline.load_data_shard(shard), 1024))

        # (b) a tiny random model, exported through the baseline's int8+zlib path; goldens from the
        # dequantized weights of that artifact.
        print("tiny", flush=True)
        generator = torch.Generator().manual_seed(20240520)
        raw = random_tiny_state(baseline, generator)
        saved_threshold = baseline.INT8_KEEP_FLOAT_MAX_NUMEL
        baseline.INT8_KEEP_FLOAT_MAX_NUMEL = TINY_INT8_KEEP_FLOAT_MAX_NUMEL
        quant_obj, _ = baseline.quantize_state_dict_int8(raw)
        baseline.INT8_KEEP_FLOAT_MAX_NUMEL = saved_threshold
        buffer = io.BytesIO()
        torch.save(quant_obj, buffer)
        artifact = zlib.compress(buffer.getvalue(), level=9)
        (OUT / "tiny.int8.ptz").write_bytes(artifact)
        state = baseline.dequantize_state_dict_int8(torch.load(io.BytesIO(zlib.decompress(artifact)), map_location="cpu"))
        model = build_model(baseline, TINY, state, capture)
        luts = baseline.build_sentencepiece_luts(sp, TINY["vocab_size"], torch.device("cpu"))
        write_weights("tiny", state, TINY, TINY_SEQ_LEN)
        write_luts("tiny", luts)
        cases = [("standard", None, 1000), ("sliding", 24, 1000), ("sliding", 64, 1000),
                 ("standard", None, None), ("sliding", 16, None)]
        with torch.inference_mode():
            results = run_cases(baseline, sliding, model, luts, shard, TINY_SEQ_LEN, cases, scratch)
        goldens["models"]["tiny"] = dict(
            source="random init (seed 20240520), exported as tiny.int8.ptz by the baseline's quantizer "
                   f"with INT8_KEEP_FLOAT_MAX_NUMEL={TINY_INT8_KEEP_FLOAT_MAX_NUMEL}",
            tokenizer="../shared/tokenizers/fineweb_1024_bpe.model",
            val="../shared/val/small/fineweb_val_000000.bin", artifact="tiny.int8.ptz",
            weights="tiny.weights.json", luts="tiny.luts.json", config=TINY, cases=results,
            spot=spot_checks(model, baseline.load_data_shard(shard), TINY_SEQ_LEN))

    (OUT / "goldens.json").write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"wrote {OUT}", flush=True)


if __name__ == "__main__":
    main()
