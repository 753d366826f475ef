#!/usr/bin/env python3
"""The PyTorch side of Benchmarks/run.sh: the challenge's own model and evaluators (imported at run
time exactly as tools/eval_goldens.py does), float32 on CPU, timed on the same weights and tokens.

/work/venv/bin/python Benchmarks/pytorch_eval.py --weights fixtures/eval/baseline-2L64d.weights.json \
    --mode sliding --stride 64 --max-tokens 16384 --threads 2
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import eval_goldens as goldens  # noqa: E402  (shares the loaders; nothing of the challenge is copied)


def read_raw_weights(index_path: Path):
    index = json.loads(index_path.read_text())
    blob = (index_path.parent / index["blob"]).read_bytes()
    state = {}
    for entry in index["tensors"]:
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        values = np.frombuffer(blob, dtype="<f4", count=count, offset=entry["offset"])
        state[entry["name"]] = torch.from_numpy(values.copy()).reshape(entry["shape"])
    return index["config"], index["seq_len"], state


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--val", type=Path, default=None)
    parser.add_argument("--tokenizer", type=Path, default=None)
    parser.add_argument("--mode", default="sliding")
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args()
    torch.set_num_threads(opts.threads)
    torch.compile = lambda fn, **kwargs: fn
    shared = opts.shared.resolve()
    val = opts.val or shared / "val" / "small" / "fineweb_val_000000.bin"
    tokenizer = opts.tokenizer or shared / "tokenizers" / "fineweb_1024_bpe.model"

    baseline = goldens.load_module("pg_baseline", shared / "corpus" / "parameter-golf" / "train_gpt.py")
    capture = goldens.LogitCapture()
    baseline.F = capture
    sliding = goldens.load_record_sliding(shared)
    config, seq_len, state = read_raw_weights(opts.weights)
    model = goldens.build_model(baseline, config, state, capture)
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer))
    luts = baseline.build_sentencepiece_luts(sp, config["vocab_size"], torch.device("cpu"))
    with tempfile.TemporaryDirectory() as scratch:
        tokens = goldens.val_tokens(baseline, val, seq_len, opts.max_tokens, Path(scratch))
    start = time.perf_counter()
    with torch.inference_mode():
        if opts.mode == "standard":
            args = types.SimpleNamespace(val_batch_size=seq_len * 8, train_seq_len=seq_len)
            loss, bpb = baseline.eval_val(args, model, 0, 1, torch.device("cpu"), 1, tokens, *luts)
        else:
            h = types.SimpleNamespace(eval_seq_len=seq_len, eval_stride=opts.stride, rank=0, world_size=1)
            data = types.SimpleNamespace(val_tokens=tokens, base_bytes_lut=luts[0],
                                         has_leading_space_lut=luts[1], is_boundary_token_lut=luts[2])
            loss, bpb = sliding(h, torch.device("cpu"), data, model)
    seconds = time.perf_counter() - start
    n = tokens.numel() - 1
    print(json.dumps(dict(implementation="pytorch", torch=torch.__version__, mode=opts.mode,
                          stride=opts.stride if opts.mode == "sliding" else 0, seq_len=seq_len,
                          threads=opts.threads, tokens=n, seconds=seconds, tokens_per_second=n / seconds,
                          val_loss=loss, val_bpb=bpb), sort_keys=True))


if __name__ == "__main__":
    main()
