#!/usr/bin/env bash
# Applies the Jobs of a sharded evaluation in order, each once the one before has completed, then
# prints the last one's (the merge's) output.
# Usage: examples/kubernetes/run.sh [NAMESPACE] [FILE]
#   FILE: sharded-eval.yaml (default: shard Job, merge Job) or sharded-eval-phased.yaml (prefix Job,
#   shard Job, merge Job).
set -euo pipefail
namespace=${1:-default}
file=${2:-$(dirname "$0")/sharded-eval.yaml}
count=$(python3 -c 'import sys; print(len(open(sys.argv[1]).read().split("\n---\n")))' "$file")
for index in $(seq 0 $((count - 1))); do
  document=$(python3 -c 'import sys; print(open(sys.argv[1]).read().split("\n---\n")[int(sys.argv[2])])' "$file" "$index")
  # The Job's own name: the first `name:` under `metadata:`.
  name=$(printf '%s\n' "$document" | sed -n '/^metadata:/,/^spec:/s/^  name: *//p' | head -n 1)
  printf '%s\n' "$document" | kubectl -n "$namespace" apply -f -
  kubectl -n "$namespace" wait --for=condition=complete --timeout=24h "job/$name"
done
kubectl -n "$namespace" logs "job/$name"
