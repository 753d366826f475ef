#!/usr/bin/env bash
# Standard (document-segmented) evaluation at record #1's size: `verify eval` vs the record's own eval_val
# (2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611) in PyTorch on CPU, same random weights,
# tokens (the shared val shard re-encoded with sp8192), CaseOps byte sidecar, settings and threads.
# Not a test; run by hand:
#   [VERIFY=path] [FAMILY_EVAL_DIR=dir] Benchmarks/family_eval.sh [--tokens N] [--threads N] [--repeat N] [--set KEY=VALUE]...
# Only the evaluation is timed on both sides (verify's `seconds`: model built, scoring; not the file reads). On a
# loaded machine also read the CPU seconds: verify's whole process (file reads included) and PyTorch's eval_val.
# Best of --repeat alternating runs. The share of sgemm peak divides the matrix-product work of the record's
# forward (Benchmarks/pytorch_family_eval.py `forward_flops`) per second by OpenBLAS's 2048³ sgemm rate with
# the same threads, measured by `verify bench` in its own process.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${PGVERIFY_SHARED:-../shared}"
PYTHON="${PGVERIFY_PYTHON:-/work/venv/bin/python}"
TOKENS=16384; THREADS=$(nproc); REPEAT=3; EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tokens) TOKENS=$2; shift 2;; --threads) THREADS=$2; shift 2;; --repeat) REPEAT=$2; shift 2;;
    --set) EXTRA+=(--set "$2"); shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
# VERIFY=path runs another build of verify (e.g. one from before a change) instead of building this one.
if [ -z "${VERIFY:-}" ]; then swift build -c release --product verify >&2; VERIFY=.build/release/verify; fi
dir="${FAMILY_EVAL_DIR:-$(mktemp -d)}"
[ -n "${FAMILY_EVAL_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT
record="$SHARED/corpus/parameter-golf/records/track_10min_16mb/2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611"
ours=(); theirs=(); peaks=()
for _ in $(seq "$REPEAT"); do
  theirs+=("$("$PYTHON" Benchmarks/pytorch_family_eval.py --shared "$SHARED" --weights-dir "$dir" --tokens "$TOKENS" \
    --threads "$THREADS" "${EXTRA[@]}" 2>/dev/null)")
  sets=$("$PYTHON" -c 'import json,sys; e=json.loads(sys.argv[1])["env"]; print(" ".join(f"--set {k}={v}" for k,v in sorted(e.items()) if k not in ("RANK","LOCAL_RANK")))' "${theirs[-1]}")
  # shellcheck disable=SC2086
  ours+=("$(/usr/bin/time -f '%U %S' -o "$dir/cpu" "$VERIFY" eval "$dir/model.weights.json" --code "$record/train_gpt.py" \
    --tokenizer "$SHARED/tokenizers/fineweb_8192_bpe.model" --val "$dir/fineweb_val_000000.bin" \
    --val-bytes "$dir/fineweb_val_bytes_000000.bin" --mode standard --threads "$THREADS" --json \
    --set GRAD_ACCUM_STEPS=8 $sets | "$PYTHON" -c 'import json,sys; r=json.load(sys.stdin); r["cpu_seconds"]=sum(map(float,open(sys.argv[1]).read().split()[-2:])); print(json.dumps(r))' "$dir/cpu")")
  peaks+=("$("$VERIFY" bench --weights fixtures/eval/baseline-2L64d.weights.json \
    --tokenizer "$SHARED/tokenizers/fineweb_1024_bpe.model" --val "$SHARED/val/small/fineweb_val_*.bin" \
    --mode standard --max-tokens 1024 --threads "$THREADS")")
done
"$PYTHON" - "${ours[@]}" -- "${theirs[@]}" -- "${peaks[@]}" <<'PY'
import json, sys
args = sys.argv[1:]
first = args.index("--"); second = args.index("--", first + 1)
ours = [json.loads(a) for a in args[:first]]
theirs = [json.loads(a) for a in args[first + 1:second]]
peak = max(json.loads(a)["peak_sgemm_gflops"] for a in args[second + 1:])
o = min(ours, key=lambda r: r["seconds"]); t = min(theirs, key=lambda r: r["seconds"])
gflop = t["sgemm_gflop"]
print(f"standard eval at record #1's size: {t['targets']} targets, threads {t['threads']}, best of {len(ours)}; "
      f"sgemm peak {peak:.1f} GFLOP/s, forward {gflop:.1f} GFLOP")
print(f"{'':10s}{'tok/s':>10s}{'seconds':>10s}{'val_bpb':>14s}{'GFLOP/s':>10s}{'of peak':>9s}")
for name, r in (("pgverify", o), ("pytorch", t)):
    rate = gflop / r["seconds"]
    print(f"{name:10s}{t['targets'] / r['seconds']:10.0f}{r['seconds']:10.2f}{r['val_bpb']:14.8f}{rate:10.1f}{rate / peak:9.1%}")
print(f"ratio pgverify/pytorch: {t['seconds'] / o['seconds']:.2f}x   |Δ val_bpb| = {abs(o['val_bpb'] - t['val_bpb']):.2e}")
oc = min(r["cpu_seconds"] for r in ours); tc = min(r["cpu_seconds"] for r in theirs)
print(f"CPU seconds (all threads; pgverify's whole process, PyTorch's eval_val): pgverify {oc:.2f}, pytorch {tc:.2f}, ratio {tc / oc:.2f}x")
print("all runs (wall s): pgverify " + " ".join(f"{r['seconds']:.2f}" for r in ours) + "; pytorch " + " ".join(f"{r['seconds']:.2f}" for r in theirs))
PY
