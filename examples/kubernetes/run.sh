#!/usr/bin/env bash
# Runs the shard Job, waits until every index has completed, then runs the merge Job and prints its
# output. Usage: examples/kubernetes/run.sh [NAMESPACE]
set -euo pipefail
namespace=${1:-default}
here=$(dirname "$0")
# The two Jobs are the two documents of sharded-eval.yaml; the merge must not start before the shards end.
python3 -c 'import sys; print(open(sys.argv[1]).read().split("\n---\n")[0])' "$here/sharded-eval.yaml" \
  | kubectl -n "$namespace" apply -f -
kubectl -n "$namespace" wait --for=condition=complete --timeout=24h job/pgverify-shards
python3 -c 'import sys; print(open(sys.argv[1]).read().split("\n---\n")[1])' "$here/sharded-eval.yaml" \
  | kubectl -n "$namespace" apply -f -
kubectl -n "$namespace" wait --for=condition=complete --timeout=1h job/pgverify-merge
kubectl -n "$namespace" logs job/pgverify-merge
