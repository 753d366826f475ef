"""Writes fixtures/audit/ttt-chunked and fixtures/audit/ttt-lora (run by hand with the torch venv):
synthetic submissions around the real tiny artifact fixtures/eval/tiny.int8.ptz whose logs claim a
score-first TTT score computed by the records' own TTT functions on that artifact.

The artifact is dequantized by the baseline's own `dequantize_state_dict_int8`; the claims come from
  - `eval_val_sliding_ttt` of records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon, and
  - `eval_val_ttt_lora` of records/track_10min_16mb/2026-03-17_LoRA_TTT (A from pgverify's LoRAInit),
both run exactly as tools/ttt_goldens.py runs them (same settings, tokens fixtures/ttt/val_slice.bin).

    /work/venv/bin/python tools/make_ttt_audit_fixtures.py [--shared ../shared]
"""
import argparse
import io
import json
import shutil
import sys
import zlib
from pathlib import Path

import sentencepiece as spm
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_goldens import LogitCapture, load_module  # noqa: E402
import ttt_goldens as tg  # noqa: E402
from model_stand_in import stand_in  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "audit"
ARTIFACT = ROOT / "fixtures" / "eval" / "tiny.int8.ptz"
MODEL_ENV = ("NUM_LAYERS=3 MODEL_DIM=24 NUM_HEADS=4 NUM_KV_HEADS=2 MLP_MULT=2 VOCAB_SIZE=1030 TIE_EMBEDDINGS=0 "
             "ROPE_BASE=500 LOGIT_SOFTCAP=20 TRAIN_SEQ_LEN=64 EVAL_SEQ_LEN=64")
CHUNKED_ENV = (f"TTT_LR={tg.TTT['ttt_lr']} TTT_EPOCHS={tg.TTT['ttt_epochs']} TTT_CHUNK_TOKENS={tg.TTT['ttt_chunk_tokens']} "
               f"TTT_FREEZE_BLOCKS={tg.TTT['ttt_freeze_blocks']} TTT_MOMENTUM={tg.TTT['ttt_momentum']} "
               f"TTT_BATCH_SEQS={tg.TTT['ttt_batch_seqs']} TTT_GRAD_CLIP={tg.TTT['ttt_grad_clip']} EVAL_STRIDE={tg.STRIDE}")
LORA_ENV = (f"TTT_LORA_RANK={tg.LORA['ttt_lora_rank']} TTT_LORA_LR={tg.LORA['ttt_lora_lr']} "
            f"TTT_CHUNK_SIZE={tg.LORA['ttt_chunk_size']} TTT_EVAL_SEQ_LEN={tg.LORA['ttt_eval_seq_len']} "
            f"TTT_BATCH_SIZE={tg.LORA['ttt_batch_size']} BETA1={tg.LORA['beta1']} BETA2={tg.LORA['beta2']}")

# Our own stand-in scripts: pgverify reads them (never runs them) for the name of the TTT function, and
# matches their model classes (the baseline's, which exported the artifact) before evaluating.
SCRIPTS = {
    "ttt-chunked": stand_in("\n\ndef eval_val_sliding_ttt(*args):\n"
                            '    raise NotImplementedError("stand-in: the score comes from the 2026-03-23 record\'s function")\n'),
    "ttt-lora": stand_in("\n\ndef eval_val_ttt_lora(*args):\n"
                         '    raise NotImplementedError("stand-in: the score comes from the 2026-03-17 record\'s function")\n'),
}


def write_folder(name: str, env: str, label: str, result: dict, provenance: dict) -> None:
    folder = OUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(ARTIFACT, folder / "final_model.int8.ptz")
    script = SCRIPTS[name]
    (folder / "train_gpt.py").write_text(script)
    model, code = ARTIFACT.stat().st_size, len(script.encode())
    loss, bpb = result["val_loss"], result["val_bpb"]
    log = "\n".join([
        f"{MODEL_ENV} {env} SEED=1337 torchrun --standalone --nproc_per_node=8 train_gpt.py",
        "seed:1337",
        "step:200/200 train_loss:6.9000 train_time:30000ms step_avg:150.00ms",
        f"Serialized model int8+zlib: {model} bytes",
        f"Code size: {code} bytes",
        f"Total submission size int8+zlib: {code + model} bytes",
        f"{label} val_loss:{loss:.4f} val_bpb:{bpb:.4f} eval_time:9000ms",
        f"{label}_exact val_loss:{loss:.8f} val_bpb:{bpb:.8f}",
    ]) + "\n"
    (folder / "train_seed1337.log").write_text(log)
    metadata = {"author": "pgverify fixtures", "name": name, "track": "non_record_16mb",
                "val_loss": round(loss, 8), "val_bpb": round(bpb, 8),
                "bytes_total": code + model, "bytes_code": code, "seeds": [1337]}
    (folder / "submission.json").write_text(json.dumps(metadata, indent=2) + "\n")
    (folder / "golden.json").write_text(json.dumps(dict(provenance, val_loss=loss, val_bpb=bpb,
                                                        pre_ttt=result.get("pre_ttt")), indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    opts = parser.parse_args()
    shared = Path(opts.shared).resolve()
    torch.set_num_threads(2)
    baseline_path = shared / "corpus" / "parameter-golf" / "train_gpt.py"
    baseline = load_module("pg_baseline", baseline_path)
    capture = LogitCapture()
    baseline.F = capture
    tg.allow_training_after_inference(baseline)
    doc, _ = tg.load_raw_weights(tg.TINY_WEIGHTS)
    config = doc["config"]
    quantized = torch.load(io.BytesIO(zlib.decompress(ARTIFACT.read_bytes())), map_location="cpu")
    state = baseline.dequantize_state_dict_int8(quantized)
    tokens = baseline.load_validation_tokens(str(tg.OUT / "val_slice.bin"), tg.SEQ_LEN)
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers" / "fineweb_1024_bpe.model"))
    luts = baseline.build_sentencepiece_luts(sp, config["vocab_size"], torch.device("cpu"))
    base = dict(artifact="fixtures/eval/tiny.int8.ptz", artifact_sha256=tg.sha256(ARTIFACT),
                dequantized_by=str(baseline_path.relative_to(shared)), baseline_sha256=tg.sha256(baseline_path),
                tokens="fixtures/ttt/val_slice.bin", tokenizer="tokenizers/fineweb_1024_bpe.model",
                torch=torch.__version__)

    ttt_fn, score_line, record_path = tg.load_record_ttt(shared)
    results = {}
    for label, epochs in (("pre_ttt", 0), ("ttt", tg.TTT["ttt_epochs"])):
        model = tg.build_model(baseline, config, state, capture)
        results[label] = tg.run_ttt(ttt_fn, score_line, model, tokens, luts, dict(tg.TTT, ttt_epochs=epochs))
        print("chunked", label, results[label]["val_loss"], results[label]["val_bpb"])
    chunked = dict(results["ttt"], pre_ttt=dict(val_loss=results["pre_ttt"]["val_loss"], val_bpb=results["pre_ttt"]["val_bpb"]))
    write_folder("ttt-chunked", CHUNKED_ENV, "legal_ttt", chunked,
                 dict(base, record=str(record_path.relative_to(shared)), record_sha256=tg.sha256(record_path),
                      function="eval_val_sliding_ttt", settings=dict(tg.TTT, stride=tg.STRIDE, train_seq_len=tg.SEQ_LEN)))

    lora_path = shared / "corpus" / "parameter-golf" / tg.LORA_RECORD
    lora = {}
    for label, lr in (("pre_ttt", 0.0), ("ttt", tg.LORA["ttt_lora_lr"])):
        lora[label] = tg.run_lora_ttt(shared, config, state, tg.OUT / "val_slice.bin", luts, lr)
        print("lora", label, lora[label]["val_loss"], lora[label]["val_bpb"])
    lora_result = dict(lora["ttt"], pre_ttt=dict(val_loss=lora["pre_ttt"]["val_loss"], val_bpb=lora["pre_ttt"]["val_bpb"]))
    write_folder("ttt-lora", LORA_ENV, "final_ttt_lora", lora_result,
                 dict(base, record=str(lora_path.relative_to(shared)), record_sha256=tg.sha256(lora_path),
                      function="eval_val_ttt_lora", settings=tg.LORA, init="pgverify LoRAInit (see tools/ttt_goldens.py)"))


if __name__ == "__main__":
    main()
