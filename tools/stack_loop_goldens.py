#!/usr/bin/env python3
"""Golden for whole-stack depth recurrence with per-pass LoRA, computed by the record's own code.

Run by hand (never in CI):  /work/venv/bin/python tools/stack_loop_goldens.py [--shared ../shared]

records/track_10min_16mb/2026-03-19_SlidingWindowEval/train_gpt.py declares NUM_LOOPS (passes over
all blocks, effective depth num_layers × NUM_LOOPS, U-Net skips over it) and LORA_RANK (per-(pass,
block) AttentionLoRA on q, k, v and the output projection). Its record ran NUM_LOOPS=1; no artifact
with more passes is public, so the weights are random (seed 20260319, every tensor nonzero, the LoRA
B matrices included). The record's module is imported with the settings in the environment, its model
built by the `GPT(...)` call of its own `main`, and scored by its own `eval_val` (standard mode,
float32, CPU), and in sliding windows (stride 64) by the evaluator tools/eval_goldens.py takes from a
record (03-19's own eval_val_sliding scores the tokens of its last, shorter windows twice). Writes fixtures/conformance/stack-loops.{weights.json,weights.f32,goldens.json}.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import tempfile
import types
from pathlib import Path

import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_goldens import SLIDING_RECORD, load_record_sliding, val_tokens  # noqa: E402
from variant_goldens import load_module, model_construction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "conformance"
RECORD = "corpus/parameter-golf/records/track_10min_16mb/2026-03-19_SlidingWindowEval/train_gpt.py"
CONFIG = dict(vocab_size=1024, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2, mlp_mult=2,
              tie_embeddings=True, logit_softcap=30.0, rope_base=10000.0)
SETTINGS = dict(NUM_LOOPS="2", LORA_RANK="4")
SEQ_LEN = 128
MAX_TOKENS = 4096
SLIDING_STRIDE = 64


def random_state(model, generator: torch.Generator) -> dict[str, torch.Tensor]:
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
        elif name.startswith("lora_adapters."):
            value = noise * 0.3 / math.sqrt(p.shape[0])
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
    torch.compile = lambda fn, **kwargs: fn  # the sliding record compiles forward_logits for CUDA; eager on CPU
    shared = opts.shared.resolve()
    path = shared / RECORD
    source = path.read_text(encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update({k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()})
    os.environ.update(SETTINGS)
    try:
        record = load_module("pg_stack_loops", path)
        args = record.Hyperparameters()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    model = eval(model_construction(source), {"GPT": record.GPT, "args": args}).float()
    state = random_state(model, torch.Generator().manual_seed(20260319))
    model.load_state_dict(state, strict=True)
    model.eval()
    assert model.lora_adapters is not None and len(model.lora_adapters) == 2

    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    luts = record.build_sentencepiece_luts(sp, CONFIG["vocab_size"], torch.device("cpu"))
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    with tempfile.TemporaryDirectory() as scratch_dir:
        tokens = val_tokens(record, shard, SEQ_LEN, MAX_TOKENS, Path(scratch_dir))
    eval_args = types.SimpleNamespace(val_batch_size=SEQ_LEN * 8, train_seq_len=SEQ_LEN)
    with torch.inference_mode():
        loss, bpb = record.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
        # Sliding: the scheme pgverify implements (tools/eval_goldens.py's record), not 03-19's own
        # eval_val_sliding, whose windows shorter than the stride at the end score the last tokens twice.
        h = types.SimpleNamespace(eval_seq_len=SEQ_LEN, eval_stride=SLIDING_STRIDE, rank=0, world_size=1)
        data = types.SimpleNamespace(val_tokens=tokens, base_bytes_lut=luts[0], has_leading_space_lut=luts[1],
                                     is_boundary_token_lut=luts[2])
        sliding_loss, sliding_bpb = load_record_sliding(shared)(h, torch.device("cpu"), data, model)
        # The same weights with the passes' LoRA zeroed and with one pass: what a reader that
        # ignored the adapters or the loop would print.
        without_lora = {k: (torch.zeros_like(v) if k.startswith("lora_adapters.") else v) for k, v in state.items()}
        model.load_state_dict(without_lora, strict=True)
        loss_without_lora, bpb_without_lora = record.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
    print(f"val_loss={loss:.8f} val_bpb={bpb:.8f} (LoRA zeroed: {loss_without_lora:.8f} {bpb_without_lora:.8f}); "
          f"sliding stride {SLIDING_STRIDE}: {sliding_loss:.8f} {sliding_bpb:.8f}")

    index, blob = [], io.BytesIO()
    for name in sorted(state):
        t = state[name]
        index.append(dict(name=name, shape=list(t.shape), offset=blob.tell()))
        blob.write(t.numpy().astype("<f4").tobytes())
    (OUT / "stack-loops.weights.f32").write_bytes(blob.getvalue())
    doc = dict(format="pgverify-raw-f32", version=1, blob="stack-loops.weights.f32", config=CONFIG, seq_len=SEQ_LEN,
               tensors=index)
    (OUT / "stack-loops.weights.json").write_text(json.dumps(doc, indent=1) + "\n")
    goldens = dict(generator="tools/stack_loop_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
                   code=RECORD, weights="stack-loops.weights.json (random, seed 20260319)", settings=SETTINGS,
                   tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
                   mode="standard", seq_len=SEQ_LEN, max_tokens=MAX_TOKENS, tokens=int(tokens.numel() - 1),
                   val_loss=float(loss), val_bpb=float(bpb),
                   sliding=dict(evaluator=SLIDING_RECORD + ": eval_val_sliding", stride=SLIDING_STRIDE, val_loss=float(sliding_loss), val_bpb=float(sliding_bpb)),
                   lora_zeroed=dict(val_loss=float(loss_without_lora), val_bpb=float(bpb_without_lora)))
    (OUT / "stack-loops.goldens.json").write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"wrote {OUT}/stack-loops.*", flush=True)


if __name__ == "__main__":
    main()
