#!/usr/bin/env python3
"""Goldens for score-first TTT on record-family models, computed by the records' OWN functions.

Run by hand (never in CI):  /work/venv/bin/python tools/family_ttt_goldens.py [--shared ../shared]

2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT defines `eval_val_ttt_lora`: the batched
per-document LoRA loop of `eval_val_ttt_phased` without global phases. Its train_gpt.py is exec'd from
the shared corpus at run time exactly as tools/family_goldens.py does (same CPU stand-ins, tiny env and
random weights: those of fixtures/families/outgate-smear-sp1024, checked bit for bit), and the record's
own `eval_val_ttt_lora` runs on that folder's val_tokens.bin with small TTT settings. The harness
adaptations are those of tools/phased_ttt_goldens.py (LoRA `A` overwritten with pgverify's LoRAInit
stream for document = index in `_find_docs`, adapters in reset order, `B` zeroed; eager MLP; world
size 1). A line tracer reads the function's own running sums after each batch.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_goldens as fg  # noqa: E402
import phased_ttt_goldens as pg  # noqa: E402
from phased_ttt_goldens import expected_weights, is_assign_to, line_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "ttt" / "family"
RECORD = "2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT"
FAMILY = "outgate-smear-sp1024"
FUNCTION = "eval_val_ttt_lora"

# The record's TTT knobs scaled to the fixture's documents: batches of 2, windows of 128 reaching back
# over chunks of 32, AdamW rank 4.
BASE_TTT = dict(
    TTT_LORA_RANK="4", TTT_LORA_LR="0.01", TTT_CHUNK_SIZE="32", TTT_EVAL_SEQ_LEN="128", TTT_BATCH_SIZE="2",
    TTT_GRAD_STEPS="1", TTT_WEIGHT_DECAY="0.5", TTT_BETA1="0", TTT_BETA2="0.999", TTT_K_LORA="1",
    TTT_MLP_LORA="1", TTT_O_LORA="1", TTT_OPTIMIZER="adam", TTT_EVAL_BATCHES="", VAL_DOC_FRACTION="1.0",
    SEED="1337",
)
CASES = {
    # AdamW LoRA on q/k/v/MLP/o/head.
    "lora_adam": dict(env={}),
    # LoRA lr 0 (B stays 0): the base model on the same windows (pgverify's "before TTT" score).
    "no_adaptation": dict(env=dict(TTT_LORA_LR="0")),
    # SGD with momentum and two steps per chunk, q/v/head only, batches of 3.
    "lora_sgd": dict(env=dict(TTT_OPTIMIZER="sgd", TTT_LORA_LR="0.05", TTT_BETA1="0.9", TTT_WEIGHT_DECAY="0.01",
                              TTT_GRAD_STEPS="2", TTT_K_LORA="0", TTT_MLP_LORA="0", TTT_O_LORA="0",
                              TTT_BATCH_SIZE="3")),
}
SETTING_NAMES = [
    "ttt_lora_rank", "ttt_lora_lr", "ttt_chunk_size", "ttt_eval_seq_len", "ttt_batch_size", "ttt_grad_steps",
    "ttt_weight_decay", "ttt_beta1", "ttt_beta2", "ttt_k_lora", "ttt_mlp_lora", "ttt_o_lora", "ttt_optimizer",
    "val_doc_fraction", "eval_seq_len", "seed",
]


def run_case(name: str, case: dict, shared: Path) -> dict:
    family = next(f for f in fg.FAMILIES if f["name"] == FAMILY)
    assert family["record"] == RECORD
    script = shared / fg.RECORDS / RECORD / "train_gpt.py"
    folder = ROOT / "fixtures" / "families" / FAMILY
    env = dict(fg.TINY_ENV, **family["env"], **BASE_TTT)
    env.update(case["env"])
    env["RUN_ID"] = f"pgverify_familyttt_{os.getpid()}_{name}"
    stream = fg.read_shard(folder / "val_tokens.bin")
    source = script.read_text(encoding="utf-8")
    mark_batch = line_of(ast.parse(source), FUNCTION, is_assign_to("batch_num"))
    with tempfile.TemporaryDirectory() as tmp:
        pg.record_data_dir(tmp, env, stream, shared, family["tokenizer"])
        mod = fg.exec_record(script, env)
        torch.manual_seed(0)
        h = mod.Hyperparameters()
        logs: list[str] = []
        mod.log = lambda msg, console=True: logs.append(str(msg))
        val_data = mod.ValidationData(h, torch.device("cpu"))
        model = mod.GPT(h).float()
        fg.randomize(model, seed=20240520)
        if h.num_loops > 0:
            model.looping_active = True
        state = mod._unbank_state_dict(model.state_dict(), h.num_layers)
        expected = expected_weights(folder)
        assert sorted(state) == sorted(expected)
        for key, value in state.items():
            assert np.array_equal(value.detach().float().numpy(), expected[key]), key
        pg.ready_for_ttt(model, h)

        current = {"entries": None}

        def overwrite_a(lora):
            pg.overwrite_lora_a(lora, current["entries"])

        original_init, original_reset = mod.BatchedTTTLoRA.__init__, mod.BatchedTTTLoRA.reset

        def patched_init(self, *a, **k):
            original_init(self, *a, **k)
            overwrite_a(self)

        def patched_reset(self):
            original_reset(self)
            overwrite_a(self)
        mod.BatchedTTTLoRA.__init__, mod.BatchedTTTLoRA.reset = patched_init, patched_reset

        batches = []

        def tracer(frame, event, arg):
            if frame.f_code.co_filename != str(script):
                return None
            return local

        def local(frame, event, arg):
            if event != "line" or frame.f_code.co_name != FUNCTION:
                return local
            f = frame.f_locals
            current["entries"] = f.get("batch_entries")
            if frame.f_lineno == mark_batch:
                batches.append(dict(
                    batch=int(f["orig_batch_idx"]), queue=int(f["queue_idx"]),
                    documents=[int(i) for i, _ in f["batch_entries"]],
                    loss_sum=float(f["loss_sum"].item()), byte_sum=float(f["byte_sum"].item()),
                    token_count=float(f["token_count"].item())))
            return local

        sys.settrace(tracer)
        try:
            val_loss, val_bpb = getattr(mod, FUNCTION)(h, model, torch.device("cpu"), val_data, model.forward_ttt)
        finally:
            sys.settrace(None)
        settings = {n: getattr(h, n) for n in SETTING_NAMES}
        docs = mod._find_docs(val_data.val_tokens)
        result = dict(
            case=name, function=FUNCTION, family=FAMILY, settings=settings, env=dict(case["env"]),
            val_loss=val_loss, val_bpb=val_bpb, val_tokens=int(val_data.val_tokens.numel()),
            documents=[[int(s), int(n)] for s, n in docs], batches=batches,
            log=[line for line in logs if line.startswith(("ttt_lora:", "ttt_progress:"))],
        )
        print(f"{name}: val_loss {val_loss:.8f} val_bpb {val_bpb:.8f} batches {len(batches)} docs {len(docs)}")
        return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--only", default=None)
    args = parser.parse_args()
    shared = Path(args.shared).resolve()
    torch.set_num_threads(1)
    importlib.import_module("torch._dynamo")  # before the triton stand-ins (see phased_ttt_goldens.py)
    fg.install_stubs()
    script = shared / fg.RECORDS / RECORD / "train_gpt.py"
    snapshot = shared / "corpus" / "parameter-golf" / "SNAPSHOT"
    commit = snapshot.read_text().strip().splitlines()[0] if snapshot.exists() else "unknown"
    provenance = dict(record=f"records/track_10min_16mb/{RECORD}/train_gpt.py", corpus_commit=commit,
                      record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(), torch=torch.__version__,
                      model=f"fixtures/families/{FAMILY} (weights checked equal)",
                      tokens=f"fixtures/families/{FAMILY}/val_tokens.bin", base_env=dict(BASE_TTT),
                      lora_init="pgverify LoRAInit, document = index in _find_docs, adapters in reset order")
    OUT.mkdir(parents=True, exist_ok=True)
    for name, case in CASES.items():
        if args.only and args.only != name:
            continue
        result = run_case(name, case, shared)
        (OUT / f"{name}.json").write_text(json.dumps(dict(provenance, **result), indent=1) + "\n")


if __name__ == "__main__":
    main()
