#!/usr/bin/env bash
# Tokens/second of pgverify's evaluator vs the challenge's PyTorch code on the same model, tokens and
# threads, and the share of OpenBLAS sgemm peak our forward pass reaches. Not a test; run by hand:
#   Benchmarks/run.sh [--mode sliding|standard] [--stride N] [--max-tokens N] [--threads N] [--weights INDEX]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${PGVERIFY_SHARED:-../shared}"
PYTHON="${PGVERIFY_PYTHON:-/work/venv/bin/python}"
WEIGHTS=fixtures/eval/baseline-2L64d.weights.json
MODE=sliding; STRIDE=64; MAX_TOKENS=16384; THREADS=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE=$2; shift 2;; --stride) STRIDE=$2; shift 2;; --max-tokens) MAX_TOKENS=$2; shift 2;;
    --threads) THREADS=$2; shift 2;; --weights) WEIGHTS=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
swift build -c release --product verify >&2
ours=$(.build/release/verify bench --weights "$WEIGHTS" --tokenizer "$SHARED/tokenizers/fineweb_1024_bpe.model" \
  --val "$SHARED/val/small/fineweb_val_000000.bin" --mode "$MODE" --stride "$STRIDE" \
  --max-tokens "$MAX_TOKENS" --threads "$THREADS")
theirs=$("$PYTHON" Benchmarks/pytorch_eval.py --shared "$SHARED" --weights "$WEIGHTS" --mode "$MODE" \
  --stride "$STRIDE" --max-tokens "$MAX_TOKENS" --threads "$THREADS" 2>/dev/null)
"$PYTHON" - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"mode={ours['mode']} stride={ours['stride']} seq_len={ours['seq_len']} tokens={ours['tokens']} threads={ours['threads']}")
print(f"{'':12s}{'tokens/s':>12s}{'seconds':>10s}{'val_bpb':>14s}")
for r in (ours, theirs):
    print(f"{r['implementation']:12s}{r['tokens_per_second']:12.0f}{r['seconds']:10.2f}{r['val_bpb']:14.8f}")
print(f"ratio pgverify/pytorch: {ours['tokens_per_second'] / theirs['tokens_per_second']:.2f}x")
print(f"forward sgemm: {ours['forward_sgemm_gflops']:.1f} GFLOP/s of {ours['peak_sgemm_gflops']:.1f} peak "
      f"({100 * ours['share_of_sgemm_peak']:.1f}%)")
PY
