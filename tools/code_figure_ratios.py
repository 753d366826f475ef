"""Code figures smaller than the shipped script, against the script's own LZMA2 size (hand-run, never in CI).

For every folder of a finished `tools/pr_corpus_audit.py` run, takes the first code-bytes claim smaller than the
measured script and prints: id, script bytes, the claim, LZMA2 bytes (raw, preset 9, as `CompressedSize` in
Sources/Verifier measures), zlib-9 bytes, claim / LZMA2, the claim's source and qualifier, and the size findings.
Used to choose SIZE-CODE-COUNTED-COMPRESSED's factor (docs/pr-corpus-audit.md, round 4).

    python3 tools/code_figure_ratios.py --run /tmp/audit-run --corpus /work/prcorpus > ratios.tsv
"""
import argparse, glob, json, lzma, os, zlib

parser = argparse.ArgumentParser()
parser.add_argument("--run", required=True)
parser.add_argument("--corpus", required=True)
args = parser.parse_args()
index = json.load(open(os.path.join(args.corpus, "index.json")))
rows = []
for path in sorted(glob.glob(os.path.join(args.run, "reports", "*.json"))):
    folder_id = os.path.basename(path)[:-5]
    size = json.load(open(path)).get("size") or {}
    code, code_file = size.get("code_bytes"), (size.get("measured") or {}).get("code_file")
    if not code or not code_file:
        continue
    smaller = [c for c in size.get("claims", []) if c["kind"] == "code_bytes" and isinstance(c["value"], int) and c["value"] < code]
    if not smaller:
        continue
    source = open(os.path.join(args.corpus, folder_id, index[folder_id]["path"], code_file), "rb").read()
    lzma2 = len(lzma.compress(source, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}]))
    findings = " ".join(sorted({f["id"] + ":" + f["severity"] for f in size.get("findings", [])}))
    claim = smaller[0]
    rows.append((folder_id, code, claim["value"], lzma2, len(zlib.compress(source, 9)), round(claim["value"] / lzma2, 3),
                 claim["source"], claim.get("qualifier"), findings))
print("id\tscript_bytes\tclaimed\tlzma2\tzlib9\tclaimed_over_lzma2\tsource\tqualifier\tsize_findings")
for row in sorted(rows, key=lambda r: r[5]):
    print(*row, sep="\t")
