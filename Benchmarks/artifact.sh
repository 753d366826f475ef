#!/usr/bin/env bash
# Unpack + dequantize of full-size artifacts: `verify inspect` (decompress, ZIP, pickle, dequantize to
# float32) against the xz and brotli command-line decompressors on the same files (decompression
# only). Not a test: run by hand on a quiet machine; read the ratios.
# usage: Benchmarks/artifact.sh [PYTHON_WITH_TORCH]   (default /work/venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-/work/venv/bin/python}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$python" Benchmarks/make_full_size_artifacts.py "$dir"
swift build -c release --product verify >/dev/null
best() {  # best wall time of 3 runs of "$@", in seconds
    local best=""
    for _ in 1 2 3; do
        local start end t
        start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    printf '%.3f' "$best"
}
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
