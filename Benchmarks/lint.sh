#!/usr/bin/env bash
# Wall and CPU time of `verify lint` on every .py of the records corpus, next to the floor: a bare
# `ast.parse` of the same files by the same interpreter. Not a test; run by hand:
#   Benchmarks/lint.sh [--repeat N] [--records DIR]
# Both run --repeat times, alternating; the best of each is compared (a shared machine only ever
# slows a run down). CPU is user + system of the process and its children (the parser subprocesses).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${PGVERIFY_SHARED:-../shared}"
RECORDS="$SHARED/corpus/parameter-golf/records"
REPEAT=5
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) REPEAT=$2; shift 2;; --records) RECORDS=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }

# The interpreter verify would pick: PGVERIFY_PYTHON, else the newest python3.1x that starts.
PYTHON="${PGVERIFY_PYTHON:-}"
if [ -z "$PYTHON" ]; then
  pyenv_newest_first=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V -r || true)
  for candidate in python3.14 python3.13 python3.12 $pyenv_newest_first python3; do
    if "$candidate" -I -S -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      PYTHON=$(command -v "$candidate"); break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "no Python 3.12+ found; set PGVERIFY_PYTHON" >&2; exit 2; }
# Both sides use this interpreter; verify's own interpreter discovery is therefore not timed.
export PGVERIFY_PYTHON="$PYTHON"

swift build -c release --product verify >&2
FILES=$(mktemp); TIMES=$(mktemp)
trap 'rm -f "$FILES" "$TIMES"' EXIT
find "$RECORDS" -name '*.py' -type f | sort > "$FILES"

# Prints "wall cpu" of one run of the command.
timed() {
  /usr/bin/time -o "$TIMES" -f "%e %U %S" "$@" > /dev/null 2>&1 || [ $? -eq 1 ]  # lint exits 1 on findings
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$TIMES"
}

best() { sort -n | head -1; }
verify_wall=(); verify_cpu=(); parse_wall=(); parse_cpu=(); nogc_wall=(); nogc_cpu=()
PARSE_ALL='import ast, sys; [ast.parse(open(f, "rb").read()) for f in open(sys.argv[1]).read().split("\n") if f]'
for _ in $(seq "$REPEAT"); do
  read -r wall cpu < <(timed "$PYTHON" -I -S -c "$PARSE_ALL" "$FILES")
  parse_wall+=("$wall"); parse_cpu+=("$cpu")
  # The stricter floor: verify's parser script also turns the cyclic GC off (the trees are acyclic).
  read -r wall cpu < <(timed "$PYTHON" -I -S -c "import gc; gc.disable(); $PARSE_ALL" "$FILES")
  nogc_wall+=("$wall"); nogc_cpu+=("$cpu")
  read -r wall cpu < <(timed .build/release/verify lint --format json "$RECORDS")
  verify_wall+=("$wall"); verify_cpu+=("$cpu")
done
pw=$(printf '%s\n' "${parse_wall[@]}" | best); pc=$(printf '%s\n' "${parse_cpu[@]}" | best)
gw=$(printf '%s\n' "${nogc_wall[@]}" | best); gc=$(printf '%s\n' "${nogc_cpu[@]}" | best)
vw=$(printf '%s\n' "${verify_wall[@]}" | best); vc=$(printf '%s\n' "${verify_cpu[@]}" | best)
echo "corpus: $(wc -l < "$FILES") .py files under $RECORDS (verify also parses the code decoded from self-extracting wrappers)"
echo "python: $PYTHON ($("$PYTHON" -c 'import platform; print(platform.python_version())')); cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "best of $REPEAT runs:"
printf '%-28s %10s %10s\n' "" "wall s" "CPU s"
printf '%-28s %10s %10s\n' "ast.parse only (floor)" "$pw" "$pc"
printf '%-28s %10s %10s\n' "ast.parse, GC off" "$gw" "$gc"
printf '%-28s %10s %10s\n' "verify lint --format json" "$vw" "$vc"
awk -v pw="$pw" -v pc="$pc" -v gw="$gw" -v gc="$gc" -v vw="$vw" -v vc="$vc" 'BEGIN {
  printf "%-28s %9.2fx %9.2fx\n", "ratio verify / floor", vw / pw, vc / pc
  printf "%-28s %9.2fx %9.2fx\n", "ratio verify / GC-off floor", vw / gw, vc / gc }'
