#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (scripts/fuzz.sh) under OUT/<target>/.

Seeds come from the repository's fixtures; where a target reads something no fixture holds as a
file (a bare pickle, the python3 front-end's tree stream, a wrapper chain), the seeds are made here
from fixtures with Python's standard library only.

usage: scripts/fuzz/seeds.py OUT [SHARED]
"""
import base64, glob, io, json, lzma, os, re, shutil, struct, subprocess, sys, zipfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1]
SHARED = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("PGVERIFY_SHARED", os.path.join(ROOT, "..", "shared"))
# Seeds larger than this only slow the artifact target down (every mutation re-reads them whole).
MAX_ARTIFACT_SEED = 72 * 1024


def folder(target):
    path = os.path.join(OUT, target)
    os.makedirs(path, exist_ok=True)
    return path


def copy(paths, target, max_bytes=None):
    out = folder(target)
    for path in sorted(set(paths)):
        if not os.path.isfile(path) or (max_bytes and os.path.getsize(path) > max_bytes):
            continue
        relative = os.path.relpath(path, ROOT)
        name = (os.path.basename(path) if relative.startswith("..") else relative).replace("/", "__")
        shutil.copyfile(path, os.path.join(out, name))


def write(target, name, data):
    with open(os.path.join(folder(target), name), "wb") as fh:
        fh.write(data)


def fixtures(*patterns):
    return [p for pattern in patterns for p in glob.glob(os.path.join(ROOT, "fixtures", pattern), recursive=True)]


artifacts = fixtures("artifacts/**/*.pt", "artifacts/**/*.ptz", "artifacts/compressible/pattern.*",
                     "hostile/*.pt", "hostile/*.ptz", "audit/record/*.ptz", "combined/*/*.ptz")
copy(artifacts, "artifact", MAX_ARTIFACT_SEED)

# Bare pickles: data.pkl of every artifact Python's standard library can decompress.
for path in artifacts:
    raw = open(path, "rb").read()
    for decode in (lambda b: b, zlib.decompress, lzma.decompress):
        try:
            archive = zipfile.ZipFile(io.BytesIO(decode(raw)))
            for info in archive.infolist():
                if info.filename.endswith("data.pkl"):
                    write("pickle", os.path.basename(os.path.dirname(path)) + "__" + os.path.basename(path) + ".pkl",
                          archive.read(info))
            break
        except Exception:
            continue

models = glob.glob(os.path.join(SHARED, "tokenizers", "*_1024_*.model"))
copy(models, "sentencepiece")


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


# A small ModelProto: pieces of each type, a trainer spec and a normalizer spec.
pieces = [("<unk>", 0.0, 2), ("<s>", 0.0, 3), ("</s>", 0.0, 3), ("<0x41>", 0.0, 6), ("\u2581the", -1.5, 1), ("a", -2.0, 1)]
proto = b"".join(field(1, 2, field(1, 2, p.encode()) + field(2, 5, struct.pack("<f", s)) + field(3, 0, varint(t)))
                 for p, s, t in pieces)
proto += field(2, 2, field(3, 0, varint(2)) + field(4, 0, varint(len(pieces))) + field(35, 0, varint(1)))
proto += field(3, 2, field(1, 2, b"identity") + field(3, 0, varint(0)))
write("sentencepiece", "small.model", proto)

copy(fixtures("shards/*.bin", "ttt/val_slice.bin"), "shard")

# Wrapper chains: the first byte selects the chain (FuzzTarget.wrapperModule), the rest is the payload.
source = b"import torch\nprint('hello from a wrapper')\n"
encodings = [lambda b: b, base64.b85encode, base64.b64encode, base64.urlsafe_b64encode]
raw_filters = [{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 16}]
compressions = [
    lambda b: b,
    zlib.compress,
    lambda b: zlib.compress(b)[2:-4],
    lambda b: __import__("gzip").compress(b),
    lzma.compress,
    lambda b: lzma.compress(b, format=lzma.FORMAT_RAW, filters=raw_filters),
    zlib.compress,
    lambda b: __import__("gzip").compress(b),
]
for selector in range(32):
    payload = encodings[selector & 3](compressions[(selector >> 2) & 7](source))
    write("wrapper", "chain-%02d" % selector, bytes([selector]) + payload)

# The python3 front-end's output for the lint fixtures, produced by the script pgverify runs.
script_swift = open(os.path.join(ROOT, "Sources/Verifier/Analysis/PythonParserScript.swift")).read()
script = re.search(r'#"""\n(.*?)\n"""#', script_swift, re.S).group(1)
python = os.environ.get("PGVERIFY_PYTHON", sys.executable)
sources = sorted(fixtures("lint/**/*.py"), key=os.path.getsize)[:40]
# A few inputs per run, as the linter batches them; one python3 start per batch.
batches = [sources[index::8] for index in range(8)] + [[source] for source in sources[:16]]
for index, batch in enumerate(batches):
    request = json.dumps([{"name": path, "path": path} for path in batch]).encode()
    result = subprocess.run([python, "-I", "-S", "-c", script], input=request, capture_output=True)
    if result.returncode == 0:
        write("python-tree", "batch-%02d" % index, result.stdout)

# The conformance check's seeds, one tree each: the baseline's code, which it matches all the way, the naive
# baseline record's copy of it, and 2026-03-19's whole-stack passes with per-pass LoRA.
codes = [os.path.join(SHARED, "corpus/parameter-golf/train_gpt.py")] + [
    os.path.join(SHARED, "corpus/parameter-golf/records/track_10min_16mb", record, "train_gpt.py")
    for record in ("2026-03-19_SlidingWindowEval", "2026-03-17_NaiveBaseline")]
for path in codes:
    if not os.path.isfile(path):
        continue
    request = json.dumps([{"name": os.path.basename(os.path.dirname(path)), "path": path}]).encode()
    result = subprocess.run([python, "-I", "-S", "-c", script], input=request, capture_output=True)
    if result.returncode == 0:
        write("conformance", os.path.basename(os.path.dirname(path)), result.stdout)

copy(fixtures("submissions/**/*.json", "audit/**/submission.json", "families/*/submission.json"), "submission-json")
copy(fixtures("submissions/**/*.log", "submissions/**/*.txt", "submissions/**/README.md",
              "audit/**/*.log", "audit/**/README.md"), "submission-log", 256 * 1024)

for target in sorted(os.listdir(OUT)):
    print("%-16s %4d seeds" % (target, len(os.listdir(os.path.join(OUT, target)))))
