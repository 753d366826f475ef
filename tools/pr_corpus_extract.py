#!/usr/bin/env python3
"""Extracts the record folders that each pull request of openai/parameter-golf adds or changes.

Run by hand (never in CI) on a snapshot of the repository that holds every `refs/pull/<N>/head`:

    python3 tools/pr_corpus_extract.py --repo /path/to/parameter-golf.git --out /work/prcorpus

For pull request N, the folders are those under `records/<track>/<folder>/` with a file added or
modified between the merge base with `main` and the pull request's head. Each distinct folder (by
git tree id) is written once, to `OUT/<folder tree id[:12]>/records/<track>/<folder>/`, keeping the
track in the path (it decides the rules). `OUT/index.json` maps every folder to the pull requests
that carry it. Files over --max-file-bytes (artifacts, huge logs) are left out and listed.
"""
import argparse
import json
import os
import re
import subprocess
import sys


def git(repo, *args, check=True):
    out = subprocess.run(["git", "-C", repo, *args], capture_output=True, check=check)
    return out.stdout.decode("utf-8", "replace")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-file-bytes", type=int, default=8_000_000)
    args = parser.parse_args()

    refs = [line.strip() for line in git(args.repo, "for-each-ref", "--format=%(refname)", "refs/pull/").splitlines()]
    refs = [r for r in refs if re.fullmatch(r"refs/pull/\d+/head", r)]
    refs.sort(key=lambda r: int(r.split("/")[2]))
    os.makedirs(args.out, exist_ok=True)
    index = {}
    for ref in refs:
        number = int(ref.split("/")[2])
        changed = git(args.repo, "diff", "--name-only", "--diff-filter=AM", f"main...{ref}", "--", "records/", check=False)
        folders = sorted({"/".join(p.split("/")[:3]) for p in changed.splitlines() if p.count("/") >= 3})
        for folder in folders:
            tree = git(args.repo, "rev-parse", f"{ref}:{folder}", check=False).strip()
            if not re.fullmatch(r"[0-9a-f]{40}", tree):
                continue
            key = tree[:12]
            entry = index.setdefault(key, {"path": folder, "pulls": [], "omitted": []})
            entry["pulls"].append(number)
            if len(entry["pulls"]) > 1:
                continue
            listing = git(args.repo, "ls-tree", "-r", "-l", tree)
            for line in listing.splitlines():
                meta, name = line.split("\t", 1)
                mode, kind, blob, size = meta.split()
                if kind != "blob":
                    continue
                if not size.isdigit() or int(size) > args.max_file_bytes or mode == "120000":
                    entry["omitted"].append({"file": name, "bytes": size})
                    continue
                target = os.path.join(args.out, key, folder, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                data = subprocess.run(["git", "-C", args.repo, "cat-file", "blob", blob], capture_output=True, check=True).stdout
                with open(target, "wb") as handle:
                    handle.write(data)
        if number % 200 == 0:
            print(f"pull {number}: {len(index)} folders", file=sys.stderr)
    with open(os.path.join(args.out, "index.json"), "w") as handle:
        json.dump(index, handle, indent=1, sort_keys=True)
    print(f"{len(index)} distinct folders from {len(refs)} pull requests", file=sys.stderr)


if __name__ == "__main__":
    main()
