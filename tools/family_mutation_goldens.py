#!/usr/bin/env python3
"""PyTorch goldens of the record-family mutation set and its equivalent rewrites (issue #14, items 2 and 5).

Run by hand (never in CI):  /work/venv/bin/python tools/family_mutation_goldens.py [--shared ../shared]

fixtures/conformance/family-mutations.json holds single semantic edits of the 2026-04-14 record's
train_gpt.py (mutations: name, textual edits, the construct and line pgverify's refusal must name) and
rewrites that must compute the same numbers; Tests/VerifierTests/Conformance/FamilyMutationTests.swift reads
the same file. For each, the plain-sp1024 family is rebuilt from the edited code exactly as
tools/family_variant_goldens.py does (the record's code exec'd with the family's env and the CPU stand-ins of
tools/family_goldens.py, `GPT(h)` randomized with the fixture's seed, the weights checked bit for bit against
the family fixture) and the edited code's own `eval_val` is recorded (float32, CPU), or the error it raises
(`error`: an exception or a non-finite number), or why no like-for-like number exists (`unavailable`: the
edited code builds other weights from the same seed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_goldens as fg  # noqa: E402
import family_variant_goldens as fvg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "conformance" / "family-mutations.json"


def golden(source: str, family: dict, shared: Path, scratch: Path, index: int) -> dict:
    try:
        loss, bpb, state = fvg.evaluate(source, family, shared, scratch, index)
    except Exception as error:  # the edited code itself fails
        return dict(error=f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}")
    try:
        fvg.check_fixture_weights(state)
    except AssertionError as difference:  # the edit changes how the weights are built: no like-for-like number
        return dict(unavailable=f"the edited code builds other weights: {difference}")
    if not (math.isfinite(loss) and math.isfinite(bpb)):
        return dict(error=f"non-finite result: val_loss={loss}, val_bpb={bpb}")
    return dict(val_loss=loss, val_bpb=bpb)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    opts = parser.parse_args()
    shared = opts.shared.resolve()
    torch.set_num_threads(2)
    fg.install_stubs()
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    family = next(f for f in fg.FAMILIES if f["name"] == doc["family"])
    code = shared / fg.RECORDS / family["record"] / "train_gpt.py"
    original = code.read_text(encoding="utf-8")
    index = 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        unedited = golden(original, family, shared, scratch, index)
        print(f"unedited: {unedited}", flush=True)
        for entry in doc["mutations"] + doc["rewrites"]:
            source = original
            for old, new in entry["edits"]:
                assert source.count(old) == 1, f"{entry['name']}: edit target occurs {source.count(old)} times"
                source = source.replace(old, new)
            index += 1
            entry["golden"] = golden(source, family, shared, scratch, index)
            print(f"{entry['name']}: {entry['golden']}", flush=True)
    doc.update(generator="tools/family_mutation_goldens.py", record=family["record"],
               code_sha256=hashlib.sha256(code.read_bytes()).hexdigest(), torch=torch.__version__, dtype="float32",
               device="cpu", weights=f"fixtures/families/{doc['family']}/model.weights.json (rebuilt and checked bit for bit)",
               mode="standard (the edited code's own eval_val)", unedited=unedited)
    FIXTURE.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE}", flush=True)


if __name__ == "__main__":
    main()
