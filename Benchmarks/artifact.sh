#!/usr/bin/env bash
# Unpack + dequantize of full-size artifacts: `verify inspect` (decompress, ZIP, pickle, dequantize to
# float32) against the xz and brotli command-line decompressors on the same files (decompression
# only). Not a test: run by hand on a quiet machine; read the ratios.
# usage: Benchmarks/artifact.sh [PYTHON_WITH_TORCH [ARTIFACT_DIR]]   (default /work/venv/bin/python)
#   ARTIFACT_DIR: reuse the artifacts an earlier `make_full_size_artifacts.py ARTIFACT_DIR` wrote
#   (writing them takes minutes); RUNS=N takes the best of N runs (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-/work/venv/bin/python}
runs=${RUNS:-3}
if [ -n "${2:-}" ] && [ -f "$2/final_model.brotli.ptz" ]; then
    dir=$2
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    "$python" Benchmarks/make_full_size_artifacts.py "$dir"
fi
swift build -c release --product verify >/dev/null
best() {  # best wall time of $runs runs of "$@", in seconds
    local best=""
    for _ in $(seq "$runs"); do
        local start end t
        start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    printf '%.3f' "$best"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %12s %18s %14s %8s\n' format bytes "verify inspect (s)" "CLI decomp (s)" ratio
for format in zlib zstd xz brotli; do
    file="$dir/final_model.$format.ptz"
    ours=$(best .build/release/verify inspect --json "$file")
    case $format in
        xz) cli=$(best xz -dc "$file"); ratio=$(printf '%.2fx' "$(echo "$ours / $cli" | bc -l)") ;;
        brotli) cli=$(best brotli -dc "$file"); ratio=$(printf '%.2fx' "$(echo "$ours / $cli" | bc -l)") ;;
        *) cli="-"; ratio="(target < 1 s)" ;;
    esac
    printf '%-8s %12s %18s %14s %8s\n' "$format" "$(stat -c %s "$file")" "$ours" "$cli" "$ratio"
done
