#!/usr/bin/env python3
"""Goldens for the SwiGLU MLP, computed by a real submission's own code (issue #14, item 4).

Run by hand (never in CI):  /work/venv/bin/python tools/swiglu_goldens.py [--shared ../shared] [--prcorpus /work/prcorpus]

Pull request #163 (records/track_10min_16mb/2026-03-20_SwiGLU_576_SlidingWindow_MuonWD/train_gpt.py,
prcorpus folder 1669e0790cdc) is the baseline GPT with its MLP replaced by
`proj(silu(gate(x)) * up(x))` (hidden `int(dim * mlp_mult * 2 / 3)` rounded up to 8). Its module is
imported from the corpus (never copied here) with the settings below in the environment, its model
built by the `GPT(...)` call of its own `main`, loaded with random weights (seed 20260320, every tensor
nonzero) and scored by its own `eval_val` (standard mode, float32, CPU). Also on the same weights:

- `gate_up_swapped`: the same file with `F.silu(self.up(x)) * self.gate(x)` on the MLP line, by its own
  code: pgverify reads the gated projection from the code, so it must reproduce this number too;
- `baseline_edited`: the challenge's baseline train_gpt.py with its MLP edited to the same SwiGLU
  (`BASELINE_TO_SWIGLU`, MLP_MULT=2: the same hidden width), and that edit with gate and up swapped:
  the same weights, a code that ../shared holds, so the tests that need no pull-request corpus check it;
- `relu_squared`: the unedited baseline (relu² MLP, MLP_MULT=2) on the same weights with `mlp.gate`
  loaded as its `mlp.fc` and `mlp.up` left out: what printing the baseline architecture for these
  weights would give.

Writes fixtures/conformance/swiglu.{weights.json,weights.f32,goldens.json}.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
import types
from pathlib import Path

import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_goldens import val_tokens  # noqa: E402
from stack_loop_goldens import random_state  # noqa: E402
from variant_goldens import edited_source, load_module, model_construction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "conformance"
PULL_REQUEST = 163
FOLDER = "1669e0790cdc"
RECORD = "records/track_10min_16mb/2026-03-20_SwiGLU_576_SlidingWindow_MuonWD/train_gpt.py"
BASELINE = "corpus/parameter-golf/train_gpt.py"
# MLP_MULT=3: the record's hidden width int(32 · 3 · 2/3) = 64 (a multiple of 8), which the baseline's
# relu² MLP has at MLP_MULT=2, so the same weights run in both.
CONFIG = dict(vocab_size=1024, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2, tie_embeddings=True,
              logit_softcap=30.0, rope_base=50000.0)
SETTINGS = dict(MLP_MULT="3")
BASELINE_SETTINGS = dict(MLP_MULT="2")
SWIGLU_LINE = "return self.proj(F.silu(self.gate(x)) * self.up(x))"
SWAPPED = [(SWIGLU_LINE, "return self.proj(F.silu(self.up(x)) * self.gate(x))")]
BASELINE_TO_SWIGLU = [
    ("        self.fc = CastedLinear(dim, hidden, bias=False)\n",
     "        self.gate = CastedLinear(dim, hidden, bias=False)\n        self.up = CastedLinear(dim, hidden, bias=False)\n"),
    ("        x = torch.relu(self.fc(x))\n        return self.proj(x.square())\n", "        " + SWIGLU_LINE + "\n"),
]
SEQ_LEN = 128
MAX_TOKENS = 4096


def build(path: Path, source: str, name: str, settings: dict[str, str]):
    """The module at `path` imported under CONFIG and `settings`, and the model its `main` builds."""
    saved = dict(os.environ)
    os.environ.update({k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()})
    os.environ.update(settings)
    try:
        module = load_module(name, path)
        args = module.Hyperparameters()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module, eval(model_construction(source), {"GPT": module.GPT, "args": args}).float()


def score(module, model, state, tokens, luts) -> tuple[float, float]:
    model.load_state_dict(state, strict=True)
    model.eval()
    eval_args = types.SimpleNamespace(val_batch_size=SEQ_LEN * 8, train_seq_len=SEQ_LEN)
    with torch.inference_mode():
        loss, bpb = module.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
    return float(loss), float(bpb)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--prcorpus", type=Path, default=Path("/work/prcorpus"))
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    shared = opts.shared.resolve()
    path = opts.prcorpus / FOLDER / RECORD
    source = path.read_text(encoding="utf-8")
    assert source.count(SWIGLU_LINE) == 1

    record, model = build(path, source, "pg_swiglu", SETTINGS)
    state = random_state(model, torch.Generator().manual_seed(20260320))
    assert all(bool((t != 0).all()) for t in state.values()), "every tensor nonzero"
    assert state["blocks.0.mlp.gate.weight"].shape == (64, 32)

    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    luts = record.build_sentencepiece_luts(sp, CONFIG["vocab_size"], torch.device("cpu"))
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        tokens = val_tokens(record, shard, SEQ_LEN, MAX_TOKENS, scratch)
        loss, bpb = score(record, model, state, tokens, luts)

        swapped_source = edited_source(source, SWAPPED)
        swapped_path = scratch / "swapped.py"
        swapped_path.write_text(swapped_source, encoding="utf-8")
        swapped, swapped_model = build(swapped_path, swapped_source, "pg_swiglu_swapped", SETTINGS)
        swapped_loss, swapped_bpb = score(swapped, swapped_model, state, tokens, luts)

        baseline_source = (shared / BASELINE).read_text(encoding="utf-8")
        edited = {}
        for key, edits in (("swiglu", BASELINE_TO_SWIGLU), ("gate_up_swapped", BASELINE_TO_SWIGLU + SWAPPED)):
            edited_path = scratch / f"baseline_{key}.py"
            text = edited_source(baseline_source, edits)
            edited_path.write_text(text, encoding="utf-8")
            module, edited_model = build(edited_path, text, f"pg_swiglu_baseline_{key}", BASELINE_SETTINGS)
            edited[key] = score(module, edited_model, state, tokens, luts)

        baseline, baseline_model = build(shared / BASELINE, baseline_source, "pg_swiglu_baseline", BASELINE_SETTINGS)
        relu_state = {}
        for name, t in state.items():
            if name.endswith(".mlp.up.weight"):
                continue
            relu_state[name.replace(".mlp.gate.weight", ".mlp.fc.weight")] = t
        relu_loss, relu_bpb = score(baseline, baseline_model, relu_state, tokens, luts)
    print(f"SwiGLU val_loss={loss:.8f} val_bpb={bpb:.8f}; gate/up swapped {swapped_loss:.8f} {swapped_bpb:.8f}; "
          f"relu² (baseline code, gate as fc) {relu_loss:.8f} {relu_bpb:.8f}; baseline edited {edited}")

    index, blob = [], io.BytesIO()
    for name in sorted(state):
        t = state[name]
        index.append(dict(name=name, shape=list(t.shape), offset=blob.tell()))
        blob.write(t.numpy().astype("<f4").tobytes())
    (OUT / "swiglu.weights.f32").write_bytes(blob.getvalue())
    # The raw format's config states the hidden width as mlp_mult · model_dim (64 = 2 · 32).
    doc = dict(format="pgverify-raw-f32", version=1, blob="swiglu.weights.f32", config=dict(CONFIG, mlp_mult=2),
               seq_len=SEQ_LEN, tensors=index)
    (OUT / "swiglu.weights.json").write_text(json.dumps(doc, indent=1) + "\n")
    goldens = dict(generator="tools/swiglu_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
                   pull_request=PULL_REQUEST, corpus_folder=FOLDER, code=RECORD,
                   code_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                   weights="swiglu.weights.json (random, seed 20260320)", settings=SETTINGS,
                   tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
                   mode="standard", seq_len=SEQ_LEN, max_tokens=MAX_TOKENS, tokens=int(tokens.numel() - 1),
                   val_loss=loss, val_bpb=bpb,
                   gate_up_swapped=dict(edits=[list(e) for e in SWAPPED], val_loss=swapped_loss, val_bpb=swapped_bpb),
                   baseline_edited=dict(code=BASELINE, settings=BASELINE_SETTINGS, edits=[list(e) for e in BASELINE_TO_SWIGLU],
                                        val_loss=edited["swiglu"][0], val_bpb=edited["swiglu"][1],
                                        gate_up_swapped=dict(edits=[list(e) for e in SWAPPED], val_loss=edited["gate_up_swapped"][0],
                                                             val_bpb=edited["gate_up_swapped"][1])),
                   relu_squared=dict(code=BASELINE, settings=BASELINE_SETTINGS,
                                     weights="mlp.gate.weight as mlp.fc.weight, mlp.up.weight left out",
                                     val_loss=relu_loss, val_bpb=relu_bpb))
    (OUT / "swiglu.goldens.json").write_text(json.dumps(goldens, indent=1) + "\n")
    print(f"wrote {OUT}/swiglu.*", flush=True)


if __name__ == "__main__":
    main()
