#!/usr/bin/env bash
# Fuzzes pgverify's readers of hostile input with libFuzzer (docs/fuzzing.md).
#
#   scripts/fuzz.sh [--seconds N] [--runs N] [--smoke] [--no-build] [TARGET...]
#
# Builds Sources/pgverify-fuzz with -sanitize=fuzzer,address into .build-fuzz (apart from the normal
# .build), writes the seed corpora from fixtures/, then fuzzes each TARGET (default: all) for N
# seconds (default 60), one at a time. Inputs that crash, hang or exhaust memory are written to
# $PGVERIFY_FUZZ_DIR/crashes/<target>/ (default .build-fuzz/fuzz); the corpus each target grows is
# kept in $PGVERIFY_FUZZ_DIR/corpus/<target>/ for the next run.
# --runs N: stop each target after N executions instead (with --seconds, whichever comes first).
# PGVERIFY_FUZZ_NICENESS: the fuzzer's nice level (default 10).
# --smoke: every target for 10 seconds on a fresh corpus from a fixed random seed (CI); fails if any
# target finds anything.
# Exit status: 0 when no target found anything, 1 otherwise, 2 for bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(artifact pickle sentencepiece shard python-tree conformance wrapper submission-json submission-log)
seconds=60 runs=0 seconds_given=0 smoke=0 build=1 targets=()
while (($#)); do
    case "$1" in
        --seconds) seconds="$2"; seconds_given=1; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --smoke) smoke=1 seconds=10; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
[[ "$seconds" =~ ^[0-9]+$ && "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds and --runs take a whole number" >&2; exit 2; }
# --runs alone: no time limit.
((runs > 0 && !seconds_given)) && seconds=0
for target in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target $target (${all_targets[*]})" >&2; exit 2; }
done

scratch=.build-fuzz
work="${PGVERIFY_FUZZ_DIR:-$scratch/fuzz}"
# -O: unoptimized Swift runs the readers 10-50x slower, and overflow and bounds checks stay on.
# swiftc keeps only the last of several -sanitize= flags, and SwiftPM passes --sanitize's in no fixed order, so
# the Swift code was sometimes built for address alone (no coverage counters): one -sanitize= with both, last.
build_flags=(--scratch-path "$scratch" -c debug --sanitize fuzzer --sanitize address -Xswiftc -O -Xswiftc -DPGVERIFY_LIBFUZZER
             -Xswiftc -sanitize=fuzzer,address)
if ((build)); then
    swift build "${build_flags[@]}" --product pgverify-fuzz
fi
binary="$(swift build "${build_flags[@]}" --show-bin-path)/pgverify-fuzz"
# A binary without coverage counters fuzzes blind and finds nothing (seen with the flag order above, and once
# after an incremental rebuild that replanned): such a binary is rebuilt from nothing once before giving up.
coverage_counters() { PGVERIFY_FUZZ_TARGET=shard "$binary" -runs=0 2>&1 | sed -n 's/.*(\([0-9]*\) inline 8-bit counters).*/\1/p' | head -1; }
counters=$(coverage_counters)
if ((${counters:-0} < 1000)) && ((build)); then
    echo "fuzz.sh: $binary has ${counters:-no} coverage counters; rebuilding $scratch from nothing" >&2
    rm -rf "$scratch"
    swift build "${build_flags[@]}" --product pgverify-fuzz
    counters=$(coverage_counters)
fi
if ((${counters:-0} < 1000)); then
    echo "fuzz.sh: $binary has ${counters:-no} coverage counters, so it is not instrumented; delete $scratch and rerun" >&2
    exit 1
fi

rm -rf "$work/seeds"
python3 scripts/fuzz/seeds.py "$work/seeds" >/dev/null
mkdir -p "$work/logs"

# Per target: the longest input the fuzzer may build (artifacts are decompressed, unzipped and
# unpickled whole on every run, and a tokenizer model or a log is read whole: longer inputs only slow
# the target down; 0 is libFuzzer's default, the longest seed), and the dictionary it mutates with.
max_len_of() { case "$1" in artifact) echo 73728 ;; sentencepiece|submission-log) echo 32768 ;; *) echo 0 ;; esac; }
dict_of() { case "$1" in artifact|pickle) echo scripts/fuzz/artifact.dict ;; esac; }
# The artifact target runs without lrzip on PATH: PGRP's lrzip stream goes to that external program
# (seconds per input), which is lrzip's to fuzz; the PGRP container around it is still read.
path_of() { case "$1" in artifact) echo /nonexistent ;; *) echo "$PATH" ;; esac; }
# What libFuzzer writes for a finding (it also writes slow-unit-* files, which are not findings).
count_findings() { find "$1" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l; }

failed=()
printf '%-16s %12s %10s %8s\n' target executions "exec/s" findings
for target in "${targets[@]}"; do
    crashes="$work/crashes/$target"
    mkdir -p "$crashes"
    if ((smoke)); then
        corpus="$(mktemp -d)"
    else
        corpus="$work/corpus/$target"
        mkdir -p "$corpus"
    fi
    options=(-max_total_time="$seconds" -runs="$((runs > 0 ? runs : -1))" -rss_limit_mb=2048 -timeout=25
             -max_len="$(max_len_of "$target")" -artifact_prefix="$crashes/" -print_final_stats=1)
    # The smoke run starts from a fixed seed, so CI explores the same inputs first each time.
    ((smoke)) && options+=(-seed=1)
    dict="$(dict_of "$target")"
    [[ -z "$dict" ]] || options+=(-dict="$dict")
    log="$work/logs/$target.log"
    before=$(count_findings "$crashes")
    status=0
    nice -n "${PGVERIFY_FUZZ_NICENESS:-10}" env PATH="$(path_of "$target")" PGVERIFY_FUZZ_TARGET="$target" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
        "$binary" "${options[@]}" "$corpus" "$work/seeds/$target" >"$log" 2>&1 || status=$?
    ((smoke)) && rm -rf "$corpus"
    findings=$(( $(count_findings "$crashes") - before ))
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    printf '%-16s %12s %10s %8s\n' "$target" "${executions:-?}" "${rate:-?}" "$findings"
    if ((status != 0 || findings > 0)); then
        failed+=("$target")
        echo "  $target: libFuzzer exit status $status; log $log, findings in $crashes/" >&2
        grep -m3 -E 'ERROR|==[0-9]+==|Fatal error|SUMMARY' "$log" | sed 's/^/    /' >&2 || true
    fi
done
if ((${#failed[@]})); then
    echo "fuzz.sh: findings in ${failed[*]}" >&2
    exit 1
fi
