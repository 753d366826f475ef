#!/usr/bin/env bash
# Sharded re-evaluation on Slurm: a job array of N shard tasks, then a merge job that runs only once
# every task has succeeded. Run on a login node, with pgverify built (`swift build -c release`) and
# the data on a file system every node sees:
#
#   examples/slurm/sharded-eval.sh SUBMISSION_DIR ARTIFACT TOKENIZER 'VAL_GLOB' [SHARDS] [MODE] [STRIDE]
#
# It writes two batch scripts into $PARTS (default ./pgverify-parts), submits them, and leaves the
# parts (part-K.json) and the merged result (merged.json) there. VERIFY names the binary.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,10p' "$0"; exit 2; }
submission=$1 artifact=$2 tokenizer=$3 val=$4 shards=${5:-16} mode=${6:-standard} stride=${7:-64}
verify=${VERIFY:-$(swift build -c release --show-bin-path)/verify}
parts=$(mkdir -p "${PARTS:-pgverify-parts}" && cd "${PARTS:-pgverify-parts}" && pwd)

args=("$submission/$artifact" --tokenizer "$tokenizer" --val "$val" --mode "$mode" --stride "$stride")
[ -f "$submission/train_gpt.py" ] && args+=(--code "$submission/train_gpt.py")
for log in "$submission"/*.log; do [ -f "$log" ] && args+=(--log "$log"); done

# Task K evaluates shard K of N (0-based, as `verify eval --shard K/N` and Slurm array ids count).
cat > "$parts/shard.sbatch" <<SCRIPT
#!/usr/bin/env bash
#SBATCH --job-name=pgverify-shard
#SBATCH --array=0-$((shards - 1))
#SBATCH --cpus-per-task=8
#SBATCH --output=$parts/shard-%a.out
set -euo pipefail
exec $(printf '%q ' "$verify" eval "${args[@]}") --threads "\$SLURM_CPUS_PER_TASK" \\
  --shard "\$SLURM_ARRAY_TASK_ID/$shards" --partial-out "$parts/part-\$SLURM_ARRAY_TASK_ID.json"
SCRIPT

cat > "$parts/merge.sbatch" <<SCRIPT
#!/usr/bin/env bash
#SBATCH --job-name=pgverify-merge
#SBATCH --output=$parts/merge.out
set -euo pipefail
$(printf '%q ' "$verify") merge --json "$parts"/part-*.json > "$parts/merged.json"
SCRIPT

array_job=$(sbatch --parsable "$parts/shard.sbatch")
sbatch --dependency="afterok:${array_job%%;*}" "$parts/merge.sbatch"
echo "shards: job $array_job; parts and merged.json in $parts"
