#!/usr/bin/env bash
# Phased score-first TTT throughput: `verify eval --mode ttt-phased` vs the record's own
# eval_val_ttt_phased (2026-04-14) in PyTorch on the same random plain-family model, tokens
# (fixtures/families/plain-sp1024/val_tokens.bin, 16,384 targets), settings (tools/phased_ttt_goldens.py
# BASE_TTT) and threads. Not a test; run by hand:
#   Benchmarks/phased_ttt.sh [--dim N] [--layers N] [--threads N] [--repeat N] [--set KEY=VALUE]...
# Only the adapted run is timed on both sides. Best of --repeat alternating runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${PGVERIFY_SHARED:-../shared}"
PYTHON="${PGVERIFY_PYTHON:-/work/venv/bin/python}"
DIM=128; LAYERS=6; THREADS=$(nproc); REPEAT=2; EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dim) DIM=$2; shift 2;; --layers) LAYERS=$2; shift 2;; --threads) THREADS=$2; shift 2;;
    --repeat) REPEAT=$2; shift 2;; --set) EXTRA+=(--set "$2"); shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
swift build -c release --product verify >&2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
ours=(); theirs=()
for _ in $(seq "$REPEAT"); do
  theirs+=("$("$PYTHON" Benchmarks/pytorch_phased_ttt.py --shared "$SHARED" --weights-dir "$dir" --dim "$DIM" \
    --layers "$LAYERS" --threads "$THREADS" "${EXTRA[@]}" 2>/dev/null)")
  sets=$("$PYTHON" -c 'import json,sys; e=json.loads(sys.argv[1])["env"]; m={"VOCAB_SIZE","NUM_LAYERS","MODEL_DIM","NUM_HEADS","NUM_KV_HEADS","MLP_MULT","TIE_EMBEDDINGS","ROPE_BASE","LOGIT_SOFTCAP","TRAIN_SEQ_LEN","EVAL_SEQ_LEN","ROPE_DIMS","XSA_LAST_N","LN_SCALE","NUM_LOOPS","LOOP_START","LOOP_END","PARALLEL_START_LAYER","ROPE_YARN"}; print(" ".join(f"--set {k}={v}" for k,v in sorted(e.items()) if v != "" and (k in m or (k.startswith(("TTT_","PHASED_TTT_","GLOBAL_TTT_")) and k not in ("PHASED_TTT_ENABLED","TTT_EVAL_BATCHES")))))' "${theirs[-1]}")
  # shellcheck disable=SC2086
  ours+=("$(.build/release/verify eval "$dir/model.weights.json" \
    --code "$SHARED/corpus/parameter-golf/records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py" \
    --tokenizer "$SHARED/tokenizers/fineweb_1024_bpe.model" --val fixtures/families/plain-sp1024/val_tokens.bin \
    --mode ttt-phased --threads "$THREADS" --json $sets)")
done
"$PYTHON" - "${ours[@]}" -- "${theirs[@]}" <<'PY'
import json, sys
split = sys.argv.index("--")
ours = [json.loads(a) for a in sys.argv[1:split]]
theirs = [json.loads(a) for a in sys.argv[split + 1:]]
o = min(ours, key=lambda r: r["seconds"]); t = min(theirs, key=lambda r: r["seconds"])
env = t["env"]
print(f"phased TTT: {t['targets']} targets, {env['NUM_LAYERS']} layers, dim {env['MODEL_DIM']}, threads {o['threads']}, best of {len(ours)}")
print(f"{'':10s}{'targets/s':>12s}{'seconds':>10s}{'val_bpb':>14s}")
print(f"{'pgverify':10s}{t['targets'] / o['seconds']:12.0f}{o['seconds']:10.2f}{o['val_bpb']:14.8f}")
print(f"{'pytorch':10s}{t['targets'] / t['seconds']:12.0f}{t['seconds']:10.2f}{t['val_bpb']:14.8f}")
print(f"ratio pgverify/pytorch: {t['seconds'] / o['seconds']:.2f}x   |Δ val_bpb| = {abs(o['val_bpb'] - t['val_bpb']):.2e}")
PY
