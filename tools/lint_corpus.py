#!/usr/bin/env python3
"""Runs `verify lint --format json` over every record folder of the pull-request corpus and
summarises the findings per rule (run by hand, not in CI).

    tools/lint_corpus.py --verify .build/release/verify --corpus /work/prcorpus --out /tmp/lint-run
    tools/lint_corpus.py --summary /tmp/lint-run            # counts only, from a finished run
    tools/lint_corpus.py --sample PG-VAL-IN-TRAINING --seed 13 --count 40 --summary /tmp/lint-run
    tools/lint_corpus.py --compare /tmp/lint-before /tmp/lint-after    # folders flagged per rule
    tools/lint_corpus.py --verify ... --out /tmp/lint-run --ids ids.txt  # only the listed folders

Set PGVERIFY_PYTHON to a Python 3.12+ interpreter's real path: version-manager shims cost
seconds per run on a busy machine.

Writes one <id>.json per folder ({"rc": exit code, "findings": [...], "stderr": ...}) under --out.
"""
import argparse
import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ENV = dict(os.environ)


def run_lint(verify, folders):
    try:
        run = subprocess.run([verify, "lint", *folders, "--format", "json"], capture_output=True, timeout=1800, env=ENV)
        rc, stdout, stderr = run.returncode, run.stdout.decode("utf-8", "replace"), run.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        rc, stdout, stderr = -1, "", "timeout"
    try:
        findings = json.loads(stdout)["findings"] if stdout.strip() else []
    except (ValueError, KeyError, TypeError):
        findings = []
        stderr = stderr + "\nunparsable output: " + stdout[:500]
    return rc, findings, stderr


def has_python(folder):
    return any(name.endswith(".py") for _, _, names in os.walk(folder) for name in names)


def lint_batch(verify, batch):
    """Lints several folders in one run (one parser start); a batch that fails as a whole
    (exit 2: one folder is bad input) is rerun folder by folder, so each gets its own exit code."""
    batch = [(folder, out) for folder, out in batch if not os.path.exists(out)]
    if not batch:
        return
    # Folders without Python are bad input on their own (exit 2); they would sink the batch.
    alone = [(folder, out) for folder, out in batch if not has_python(folder)]
    batch = [entry for entry in batch if entry not in alone]
    for folder, out in alone:
        rc, findings, stderr = run_lint(verify, [folder])
        with open(out, "w") as handle:
            json.dump({"folder": folder, "rc": rc, "findings": findings, "stderr": stderr[-2000:]}, handle)
    if not batch:
        return
    rc, findings, stderr = run_lint(verify, [folder for folder, _ in batch]) if len(batch) > 1 else (2, [], "")
    if rc in (0, 1):
        for folder, out in batch:
            own = [f for f in findings if f["file"].startswith(folder + "/")]
            with open(out, "w") as handle:
                own_rc = 1 if any(f["severity"] == "error" for f in own) else 0
                json.dump({"folder": folder, "rc": own_rc, "findings": own, "stderr": ""}, handle)
        return
    for folder, out in batch:
        rc, findings, stderr = run_lint(verify, [folder])
        with open(out, "w") as handle:
            json.dump({"folder": folder, "rc": rc, "findings": findings, "stderr": stderr[-2000:]}, handle)


def load(out):
    results = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(".json"):
            with open(os.path.join(out, name)) as handle:
                results[name[:-5]] = json.load(handle)
    return results


def summary(results):
    by_rule = {}
    failing_only_by = {}
    rcs = {}
    for key, result in results.items():
        rcs[result["rc"]] = rcs.get(result["rc"], 0) + 1
        error_rules = set()
        for finding in result["findings"]:
            entry = by_rule.setdefault((finding["rule"], finding["severity"]), [0, set()])
            entry[0] += 1
            entry[1].add(key)
            if finding["severity"] == "error":
                error_rules.add(finding["rule"])
        if len(error_rules) == 1:
            rule = next(iter(error_rules))
            failing_only_by[rule] = failing_only_by.get(rule, 0) + 1
    print(f"folders: {len(results)}  exit codes: {dict(sorted(rcs.items()))}")
    print(f"{'rule':28} {'severity':8} {'findings':>8} {'folders':>8} {'fail only by it':>15}")
    for (rule, severity), (count, folders) in sorted(by_rule.items()):
        only = failing_only_by.get(rule, 0) if severity == "error" else ""
        print(f"{rule:28} {severity:8} {count:8} {len(folders):8} {only:>15}")


def sample(results, rule, seed, count):
    findings = [(key, f) for key, result in results.items() for f in result["findings"]
                if f["rule"] == rule and f["severity"] == "error"]
    random.Random(seed).shuffle(findings)
    for key, finding in findings[:count]:
        print(json.dumps({"id": key, "file": finding["file"], "line": finding["line"],
                          "decodedFromLine": finding.get("decodedFromLine"), "message": finding["message"]}))
    print(f"# {min(count, len(findings))} of {len(findings)} error findings", file=sys.stderr)


def compare(before, after):
    """Markdown rows: per rule and severity, folders flagged before and after."""
    keys = sorted(set(before) & set(after))
    def flagged(results):
        table = {}
        for key in keys:
            for finding in results[key]["findings"]:
                table.setdefault((finding["rule"], finding["severity"]), set()).add(key)
        return table
    old, new = flagged(before), flagged(after)
    print(f"folders compared: {len(keys)}; failing (exit 1): {sum(before[k]['rc'] == 1 for k in keys)} before, "
          f"{sum(after[k]['rc'] == 1 for k in keys)} after; bad input (exit 2): {sum(before[k]['rc'] == 2 for k in keys)} "
          f"before, {sum(after[k]['rc'] == 2 for k in keys)} after")
    print("| rule | severity | folders before | folders after |")
    print("| --- | --- | ---: | ---: |")
    for rule, severity in sorted(set(old) | set(new)):
        print(f"| {rule} | {severity} | {len(old.get((rule, severity), ()))} | {len(new.get((rule, severity), ()))} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--verify")
    parser.add_argument("--corpus", default="/work/prcorpus")
    parser.add_argument("--out")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=40)
    parser.add_argument("--summary")
    parser.add_argument("--sample")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--ids", help="a file of corpus ids, one a line: lint only those folders")
    args = parser.parse_args()
    if args.compare:
        compare(load(args.compare[0]), load(args.compare[1]))
        return
    if args.summary:
        results = load(args.summary)
        if args.sample:
            sample(results, args.sample, args.seed, args.count)
        else:
            summary(results)
        return
    with open(os.path.join(args.corpus, "index.json")) as handle:
        index = json.load(handle)
    os.makedirs(args.out, exist_ok=True)
    work = [(os.path.join(args.corpus, key, entry["path"]), os.path.join(args.out, key + ".json"))
            for key, entry in sorted(index.items())]
    if args.ids:
        with open(args.ids) as handle:
            wanted = {line.strip() for line in handle if line.strip()}
        work = [entry for entry in work if os.path.basename(entry[1])[:-len(".json")] in wanted]
    batches = [work[start:start + args.batch] for start in range(0, len(work), args.batch)]
    with ThreadPoolExecutor(args.jobs) as pool:
        for batch in batches:
            pool.submit(lint_batch, args.verify, batch)
    summary(load(args.out))


if __name__ == "__main__":
    main()
