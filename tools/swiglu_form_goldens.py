#!/usr/bin/env python3
"""Goldens for more SwiGLU forms, each computed by its own code (issue #14: forms matched exactly or refused).

Run by hand (never in CI):  /work/venv/bin/python tools/swiglu_form_goldens.py [--shared ../shared] [--prcorpus /work/prcorpus]

Every form runs on the random weights of fixtures/conformance/swiglu.weights.* (tools/swiglu_goldens.py:
3 blocks of width 32, SwiGLU hidden 64, every tensor nonzero), renamed or joined to the names and
shapes the form's code declares, and is scored by its code's own `eval_val` (standard mode, float32,
CPU) over the same 4,096 tokens at seq_len 128. A form's code is a record's own train_gpt.py read from
the pull-request corpus (never copied here; its sha256 is recorded) or the challenge's baseline
train_gpt.py with textual edits (each must occur exactly once), imported under the settings listed.
Forms (`FORMS`):

- the down projection named `down`: 2026-03-19_combinedOpt's own file (pull request #131, `SwiGLUMLP`
  with `gate`, `up`, `down`; `SWIGLU_HIDDEN=64`), and the baseline edited to the same MLP; weights
  fixtures/conformance/swiglu-down.weights.json (the same blob, `mlp.proj` listed as `mlp.down`);
- the fused form: the baseline edited to one projection of twice the width whose output is split by
  `chunk(2, dim=-1)` (`self.fc`), with the halves the other way round (the second half gated), and split
  by slices `[..., :half]`, `[..., half:]` (`self.gate_up`); weights fixtures/conformance/
  swiglu-fused.weights.{json,f32} and swiglu-gate-up.weights.json (the same blob under the other name):
  each block's gate and up weights joined, gate rows first (`torch.cat((gate, up))`), so the unswapped
  forms compute pull request #163's function on its weights;
- SiLU written out: the baseline edited to SwiGLU with `g * torch.sigmoid(g)` for `F.silu(g)` on the gate,
  and on the up projection (`self.gate(x) * torch.sigmoid(u) * u`: the up projection gated); weights
  fixtures/conformance/swiglu.weights.json.

Writes fixtures/conformance/swiglu-forms.goldens.json and the weights indexes/blobs named above.
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

import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_goldens import val_tokens  # noqa: E402
from variant_goldens import edited_source, load_module, model_construction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "conformance"
BASELINE = "corpus/parameter-golf/train_gpt.py"
CONFIG = dict(vocab_size=1024, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2, tie_embeddings=True,
              logit_softcap=30.0, rope_base=50000.0)
SEQ_LEN = 128
MAX_TOKENS = 4096

# The baseline's MLP edited to SwiGLU (as tools/swiglu_goldens.py's BASELINE_TO_SWIGLU), with its down
# projection named `down`.
BASELINE_MLP_INIT = ("        self.fc = CastedLinear(dim, hidden, bias=False)\n"
                     "        self.proj = CastedLinear(hidden, dim, bias=False)\n        self.proj._zero_init = True\n")
BASELINE_MLP_FORWARD = "        x = torch.relu(self.fc(x))\n        return self.proj(x.square())\n"
DOWN_LINE = "return self.down(F.silu(self.gate(x)) * self.up(x))"
BASELINE_TO_DOWN = [
    (BASELINE_MLP_INIT,
     "        self.gate = CastedLinear(dim, hidden, bias=False)\n        self.up = CastedLinear(dim, hidden, bias=False)\n"
     "        self.down = CastedLinear(hidden, dim, bias=False)\n        self.down._zero_init = True\n"),
    (BASELINE_MLP_FORWARD, "        " + DOWN_LINE + "\n"),
]

FUSED_INIT = ("        self.fc = CastedLinear(dim, hidden, bias=False)\n",
              "        self.fc = CastedLinear(dim, 2 * hidden, bias=False)\n")
CHUNK_LINE = "gate, up = self.fc(x).chunk(2, dim=-1)"
BASELINE_TO_FUSED = [FUSED_INIT, (BASELINE_MLP_FORWARD, f"        {CHUNK_LINE}\n        return self.proj(F.silu(gate) * up)\n")]
HALVES_SWAPPED = [(CHUNK_LINE, "up, gate = self.fc(x).chunk(2, dim=-1)")]
BASELINE_TO_GATE_UP_SLICES = [
    ("        self.fc = CastedLinear(dim, hidden, bias=False)\n", "        self.gate_up = CastedLinear(dim, 2 * hidden, bias=False)\n"),
    (BASELINE_MLP_FORWARD, "        h = self.gate_up(x)\n        half = h.shape[-1] // 2\n"
                           "        return self.proj(F.silu(h[..., :half]) * h[..., half:])\n"),
]

SWIGLU_INIT = ("        self.fc = CastedLinear(dim, hidden, bias=False)\n",
               "        self.gate = CastedLinear(dim, hidden, bias=False)\n        self.up = CastedLinear(dim, hidden, bias=False)\n")
BASELINE_TO_SIGMOID = [SWIGLU_INIT, (BASELINE_MLP_FORWARD, "        g = self.gate(x)\n"
                                                          "        return self.proj(g * torch.sigmoid(g) * self.up(x))\n")]
BASELINE_TO_SIGMOID_ON_UP = [SWIGLU_INIT, (BASELINE_MLP_FORWARD, "        u = self.up(x)\n"
                                                                "        return self.proj(self.gate(x) * torch.sigmoid(u) * u)\n")]

FORMS = [
    dict(name="down projection named down (PR #131's own code)", weights="swiglu-down.weights.json",
         activation="swiglu(silu(gate)·up)→down", pull_request=131, corpus_folder="39f9640d66f2",
         code="records/track_10min_16mb/2026-03-19_combinedOpt/train_gpt.py", edits=[], settings=dict(SWIGLU_HIDDEN="64")),
    dict(name="down projection named down (baseline edited)", weights="swiglu-down.weights.json",
         activation="swiglu(silu(gate)·up)→down", code=BASELINE, edits=BASELINE_TO_DOWN, settings=dict(MLP_MULT="2")),
    dict(name="fused fc split by chunk (baseline edited)", weights="swiglu-fused.weights.json",
         activation="swiglu(silu(fc[:half])·fc[half:])", code=BASELINE, edits=BASELINE_TO_FUSED, settings=dict(MLP_MULT="2")),
    dict(name="fused fc split by chunk, second half gated (baseline edited)", weights="swiglu-fused.weights.json",
         activation="swiglu(silu(fc[half:])·fc[:half])", code=BASELINE, edits=BASELINE_TO_FUSED + HALVES_SWAPPED,
         settings=dict(MLP_MULT="2")),
    dict(name="fused gate_up split by slices (baseline edited)", weights="swiglu-gate-up.weights.json",
         activation="swiglu(silu(gate_up[:half])·gate_up[half:])", code=BASELINE, edits=BASELINE_TO_GATE_UP_SLICES,
         settings=dict(MLP_MULT="2")),
    dict(name="silu written out as x * sigmoid(x) (baseline edited)", weights="swiglu.weights.json",
         activation="swiglu(silu(gate)·up)", code=BASELINE, edits=BASELINE_TO_SIGMOID, settings=dict(MLP_MULT="2")),
    dict(name="silu written out on the up projection (baseline edited)", weights="swiglu.weights.json",
         activation="swiglu(silu(up)·gate)", code=BASELINE, edits=BASELINE_TO_SIGMOID_ON_UP, settings=dict(MLP_MULT="2")),
]


def read_raw(index_path: Path) -> dict[str, torch.Tensor]:
    index = json.loads(index_path.read_text())
    blob = (index_path.parent / index["blob"]).read_bytes()
    state = {}
    for entry in index["tensors"]:
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        values = np.frombuffer(blob, dtype="<f4", count=count, offset=entry["offset"])
        state[entry["name"]] = torch.from_numpy(values.copy()).reshape(entry["shape"])
    return state


def raw_index(entries, blob: str) -> dict:
    # The raw format's config states the hidden width as mlp_mult · model_dim (64 = 2 · 32).
    return dict(format="pgverify-raw-f32", version=1, blob=blob, config=dict(CONFIG, mlp_mult=2), seq_len=SEQ_LEN,
                tensors=entries)


def write_down_weights(base_index: dict) -> dict[str, torch.Tensor]:
    """The SwiGLU weights with `mlp.proj` listed as `mlp.down`, indexing the same blob."""
    entries = [dict(e, name=e["name"].replace(".mlp.proj.weight", ".mlp.down.weight")) for e in base_index["tensors"]]
    (OUT / "swiglu-down.weights.json").write_text(json.dumps(raw_index(entries, base_index["blob"]), indent=1) + "\n")
    return read_raw(OUT / "swiglu-down.weights.json")


def write_fused_weights(base_state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """Each block's gate and up joined into one `[2·hidden, dim]` weight (gate rows first), as `fc` and
    as `gate_up` (two indexes of one blob)."""
    state = {}
    for name, t in base_state.items():
        if name.endswith(".mlp.up.weight"):
            continue
        if name.endswith(".mlp.gate.weight"):
            up = base_state[name.replace(".mlp.gate.weight", ".mlp.up.weight")]
            state[name.replace(".mlp.gate.weight", ".mlp.fc.weight")] = torch.cat((t, up)).contiguous()
        else:
            state[name] = t
    entries, blob = [], io.BytesIO()
    for name in sorted(state):
        entries.append(dict(name=name, shape=list(state[name].shape), offset=blob.tell()))
        blob.write(state[name].numpy().astype("<f4").tobytes())
    (OUT / "swiglu-fused.weights.f32").write_bytes(blob.getvalue())
    (OUT / "swiglu-fused.weights.json").write_text(json.dumps(raw_index(entries, "swiglu-fused.weights.f32"), indent=1) + "\n")
    renamed = [dict(e, name=e["name"].replace(".mlp.fc.weight", ".mlp.gate_up.weight")) for e in entries]
    (OUT / "swiglu-gate-up.weights.json").write_text(json.dumps(raw_index(renamed, "swiglu-fused.weights.f32"), indent=1) + "\n")
    return {name: read_raw(OUT / name) for name in ("swiglu-fused.weights.json", "swiglu-gate-up.weights.json")}


def evaluate(form, path: Path, source: str, state, tokens_for, luts_for, scratch: Path, index: int):
    source = edited_source(source, form["edits"])
    edited = scratch / f"form_{index}.py"
    edited.write_text(source, encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update({k.upper(): str(int(v) if isinstance(v, bool) else v) for k, v in CONFIG.items()})
    os.environ.update(form["settings"])
    try:
        module = load_module(f"pg_swiglu_form_{index}", edited)
        args = module.Hyperparameters()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    model = eval(model_construction(source), {"GPT": module.GPT, "args": args}).float()
    model.load_state_dict(state, strict=True)
    model.eval()
    tokens = tokens_for(module)
    eval_args = types.SimpleNamespace(val_batch_size=SEQ_LEN * 8, train_seq_len=SEQ_LEN)
    with torch.inference_mode():
        loss, bpb = module.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts_for(module))
    return float(loss), float(bpb), int(tokens.numel() - 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--prcorpus", type=Path, default=Path("/work/prcorpus"))
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    shared = opts.shared.resolve()
    base_index = json.loads((OUT / "swiglu.weights.json").read_text())
    states = {"swiglu-down.weights.json": write_down_weights(base_index)}
    states.update(write_fused_weights(read_raw(OUT / "swiglu.weights.json")))
    states["swiglu.weights.json"] = read_raw(OUT / "swiglu.weights.json")
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    results = []
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)

        def tokens_for(module):
            return val_tokens(module, shard, SEQ_LEN, MAX_TOKENS, scratch)

        def luts_for(module):
            return module.build_sentencepiece_luts(sp, CONFIG["vocab_size"], torch.device("cpu"))

        for index, form in enumerate(FORMS):
            path = opts.prcorpus / form["corpus_folder"] / form["code"] if "corpus_folder" in form else shared / form["code"]
            source = path.read_text(encoding="utf-8")
            loss, bpb, tokens = evaluate(form, path, source, states[form["weights"]], tokens_for, luts_for, scratch, index)
            print(f"{form['name']}: val_loss={loss:.8f} val_bpb={bpb:.8f}", flush=True)
            entry = dict(form, edits=[list(e) for e in form["edits"]], val_loss=loss, val_bpb=bpb, tokens=tokens)
            if "corpus_folder" in form:
                entry["code_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            results.append(entry)
    goldens = dict(generator="tools/swiglu_form_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
                   weights_from="swiglu.weights.json (random, seed 20260320; tools/swiglu_goldens.py)",
                   tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
                   mode="standard", seq_len=SEQ_LEN, max_tokens=MAX_TOKENS, forms=results)
    (OUT / "swiglu-forms.goldens.json").write_text(json.dumps(goldens, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}/swiglu-forms.goldens.json", flush=True)


if __name__ == "__main__":
    main()
