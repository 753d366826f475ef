#!/usr/bin/env python3
"""Goldens for MLP-activation edits of a record family's own code (issue #14, item 5).

Run by hand (never in CI):  /work/venv/bin/python tools/family_variant_goldens.py [--shared ../shared]

The plain-sp1024 family of fixtures/families (2026-04-14_MultiPhaseGlobalSGD_PhasedTTT, written by
tools/family_goldens.py) is rebuilt the same way — the record's train_gpt.py exec'd with the family's
env and tools/family_goldens.py's CPU stubs, `GPT(h)` randomized with the same seed — from the record's
code with one textual edit of its MLP activation. The weights are checked to be exactly the fixture's
(model.weights.f32: the edit changes no parameter), and the edited code's own `eval_val` is the golden.
Writes fixtures/families/plain-sp1024/activation-variants.json (edits and numbers); the tests apply the
same edits and run `verify eval`'s pipeline on the fixture's weights.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_goldens as fg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FAMILY = "plain-sp1024"
MLP_LINE = "hidden = F.leaky_relu(F.linear(x, up_w.to(x.dtype)), negative_slope=0.5).square()"
VARIANTS = [
    dict(name="leaky-ReLU(0.25)²", activation="leaky_relu(0.25)²",
         edits=[(MLP_LINE, MLP_LINE.replace("negative_slope=0.5", "negative_slope=0.25"))]),
    dict(name="relu³", activation="relu^3.0",
         edits=[(MLP_LINE, "hidden = F.relu(F.linear(x, up_w.to(x.dtype))) ** 3")]),
]


def evaluate(source: str, family: dict, shared: Path, scratch: Path, index: int):
    script = scratch / f"variant_{index}.py"
    script.write_text(source, encoding="utf-8")
    env = dict(fg.TINY_ENV, **family["env"])
    stream, _ = fg.retokenized_stream(shared, family["tokenizer"], fg.SCORED_TOKENS + 1)
    vocab = env["VOCAB_SIZE"]
    data_path = scratch / f"data_{index}" / "datasets" / f"fineweb10B_sp{vocab}"
    data_path.mkdir(parents=True)
    fg.write_shard(data_path / "fineweb_val_000000.bin", stream)
    tokenizers = scratch / f"data_{index}" / "tokenizers"
    tokenizers.mkdir()
    tokenizer_path = tokenizers / f"fineweb_{vocab}_bpe.model"
    tokenizer_path.symlink_to(shared / "tokenizers" / family["tokenizer"])
    env.update(DATA_PATH=str(data_path), TOKENIZER_PATH=str(tokenizer_path), DATA_DIR=str(scratch / f"data_{index}") + "/")
    mod = fg.exec_record(script, env)
    torch.manual_seed(0)
    h = mod.Hyperparameters()
    if hasattr(mod, "set_logging_hparams"):
        mod.set_logging_hparams(h)
    val_data = mod.ValidationData(h, torch.device("cpu"))
    model = mod.GPT(h).float()
    fg.randomize(model, seed=20240520)
    if h.num_loops > 0:
        model.looping_active = True
    model.eval()
    state = mod._unbank_state_dict(model.state_dict(), h.num_layers)
    val_loss, val_bpb = mod.eval_val(h, torch.device("cpu"), val_data, model)
    return float(val_loss), float(val_bpb), state


def check_fixture_weights(state: dict) -> None:
    """The rebuilt weights are the fixture's, bit for bit."""
    folder = ROOT / "fixtures" / "families" / FAMILY
    index = json.loads((folder / "model.weights.json").read_text())
    blob = (folder / "model.weights.f32").read_bytes()
    assert sorted(t["name"] for t in index["tensors"]) == sorted(state), "tensor names differ from the fixture"
    for t in index["tensors"]:
        count = int(np.prod(t["shape"])) if t["shape"] else 1
        stored = np.frombuffer(blob, dtype="<f4", count=count, offset=t["offset"])
        rebuilt = state[t["name"]].detach().float().contiguous().numpy().reshape(-1)
        assert np.array_equal(stored, rebuilt), f"{t['name']} differs from the fixture"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    opts = parser.parse_args()
    shared = opts.shared.resolve()
    torch.set_num_threads(2)
    fg.install_stubs()
    family = next(f for f in fg.FAMILIES if f["name"] == FAMILY)
    original = (shared / fg.RECORDS / family["record"] / "train_gpt.py").read_text(encoding="utf-8")
    golden = json.loads((ROOT / "fixtures" / "families" / FAMILY / "golden.json").read_text())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        loss, bpb, state = evaluate(original, family, shared, scratch, 0)
        check_fixture_weights(state)
        assert abs(bpb - golden["val_bpb"]) < 1e-9, "the unedited code does not reproduce the family golden"
        print(f"unedited: val_loss={loss:.8f} val_bpb={bpb:.8f}")
        for index, variant in enumerate(VARIANTS, start=1):
            source = original
            for old, new in variant["edits"]:
                assert source.count(old) == 1, old
                source = source.replace(old, new)
            loss_v, bpb_v, state_v = evaluate(source, family, shared, scratch, index)
            check_fixture_weights(state_v)
            print(f"{variant['name']}: val_loss={loss_v:.8f} val_bpb={bpb_v:.8f}")
            results.append(dict(name=variant["name"], activation=variant["activation"],
                                edits=[list(e) for e in variant["edits"]], val_loss=loss_v, val_bpb=bpb_v))
    doc = dict(generator="tools/family_variant_goldens.py", family=FAMILY, record=golden["record"],
               torch=torch.__version__, dtype="float32", device="cpu",
               weights="model.weights.json (the family fixture's, checked bit for bit)",
               unedited=dict(val_loss=loss, val_bpb=bpb), variants=results)
    out = ROOT / "fixtures" / "families" / FAMILY / "activation-variants.json"
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
