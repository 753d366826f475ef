#!/usr/bin/env python3
"""Whole-pipeline goldens: a family model exported and scored by each top record's OWN code.

Run by hand (never in CI):  /work/venv/bin/python tools/combined_goldens.py [--shared ../shared] [--only NAME]

For each distinct model family among the 10 best records (fixtures/families/README.md), the record's
train_gpt.py is exec'd from the shared corpus at run time (never copied here) with the CPU stand-ins of
tools/family_goldens.py, and:
  1. its `GPT` is built at the tiny dims of family_goldens.py the way its training builds it
     (`GPT(h).bfloat16()` + `restore_fp32_params`), every parameter random and nonzero;
  2. its own `serialize(h, model, code)` writes the artifact: `collect_hessians` on a few batches of the
     val tokens (a CPU stand-in for its `ShuffledSequenceLoader`), `gptq_mixed_quantize` (GPTQ, LQER, gate
     int8 rows as the record's settings say), then `_compress` (BSHF + brotli-11) or
     `_serialize_pergroup` (PGRP + lrzip);
  3. its own `deserialize(h, cpu)` reads the artifact back into a fresh `GPT`; the dequantized tensors
     (`_unbank_state_dict` of that model) are digested: sha256 of each tensor's float32 bytes;
  4. that model, cast to float32 (the bfloat16 values it holds are exact in float32), looping switched on
     as `train_and_eval` does, is scored by the record's own `eval_val` (the "diagnostic quantized"
     number) on 16,384 tokens of ../shared/val.

Patches to the record's source, applied as text before exec (each must match, or the tool stops):
  * `torch.device("cuda", h.local_rank)` -> `torch.device("cpu")` (serialize's calibration device);
  * the GPTQ size threshold `t.numel() <= 65536` -> `t.numel() <= 256`: at tiny dims every matrix is
    under 65,536 elements and would be stored as fp16 passthrough; with 256 every block matrix and the
    embedding go through GPTQ (and LQER) as full-size ones do, and the small tensors stay passthrough.
Module attributes replaced after exec: `ShuffledSequenceLoader` (train shards -> val windows) and
`_compressed_code_size` (runs `pyminify`, not installed; the code size does not enter the artifact).
See fixtures/combined/README.md.
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
import family_goldens as fg  # noqa: E402  (CPU stand-ins, tiny env, token stream, randomize)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "combined"
GPTQ_THRESHOLD = 256
CALIBRATION_BATCHES = 4
SCORED_TOKENS = 16384

SOURCE_PATCHES = [
    ('torch.device("cuda", h.local_rank)', 'torch.device("cpu")'),
    ("t.numel() <= 65536", f"t.numel() <= {GPTQ_THRESHOLD}"),
]

COMBINED = [
    dict(name="lqerasym-brotli-sp1024", family="sparsegate-smearbos",
         record="2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT", rank="#2",
         env=dict(VOCAB_SIZE="1024", SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1",
                  SPARSE_ATTN_GATE_SCALE="0.75", CASEOPS_ENABLED="0", GATED_ATTN_QUANT_GATE="1",
                  COMPRESSOR="brotli")),
    dict(name="pergroup-lrzip-sp1024", family="sparsegate-bosfix9hp",
         record="2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611", rank="#1",
         env=dict(VOCAB_SIZE="1024", SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1",
                  SPARSE_ATTN_GATE_SCALE="1.5", CASEOPS_ENABLED="1", GATED_ATTN_QUANT_GATE="1",
                  COMPRESSOR="pergroup"),
         sidecar=True),
    dict(name="gatedattn-brotli-sp1024", family="gatedattn",
         record="2026-04-19_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT", rank="#5",
         env=dict(VOCAB_SIZE="1024", GATED_ATTN_ENABLED="1", CASEOPS_ENABLED="0", GATED_ATTN_QUANT_GATE="1",
                  COMPRESSOR="brotli")),
    dict(name="outgate-brotli-sp1024", family="outgate-smear",
         record="2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT", rank="#7",
         env=dict(VOCAB_SIZE="1024", EMBEDDING_DIM="32", SMEAR_GATE="1", SMEAR_GATE_WIDTH="10", GATE_ATTN_OUT="1",
                  GATE_MLP_OUT="1", GATE_WIDTH="12", GATE_ATTN_SRC="proj", COMPRESSOR="brotli")),
    dict(name="plain-brotli-sp1024", family="plain",
         record="2026-04-14_MultiPhaseGlobalSGD_PhasedTTT", rank="#8",
         env=dict(VOCAB_SIZE="1024", COMPRESSOR="brotli")),
    dict(name="sparsegate-brotli-sp1024", family="sparsegate",
         record="2026-04-23_SP8192_CaseOps_SparseGate_QuantGate_Loop45_PhasedTTT_PolarNS_MinLR_FusedCE", rank="#3",
         env=dict(VOCAB_SIZE="1024", SPARSE_ATTN_GATE_ENABLED="1", CASEOPS_ENABLED="0", GATED_ATTN_QUANT_GATE="1",
                  COMPRESSOR="brotli")),
    dict(name="caseops-taper-brotli-sp1024", family="plain",
         record="2026-04-18_PR1626_CaseOps_Taper", rank="#6",
         env=dict(VOCAB_SIZE="1024", CASEOPS_ENABLED="0", COMPRESSOR="brotli")),
    dict(name="varlen-brotli-sp1024", family="plain",
         record="2026-04-13_VarLenAttn_PhasingTTT2000", rank="#9",
         env=dict(VOCAB_SIZE="1024", EMBEDDING_DIM="32", COMPRESSOR="brotli")),
]
TOKENIZER = "fineweb_1024_bpe.model"


class ValCalibrationLoader:
    """Stands in for the record's ShuffledSequenceLoader in `collect_hessians`: consecutive windows of
    the val stream, `global_tokens // (world_size · grad_accum_steps)` tokens per batch, as its
    `next_batch` sizes them."""

    def __init__(self, h, device, tokens: np.ndarray):
        self.seq_len = h.train_seq_len
        self.world_size = h.world_size
        self.tokens = torch.from_numpy(tokens.astype(np.int64))
        self.position = 0

    def next_batch(self, global_tokens, grad_accum_steps):
        rows = global_tokens // (self.world_size * grad_accum_steps) // self.seq_len
        need = rows * self.seq_len + 1
        if self.position + need > len(self.tokens):
            self.position = 0
        chunk = self.tokens[self.position:self.position + need]
        self.position += need - 1
        return chunk[:-1].view(rows, self.seq_len), chunk[1:].view(rows, self.seq_len)


def exec_patched(path: Path, env: dict) -> types.ModuleType:
    os.environ.clear()
    os.environ.update(fg._BASE_ENV)
    os.environ.update(env)
    source = path.read_text(encoding="utf-8")
    for old, new in SOURCE_PATCHES:
        if old not in source:
            raise SystemExit(f"{path}: patch target not found: {old!r}")
        source = source.replace(old, new)
    module = types.ModuleType(f"record_{path.parent.name}")
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def digest(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).hexdigest()


def run(entry: dict, shared: Path, corpus_commit: str) -> dict:
    record_dir = shared / fg.RECORDS / entry["record"]
    script = record_dir / "train_gpt.py"
    env = dict(fg.TINY_ENV, **entry["env"])
    env.update(TRAIN_BATCH_TOKENS="4096", GPTQ_CALIBRATION_BATCHES=str(CALIBRATION_BATCHES))
    stream, shard_offset = fg.retokenized_stream(shared, TOKENIZER, SCORED_TOKENS + 1)
    folder = OUT / entry["name"]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "datasets" / "fineweb10B_sp1024"
        data_path.mkdir(parents=True)
        fg.write_shard(data_path / "fineweb_val_000000.bin", stream)
        if entry.get("sidecar"):
            # As fixtures/families: the record's eval_val always reads a CaseOps byte sidecar; this one
            # holds the bytes of each token after its predecessor by the record's own LUTs (entry 0 = 0).
            sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / TOKENIZER))
            probe = fg.exec_record(script, env)
            base, space, boundary = (t.numpy() for t in probe.build_sentencepiece_luts(sp, 1024, torch.device("cpu")))
            counts = np.zeros(len(stream), dtype=np.int64)
            counts[1:] = base[stream[1:]] + (space[stream[1:]] & ~boundary[stream[:-1]])
            fg.write_shard(data_path / "fineweb_val_bytes_000000.bin", counts.astype(np.uint16))
            fg.write_shard(OUT / "val_bytes.bin", counts.astype(np.uint16))
        (Path(tmp) / "tokenizers").mkdir()
        tokenizer_path = Path(tmp) / "tokenizers" / "fineweb_1024_bpe.model"
        tokenizer_path.symlink_to(shared / "tokenizers" / TOKENIZER)
        artifacts = Path(tmp) / "artifacts"
        artifacts.mkdir()
        env.update(DATA_PATH=str(data_path), TOKENIZER_PATH=str(tokenizer_path), DATA_DIR=tmp + "/",
                   ARTIFACT_DIR=str(artifacts))
        mod = exec_patched(script, env)
        mod.ShuffledSequenceLoader = lambda h, device: ValCalibrationLoader(h, device, stream)
        mod._compressed_code_size = lambda code: (len(code.encode("utf-8")), 0)
        if getattr(mod, "BOS_ID", 0) is None:
            mod.BOS_ID = 1  # set by the record's training loader before serialize runs
        torch.manual_seed(0)
        h = mod.Hyperparameters()
        if hasattr(mod, "set_logging_hparams"):
            mod.set_logging_hparams(h)
        cpu = torch.device("cpu")
        # As train_model builds it: bfloat16, then the record's float32 restoration.
        model = mod.GPT(h).bfloat16()
        mod.restore_fp32_params(model)
        fg.randomize(model, seed=20240522)
        if h.num_loops > 0:
            model.looping_active = True  # calibration runs after training, with the loop on
        mod.serialize(h, model, script.read_text(encoding="utf-8"))
        artifact = Path(h.quantized_model_path)
        blob = artifact.read_bytes()
        (folder / artifact.name).write_bytes(blob)

        eval_model = mod.deserialize(h, cpu)
        template = mod._unbank_state_dict(eval_model.state_dict(), h.num_layers)
        tensors = {name: dict(dtype=str(t.dtype).removeprefix("torch."), shape=list(t.shape), sha256=digest(t))
                   for name, t in sorted(template.items())}
        eval_model = eval_model.float()  # bfloat16 values are exact in float32: fp32 eval of the same weights
        if h.num_loops > 0:
            eval_model.looping_active = True
        eval_model.eval()
        val_data = mod.ValidationData(h, cpu)
        val_loss, val_bpb = mod.eval_val(h, cpu, val_data, eval_model)
        sliding = None
        if hasattr(mod, "eval_val_sliding"):
            # The record's own sliding evaluator (stride h.eval_stride, its default batch_seqs), same model.
            eval_model.eval()
            s_loss, s_bpb = mod.eval_val_sliding(h, cpu, val_data, eval_model)
            sliding = dict(stride=h.eval_stride, batch_seqs=32, val_loss=s_loss, val_bpb=s_bpb)
        fg.write_shard(OUT / "val_tokens.bin", stream)  # the same stream for every fixture: one copy
        if blob[:4] == b"PGRP":
            with tempfile.TemporaryDirectory() as unpack:
                meta = mod._deserialize_pergroup(blob, h.num_layers, unpack)[1]
        else:
            meta = torch.load(io.BytesIO(mod._decompress(blob, h.compressor)), map_location="cpu")["m"]
        golden = dict(
            fixture=entry["name"], family=entry["family"], rank_among_10_best=entry["rank"],
            record=f"records/track_10min_16mb/{entry['record']}", corpus_commit=corpus_commit,
            record_sha256=hashlib.sha256(script.read_bytes()).hexdigest(), torch=torch.__version__,
            source_patches=[dict(old=o, new=n) for o, n in SOURCE_PATCHES],
            tokenizer=TOKENIZER, artifact=artifact.name, artifact_bytes=len(blob),
            artifact_sha256=hashlib.sha256(blob).hexdigest(),
            val_source=dict(shard="val/fineweb_val_000000.bin (sp1024)", first_doc_offset=shard_offset,
                            documents=int((stream == 1).sum())),
            env=env | dict(DATA_PATH="<tmp>", DATA_DIR="<tmp>", ARTIFACT_DIR="<tmp>", TOKENIZER_PATH=TOKENIZER),
            calibration=f"collect_hessians, {CALIBRATION_BATCHES} batches of val windows (ValCalibrationLoader)",
            quantization=meta,
            eval="record deserialize -> .float() -> eval_val (looping_active=True)",
            val_tokens=int(val_data.val_tokens.numel()), val_loss=val_loss, val_bpb=val_bpb,
            sliding=sliding,
            tensors=tensors,
        )
        (folder / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
        print(f"{entry['name']}: {len(blob)} bytes, val_loss {val_loss:.8f} val_bpb {val_bpb:.8f} "
              f"({len(tensors)} tensors)" + (f", sliding val_bpb {sliding['val_bpb']:.8f}" if sliding else ""))
        return golden


# Every record whose `deserialize` builds its template as `GPT(h).bfloat16()` + `restore_fp32_params`, with the
# env that builds its GPT at tiny dims (the features each record turns on by default, or the ones we set).
DTYPE_RECORDS = [
    ("2026-04-01_Vocab4096_MLPMult4_WD085", "train_gpt.py", dict(VE_ENABLED="1")),
    ("2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2", "train_gpt_human.py", {}),
    ("2026-04-06_SP8192_HessianSDClip_ProgressiveRecurrence", "train_gpt_decode.py", {}),
    ("2026-04-10_VarLenAttn", "train_gpt.py", {}),
    ("2026-04-13_VarLenAttn_PhasingTTT2000", "train_gpt.py", {}),
    ("2026-04-14_MultiPhaseGlobalSGD_PhasedTTT", "train_gpt.py", {}),
    ("2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT", "train_gpt.py",
     dict(SMEAR_GATE="1", GATE_ATTN_OUT="1", GATE_MLP_OUT="1")),
    ("2026-04-18_PR1626_CaseOps_Taper", "train_gpt.py", {}),
    ("2026-04-19_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT", "train_gpt.py", dict(GATED_ATTN_ENABLED="1")),
    ("2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12", "train_gpt.py", dict(GATED_ATTN_ENABLED="1")),
    ("2026-04-23_SP8192_CaseOps_SparseGate_QuantGate_Loop45_PhasedTTT_PolarNS_MinLR_FusedCE", "train_gpt.py",
     dict(SPARSE_ATTN_GATE_ENABLED="1")),
    ("2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611", "train_gpt.py",
     dict(SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1")),
    ("2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT", "train_gpt.py",
     dict(SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1")),
    ("2026-04-29_SmearGateBOSFix_3Seed_1.06141", "train_gpt.py", dict(SMEAR_GATE_ENABLED="1", SPARSE_ATTN_GATE_ENABLED="1")),
]


def deserialize_dtypes(shared: Path, corpus_commit: str):
    """fixtures/combined/deserialize_dtypes.json: for each record above, the dtype of every parameter of the
    template its `deserialize` builds (`GPT(h).bfloat16()` + its `restore_fp32_params`, `_unbank_state_dict`
    names where it banks), at tiny dims."""
    out = {}
    for record, script, extra in DTYPE_RECORDS:
        path = shared / fg.RECORDS / record / script
        try:
            mod = fg.exec_record(path, dict(fg.TINY_ENV, VOCAB_SIZE="1024", EMBEDDING_DIM="32", **extra))
            h = mod.Hyperparameters()
            model = mod.GPT(h).bfloat16()
            mod.restore_fp32_params(model)
            state = model.state_dict()
            if hasattr(mod, "_unbank_state_dict"):
                state = mod._unbank_state_dict(state, h.num_layers)
        except Exception as error:  # a record whose GPT does not build on CPU at these dims: named, skipped
            print(f"{record}: skipped ({type(error).__name__}: {error})")
            continue
        out[record] = dict(script=script, script_sha256=hashlib.sha256(path.read_bytes()).hexdigest(), env=extra,
                           tensors={n: dict(shape=list(t.shape), dtype=str(t.dtype).removeprefix("torch."))
                                    for n, t in sorted(state.items()) if t.is_floating_point()})
        print(f"{record}: bfloat16 {[n for n, t in state.items() if t.dtype == torch.bfloat16]}")
    golden = dict(source="tools/combined_goldens.py --dtypes", corpus_commit=corpus_commit, records=out)
    (OUT / "deserialize_dtypes.json").write_text(json.dumps(golden, separators=(",", ":")) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--only", default=None)
    parser.add_argument("--dtypes", action="store_true", help="only write deserialize_dtypes.json")
    args = parser.parse_args()
    shared = Path(args.shared).resolve()
    torch.set_num_threads(2)
    fg.install_stubs()
    snapshot = shared / "corpus" / "parameter-golf" / "SNAPSHOT"
    commit = snapshot.read_text().strip().splitlines()[0] if snapshot.exists() else "unknown"
    if args.dtypes:
        deserialize_dtypes(shared, commit)
        return
    for entry in COMBINED:
        if args.only and entry["name"] != args.only:
            continue
        run(entry, shared, commit)


if __name__ == "__main__":
    main()
