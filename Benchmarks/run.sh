#!/usr/bin/env bash
# Tokens/second of pgverify's evaluator vs the challenge's PyTorch code on the same model, tokens and
# threads, and the share of OpenBLAS sgemm peak our forward pass reaches. Not a test; run by hand:
#   Benchmarks/run.sh [--mode sliding|standard] [--stride N] [--max-tokens N] [--threads N] [--repeat N] [--weights INDEX]
# Each side runs --repeat times, alternating, and the best run of each is compared (a shared machine
# only ever slows a run down).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${PGVERIFY_SHARED:-../shared}"
PYTHON="${PGVERIFY_PYTHON:-/work/venv/bin/python}"
WEIGHTS=fixtures/eval/baseline-2L64d.weights.json
MODE=sliding; STRIDE=64; MAX_TOKENS=16384; THREADS=$(nproc); REPEAT=3
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE=$2; shift 2;; --stride) STRIDE=$2; shift 2;; --max-tokens) MAX_TOKENS=$2; shift 2;;
    --threads) THREADS=$2; shift 2;; --weights) WEIGHTS=$2; shift 2;; --repeat) REPEAT=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
swift build -c release --product verify >&2
ours=(); theirs=()
for _ in $(seq "$REPEAT"); do
  ours+=("$(.build/release/verify bench --weights "$WEIGHTS" --tokenizer "$SHARED/tokenizers/fineweb_1024_bpe.model" \
    --val "$SHARED/val/small/fineweb_val_000000.bin" --mode "$MODE" --stride "$STRIDE" \
    --max-tokens "$MAX_TOKENS" --threads "$THREADS")")
  theirs+=("$("$PYTHON" Benchmarks/pytorch_eval.py --shared "$SHARED" --weights "$WEIGHTS" --mode "$MODE" \
    --stride "$STRIDE" --max-tokens "$MAX_TOKENS" --threads "$THREADS" 2>/dev/null)")
done
"$PYTHON" - "${ours[@]}" -- "${theirs[@]}" <<'PY'
import json, sys
split = sys.argv.index("--")
runs = [json.loads(a) for a in sys.argv[1:split]], [json.loads(a) for a in sys.argv[split + 1:]]
ours, theirs = (max(r, key=lambda x: x["tokens_per_second"]) for r in runs)
print(f"mode={ours['mode']} stride={ours['stride']} seq_len={ours['seq_len']} tokens={ours['tokens']} "
      f"threads={ours['threads']} best of {len(runs[0])}")
print(f"{'':12s}{'tokens/s':>12s}{'seconds':>10s}{'val_bpb':>14s}   all runs (tokens/s)")
for r, everything in zip((ours, theirs), runs):
    others = " ".join(f"{x['tokens_per_second']:.0f}" for x in everything)
    print(f"{r['implementation']:12s}{r['tokens_per_second']:12.0f}{r['seconds']:10.2f}{r['val_bpb']:14.8f}   {others}")
print(f"ratio pgverify/pytorch: {ours['tokens_per_second'] / theirs['tokens_per_second']:.2f}x")
print(f"forward sgemm: {ours['forward_sgemm_gflops']:.1f} GFLOP/s of {ours['peak_sgemm_gflops']:.1f} peak "
      f"({100 * ours['share_of_sgemm_peak']:.1f}%)")
PY
