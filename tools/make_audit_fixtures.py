"""Writes the synthetic submissions under fixtures/audit/ (standard-library Python; run by hand).

Every number is made up. The `.ptz` files are 4,096 bytes of a fixed pattern, not torch archives:
the audit only measures them. See fixtures/audit/README.md for what each folder tests.
"""
import json
import os
import shutil

from model_stand_in import stand_in

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "audit")
SCRIPT = '"""Synthetic pgverify fixture: a stand-in for train_gpt.py. It is never run."""\nMAX_WALLCLOCK_SECONDS = 600.0\n'
ARTIFACT = bytes((i * 37 + 11) % 256 for i in range(4096))
BPB_PER_NAT = 0.59231


def log_text(seed, loss, train_ms=598_000, stop_on_cap=False, total_bytes=None, model_bytes=4096, eval_ms=41_000):
    bpb = round(loss * BPB_PER_NAT, 8)
    code = len(SCRIPT.encode())
    total = total_bytes if total_bytes is not None else code + model_bytes
    lines = [
        f"seed:{seed}",
        "val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=./data/tokenizers/fineweb_1024_bpe.model",
        "step:0/9000 val_loss:6.9357 val_bpb:4.1077 train_time:0ms step_avg:0.01ms",
        f"step:7000/9000 train_loss:2.1000 train_time:{train_ms - 1000}ms step_avg:85.00ms",
        f"step:7012/9000 val_loss:{loss + 0.02:.4f} val_bpb:{(loss + 0.02) * BPB_PER_NAT:.4f} train_time:{train_ms}ms step_avg:85.00ms",
    ]
    if stop_on_cap:
        lines.append(f"stopping_early: wallclock_cap train_time:{train_ms}ms step:7012/9000")
    lines += [
        f"Serialized model int8+zlib: {model_bytes} bytes",
        f"Code size: {code} bytes",
        f"Total submission size int8+zlib: {total} bytes",
        f"final_int8_zlib_roundtrip val_loss:{loss:.4f} val_bpb:{bpb:.4f} eval_time:{eval_ms}ms",
        f"final_int8_zlib_roundtrip_exact val_loss:{loss:.8f} val_bpb:{bpb:.8f}",
    ]
    return "\n".join(lines) + "\n", bpb


def write(name, seeds, losses, overrides=None, logs=True, artifact=True, readme_extra="", log_options=None):
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "train_gpt.py"), "w") as f:
        f.write(SCRIPT)
    if artifact:
        with open(os.path.join(folder, "final_model.int8.ptz"), "wb") as f:
            f.write(ARTIFACT)
    results = {}
    for seed, loss in zip(seeds, losses):
        text, bpb = log_text(seed, loss, **(log_options or {}).get(seed, {}))
        if logs:
            with open(os.path.join(folder, f"train_seed{seed}.log"), "w") as f:
                f.write(text)
        results[str(seed)] = {"val_loss": round(loss, 8), "val_bpb": bpb, "artifact_bytes": len(SCRIPT.encode()) + 4096}
    mean_bpb = round(sum(r["val_bpb"] for r in results.values()) / len(results), 8)
    mean_loss = round(sum(r["val_loss"] for r in results.values()) / len(results), 8)
    metadata = {
        "author": "pgverify fixtures",
        "name": name,
        "track": "10min_16mb",
        "val_loss": mean_loss,
        "val_bpb": mean_bpb,
        "bytes_total": len(SCRIPT.encode()) + 4096,
        "bytes_code": len(SCRIPT.encode()),
        "seeds": [int(s) for s in results],
        "seed_results": results,
    }
    for key, value in (overrides or {}).items():
        if key.startswith("seed_results."):
            _, seed, field = key.split(".")
            metadata["seed_results"][seed][field] = value
        else:
            metadata[key] = value
    with open(os.path.join(folder, "submission.json"), "w") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write(f"# {name}\n\nSynthetic submission for pgverify's audit tests; every number is made up.\n{readme_extra}")


SEEDS = [1337, 42, 2025]
LOSSES = [2.0500, 2.0512, 2.0490]

write("record", SEEDS, LOSSES)
write("fourth-seed", SEEDS + [7], LOSSES + [2.0650])
write("oversize", SEEDS, LOSSES, overrides={"bytes_total": 16_000_500},
      log_options={1337: {"total_bytes": 16_000_500}})
write("claims-disagree", SEEDS, LOSSES, overrides={"seed_results.42.val_bpb": 1.2101, "val_bpb": 1.2102})
write("missing-logs", SEEDS, LOSSES, logs=False)
write("overtime", SEEDS, LOSSES, log_options={42: {"train_ms": 612_400}, 2025: {"train_ms": 600_300, "stop_on_cap": True}})

with open(os.path.join(ROOT, "previous-record.txt"), "w") as f:
    f.write("# previous record's per-seed val_loss (nats), made up for the fixtures\n2.0600\n2.0610\n2.0605\n")


# --- Reproducible submissions: a real artifact whose val_bpb pgverify can re-evaluate --------------
# The artifact is fixtures/eval/tiny.int8.ptz (a tiny random model exported by the baseline's own
# int8+zlib code, see fixtures/eval/README.md); the honest claim is its PyTorch golden over the
# 65,536 targets of ../shared/val/small with ../shared/tokenizers/fineweb_1024_bpe.model
# (fixtures/eval/goldens.json, model "tiny", standard case without max_tokens).
EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "eval")
TINY_RUN = ("NUM_LAYERS=3 MODEL_DIM=24 NUM_HEADS=4 NUM_KV_HEADS=2 MLP_MULT=2 VOCAB_SIZE=1030 TIE_EMBEDDINGS=0 "
            "ROPE_BASE=500 LOGIT_SOFTCAP=20 TRAIN_SEQ_LEN=64 SEED=1337 torchrun --standalone --nproc_per_node=8 train_gpt.py")


def write_reproducible(name, claimed_loss, claimed_bpb, note):
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    shutil.copyfile(os.path.join(EVAL, "tiny.int8.ptz"), os.path.join(folder, "final_model.int8.ptz"))
    # The baseline's model code, which exported the artifact: pgverify matches it before evaluating.
    script = stand_in()
    with open(os.path.join(folder, "train_gpt.py"), "w") as f:
        f.write(script)
    model = os.path.getsize(os.path.join(folder, "final_model.int8.ptz"))
    code = len(script.encode())
    log = "\n".join([
        TINY_RUN,
        "seed:1337",
        "step:200/200 train_loss:6.9000 train_time:30000ms step_avg:150.00ms",
        f"Serialized model int8+zlib: {model} bytes",
        f"Code size: {code} bytes",
        f"Total submission size int8+zlib: {code + model} bytes",
        f"final_int8_zlib_roundtrip val_loss:{claimed_loss:.4f} val_bpb:{claimed_bpb:.4f} eval_time:2000ms",
        f"final_int8_zlib_roundtrip_exact val_loss:{claimed_loss:.8f} val_bpb:{claimed_bpb:.8f}",
    ]) + "\n"
    with open(os.path.join(folder, "train_seed1337.log"), "w") as f:
        f.write(log)
    metadata = {"author": "pgverify fixtures", "name": name, "track": "non_record_16mb",
                "val_loss": round(claimed_loss, 8), "val_bpb": round(claimed_bpb, 8),
                "bytes_total": code + model, "bytes_code": code, "seeds": [1337]}
    with open(os.path.join(folder, "submission.json"), "w") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "README.md"), "w") as f:
        f.write(f"# {name}\n\nSynthetic non-record submission around the real tiny artifact of fixtures/eval "
                f"(tiny.int8.ptz). {note}\n")


with open(os.path.join(EVAL, "goldens.json")) as f:
    tiny = next(case for case in json.load(f)["models"]["tiny"]["cases"]
                if case["mode"] == "standard" and case["max_tokens"] is None)
write_reproducible("reproducible", tiny["val_loss"], tiny["val_bpb"],
                   "It claims the PyTorch golden of the artifact: the re-evaluation reproduces it.")
write_reproducible("not-reproducible", tiny["val_loss"] - 0.2, tiny["val_bpb"] - 0.12,
                   "It claims a better score than the artifact gives: the re-evaluation does not reproduce it.")
