#!/usr/bin/env bash
# Sharded re-evaluation on Slurm: a job array of N shard tasks, then a merge job that runs only once
# every task has succeeded. In ttt-phased mode a prefix job runs first (the batches up to the last
# global phase, and the phases, on one node) and the array's tasks score the suffix from the weights it
# saves. Run on a login node, with pgverify built (`swift build -c release`) and the data on a file
# system every node sees:
#
#   examples/slurm/sharded-eval.sh SUBMISSION_DIR ARTIFACT TOKENIZER 'VAL_GLOB' [SHARDS] [MODE] [STRIDE]
#
# MODE is standard (default), sliding (windows advance by STRIDE, default 64) or ttt-phased. It writes
# the batch scripts into $PARTS (default ./pgverify-parts), submits them, and leaves the parts
# (part-K.json, and part-prefix.json with prefix.state in ttt-phased mode) and the merged result
# (merged.json) there. VERIFY names the binary.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,15p' "$0"; exit 2; }
submission=$1 artifact=$2 tokenizer=$3 val=$4 shards=${5:-16} mode=${6:-standard} stride=${7:-64}
verify=${VERIFY:-$(swift build -c release --show-bin-path)/verify}
parts=$(mkdir -p "${PARTS:-pgverify-parts}" && cd "${PARTS:-pgverify-parts}" && pwd)

args=("$submission/$artifact" --tokenizer "$tokenizer" --val "$val" --mode "$mode")
if [ "$mode" = sliding ]; then args+=(--stride "$stride"); fi
if [ -f "$submission/train_gpt.py" ]; then args+=(--code "$submission/train_gpt.py"); fi
for log in "$submission"/*.log; do if [ -f "$log" ]; then args+=(--log "$log"); fi; done

# ttt-phased: the prefix once; every shard task starts from the state it writes.
suffix=()
if [ "$mode" = ttt-phased ]; then
  cat > "$parts/prefix.sbatch" <<SCRIPT
#!/usr/bin/env bash
#SBATCH --job-name=pgverify-prefix
#SBATCH --cpus-per-task=8
#SBATCH --output=$parts/prefix.out
set -euo pipefail
exec $(printf '%q ' "$verify" eval "${args[@]}") --threads "\$SLURM_CPUS_PER_TASK" \\
  --prefix-state-out "$parts/prefix.state" --partial-out "$parts/part-prefix.json"
SCRIPT
  suffix=(--prefix-state "$parts/prefix.state")
fi

# Task K evaluates shard K of N (0-based, as `verify eval --shard K/N` and Slurm array ids count).
cat > "$parts/shard.sbatch" <<SCRIPT
#!/usr/bin/env bash
#SBATCH --job-name=pgverify-shard
#SBATCH --array=0-$((shards - 1))
#SBATCH --cpus-per-task=8
#SBATCH --output=$parts/shard-%a.out
set -euo pipefail
exec $(printf '%q ' "$verify" eval "${args[@]}" "${suffix[@]}") --threads "\$SLURM_CPUS_PER_TASK" \\
  --shard "\$SLURM_ARRAY_TASK_ID/$shards" --partial-out "$parts/part-\$SLURM_ARRAY_TASK_ID.json"
SCRIPT

cat > "$parts/merge.sbatch" <<SCRIPT
#!/usr/bin/env bash
#SBATCH --job-name=pgverify-merge
#SBATCH --output=$parts/merge.out
set -euo pipefail
$(printf '%q ' "$verify") merge --json "$parts"/part-*.json > "$parts/merged.json"
SCRIPT

after=()
if [ "$mode" = ttt-phased ]; then
  prefix_job=$(sbatch --parsable "$parts/prefix.sbatch")
  after=(--dependency="afterok:${prefix_job%%;*}")
  echo "prefix: job $prefix_job"
fi
array_job=$(sbatch --parsable "${after[@]}" "$parts/shard.sbatch")
sbatch --dependency="afterok:${array_job%%;*}" "$parts/merge.sbatch"
echo "shards: job $array_job; parts and merged.json in $parts"
