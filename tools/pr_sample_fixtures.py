#!/usr/bin/env python3
"""Copies a stratified sample of pull-request record folders into fixtures/pr-sample (hand-run, never in CI).

    python3 tools/pr_sample_fixtures.py --run DIR --corpus /work/prcorpus --out fixtures/pr-sample \
        --count 80 --seed 13 [--max-folder-bytes 120000]

DIR is a finished `tools/pr_corpus_audit.py` run (with static analysis). Strata are (track, verdict,
error rules that fire): every stratum gets one folder first (its smallest), then the remaining places go
to the strata in proportion to their size, by a seeded draw among folders small enough. Each folder is
copied to OUT/<id>/<parent>/<name> (the parent is the track folder, so the audit sees the track), with:
- logs (`.log`, `.txt`) over 48 KB trimmed: the `step:N/M ... train_loss` progress lines without a
  validation figure are dropped from the middle (kept: the first and last 20 of them), every other line
  kept verbatim in order;
- pictures and binary blobs over 256 KB left out (`.png`, `.jpg`, `.pdf`, `.npy`, `.bin`, `.pt*`).
The copy and the original folder are then audited with --verify, and the copy is kept only when its
verdict and its error and warning findings (rule, file, line) equal the original's, so trimming changed
nothing the audit reads. `--candidates FILE` limits the draw to the ids listed (e.g. folders whose error
findings were all reviewed).
Writes OUT/selection.tsv (id, pulls, folder, stratum, bytes); the manifest is written after review.
"""

import argparse
import collections
import json
import os
import random
import re
import shutil
import subprocess
import tempfile

PROGRESS = re.compile(r"^(?:\S+\s+)?step:\d+/\d+\s.*train_loss")
LEFT_OUT = (".png", ".jpg", ".jpeg", ".gif", ".pdf", ".npy", ".npz", ".bin", ".pt", ".ptz", ".pth", ".safetensors")
TRIM_OVER = 48 * 1024
BLOB_OVER = 256 * 1024


def findings_key(report):
    return (report["verdict"]["outcome"],
            sorted((f["rule"], f["severity"], f.get("file") or "", f.get("line") or 0) for c in report["checks"]
                   for f in c["findings"] if f["severity"] in ("error", "warning")))


def trim_log(data):
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    progress = [i for i, line in enumerate(lines) if PROGRESS.match(line) and "val_" not in line]
    drop = set(progress[20:-20]) if len(progress) > 40 else set()
    return "\n".join(line for i, line in enumerate(lines) if i not in drop).encode("utf-8")


def copy_folder(source, target):
    for root, _, files in os.walk(source):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            relative = os.path.relpath(path, source)
            size = os.path.getsize(path)
            if name.lower().endswith(LEFT_OUT) and size > BLOB_OVER:
                continue
            if size > BLOB_OVER and not name.endswith((".py", ".log", ".txt", ".json", ".md")):
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            if name.endswith((".log", ".txt")) and size > TRIM_OVER:
                data = trim_log(data)
            os.makedirs(os.path.dirname(os.path.join(target, relative)), exist_ok=True)
            with open(os.path.join(target, relative), "wb") as handle:
                handle.write(data)


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, files in os.walk(path) for name in files)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True)
    parser.add_argument("--corpus", default="/work/prcorpus")
    parser.add_argument("--out", required=True)
    parser.add_argument("--verify", default=".build/release/verify")
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--max-folder-bytes", type=int, default=120000)
    parser.add_argument("--include", help="a file of ids (one a line) to take first, before the draw")
    parser.add_argument("--candidates", help="a file of ids (one a line): draw only among these")
    parser.add_argument("--manifest-from-review", help="a review table (docs/pr-corpus-audit/review-*.tsv): "
                        "write OUT/manifest.tsv and OUT/known-disagreements.tsv for the copies in OUT (draws nothing)")
    args = parser.parse_args()
    if args.manifest_from_review:
        write_manifest(args.out, os.path.abspath(args.verify), args.manifest_from_review)
        return

    index = json.load(open(os.path.join(args.corpus, "index.json")))
    strata = collections.defaultdict(list)
    reports = {}
    allowed = {line.split()[0] for line in open(args.candidates) if line.strip()} if args.candidates else None
    for name in sorted(os.listdir(os.path.join(args.run, "reports"))):
        folder_id = name[:-5]
        if allowed is not None and folder_id not in allowed:
            continue
        report = json.load(open(os.path.join(args.run, "reports", name)))
        reports[folder_id] = report
        track = report["subject"].split("/")[0] if report["subject"].startswith("track_") else "other"
        errors = ",".join(sorted({f["rule"] for c in report["checks"] for f in c["findings"] if f["severity"] == "error"})) or "-"
        strata[(track, report["verdict"]["outcome"], errors)].append(folder_id)
    rng = random.Random(args.seed)
    chosen, sizes = [], {}
    wanted = [line.split()[0] for line in open(args.include)] if args.include else []

    def take(folder_id, stratum):
        source = os.path.join(args.corpus, folder_id, index[folder_id]["path"])
        parts = index[folder_id]["path"].rstrip("/").split("/")
        relative = os.path.join(folder_id, parts[-2], parts[-1])
        with tempfile.TemporaryDirectory() as scratch:
            copy = os.path.join(scratch, parts[-2], parts[-1])
            copy_folder(source, copy)
            size = folder_bytes(copy)
            if size > args.max_folder_bytes and folder_id not in wanted:
                return False
            keys = []
            for audited in (copy, source):
                out = os.path.join(scratch, "report.json")
                if os.path.exists(out):
                    os.remove(out)
                subprocess.run([args.verify, audited, "--format", "json", "--output", out],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                keys.append(findings_key(json.load(open(out))) if os.path.exists(out) else None)
            if keys[0] is None or keys[0] != keys[1]:
                print("left out (the copy audits differently): %s" % folder_id)
                return False
            shutil.rmtree(os.path.join(args.out, folder_id), ignore_errors=True)
            shutil.copytree(os.path.join(scratch, parts[-2]), os.path.join(args.out, folder_id, parts[-2]))
        chosen.append((folder_id, relative, "/".join(stratum)))
        sizes[folder_id] = size
        return True

    stratum_of = {folder_id: key for key, ids in strata.items() for folder_id in ids}
    for folder_id in wanted:
        take(folder_id, stratum_of[folder_id])
    # One per stratum (small first), then proportional places by a seeded draw.
    for key in sorted(strata, key=lambda key: -len(strata[key])):
        if any(stratum_of[folder_id] == key for folder_id, _, _ in chosen):
            continue
        for folder_id in sorted(strata[key], key=lambda folder_id: folder_bytes(
                os.path.join(args.corpus, folder_id, index[folder_id]["path"]))):
            if take(folder_id, key):
                break
        if len(chosen) >= args.count:
            break
    total = sum(len(ids) for ids in strata.values())
    for key in sorted(strata, key=lambda key: -len(strata[key])):
        share = round(args.count * len(strata[key]) / total)
        have = sum(1 for folder_id, _, _ in chosen if stratum_of[folder_id] == key)
        candidates = [folder_id for folder_id in strata[key] if folder_id not in sizes]
        rng.shuffle(candidates)
        for folder_id in candidates:
            if have >= share or len(chosen) >= args.count:
                break
            if take(folder_id, key):
                have += 1
    # Places left by strata without enough small folders go to the others, largest first, by the same draw.
    for key in sorted(strata, key=lambda key: -len(strata[key])):
        candidates = [folder_id for folder_id in strata[key] if folder_id not in sizes]
        rng.shuffle(candidates)
        for folder_id in candidates:
            if len(chosen) >= args.count:
                break
            take(folder_id, key)
    with open(os.path.join(args.out, "selection.tsv"), "w") as handle:
        handle.write("id\tpulls\tfolder\tstratum\tbytes\n")
        for folder_id, relative, stratum in sorted(chosen):
            handle.write("%s\t%s\t%s\t%s\t%d\n" % (folder_id, ",".join(map(str, index[folder_id].get("pulls", []))),
                                                 relative, stratum, sizes[folder_id]))
    print("%d folders, %d bytes" % (len(chosen), sum(sizes.values())))




def write_manifest(out, verify, review_path):
    """manifest.tsv and known-disagreements.tsv from the copies' audits and the review table.

    The reviewed truth is the tool's findings without the error findings the review judged false, and
    the verdict those leave (FAIL with an error left, else the tool's INCOMPLETE: nothing can pass
    without the artifact). Each false error is a known disagreement, and so is the verdict it changes.
    """
    reviews = {}
    for line in open(review_path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 9 and parts[0] != "id":
            reviews.setdefault((parts[0], parts[4], parts[5]), []).append((parts[6], parts[7]))
    rows, disagreements, unreviewed = [], [], []
    for line in list(open(os.path.join(out, "selection.tsv")))[1:]:
        folder_id, pulls, relative, stratum, _ = line.rstrip("\n").split("\t")
        with tempfile.TemporaryDirectory() as scratch:
            report_path = os.path.join(scratch, "r.json")
            subprocess.run([verify, os.path.join(out, relative), "--format", "json", "--output", report_path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            report = json.load(open(report_path))
        def item(finding):
            location = finding.get("file")
            if location and finding.get("line"):
                location = "%s:%d" % (location, finding["line"])
            return "%s@%s" % (finding["rule"], location or "-")
        findings = [f for c in report["checks"] for f in c["findings"]]
        errors = sorted({item(f) for f in findings if f["severity"] == "error"})
        warnings = sorted({item(f) for f in findings if f["severity"] == "warning"})
        false_errors = []
        for finding in findings:
            if finding["severity"] != "error":
                continue
            location = "%s:%s" % (finding.get("file") or "submission.json", finding.get("line") or "-")
            if not finding.get("file") and finding["rule"] == "CLAIM-NO-LOGS":
                location = "-:-"
            verdicts = reviews.get((folder_id, finding["rule"], location))
            if not verdicts:
                unreviewed.append((folder_id, item(finding)))
            elif all(v == "FP" for v, _ in verdicts):
                false_errors.append((item(finding), verdicts[0][1]))
        truth_errors = [e for e in errors if e not in {f for f, _ in false_errors}]
        tool_verdict = report["verdict"]["outcome"]
        verdict = tool_verdict if truth_errors or tool_verdict != "FAIL" else "INCOMPLETE"
        for finding, reason in sorted(set(false_errors)):
            disagreements.append((folder_id, "false-error", finding, reason))
        if verdict != tool_verdict:
            disagreements.append((folder_id, "verdict", tool_verdict, "only the false errors above fail it"))
        rows.append((folder_id, pulls, relative, stratum, verdict, ";".join(truth_errors) or "-", ";".join(warnings) or "-"))
    with open(os.path.join(out, "manifest.tsv"), "w") as handle:
        handle.write("# Reviewed expectations: verdict and error findings as reviewed (docs/pr-corpus-audit/), warnings as audited.\n")
        handle.write("id\tpulls\tfolder\tstratum\tverdict\terrors\twarnings\n")
        for row in rows:
            handle.write("\t".join(row) + "\n")
    with open(os.path.join(out, "known-disagreements.tsv"), "w") as handle:
        handle.write("# Where the tool still disagrees with the review; PRSampleAuditTests asserts exactly these.\n")
        handle.write("id\tkind\titem\treason\n")
        for row in disagreements:
            handle.write("\t".join(row) + "\n")
    print("%d folders, %d disagreements, %d unreviewed error findings" % (len(rows), len(disagreements), len(unreviewed)))
    for folder_id, finding in unreviewed:
        print("unreviewed: %s %s" % (folder_id, finding))


if __name__ == "__main__":
    main()
