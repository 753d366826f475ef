#!/usr/bin/env bash
# Phased score-first TTT throughput: `verify eval --mode ttt-phased` vs the record's own
# eval_val_ttt_phased (2026-04-14) in PyTorch on the same random plain-family model, tokens
# (fixtures/families/plain-sp1024/val_tokens.bin, 16,384 targets), settings (tools/phased_ttt_goldens.py
# BASE_TTT) and threads. Not a test; run by hand:
#   [VERIFY=path] Benchmarks/phased_ttt.sh [--dim N] [--layers N] [--record1-shape] [--max-targets N] [--threads N] [--repeat N]
#     [--set KEY=VALUE]...
# --max-targets N: only the first N targets of the tokens on both sides (a shorter run; the documents it cuts
# and the phase settings change what is trained, the same way on both sides).
# --record1-shape: the shape of record #1 (2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611: 11 layers,
# dim 512, 8 heads / 4 KV heads, MLP x4, rotary on 16 dims, loop 3-5 x2, parallel lanes from layer 8, XSA on all
# layers) on this record's code and vocabulary (1,024; its tokens), with the same scaled-down TTT settings.
# Only the adapted run is timed on both sides: wall and CPU seconds (all threads; verify's cpu_seconds and
# PyTorch's time.process_time). Best of --repeat alternating runs; the load average is printed before each.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${PGVERIFY_SHARED:-../shared}"
PYTHON="${PGVERIFY_PYTHON:-/work/venv/bin/python}"
DIM=128; LAYERS=6; THREADS=$(nproc); REPEAT=2; EXTRA=(); LIMIT=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dim) DIM=$2; shift 2;; --layers) LAYERS=$2; shift 2;; --threads) THREADS=$2; shift 2;;
    --record1-shape) DIM=512; LAYERS=11; for kv in NUM_HEADS=8 NUM_KV_HEADS=4 MLP_MULT=4 ROPE_DIMS=16 NUM_LOOPS=2 LOOP_START=3 \
      LOOP_END=5 PARALLEL_START_LAYER=8 XSA_LAST_N=11; do EXTRA+=(--set "$kv"); done; shift;;
    --repeat) REPEAT=$2; shift 2;; --set) EXTRA+=(--set "$2"); shift 2;;
    --max-targets) LIMIT=(--max-targets "$2"); shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
if [ -z "${VERIFY:-}" ]; then swift build -c release --product verify >&2; VERIFY=.build/release/verify; fi
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
ours=(); theirs=()
for _ in $(seq "$REPEAT"); do
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  theirs+=("$("$PYTHON" Benchmarks/pytorch_phased_ttt.py --shared "$SHARED" --weights-dir "$dir" --dim "$DIM" \
    --layers "$LAYERS" --threads "$THREADS" "${LIMIT[@]}" "${EXTRA[@]}" 2>/dev/null)")
  sets=$("$PYTHON" -c 'import json,sys; e=json.loads(sys.argv[1])["env"]; m={"VOCAB_SIZE","NUM_LAYERS","MODEL_DIM","NUM_HEADS","NUM_KV_HEADS","MLP_MULT","TIE_EMBEDDINGS","ROPE_BASE","LOGIT_SOFTCAP","TRAIN_SEQ_LEN","EVAL_SEQ_LEN","ROPE_DIMS","XSA_LAST_N","LN_SCALE","NUM_LOOPS","LOOP_START","LOOP_END","PARALLEL_START_LAYER","ROPE_YARN"}; print(" ".join(f"--set {k}={v}" for k,v in sorted(e.items()) if v != "" and (k in m or (k.startswith(("TTT_","PHASED_TTT_","GLOBAL_TTT_")) and k not in ("PHASED_TTT_ENABLED","TTT_EVAL_BATCHES")))))' "${theirs[-1]}")
  # shellcheck disable=SC2086
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  ours+=("$("$VERIFY" eval "$dir/model.weights.json" \
    --code "$SHARED/corpus/parameter-golf/records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py" \
    --tokenizer "$SHARED/tokenizers/fineweb_1024_bpe.model" --val "$dir/val_tokens.bin" \
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
print(f"{'':10s}{'targets/s':>12s}{'seconds':>10s}{'CPU s':>10s}{'val_bpb':>14s}")
print(f"{'pgverify':10s}{t['targets'] / o['seconds']:12.0f}{o['seconds']:10.2f}{o['ttt_phased']['cpu_seconds']:10.2f}{o['val_bpb']:14.8f}")
print(f"{'pytorch':10s}{t['targets'] / t['seconds']:12.0f}{t['seconds']:10.2f}{t['cpu_seconds']:10.2f}{t['val_bpb']:14.8f}")
print(f"ratio pgverify/pytorch: {t['seconds'] / o['seconds']:.2f}x   |Δ val_bpb| = {abs(o['val_bpb'] - t['val_bpb']):.2e}")
oc = min(r["ttt_phased"]["cpu_seconds"] for r in ours); tc = min(r["cpu_seconds"] for r in theirs)
print(f"CPU seconds, best of each: pgverify {oc:.2f}, pytorch {tc:.2f}, ratio {tc / oc:.2f}x")
print("all runs (wall s): pgverify " + " ".join(f"{r['seconds']:.2f}" for r in ours) + "; pytorch " + " ".join(f"{r['seconds']:.2f}" for r in theirs))
PY
