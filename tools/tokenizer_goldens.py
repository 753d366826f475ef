#!/usr/bin/env python3
"""Goldens for pgverify's SentencePiece byte accounting and validation-shard reader.

Runs the challenge's own `build_sentencepiece_luts` and `load_data_shard`, loaded at run time from the
corpus copy of the baseline `train_gpt.py` (nothing of it is copied here), and writes small JSON goldens:

  fixtures/tokenizers/<model stem>.json   full byte-accounting tables + sampled pieces, per tokenizer
  fixtures/shards/val_spotchecks.json     token counts and sampled tokens of the shared val shards
  fixtures/shards/*.bin                   tiny hand-made shards: two valid ones (name order) and three the
                                          baseline's loader rejects (bad magic, truncated, wrong size)

Run by hand (never in CI):  /work/venv/bin/python tools/tokenizer_goldens.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch

REPO = Path(__file__).resolve().parent.parent
TOKENIZERS = ["fineweb_1024_bpe", "fineweb_2048_bpe", "fineweb_4096_bpe", "fineweb_8192_bpe"]
# A model vocabulary wider than the tokenizer's, to pin the padding rule of the tables.
PADDED_CASE = ("fineweb_1024_bpe", 1100)


def load_baseline(shared: Path):
    path = shared / "corpus/parameter-golf/train_gpt.py"
    spec = importlib.util.spec_from_file_location("challenge_train_gpt", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines functions only; main() is guarded by __name__
    return module, path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bits(array) -> str:
    return "".join("1" if bool(v) else "0" for v in array.tolist())


def piece_type(sp, token_id: int) -> str:
    for name, test in [("unknown", sp.is_unknown), ("control", sp.is_control),
                       ("unused", sp.is_unused), ("byte", sp.is_byte)]:
        if test(token_id):
            return name
    return "normal_or_user_defined"


def tokenizer_golden(baseline, sp_path: Path, model_vocab: int | None) -> dict:
    sp = spm.SentencePieceProcessor(model_file=str(sp_path))
    vocab = int(sp.vocab_size())
    requested = vocab if model_vocab is None else model_vocab
    base, space, boundary = baseline.build_sentencepiece_luts(sp, requested, torch.device("cpu"))
    base, space, boundary = base.numpy(), space.numpy(), boundary.numpy()
    byte_ids = [i for i in range(vocab) if sp.is_byte(i)]
    sample_ids = sorted(set([0, 1, 2, 3, 4, 5, vocab // 3, vocab // 2, vocab - 2, vocab - 1]
                            + byte_ids[:2] + byte_ids[-1:]
                            + [i for i in range(vocab) if space[i]][:3]))
    return {
        "tokenizer": sp_path.name,
        "tokenizer_sha256": sha256(sp_path),
        "sp_vocab_size": vocab,
        "model_vocab_size": requested,
        "table_size": int(base.shape[0]),
        "counts": {
            "boundary": int(boundary.sum()),
            "leading_space": int(space.sum()),
            "byte_pieces": len(byte_ids),
            "base_bytes_sum": int(base.astype(np.int64).sum()),
        },
        "base_bytes": base.astype(int).tolist(),
        "has_leading_space": bits(space),
        "is_boundary": bits(boundary),
        "samples": [
            {"id": i, "piece": sp.id_to_piece(i), "score": float(sp.get_score(i)), "type": piece_type(sp, i)}
            for i in sample_ids
        ],
    }


def shard_golden(baseline, shard: Path, shared: Path) -> dict:
    tokens = baseline.load_data_shard(shard).numpy().astype(np.int64)
    n = int(tokens.shape[0])
    offsets = sorted(set([0, 1, 2, 1000, n // 2, n - 2, n - 1]))
    return {
        "file": str(shard.relative_to(shared)),
        "file_sha256": sha256(shard),
        "token_count": n,
        "first_tokens": tokens[:16].tolist(),
        "last_tokens": tokens[-8:].tolist(),
        "tokens_at": {str(o): int(tokens[o]) for o in offsets},
        "token_sum": int(tokens.sum()),
        "bos_count": int((tokens == 1).sum()),
    }


def shard_bytes(tokens: list[int], magic: int = 20240520, version: int = 1,
                declared: int | None = None) -> bytes:
    header = np.zeros(256, dtype="<i4")
    header[:3] = [magic, version, len(tokens) if declared is None else declared]
    return header.tobytes() + np.array(tokens, dtype="<u2").tobytes()


def write_small_shards(baseline, out: Path) -> None:
    valid = {
        # Written out of name order on purpose; readers must concatenate 000000 then 000001.
        "tiny_val_000001.bin": shard_bytes([7, 8, 65535]),
        "tiny_val_000000.bin": shard_bytes([1, 2, 3, 4, 5, 6]),
    }
    hostile = {
        "bad_magic.bin": shard_bytes([1, 2, 3, 4], magic=20240521),
        "bad_version.bin": shard_bytes([1, 2, 3, 4], version=2),
        "truncated_header.bin": shard_bytes([1, 2, 3, 4])[:100],
        "size_mismatch.bin": shard_bytes([1, 2, 3, 4, 5, 6], declared=10),
    }
    for name, data in {**valid, **hostile}.items():
        (out / name).write_bytes(data)
    for name in valid:
        baseline.load_data_shard(out / name)
    for name in hostile:
        try:
            baseline.load_data_shard(out / name)
        except ValueError:
            continue
        raise SystemExit(f"the baseline loader accepted {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    shared = args.shared.resolve()
    baseline, baseline_path = load_baseline(shared)
    provenance = {
        "generator": "tools/tokenizer_goldens.py",
        "challenge_code": str(baseline_path.relative_to(shared)),
        "challenge_code_sha256": sha256(baseline_path),
        "sentencepiece": spm.__version__,
    }

    out_tokenizers = REPO / "fixtures/tokenizers"
    out_tokenizers.mkdir(parents=True, exist_ok=True)
    cases = [(name, None) for name in TOKENIZERS] + [PADDED_CASE]
    for name, model_vocab in cases:
        golden = tokenizer_golden(baseline, shared / "tokenizers" / f"{name}.model", model_vocab)
        golden["provenance"] = provenance
        suffix = "" if model_vocab is None else f"_vocab{model_vocab}"
        target = out_tokenizers / f"{name}{suffix}.json"
        target.write_text(json.dumps(golden, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"wrote {target.relative_to(REPO)}: table {golden['table_size']}, {golden['counts']}")

    out_shards = REPO / "fixtures/shards"
    out_shards.mkdir(parents=True, exist_ok=True)
    shards = [shard_golden(baseline, shared / p, shared)
              for p in ["val/small/fineweb_val_000000.bin", "val/fineweb_val_000000.bin"]]
    target = out_shards / "val_spotchecks.json"
    target.write_text(json.dumps({"provenance": provenance, "shards": shards}, indent=1) + "\n")
    print(f"wrote {target.relative_to(REPO)}: {[s['token_count'] for s in shards]}")
    write_small_shards(baseline, out_shards)
    print(f"wrote small shards into {out_shards.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
