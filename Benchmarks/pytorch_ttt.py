#!/usr/bin/env python3
"""The PyTorch side of Benchmarks/ttt.sh: the record's own `eval_val_sliding_ttt` (exec'd from the
corpus as tools/ttt_goldens.py does) on the baseline GPT, float32 on CPU, timed on the same weights,
tokens, settings and thread count as `verify eval --mode ttt`. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import types
from pathlib import Path

import sentencepiece as spm
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import eval_goldens  # noqa: E402
import ttt_goldens  # noqa: E402  (shares the loaders; nothing of the challenge is copied)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--weights", default=str(ROOT / "fixtures/eval/baseline-2L64d.weights.json"))
    p.add_argument("--max-tokens", type=int, default=16384)
    p.add_argument("--threads", type=int, default=2)
    for name, default in (("stride", 64), ("chunk-tokens", 4096), ("epochs", 3), ("batch-seqs", 4),
                          ("freeze-blocks", 0)):
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--lr", type=float, default=0.002)
    opts = p.parse_args()
    torch.set_num_threads(opts.threads)
    shared = Path(opts.shared)
    baseline = eval_goldens.load_module("pg_baseline", shared / "corpus/parameter-golf/train_gpt.py")
    capture = eval_goldens.LogitCapture()
    baseline.F = capture
    ttt_goldens.allow_training_after_inference(baseline)
    doc, state = ttt_goldens.load_raw_weights(Path(opts.weights))
    config, seq_len = doc["config"], doc["seq_len"]
    model = ttt_goldens.build_model(baseline, config, state, capture)
    sp = spm.SentencePieceProcessor(model_file=str(shared / "tokenizers/fineweb_1024_bpe.model"))
    luts = baseline.build_sentencepiece_luts(sp, config["vocab_size"], torch.device("cpu"))
    with tempfile.TemporaryDirectory() as scratch:
        tokens = eval_goldens.val_tokens(baseline, shared / "val/small/fineweb_val_000000.bin", seq_len,
                                         opts.max_tokens, Path(scratch))
    ttt_fn, _, _ = ttt_goldens.load_record_ttt(shared)
    args = types.SimpleNamespace(train_seq_len=seq_len, ttt_lr=opts.lr, ttt_epochs=opts.epochs,
                                 ttt_chunk_tokens=opts.chunk_tokens, ttt_freeze_blocks=opts.freeze_blocks,
                                 ttt_momentum=0.9, ttt_batch_seqs=opts.batch_seqs, ttt_grad_clip=1.0)
    start = time.perf_counter()
    loss, bpb = ttt_fn(args, model, 0, 1, torch.device("cpu"), tokens, *luts, stride=opts.stride,
                       batch_seqs=32, log0=lambda *_: None)
    seconds = time.perf_counter() - start
    scored = tokens.numel() - 1  # windows rescore a few tail targets; the rate counts targets
    print(json.dumps(dict(implementation="pytorch", val_loss=loss, val_bpb=bpb, seconds=seconds,
                          targets=scored, targets_per_second=scored / seconds)))


if __name__ == "__main__":
    main()
