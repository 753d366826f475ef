#!/usr/bin/env python3
"""PyTorch goldens of the baseline mutation set (issue #14, item 5): each single semantic edit of the
challenge's baseline train_gpt.py, scored by the edited code itself.

Run by hand (never in CI):  /work/venv/bin/python tools/mutation_goldens.py [--shared ../shared]

fixtures/conformance/baseline-mutations.json holds the mutations (name, textual edits, the construct and
line pgverify's refusal must name); Tests/VerifierTests/Conformance/BaselineMutationTests.swift reads the
same file. This script keeps those fields and adds, for each mutation and each model of
tools/variant_goldens.py (the taleef7 2L/64d artifact, tied head; the tiny random model, untied head),
what the edited code's own `eval_val` computes on the same weights and tokens (float32, CPU), or the
error it raises, and the unedited baseline's numbers. The tests assert every mutation is refused and
that its golden is not the unedited number, so a verifier printing the unedited architecture's number
for the edited code would be wrong by the recorded difference.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import sys
import tempfile
import zlib
from pathlib import Path

import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import variant_goldens as vg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "conformance" / "baseline-mutations.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    shared = opts.shared.resolve()
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    mutations = doc["mutations"]
    baseline = vg.load_module("pg_baseline", shared / vg.BASELINE)
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    models, index = {}, 0
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for model_name, spec in vg.MODELS.items():
            blob = vg.artifact_path(spec, shared).read_bytes()
            state = baseline.dequantize_state_dict_int8(torch.load(io.BytesIO(zlib.decompress(blob)), map_location="cpu"))
            luts = baseline.build_sentencepiece_luts(sp, int(spec["env"]["VOCAB_SIZE"]), torch.device("cpu"))
            index += 1
            loss, bpb, n = vg.evaluate(dict(code=vg.BASELINE, edits=[], settings={}), spec, shared, state, luts, shard, scratch, index)
            models[model_name] = dict(artifact=spec["artifact"], unedited=dict(val_loss=loss, val_bpb=bpb, tokens=n))
            print(f"{model_name} unedited: val_bpb={bpb:.8f}", flush=True)
            for mutation in mutations:
                index += 1
                variant = dict(code=vg.BASELINE, edits=[tuple(e) for e in mutation["edits"]], settings={})
                try:
                    loss, bpb, n = vg.evaluate(variant, spec, shared, state, luts, shard, scratch, index)
                    golden = dict(val_loss=loss, val_bpb=bpb, tokens=n) if math.isfinite(loss) and math.isfinite(bpb) \
                        else dict(error=f"non-finite result: val_loss={loss}, val_bpb={bpb}")
                except Exception as error:  # the edited code itself fails on these weights
                    golden = dict(error=f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}")
                mutation.setdefault("goldens", {})[model_name] = golden
                print(f"{model_name} {mutation['name']}: {golden}", flush=True)
    doc.update(generator="tools/mutation_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
               code="../shared/corpus/parameter-golf/train_gpt.py",
               code_sha256=hashlib.sha256((shared / vg.BASELINE).read_bytes()).hexdigest(),
               weights="each artifact dequantized by the baseline's dequantize_state_dict_int8 (models as tools/variant_goldens.py)",
               tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
               mode="standard (the edited code's own eval_val)", models=models, mutations=mutations)
    FIXTURE.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE}", flush=True)


if __name__ == "__main__":
    main()
