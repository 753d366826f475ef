#!/usr/bin/env bash
# Score-first TTT throughput: `verify eval --mode ttt` vs the record's own eval_val_sliding_ttt in
# PyTorch on the same model, tokens, settings and threads. Not a test; run by hand:
#   [VERIFY=path] Benchmarks/ttt.sh [--max-tokens N] [--threads N] [--stride N] [--chunk-tokens N] [--epochs N]
#                     [--batch-seqs N] [--repeat N] [--weights INDEX]
# Rates are validation targets per second of the TTT run alone (scoring + training; the pre-TTT
# score that verify also computes is not timed). Best of --repeat alternating runs. CPU seconds
# (user + system) are each whole process's (verify's pre-TTT score and PyTorch's start-up included).
# VERIFY: a prebuilt verify to time instead of this checkout's release build.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${PGVERIFY_SHARED:-../shared}"
PYTHON="${PGVERIFY_PYTHON:-/work/venv/bin/python}"
WEIGHTS=fixtures/eval/baseline-2L64d.weights.json
MAX_TOKENS=16384; THREADS=$(nproc); STRIDE=64; CHUNK=4096; EPOCHS=3; BATCH=4; REPEAT=3
while [ $# -gt 0 ]; do
  case "$1" in
    --max-tokens) MAX_TOKENS=$2; shift 2;; --threads) THREADS=$2; shift 2;; --stride) STRIDE=$2; shift 2;;
    --chunk-tokens) CHUNK=$2; shift 2;; --epochs) EPOCHS=$2; shift 2;; --batch-seqs) BATCH=$2; shift 2;;
    --weights) WEIGHTS=$2; shift 2;; --repeat) REPEAT=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
if [ -z "${VERIFY:-}" ]; then swift build -c release --product verify >&2; VERIFY=.build/release/verify; fi
CPU=$(mktemp); trap 'rm -f "$CPU"' EXIT
cpu() { /usr/bin/time -f '%U %S' -o "$CPU" "$@"; }
ours=(); theirs=(); ours_cpu=(); theirs_cpu=()
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for _ in $(seq "$REPEAT"); do
  ours+=("$(cpu "$VERIFY" eval "$WEIGHTS" --tokenizer "$SHARED/tokenizers/fineweb_1024_bpe.model" \
    --val "$SHARED/val/small/fineweb_val_000000.bin" --mode ttt --stride "$STRIDE" --max-tokens "$MAX_TOKENS" \
    --set TTT_CHUNK_TOKENS="$CHUNK" --set TTT_EPOCHS="$EPOCHS" --set TTT_BATCH_SEQS="$BATCH" \
    --set TTT_FREEZE_BLOCKS=0 --set TTT_LR=0.002 --set TTT_MOMENTUM=0.9 --set TTT_GRAD_CLIP=1.0 \
    --threads "$THREADS" --json)")
  ours_cpu+=("$(awk '{print $1 + $2}' "$CPU")")
  theirs+=("$(cpu "$PYTHON" Benchmarks/pytorch_ttt.py --shared "$SHARED" --weights "$WEIGHTS" --max-tokens "$MAX_TOKENS" \
    --threads "$THREADS" --stride "$STRIDE" --chunk-tokens "$CHUNK" --epochs "$EPOCHS" --batch-seqs "$BATCH" 2>/dev/null)")
  theirs_cpu+=("$(awk '{print $1 + $2}' "$CPU")")
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$PYTHON" - "${ours[@]}" -- "${theirs[@]}" -- "${ours_cpu[@]}" -- "${theirs_cpu[@]}" <<'PY'
import json, sys
args = sys.argv[1:]
cuts = [i for i, a in enumerate(args) if a == "--"]
ours = [json.loads(a) for a in args[:cuts[0]]]
theirs = [json.loads(a) for a in args[cuts[0] + 1:cuts[1]]]
ours_cpu = [float(a) for a in args[cuts[1] + 1:cuts[2]]]
theirs_cpu = [float(a) for a in args[cuts[2] + 1:]]
best_ours = min(ours, key=lambda r: r["seconds"])
best_theirs = min(theirs, key=lambda r: r["seconds"])
targets = best_theirs["targets"]
s = best_ours["ttt"]["settings"]
print(f"TTT: {targets} targets, seq_len {s['seqLen']}, stride {s['stride']}, chunk {s['chunkTokens']}, "
      f"epochs {s['epochs']}, batch {s['batchSequences']} seqs, threads {best_ours['threads']}, best of {len(ours)}")
print(f"{'':10s}{'targets/s':>12s}{'seconds':>10s}{'val_bpb':>14s}   all runs: TTT wall s / process CPU s")
print(f"{'pgverify':10s}{targets / best_ours['seconds']:12.0f}{best_ours['seconds']:10.2f}{best_ours['val_bpb']:14.8f}   "
      + " ".join(f"{r['seconds']:.2f}/{c:.2f}" for r, c in zip(ours, ours_cpu)))
print(f"{'pytorch':10s}{targets / best_theirs['seconds']:12.0f}{best_theirs['seconds']:10.2f}{best_theirs['val_bpb']:14.8f}   "
      + " ".join(f"{r['seconds']:.2f}/{c:.2f}" for r, c in zip(theirs, theirs_cpu)))
print(f"ratio pgverify/pytorch: {best_theirs['seconds'] / best_ours['seconds']:.2f}x   "
      f"|Δ val_bpb| = {abs(best_ours['val_bpb'] - best_theirs['val_bpb']):.2e}   "
      f"TTT gain (pgverify): {best_ours['ttt']['bpb_gain']:.6f} bpb")
PY
