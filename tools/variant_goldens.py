#!/usr/bin/env python3
"""Goldens for MLP-activation variants, each computed by its own edited code (issue #14, items 3-4).

Run by hand (never in CI):  /work/venv/bin/python tools/variant_goldens.py [--shared ../shared]

Each variant is a model code (the challenge's baseline train_gpt.py, or the taleef7 fork's own
train_gpt.py that travels with the 2L/64d artifact), a list of textual edits applied to it (each must
occur exactly once), and environment settings. The edited code is written to a scratch file and
imported; its `Hyperparameters` are read under the settings, its model is built by the same
`GPT(...)` call its `main` makes, loaded with the taleef7 2L/64d artifact's weights (dequantized by
the baseline's `dequantize_state_dict_int8`), and scored by its own `eval_val` in float32 on CPU.
fixtures/conformance/variant-goldens.json records the edits and settings with the numbers, so the
tests apply exactly these edits and settings and must reproduce the numbers through conformance and
the reference model. Nothing of the challenge's code is copied here. See tools/README.md.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import types
import zlib
from pathlib import Path

import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_goldens import val_tokens  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "conformance" / "variant-goldens.json"
BASELINE = "corpus/parameter-golf/train_gpt.py"
FORK = "artifacts/taleef7-baseline-2L64d/train_gpt.py"
# The weights each variant runs on: the real taleef7 2L/64d artifact (its MLP barely moves the
# score: variants differ from relu² by 1e-5 … 3e-4) and tools/eval_goldens.py's tiny random model
# (whose MLP does). `env` is what the run that wrote them set (pgverify reads the shapes from the
# tensors; `overrides` is what the tests pass it for the rest).
MODELS = {
    "taleef7-2L64d": dict(artifact="../shared/artifacts/taleef7-baseline-2L64d/final_model.int8.ptz",
                          env=dict(VOCAB_SIZE="1024", NUM_LAYERS="2", MODEL_DIM="64", NUM_HEADS="4", NUM_KV_HEADS="2",
                                   MLP_MULT="1"),
                          overrides={}, seq_len=1024, max_tokens=8192),
    "tiny": dict(artifact="fixtures/eval/tiny.int8.ptz",
                 env=dict(VOCAB_SIZE="1030", NUM_LAYERS="3", MODEL_DIM="24", NUM_HEADS="4", NUM_KV_HEADS="2",
                          MLP_MULT="2", TIE_EMBEDDINGS="0", LOGIT_SOFTCAP="20", ROPE_BASE="500"),
                 overrides={"LOGIT_SOFTCAP": "20", "ROPE_BASE": "500"}, seq_len=64, max_tokens=4096),
}

RELU = "x = torch.relu(self.fc(x))"
SQUARE = "return self.proj(x.square())"
# relu^p with p a setting (MLP_POWER, code default 3.0), passed down GPT → Block → MLP the way the
# fork passes its MLP_NEGATIVE_SLOPE.
POWER_FROM_SETTING = [
    ('    mlp_mult = int(os.environ.get("MLP_MULT", 2))\n',
     '    mlp_mult = int(os.environ.get("MLP_MULT", 2))\n    mlp_power = float(os.environ.get("MLP_POWER", 3.0))\n'),
    ("    def __init__(self, dim: int, mlp_mult: int):\n        super().__init__()\n        hidden = mlp_mult * dim\n",
     "    def __init__(self, dim: int, mlp_mult: int, power: float = 2.0):\n        super().__init__()\n"
     "        hidden = mlp_mult * dim\n        self.power = power\n"),
    (SQUARE, "return self.proj(x.pow(self.power))"),
    ("        qk_gain_init: float,\n    ):\n        super().__init__()\n        self.attn_norm = RMSNorm()",
     "        qk_gain_init: float,\n        mlp_power: float = 2.0,\n    ):\n        super().__init__()\n        self.attn_norm = RMSNorm()"),
    ("self.mlp = MLP(dim, mlp_mult)", "self.mlp = MLP(dim, mlp_mult, mlp_power)"),
    ("        rope_base: float,\n        qk_gain_init: float,\n    ):\n        super().__init__()\n        if logit_softcap",
     "        rope_base: float,\n        qk_gain_init: float,\n        mlp_power: float = 2.0,\n    ):\n        super().__init__()\n"
     "        if logit_softcap"),
    ("                    qk_gain_init,\n                )\n                for i in range(num_layers)",
     "                    qk_gain_init,\n                    mlp_power,\n                )\n                for i in range(num_layers)"),
    ("        qk_gain_init=args.qk_gain_init,\n    ).to(device).bfloat16()",
     "        qk_gain_init=args.qk_gain_init,\n        mlp_power=args.mlp_power,\n    ).to(device).bfloat16()"),
]

VARIANTS = [
    dict(name="leaky-ReLU(0.5)² in the baseline", code=BASELINE, activation="leaky_relu(0.5)²",
         edits=[(RELU, "x = F.leaky_relu(self.fc(x), negative_slope=0.5)")], settings={}),
    dict(name="leaky-ReLU(0.125)² in the baseline", code=BASELINE, activation="leaky_relu(0.125)²",
         edits=[(RELU, "x = F.leaky_relu(self.fc(x), 0.125)")], settings={}),
    dict(name="relu³ in the baseline", code=BASELINE, activation="relu^3.0",
         edits=[(SQUARE, "return self.proj(x ** 3)")], settings={}),
    dict(name="relu^p, p the code default of MLP_POWER (3.0)", code=BASELINE, activation="relu^3.0",
         edits=POWER_FROM_SETTING, settings={}),
    dict(name="relu^p, MLP_POWER=1.5 set", code=BASELINE, activation="relu^1.5",
         edits=POWER_FROM_SETTING, settings={"MLP_POWER": "1.5"}),
    dict(name="the fork's own code, MLP_NEGATIVE_SLOPE=0.5 set", code=FORK, activation="leaky_relu(0.5)²",
         edits=[], settings={"MLP_NEGATIVE_SLOPE": "0.5"}),
    dict(name="the fork's own code, MLP_NEGATIVE_SLOPE=0.3 set", code=FORK, activation="leaky_relu(0.3)²",
         edits=[], settings={"MLP_NEGATIVE_SLOPE": "0.3"}),
]


def load_module(name: str, path: Path) -> types.ModuleType:
    """Imports `path` as `name`, registered in sys.modules (the fork's dataclasses look themselves up there)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def edited_source(text: str, edits) -> str:
    for old, new in edits:
        count = text.count(old)
        assert count == 1, f"edit target occurs {count} times: {old[:60]!r}"
        text = text.replace(old, new)
    return text


def form_source(form, shared: Path, prcorpus: Path) -> tuple[str, str]:
    """A golden form's code with its `edits` applied, and the sha256 of the original: the challenge's baseline
    under `shared`, or the pull request's file `form["code"]` in its corpus folder `form["folder"]`."""
    original = (shared / form["code"]) if form["code"] == BASELINE else (prcorpus / form["folder"] / form["code"])
    source = original.read_text(encoding="utf-8")
    return edited_source(source, form["edits"]), hashlib.sha256(source.encode("utf-8")).hexdigest()


def import_edited(text: str, scratch: Path, name: str, env: dict[str, str]):
    """`text` written to `scratch/name.py` and imported as `name` with `env` in the environment while its
    `Hyperparameters()` read it (restored after). Returns the module and those hyperparameters."""
    path = scratch / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        module = load_module(name, path)
        return module, module.Hyperparameters()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def model_construction(source: str) -> str:
    """The `GPT(...)` call of the code's `main`, as source text."""
    tree = ast.parse(source)
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    calls = [n for n in ast.walk(main) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "GPT"]
    assert len(calls) == 1, "expected one GPT(...) in main"
    return ast.unparse(calls[0])


def evaluate(variant, model_spec, shared: Path, state, luts, shard: Path, scratch: Path, index: int):
    source = edited_source((shared / variant["code"]).read_text(encoding="utf-8"), variant["edits"])
    path = scratch / f"variant_{index}.py"
    path.write_text(source, encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(model_spec["env"])
    os.environ.update(variant["settings"])
    try:
        module = load_module(f"pg_variant_{index}", path)  # Hyperparameters read the environment here
        args = module.Hyperparameters()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    model = eval(model_construction(source), {"GPT": module.GPT, "args": args}).float()
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    model.eval()
    seq_len = model_spec["seq_len"]
    tokens = val_tokens(module, shard, seq_len, model_spec["max_tokens"], scratch)
    eval_args = types.SimpleNamespace(val_batch_size=seq_len * 8, train_seq_len=seq_len)
    with torch.inference_mode():
        loss, bpb = module.eval_val(eval_args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
    return float(loss), float(bpb), int(tokens.numel() - 1)


def artifact_path(spec, shared: Path) -> Path:
    prefix = "../shared/"
    return shared / spec["artifact"][len(prefix):] if spec["artifact"].startswith(prefix) else ROOT / spec["artifact"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    shared = opts.shared.resolve()
    baseline = load_module("pg_baseline", shared / BASELINE)
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    shard = shared / "val" / "small" / "fineweb_val_000000.bin"
    models, results = {}, [dict(name=v["name"], code=v["code"], activation=v["activation"],
                                edits=[list(e) for e in v["edits"]], settings=v["settings"], goldens={}) for v in VARIANTS]
    index = 0
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        for model_name, spec in MODELS.items():
            blob = artifact_path(spec, shared).read_bytes()
            state = baseline.dequantize_state_dict_int8(torch.load(io.BytesIO(zlib.decompress(blob)), map_location="cpu"))
            luts = baseline.build_sentencepiece_luts(sp, int(spec["env"]["VOCAB_SIZE"]), torch.device("cpu"))
            index += 1
            loss, bpb, n = evaluate(dict(code=BASELINE, edits=[], settings={}), spec, shared, state, luts, shard, scratch, index)
            print(f"{model_name} unedited baseline: val_loss={loss:.8f} val_bpb={bpb:.8f} tokens={n}", flush=True)
            models[model_name] = dict(artifact=spec["artifact"], overrides=spec["overrides"], seq_len=spec["seq_len"],
                                      max_tokens=spec["max_tokens"], unedited=dict(val_loss=loss, val_bpb=bpb, tokens=n))
            for variant, result in zip(VARIANTS, results):
                index += 1
                loss, bpb, n = evaluate(variant, spec, shared, state, luts, shard, scratch, index)
                print(f"{model_name} {variant['name']}: val_loss={loss:.8f} val_bpb={bpb:.8f}", flush=True)
                result["goldens"][model_name] = dict(val_loss=loss, val_bpb=bpb, tokens=n)
    doc = dict(generator="tools/variant_goldens.py", torch=torch.__version__, dtype="float32", device="cpu",
               weights="each artifact dequantized by the baseline's dequantize_state_dict_int8",
               tokenizer="../shared/tokenizers/fineweb_1024_bpe.model", val="../shared/val/small/fineweb_val_000000.bin",
               mode="standard", models=models, variants=results)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}", flush=True)


if __name__ == "__main__":
    main()
