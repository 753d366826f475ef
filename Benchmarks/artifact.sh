#!/usr/bin/env bash
# Unpack + dequantize of full-size artifacts: `verify inspect` (decompress, unshuffle, ZIP + CRC,
# pickle, dequantize to float32, finiteness check) against the xz and brotli command-line
# decompressors on the same files (decompression only). Not a test: run by hand on a quiet machine;
# read the ratios.
# usage: Benchmarks/artifact.sh [PYTHON_WITH_TORCH [ARTIFACT_DIR]]   (default /work/venv/bin/python)
#   ARTIFACT_DIR: reuse the artifacts an earlier `make_full_size_artifacts.py ARTIFACT_DIR` wrote
#   (writing them takes minutes); RUNS=N runs of each command (default 15).
# The commands of one format run in turn within each round, so a busy spell on a shared machine
# hits all of them; the table gives each command's best and median. `verify (4 KiB pages)` is the
# same binary with PGVERIFY_HUGE_PAGES=0 (see Sources/verify/HugePageHeap.swift).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-/work/venv/bin/python}
runs=${RUNS:-15}
if [ -n "${2:-}" ] && [ -f "$2/final_model.brotli-bshf.ptz" ]; then
    dir=$2
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    "$python" Benchmarks/make_full_size_artifacts.py "$dir"
fi
swift build -c release --product verify >/dev/null
verify=$(swift build -c release --product verify --show-bin-path)/verify

elapsed_ms() {  # wall time of "$@" in milliseconds (3 decimals)
    local start end
    start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N)
    echo "scale=3; ($end - $start) / 1000000" | bc -l
}
stats() {  # "best median" of the numbers on stdin
    sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f\n", v[1], v[int((NR + 1) / 2)] }'
}
ratio() { printf '%.2fx' "$(echo "$1 / $2" | bc -l)"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $runs rounds; times in ms (best / median)"
printf '%-12s %10s  %-20s %-20s %-20s %s\n' format bytes "verify inspect" "verify (4 KiB pages)" "CLI decompression" "ratio (best / median)"
for format in zlib zstd xz brotli brotli-bshf; do
    file="$dir/final_model.$format.ptz"
    case $format in
        xz) cli=(xz -dc "$file") ;;
        brotli*) cli=(brotli -dc "$file") ;;
        *) cli=() ;;
    esac
    ours=() plain=() theirs=()
    for _ in $(seq "$runs"); do
        ours+=("$(elapsed_ms "$verify" inspect --json "$file")")
        plain+=("$(PGVERIFY_HUGE_PAGES=0 elapsed_ms "$verify" inspect --json "$file")")
        if [ ${#cli[@]} -gt 0 ]; then theirs+=("$(elapsed_ms "${cli[@]}")"); fi
    done
    read -r ours_best ours_median < <(printf '%s\n' "${ours[@]}" | stats)
    read -r plain_best plain_median < <(printf '%s\n' "${plain[@]}" | stats)
    if [ ${#theirs[@]} -gt 0 ]; then
        read -r cli_best cli_median < <(printf '%s\n' "${theirs[@]}" | stats)
        cli_text="$cli_best / $cli_median"
        ratio_text="$(ratio "$ours_best" "$cli_best") / $(ratio "$ours_median" "$cli_median") (target <= 1.5x)"
    else
        cli_text="-"
        ratio_text="(target < 1 s)"
    fi
    printf '%-12s %10s  %-20s %-20s %-20s %s\n' "$format" "$(stat -c %s "$file")" "$ours_best / $ours_median" \
        "$plain_best / $plain_median" "$cli_text" "$ratio_text"
done
