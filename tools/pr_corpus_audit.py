#!/usr/bin/env python3
"""Runs `verify FOLDER --format json` on every folder of the pull-request corpus and aggregates.

Hand-run (never in CI); the corpus is the output of tools/pr_corpus_extract.py.

    python3 tools/pr_corpus_audit.py --verify .build/release/verify --corpus /work/prcorpus \
        --out /tmp/audit-before [--jobs 2] [--timeout 180] [--sample 200 --seed 13] [--ids FILE]
        [--without-static-analysis]

`--without-static-analysis` points PGVERIFY_PYTHON at a missing interpreter, so STATIC-FINDINGS is
incomplete everywhere and a folder takes ~0.15 s instead of ~3 s (python3 `ast` per file): the whole
corpus in minutes, for judging changes to claims, sizes and times.

Writes into --out:
  reports/<id>.json   the JSON report of each folder (absent when verify crashed or timed out)
  folders.tsv         one row per folder: id, path, pulls, exit code, seconds, verdict, each check's
                      status, the error and warning rules found
  summary.json / summary.md  verdict counts, per check status counts, per rule (folders, findings by severity),
                      crashes, timeouts and bad-input exits with their first stderr line

`--compare OTHER_DIR` (with --out naming a finished run) prints the folders whose verdict or error
rules differ between the two runs, and a transition table, without running anything.

`--review CHECK` (with --out naming a finished run) prints, for a seeded random sample (--sample,
default all; --seed) of the folders where CHECK failed, each error finding with the line it cites,
for reviewing precision by reading the files.

`--review-rule RULE` (with --out naming a finished run) does the same per finding rule, static rules
(PG-*) included: a seeded random sample (--sample) of that rule's error findings, each with its track,
file, line and cited line; `--review-table FILE` also writes them as a review table (TSV with empty
`verdict` and `reason` columns to fill in by reading the folder).
"""

import argparse
import collections
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import time

CHECKS = ["SIZE", "TIME-TRAIN", "TIME-EVAL", "CLAIMS", "SIGNIFICANCE", "STATIC-FINDINGS", "REPRODUCED-VAL-BPB"]
STATUSES = ["pass", "warn", "fail", "incomplete", "skipped"]


def load_index(corpus):
    with open(os.path.join(corpus, "index.json")) as handle:
        return json.load(handle)


def run_one(verify, corpus, folder_id, entry, timeout, reports, environment):
    folder = os.path.join(corpus, folder_id, entry["path"])
    report_path = os.path.join(reports, folder_id + ".json")
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [verify, folder, "--format", "json", "--output", report_path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=environment)
        code, stderr = completed.returncode, completed.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        code, stderr = "timeout", ""
    elapsed = time.monotonic() - started
    row = {"id": folder_id, "path": entry["path"], "pulls": entry.get("pulls", []), "exit": code,
           "seconds": round(elapsed, 2), "stderr": stderr.strip().splitlines()[-1][:300] if stderr.strip() else ""}
    report = None
    if code in (0, 1, 3) and os.path.exists(report_path):
        try:
            with open(report_path) as handle:
                report = json.load(handle)
        except (OSError, ValueError) as error:
            row["stderr"] = "report unreadable: %s" % error
    if report is not None:
        row["verdict"] = report["verdict"]["outcome"]
        row["checks"] = {check["id"]: check["status"] for check in report["checks"]}
        row["findings"] = [(check["id"], finding["rule"], finding["severity"])
                           for check in report["checks"] for finding in check["findings"]]
    else:
        row["verdict"] = {2: "BAD-INPUT", "timeout": "TIMEOUT"}.get(code, "CRASH")
        row["checks"] = {}
        row["findings"] = []
    return row


def write_tsv(rows, path):
    with open(path, "w") as handle:
        handle.write("\t".join(["id", "path", "pulls", "exit", "seconds", "verdict"] + CHECKS
                               + ["error_rules", "warning_rules", "stderr"]) + "\n")
        for row in sorted(rows, key=lambda row: row["path"] + row["id"]):
            errors = sorted({rule for _, rule, severity in row["findings"] if severity == "error"})
            warnings = sorted({rule for _, rule, severity in row["findings"] if severity == "warning"})
            handle.write("\t".join([row["id"], row["path"], ",".join(map(str, row["pulls"])), str(row["exit"]),
                                    str(row["seconds"]), row["verdict"]]
                                   + [row["checks"].get(check, "-") for check in CHECKS]
                                   + [",".join(errors), ",".join(warnings),
                                      row["stderr"].replace("\t", " ")]) + "\n")


def summarize(rows):
    verdicts = collections.Counter(row["verdict"] for row in rows)
    per_check = {check: collections.Counter() for check in CHECKS}
    for row in rows:
        for check, status in row["checks"].items():
            per_check.setdefault(check, collections.Counter())[status] += 1
    rules = collections.defaultdict(lambda: {"folders": 0, "error": 0, "warning": 0, "note": 0, "check": ""})
    for row in rows:
        seen = set()
        for check, rule, severity in row["findings"]:
            rules[rule][severity] += 1
            rules[rule]["check"] = check
            if rule not in seen:
                rules[rule]["folders"] += 1
                seen.add(rule)
    problems = [row for row in rows if row["verdict"] in ("CRASH", "TIMEOUT", "BAD-INPUT")]
    seconds = sorted(row["seconds"] for row in rows)
    return {
        "folders": len(rows),
        "verdicts": dict(verdicts),
        "checks": {check: dict(counts) for check, counts in per_check.items()},
        "rules": dict(sorted(rules.items())),
        "problems": [{"id": row["id"], "path": row["path"], "exit": row["exit"], "stderr": row["stderr"]}
                     for row in problems],
        "seconds": {"total": round(sum(seconds), 1), "median": seconds[len(seconds) // 2] if seconds else 0,
                    "max": seconds[-1] if seconds else 0},
    }


def write_markdown(summary, path):
    lines = ["# PR corpus audit: %d folders" % summary["folders"], "",
             "Verdicts: " + ", ".join("%s %d" % item for item in sorted(summary["verdicts"].items())), "",
             "| check | " + " | ".join(STATUSES) + " |", "|---|" + "---|" * len(STATUSES)]
    for check, counts in summary["checks"].items():
        lines.append("| %s | %s |" % (check, " | ".join(str(counts.get(status, 0)) for status in STATUSES)))
    lines += ["", "| rule | check | folders | errors | warnings | notes |", "|---|---|---|---|---|---|"]
    for rule, counts in summary["rules"].items():
        lines.append("| %s | %s | %d | %d | %d | %d |" % (rule, counts["check"], counts["folders"], counts["error"],
                                                       counts["warning"], counts["note"]))
    lines += ["", "Crashes, timeouts, bad input: %d" % len(summary["problems"])]
    for problem in summary["problems"]:
        lines.append("- %s `%s`: exit %s %s" % (problem["id"], problem["path"], problem["exit"], problem["stderr"]))
    lines += ["", "Seconds per folder: median %s, max %s, total %s" % (
        summary["seconds"]["median"], summary["seconds"]["max"], summary["seconds"]["total"])]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def read_tsv(path):
    with open(path) as handle:
        header = handle.readline().rstrip("\n").split("\t")
        return {row[0]: dict(zip(header, row)) for row in (line.rstrip("\n").split("\t") for line in handle)}


def compare(before_dir, after_dir):
    before, after = read_tsv(os.path.join(before_dir, "folders.tsv")), read_tsv(os.path.join(after_dir, "folders.tsv"))
    transitions = collections.Counter()
    changed = []
    for folder_id in sorted(set(before) & set(after)):
        old, new = before[folder_id], after[folder_id]
        transitions[(old["verdict"], new["verdict"])] += 1
        differs = [key for key in ["verdict"] + CHECKS + ["error_rules"] if old.get(key) != new.get(key)]
        if differs:
            changed.append((folder_id, old["path"], {key: (old.get(key), new.get(key)) for key in differs}))
    print("verdict transitions (before -> after: folders)")
    for (old, new), count in sorted(transitions.items()):
        print("  %s -> %s: %d" % (old, new, count))
    print("%d folders changed (verdict, a check's status or error rules)" % len(changed))
    for folder_id, path, differences in changed:
        print("%s\t%s\t%s" % (folder_id, path, "; ".join("%s %s->%s" % (key, a, b) for key, (a, b) in differences.items())))


def cited_line(corpus, folder_id, entry, finding):
    if not finding.get("file") or not finding.get("line"):
        return ""
    path = os.path.join(corpus, folder_id, entry["path"], finding["file"])
    try:
        with open(path, "rb") as handle:
            lines = handle.read().decode("utf-8", "replace").splitlines()
        return lines[finding["line"] - 1].strip()[:200]
    except (OSError, IndexError):
        return ""


def review(out, corpus, check, sample, seed):
    index = load_index(corpus)
    failed = []
    for name in sorted(os.listdir(os.path.join(out, "reports"))):
        with open(os.path.join(out, "reports", name)) as handle:
            report = json.load(handle)
        for item in report["checks"]:
            if item["id"] == check and item["status"] == "fail":
                failed.append((name[:-5], item))
    chosen = sorted(random.Random(seed).sample(failed, min(sample, len(failed))), key=lambda pair: pair[0]) \
        if sample else failed
    print("%s failed in %d folders; reviewing %d" % (check, len(failed), len(chosen)))
    for folder_id, item in chosen:
        entry = index[folder_id]
        print("== %s %s (pulls %s)" % (folder_id, entry["path"], entry.get("pulls")))
        for finding in item["findings"]:
            if finding["severity"] == "error":
                print("  %s %s:%s %s" % (finding["rule"], finding.get("file"), finding.get("line"), finding["message"][:300]))
                line = cited_line(corpus, folder_id, entry, finding)
                if line:
                    print("    | " + line)


def error_findings(out, rule):
    """(folder id, track, finding) for every error finding of `rule` in a finished run, in id order."""
    found = []
    for name in sorted(os.listdir(os.path.join(out, "reports"))):
        with open(os.path.join(out, "reports", name)) as handle:
            report = json.load(handle)
        track = report["subject"].split("/")[0] if report["subject"].startswith("track_") else "-"
        for item in report["checks"]:
            for finding in item["findings"]:
                if finding["rule"] == rule and finding["severity"] == "error":
                    found.append((name[:-5], track, finding))
    return found


def review_rule(out, corpus, rule, sample, seed, table):
    index = load_index(corpus)
    found = error_findings(out, rule)
    chosen = sorted(random.Random(seed).sample(found, min(sample, len(found))), key=lambda item: item[0]) \
        if sample else found
    folders = len({folder_id for folder_id, _, _ in found})
    print("%s: %d error findings in %d folders; reviewing %d" % (rule, len(found), folders, len(chosen)))
    rows = []
    for folder_id, track, finding in chosen:
        entry = index[folder_id]
        line = cited_line(corpus, folder_id, entry, finding)
        print("== %s %s (pulls %s)" % (folder_id, entry["path"], entry.get("pulls")))
        print("  %s:%s %s" % (finding.get("file"), finding.get("line"), finding["message"][:400]))
        if line:
            print("    | " + line)
        rows.append([folder_id, entry["path"], track, rule, str(finding.get("file") or ""),
                     str(finding.get("line") or ""), finding["message"][:200].replace("\t", " ").replace("\n", " "), "", ""])
    if table:
        with open(table, "w") as handle:
            handle.write("\t".join(["id", "path", "track", "rule", "file", "line", "message", "verdict", "reason"]) + "\n")
            for row in rows:
                handle.write("\t".join(row) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verify", default=".build/release/verify")
    parser.add_argument("--corpus", default="/work/prcorpus")
    parser.add_argument("--out", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--sample", type=int, help="audit a seeded random sample of this many folders")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--ids", help="a file of folder ids (one a line) to audit instead of all")
    parser.add_argument("--without-static-analysis", action="store_true",
                        help="leave STATIC-FINDINGS incomplete (no python3): ~20x faster")
    parser.add_argument("--review", help="a check ID: print a sample of its failures in --out (runs nothing)")
    parser.add_argument("--review-rule", help="a rule ID: print a sample of its error findings in --out (runs nothing)")
    parser.add_argument("--review-table", help="with --review-rule: write the sample as a TSV review table")
    parser.add_argument("--compare", help="a finished run's --out to compare --out against (runs nothing)")
    args = parser.parse_args()

    if args.compare:
        compare(args.compare, args.out)
        return
    if args.review_rule:
        review_rule(args.out, args.corpus, args.review_rule, args.sample or 0, args.seed, args.review_table)
        return
    if args.review:
        review(args.out, args.corpus, args.review, args.sample or 0, args.seed)
        return
    index = load_index(args.corpus)
    ids = sorted(index)
    if args.ids:
        with open(args.ids) as handle:
            wanted = [line.split()[0] for line in handle if line.strip()]
        ids = [folder_id for folder_id in wanted if folder_id in index]
    if args.sample:
        ids = sorted(random.Random(args.seed).sample(ids, min(args.sample, len(ids))))
    reports = os.path.join(args.out, "reports")
    os.makedirs(reports, exist_ok=True)
    verify = os.path.abspath(args.verify)
    environment = dict(os.environ)
    if args.without_static_analysis:
        environment["PGVERIFY_PYTHON"] = "/nonexistent/python3"
    rows = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, verify, args.corpus, folder_id, index[folder_id], args.timeout, reports, environment)
                   for folder_id in ids]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            rows.append(future.result())
            if done % 50 == 0 or done == len(ids):
                print("%d/%d folders, %.0f s" % (done, len(ids), time.monotonic() - started), file=sys.stderr, flush=True)
    write_tsv(rows, os.path.join(args.out, "folders.tsv"))
    summary = summarize(rows)
    with open(os.path.join(args.out, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    write_markdown(summary, os.path.join(args.out, "summary.md"))
    print(open(os.path.join(args.out, "summary.md")).read())


if __name__ == "__main__":
    main()
