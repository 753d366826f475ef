#!/usr/bin/env python3
"""Writes the artifact goldens and hostile fixtures pgverify's Swift tests compare against.

Run by hand (never in CI) from the package root:

    /work/venv/bin/python tools/artifact_goldens.py [--shared ../shared]

It imports the challenge's own baseline train_gpt.py from ../shared/corpus/parameter-golf at run
time and uses its quantize_state_dict_int8 / dequantize_state_dict_int8, so the goldens carry the
challenge's semantics, not ours. Outputs (all small, committed):

  fixtures/artifacts/taleef7-baseline-2L64d/goldens.json   dequantized real artifact
  fixtures/artifacts/synthetic-int8/                       int8 per-row + per-tensor, bf16/fp32 originals
  fixtures/artifacts/wrappers/                             one tiny state dict in every outer wrapping
  fixtures/hostile/                                        hostile and broken inputs
  fixtures/artifacts/record-wm-zstd/                       {'w','m'} int6/int8 + zstd (a 03-20 record's code)
  fixtures/artifacts/record-wm-xz/                         {'w','m'} int6/int8 + xz (a 03-23 record's code)
  fixtures/artifacts/record-wm-lqer/                       {'w','m'} GPTQ + LQER sym/asym + gate + BSHF + brotli (an 04-27 record's code)
  fixtures/artifacts/record-pergroup-lrzip/                PGRP: lrzip groups + brotli remainder (the 04-27 #1 record's code)
  fixtures/artifacts/record-jepa-int6/                     int6 bit-packed rows + fp8 + bf16 (a 03-26 non-record's code)
  fixtures/artifacts/record-mixed-int6-tagged/             mixed_int8_int6_v1 dict + ZSTD tag (a 03-21 non-record's code)
  fixtures/artifacts/record-packed-*/                      ternary base-3 + fp8, bitmask + fp4, binary + fp8 (+ xz) (03-24 code)
  fixtures/artifacts/record-xnor-*/                        binary + fp8 + bf16 behind a method byte (a 04-05 non-record's code)
  fixtures/artifacts/record-wm-bshf-brotli/                {'w','m'} GPTQ int6/int8, gate int8 rows + BSHF + brotli (an 04-19 record's code)
"""
import ast
import types
import argparse
import importlib.util
import io
import json
import lzma
import pathlib
import random
import struct
import sys
import zipfile
import zlib

import brotli
import torch
import zstandard

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def load_baseline(shared: pathlib.Path):
    """The challenge's train_gpt.py as a module (its main() does not run on import)."""
    path = shared / "corpus" / "parameter-golf" / "train_gpt.py"
    spec = importlib.util.spec_from_file_location("challenge_train_gpt", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def float_bits(value: float) -> int:
    return struct.unpack("<I", struct.pack("<f", value))[0]


def golden_for(weights: dict, seed: int) -> dict:
    """Names, dtypes, shapes, sampled exact values and a sequential float64 checksum per tensor.

    The checksum adds the tensor's float32 values (t.float(), row-major) one by one in float64,
    in index order, so the Swift side can reproduce it exactly.
    """
    rng = random.Random(seed)
    tensors = {}
    for name in sorted(weights):
        t = weights[name]
        flat = t.detach().float().contiguous().view(-1).tolist()
        total = 0.0
        for v in flat:
            total += v
        n = len(flat)
        indices = sorted({0, n - 1, max(range(n), key=lambda i: abs(flat[i]))} | {rng.randrange(n) for _ in range(6)}) if n else []
        tensors[name] = {
            "dtype": str(t.dtype).removeprefix("torch."),
            "shape": list(t.shape),
            "count": n,
            "checksum": total,
            "samples": [{"index": i, "bits": float_bits(flat[i]), "value": flat[i]} for i in indices],
        }
    return {"tensors": tensors}


def write_json(path: pathlib.Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    print("wrote", path.relative_to(ROOT))


def torch_save_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def real_artifact_goldens(baseline, shared: pathlib.Path) -> None:
    folder = FIXTURES / "artifacts" / "taleef7-baseline-2L64d"
    blob = (folder / "final_model.int8.ptz").read_bytes()
    # Exactly the baseline's round trip: zlib.decompress -> torch.load -> dequantize_state_dict_int8.
    state = torch.load(io.BytesIO(zlib.decompress(blob)), map_location="cpu")
    golden = golden_for(baseline.dequantize_state_dict_int8(state), seed=1)
    golden["source"] = "tools/artifact_goldens.py: zlib.decompress + torch.load + the challenge's dequantize_state_dict_int8"
    golden["format"] = state["__quant_format__"]
    write_json(folder / "goldens.json", golden)


def synthetic_state_dict() -> dict:
    """Small random tensors chosen to hit every branch of quantize_state_dict_int8."""
    g = torch.Generator().manual_seed(1234)

    def spiky(*shape, dtype=torch.float32):
        # Mostly small values with a few outliers, so the clip percentile matters and int8 compresses well.
        t = torch.randn(*shape, generator=g) * 0.02
        mask = torch.rand(*shape, generator=g) < 0.02
        t = torch.where(mask, t * 60, t)
        return t.to(dtype)

    return {
        "blocks.0.mlp.fc.weight": spiky(288, 256),                         # 73,728 fp32 -> int8 per-row
        "blocks.0.attn.c_q.weight": spiky(272, 256, dtype=torch.bfloat16),  # 69,632 bf16 -> int8 per-row, back to bf16
        "bigram.scale": spiky(66_000, dtype=torch.bfloat16),                # 1-D bf16 -> int8 per-tensor, back to bf16
        "conv.weight": spiky(18, 64, 64),                                   # 3-D fp32 -> int8 per-tensor
        "lm_head.bias": spiky(16, 16),                                      # small fp32 -> fp16 passthrough, orig float32
        "norm.weight": spiky(8, 8, dtype=torch.bfloat16),                   # small bf16 -> fp16 passthrough, orig bfloat16
        "blocks.0.attn_scale": spiky(32),                                   # control tensor: kept fp32
        "half.weight": spiky(4, 4, dtype=torch.float16),                    # fp16 kept as is (no orig dtype)
        "step": torch.tensor([7, -3, 1 << 40], dtype=torch.int64),          # non-float passthrough
    }


def synthetic_artifact(baseline) -> None:
    folder = FIXTURES / "artifacts" / "synthetic-int8"
    quant_obj, _ = baseline.quantize_state_dict_int8(synthetic_state_dict())
    blob = zlib.compress(torch_save_bytes(quant_obj), level=9)  # the baseline's own serialization
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.int8.ptz").write_bytes(blob)
    print("wrote", (folder / "model.int8.ptz").relative_to(ROOT), len(blob), "bytes")
    state = torch.load(io.BytesIO(zlib.decompress(blob)), map_location="cpu")
    golden = golden_for(baseline.dequantize_state_dict_int8(state), seed=2)
    golden["source"] = "tools/artifact_goldens.py: the challenge's quantize_state_dict_int8 + torch.save + zlib 9, dequantized by its dequantize_state_dict_int8"
    golden["format"] = state["__quant_format__"]
    golden["schemes"] = {name: ("per_row" if name in state.get("qmeta", {}) else "per_tensor") for name in state["quantized"]}
    write_json(folder / "goldens.json", golden)
    (folder / "SOURCE").write_text(
        "model.int8.ptz: written by tools/artifact_goldens.py from seeded random tensors with the challenge's own\n"
        "quantize_state_dict_int8 (../shared/corpus/parameter-golf/train_gpt.py, snapshot 4908dc46f), torch.save and\n"
        "zlib level 9, as the baseline exports; goldens.json is its dequantize_state_dict_int8 of the saved bytes.\n")


def byte_shuffle(data: bytes, stride: int, header_bytes: int) -> bytes:
    """BSHF as the records write it: lane i holds bytes i, i+stride, ...; stride in 1 or 2 LE bytes."""
    lanes = b"".join(data[lane::stride] for lane in range(stride))
    return b"BSHF" + stride.to_bytes(header_bytes, "little") + lanes


def wrapped_artifacts() -> None:
    """One tiny plain state dict (every dtype, a transposed view, a storage offset) in every wrapping."""
    folder = FIXTURES / "artifacts" / "wrappers"
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(99)
    base = torch.randn(5, 7, generator=g)
    shared_storage = torch.randn(40, generator=g)
    state = {
        "f32": torch.randn(3, 4, generator=g),
        "f16": torch.randn(6, generator=g).half(),
        "bf16": torch.randn(2, 3, generator=g).bfloat16(),
        "i8": torch.tensor([-128, -1, 0, 1, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 200, 255], dtype=torch.uint8),
        "i16": torch.tensor([-32768, 5, 32767], dtype=torch.int16),
        "i32": torch.tensor([-(1 << 31), 12345, (1 << 31) - 1], dtype=torch.int32),
        "i64": torch.tensor([-(1 << 40), 3, (1 << 24) + 1], dtype=torch.int64),
        "flag": torch.tensor([True, False, True]),
        "fp8": torch.tensor([0.0, 1.5, -448.0, 0.001953125, 3.25], dtype=torch.float32).to(torch.float8_e4m3fn),
        "transposed": base.t(),                          # strides (1, 7)
        "offset_view": shared_storage[10:22].view(3, 4),  # storage offset 10 in a 40-element storage
        "offset_sibling": shared_storage[:5],             # same storage, saved once
        "scalar": torch.tensor(2.5),
    }
    raw = torch_save_bytes(state)
    wrappings = {
        "model.none.pt": raw,
        "model.zlib.ptz": zlib.compress(raw, 9),
        "model.zstd.ptz": zstandard.ZstdCompressor(level=22).compress(raw),
        "model.xz.ptz": lzma.compress(raw, preset=6),
        "model.lzma-alone.ptz": lzma.compress(raw, format=lzma.FORMAT_ALONE),
        "model.brotli.ptz": brotli.compress(raw, quality=11),
        "model.bshf1-brotli.ptz": brotli.compress(byte_shuffle(raw, 2, 1), quality=11),
        "model.bshf2-brotli.ptz": brotli.compress(byte_shuffle(raw, 2, 2), quality=11),
    }
    for name, blob in wrappings.items():
        (folder / name).write_bytes(blob)
    golden = golden_for({k: v.float() for k, v in torch.load(io.BytesIO(raw)).items()}, seed=3)
    golden["dtypes"] = {k: str(v.dtype).removeprefix("torch.") for k, v in state.items()}
    golden["source"] = "tools/artifact_goldens.py: torch.save of a plain state dict, values as tensor.float()"
    golden["wrappings"] = sorted(wrappings)
    write_json(folder / "goldens.json", golden)
    (folder / "SOURCE").write_text(
        "model.*: written by tools/artifact_goldens.py: one torch.save of a tiny seeded state dict (every stored dtype,\n"
        "a transposed view, a storage offset) in each outer wrapping (raw ZIP, zlib, zstd, xz, LZMA-alone, brotli,\n"
        "BSHF with 1- and 2-byte stride headers + brotli); goldens.json holds torch.load's values as tensor.float().\n")


def torch_like_zip(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)  # reproducible bytes
    return buffer.getvalue()


def hostile_fixtures() -> None:
    folder = FIXTURES / "hostile"
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        print("wrote", (folder / name).relative_to(ROOT), len(data), "bytes")

    # 1. A torch-looking archive whose pickle calls os.system (hand-written opcodes; never unpickled here).
    evil = b"\x80\x02cos\nsystem\nq\x00X\x16\x00\x00\x00echo pwned > /tmp/pwnd\x85q\x01R."
    write("os_system.ptz", zlib.compress(torch_like_zip({"archive/data.pkl": evil, "archive/byteorder": b"little"}), 9))

    tiny = torch_save_bytes({"w": torch.arange(6, dtype=torch.float32).view(2, 3)})

    # 2. A truncated ZIP: the archive cut at 60% (no central directory left).
    write("truncated_zip.pt", tiny[: len(tiny) * 6 // 10])

    # 3. A bad zstd frame: a valid frame (with checksum) with bytes in the middle flipped.
    frame = bytearray(zstandard.ZstdCompressor(level=19, write_checksum=True).compress(tiny))
    for i in range(len(frame) // 2, len(frame) // 2 + 8):
        frame[i] ^= 0xA5
    try:
        zstandard.ZstdDecompressor().decompress(bytes(frame))
        raise SystemExit("corrupted zstd frame still decodes; pick other bytes")
    except zstandard.ZstdError:
        pass
    write("bad_zstd.ptz", bytes(frame))

    # 4. A decompression bomb: 2 GiB of zeros in a few KB of brotli.
    compressor = brotli.Compressor(quality=5)
    chunk = bytes(64 << 20)
    parts = [compressor.process(chunk) for _ in range(32)]
    write("bomb.ptz", b"".join(parts) + compressor.finish())

    # 5. A tensor whose view needs more elements than its storage holds: size (2, 3) edited to (2, 5).
    with zipfile.ZipFile(io.BytesIO(tiny)) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    pickle_name = next(n for n in entries if n.endswith("/data.pkl"))
    size_tuple = b"K\x02K\x03\x86"
    assert entries[pickle_name].count(size_tuple) == 1
    entries[pickle_name] = entries[pickle_name].replace(size_tuple, b"K\x02K\x05\x86")
    short = torch_like_zip(entries)
    try:
        torch.load(io.BytesIO(short))
        raise SystemExit("torch still loads the short-storage archive")
    except RuntimeError:
        pass
    write("storage_too_short.pt", short)

    # 6. A ZIP entry pointing past the end: the central directory's sizes of data/0 raised to 16 MiB.
    archive_bytes = bytearray(tiny)
    name = next(n for n in entries if n.endswith("/data/0")).encode()
    position = 0
    while True:
        position = archive_bytes.index(b"PK\x01\x02", position)
        name_length = struct.unpack_from("<H", archive_bytes, position + 28)[0]
        if archive_bytes[position + 46: position + 46 + name_length] == name:
            break
        position += 4
    struct.pack_into("<II", archive_bytes, position + 20, 16 << 20, 16 << 20)
    write("zip_entry_past_end.pt", bytes(archive_bytes))


RECORDS = "corpus/parameter-golf/records/track_10min_16mb"
F2_RECORD = "2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271"
F4_RECORD = "2026-04-19_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT"


def load_record_functions(shared: pathlib.Path, record_folder: str, script: str = "train_gpt.py") -> dict:
    """A record's module-level definitions, without running it or needing its GPU-only imports.

    Each top-level statement of the record's train_gpt.py runs on its own; those that fail here
    (flash_attn / triton imports, kernels decorated with them) are skipped. main() is never called.
    """
    path = shared / record_folder / script
    namespace = {"__name__": "record_" + pathlib.Path(record_folder).name.replace("-", "_"), "__file__": str(path)}
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.If):  # the `if __name__ == "__main__"` guard
            continue
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), namespace)
        except Exception:
            pass
    namespace["log"] = lambda *args, **kwargs: None
    return namespace


def spiky(g, *shape, dtype=torch.float32):
    t = torch.randn(*shape, generator=g) * 0.02
    mask = torch.rand(*shape, generator=g) < 0.02
    return torch.where(mask, t * 60, t).to(dtype)


def wm_golden(folder: pathlib.Path, blob: bytes, file: str, m: dict, dequantized: dict, record_folder: str, how: str) -> None:
    """Writes a record-made artifact, its goldens and a SOURCE note; `record_folder` is relative to ../shared."""
    record = record_folder.removeprefix("corpus/parameter-golf/")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_bytes(blob)
    print("wrote", (folder / file).relative_to(ROOT), len(blob), "bytes")
    golden = golden_for(dequantized, seed=4)
    golden["source"] = f"tools/artifact_goldens.py: {how} from {record} (corpus snapshot 4908dc46f)"
    if m:
        golden["meta"] = {k: (v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in m.items()}
    write_json(folder / "goldens.json", golden)
    (folder / "SOURCE").write_text(
        f"{file}: written by tools/artifact_goldens.py with the export code of\n"
        f"github.com/openai/parameter-golf {record}\n"
        "(snapshot commit 4908dc46f21ed3fdd08d2fdca285deb2194b9599),\n"
        f"executed from ../shared at generation time (not copied): {how}.\n"
        "The tensors are small seeded random ones (names as in the record's flattened state dict); goldens.json holds the\n"
        "record's own dequantization of the saved artifact"
        + (" (its template, i.e. each parameter's model dtype, is the golden's per-tensor dtype).\n" if m else ".\n"))


def record_wm_zstd(shared: pathlib.Path) -> None:
    """F2: mixed_quantize_int6 + torch.save({'w','m'}) + zstd-22, dequantized by dequantize_mixed_int6."""
    ns = load_record_functions(shared, f"{RECORDS}/{F2_RECORD}")
    g = torch.Generator().manual_seed(2020)
    template = {
        "tok_emb.weight": spiky(g, 272, 256, dtype=torch.bfloat16),   # embed -> int8 per-row, bf16 model dtype
        "blocks.0.mlp.fc.weight": spiky(g, 288, 256),                  # mlp -> int6 per-row, fp32
        "blocks.0.mlp.gain": spiky(g, 66_000),                         # mlp, 1-D -> int6 per-tensor (0-d fp16 scale)
        "blocks.0.attn_scale": spiky(g, 256),                          # small -> fp16 passthrough, fp32 model dtype
        "blocks.0.resid_mix": spiky(g, 2, 256, dtype=torch.bfloat16),  # small -> fp16 passthrough, bf16 model dtype
    }
    w, m = ns["mixed_quantize_int6"](template, {"mlp", "attn"})
    raw = torch_save_bytes({"w": w, "m": m})
    blob = zstandard.ZstdCompressor(level=22).compress(raw)  # as the record's _COMPRESSOR == "zstd" path
    state = torch.load(io.BytesIO(zstandard.ZstdDecompressor().decompress(blob)), map_location="cpu")
    dequantized = ns["dequantize_mixed_int6"](state["w"], state["m"], template)
    wm_golden(FIXTURES / "artifacts" / "record-wm-zstd", blob, "model.int6.ptz", m, dequantized, f"{RECORDS}/{F2_RECORD}",
              "mixed_quantize_int6(sd, {'mlp','attn'}) + torch.save({'w','m'}) + zstd level 22; dequantize_mixed_int6")


F3_RECORD = "2026-03-23_LeakyReLU_LegalTTT_ParallelMuon"


def record_wm_xz(shared: pathlib.Path) -> None:
    """F3: mixed_quantize_int6 of the unbanked state dict + torch.save({'w','m'}) + lzma preset 6 (.xz)."""
    ns = load_record_functions(shared, f"{RECORDS}/{F3_RECORD}")
    g = torch.Generator().manual_seed(2023)
    template = {
        "tok_emb.weight": spiky(g, 272, 256, dtype=torch.bfloat16),    # embed -> int8 rows, bf16
        "blocks.0.attn.c_q.weight": spiky(g, 272, 256),                 # attn -> int6 rows, fp32
        "blocks.0.mlp_scale": spiky(g, 256),                            # small -> passthrough
    }
    w, m = ns["mixed_quantize_int6"](template, {"mlp", "attn"})
    blob = lzma.compress(torch_save_bytes({"w": w, "m": m}), preset=6)  # as the record's serialization
    state = torch.load(io.BytesIO(lzma.decompress(blob)), map_location="cpu")
    dequantized = ns["dequantize_mixed_int6"](state["w"], state["m"], template)
    wm_golden(FIXTURES / "artifacts" / "record-wm-xz", blob, "model.int6.ptz", m, dequantized, f"{RECORDS}/{F3_RECORD}",
              "mixed_quantize_int6(sd, {'mlp','attn'}) + torch.save({'w','m'}) + lzma.compress(preset=6); dequantize_mixed_int6")


def record_wm_bshf_brotli(shared: pathlib.Path) -> None:
    """F4: gptq_mixed_quantize (gate quantization on) + torch.save({'w','m'}) + _compress(brotli) (BSHF + brotli-11)."""
    ns = load_record_functions(shared, f"{RECORDS}/{F4_RECORD}")
    defaults = ns["Hyperparameters"]
    h = types.SimpleNamespace(**{k: getattr(defaults, k) for k in (
        "embed_clip_sigmas", "mlp_clip_sigmas", "attn_clip_sigmas", "matrix_clip_sigmas", "embed_bits", "matrix_bits")})
    h.gated_attn_quant_gate = True  # the record's GATED_ATTN_QUANT_GATE=1 run: attn_gate_w as int8 rows
    g = torch.Generator().manual_seed(2026)
    template = {
        "tok_emb.weight": spiky(g, 272, 256, dtype=torch.bfloat16),   # GPTQ int8 rows, bf16 model dtype
        "blocks.0.mlp.fc.weight": spiky(g, 288, 256),                  # GPTQ int6 rows, fp32
        "blocks.0.attn_scale": spiky(g, 256),                          # passthrough (float16), fp32 model dtype
        "skip_gates": spiky(g, 4, 64, dtype=torch.bfloat16),           # passthrough (float16), bf16 model dtype
        "blocks.0.attn.attn_gate_w": spiky(g, 8, 512),                 # gate_int8_row (.gq/.gs), fp32
    }
    hessians = {}
    for name, t in template.items():
        if t.numel() > 65_536:
            x = torch.randn(512, t.shape[1], generator=g)
            hessians[name] = x.T @ x / 512
    w, m = ns["gptq_mixed_quantize"](template, hessians, h)
    raw = torch_save_bytes({"w": w, "m": m})
    blob = ns["_compress"](raw, "brotli")
    state = torch.load(io.BytesIO(ns["_decompress"](blob, "brotli")), map_location="cpu")
    dequantized = ns["dequantize_mixed"](state["w"], state["m"], template)
    wm_golden(FIXTURES / "artifacts" / "record-wm-bshf-brotli", blob, "model.int6.ptz", m, dequantized, f"{RECORDS}/{F4_RECORD}",
              "gptq_mixed_quantize(sd, hessians, h defaults + gated_attn_quant_gate) + torch.save({'w','m'}) + _compress(raw, 'brotli'); dequantize_mixed")


TAGGED_RECORD = "corpus/parameter-golf/records/track_non_record_16mb/2026-03-21_DepthRecurrence_MixedPrecisionQuant"


def record_mixed_int6_tagged(shared: pathlib.Path) -> None:
    """F8: quantize_state_dict_int6 (mixed_int8_int6_v1) + torch.save + compress_bytes (4-byte ZSTD tag + zstd-22)."""
    ns = load_record_functions(shared, TAGGED_RECORD)
    g = torch.Generator().manual_seed(321)
    state = {
        "tok_emb.weight": spiky(g, 272, 256, dtype=torch.bfloat16),    # not a block: int6 rows, bf16
        "blocks.0.mlp.fc.weight": spiky(g, 288, 256),                   # shared block: int8 rows, fp32
        "blocks.0.attn_scale": spiky(g, 256),                           # small control tensor
        "final_norm.weight": spiky(g, 64, dtype=torch.bfloat16),        # small bf16 -> fp16 passthrough
    }
    quant_obj, *_ = ns["quantize_state_dict_int6"](state)
    blob = ns["compress_bytes"](torch_save_bytes(quant_obj))
    assert blob[:4] == b"ZSTD"
    restored = torch.load(io.BytesIO(ns["decompress_bytes"](blob)), map_location="cpu")
    dequantized = ns["dequantize_state_dict_int6"](restored)
    folder = FIXTURES / "artifacts" / "record-mixed-int6-tagged"
    wm_golden(folder, blob, "model.int6.ptz", {}, dequantized, TAGGED_RECORD,
              "quantize_state_dict_int6 + torch.save + compress_bytes (ZSTD tag); dequantize_state_dict_int6")


TERNARY_RECORD = f"{RECORDS}/2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon"


def record_packed_ternary(shared: pathlib.Path) -> None:
    """F6: q_sd (base-3 + fp8, and bitmask + fp4) + torch.save + lzma preset 9, dequantized by deq_sd."""
    ns = load_record_functions(shared, TERNARY_RECORD, "train_gpt_cuda_ternary.py")
    g = torch.Generator().manual_seed(324)
    state = {
        "blocks.0.mlp.fc.weight": torch.randn(288, 250, generator=g) * 0.02,      # ternary, 250 cols padded to 256
        "blocks.0.attn.qkv.weight": torch.randn(3, 100, 256, generator=g) * 0.02,  # 3-D: ternary of (3, 25600)
        "tok_emb.weight": torch.randn(256, 64, generator=g) * 0.02,                # never ternary: fp8 or fp4
        "blocks.0.attn_scale": torch.randn(64, generator=g),                       # 1-D: fp16
    }
    for method, fp_storage, folder in (("standard", True, "record-packed-ternary-fp8"), ("bitmask", "fp4", "record-packed-bitmask-fp4")):
        q_obj, _ = ns["q_sd"](state, group_size=64, fp_storage=fp_storage, ternary_method=method)
        blob = lzma.compress(torch_save_bytes(q_obj), preset=9)  # as the record writes final_model.ternary.ptz
        loaded = torch.load(io.BytesIO(lzma.decompress(blob)), map_location="cpu", weights_only=False)
        wm_golden(FIXTURES / "artifacts" / folder, blob, "model.ternary.ptz", {}, ns["deq_sd"](loaded), TERNARY_RECORD,
                  f"q_sd(sd, group_size=64, fp_storage={fp_storage!r}, ternary_method={method!r}) + torch.save + lzma preset 9; deq_sd")


BINARY_RECORD = "corpus/parameter-golf/records/track_non_record_16mb/2026-03-24_106M_Binary_Asymmetric_UNet_FP8_15L_8192BPE_YaRN_NeoMuon_Smear"


def record_packed_binary(shared: pathlib.Path) -> None:
    """F6 binary: the binary non-record's q_sd (binary + fp8) + torch.save + lzma preset 9, dequantized by its deq_sd."""
    ns = load_record_functions(shared, BINARY_RECORD, "train_gpt_cuda_binary.py")
    g = torch.Generator().manual_seed(106)
    state = {
        "blocks.0.mlp.fc.weight": torch.randn(288, 250, generator=g) * 0.02,  # binary, padded to 256 cols
        "tok_emb.weight": torch.randn(256, 64, generator=g) * 0.02,            # fp8
        "blocks.0.attn_scale": torch.randn(64, generator=g),                   # fp16
    }
    q_obj, _ = ns["q_sd"](state, group_size=64, fp_storage=True)
    blob = lzma.compress(torch_save_bytes(q_obj), preset=9)
    loaded = torch.load(io.BytesIO(lzma.decompress(blob)), map_location="cpu", weights_only=False)
    wm_golden(FIXTURES / "artifacts" / "record-packed-binary-fp8", blob, "model.binary.ptz", {}, ns["deq_sd"](loaded),
              BINARY_RECORD, "q_sd(sd, group_size=64, fp_storage=True) + torch.save + lzma preset 9; deq_sd")


LQER_RECORD = "2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT"


def record_wm_lqer(shared: pathlib.Path) -> None:
    """F4 + LQER: gptq_mixed_quantize with LQER (asym and sym) and gate rows + _compress(brotli); dequantize_mixed."""
    ns = load_record_functions(shared, f"{RECORDS}/{LQER_RECORD}")
    defaults = ns["Hyperparameters"]
    h = types.SimpleNamespace(**{k: getattr(defaults, k) for k in (
        "embed_clip_sigmas", "mlp_clip_sigmas", "attn_clip_sigmas", "matrix_clip_sigmas", "embed_bits", "matrix_bits",
        "lqer_enabled", "lqer_rank", "lqer_top_k", "lqer_factor_bits", "lqer_asym_enabled", "lqer_asym_group")})
    h.gated_attn_quant_gate = True
    assert h.lqer_enabled and h.lqer_asym_enabled and h.lqer_top_k >= 3
    g = torch.Generator().manual_seed(1855)
    template = {
        "tok_emb.weight": spiky(g, 272, 256, dtype=torch.bfloat16),   # GPTQ int7/8 rows + LQER asym, bf16
        "blocks.0.mlp.fc.weight": spiky(g, 288, 256),                  # GPTQ int6 + LQER asym (4*256 % 64 == 0)
        "blocks.0.attn.c_q.weight": spiky(g, 270, 250),                # GPTQ int6 + symmetric LQER (4*250 % 64 != 0)
        "blocks.0.attn.attn_gate_w": spiky(g, 8, 12),                  # sparse gate: gate_int8_row
        "blocks.0.attn_scale": spiky(g, 256),                          # passthrough (float16)
    }
    hessians = {}
    for name, t in template.items():
        if t.numel() > 65_536:
            x = torch.randn(512, t.shape[1], generator=g)
            hessians[name] = x.T @ x / 512
    w, m = ns["gptq_mixed_quantize"](template, hessians, h)
    assert any(v.endswith("+lqer_asym") for v in m.values()) and any(v.endswith("+lqer") for v in m.values()), m
    blob = ns["_compress"](torch_save_bytes({"w": w, "m": m}), "brotli")
    state = torch.load(io.BytesIO(ns["_decompress"](blob, "brotli")), map_location="cpu")
    dequantized = ns["dequantize_mixed"](state["w"], state["m"], template)
    wm_golden(FIXTURES / "artifacts" / "record-wm-lqer", blob, "model.int6.ptz", m, dequantized, f"{RECORDS}/{LQER_RECORD}",
              "gptq_mixed_quantize(sd, hessians, h defaults incl. LQER + gated_attn_quant_gate) + torch.save({'w','m'}) + _compress(raw, 'brotli'); dequantize_mixed (CPU)")


XNOR_RECORD = "corpus/parameter-golf/records/track_non_record_16mb/2026-04-05_118M_XNOR-Net_FP8_1024D_10L"


def record_xnor(shared: pathlib.Path) -> None:
    """F7: the XNOR-Net non-record's q_sd (binary, bf16 or fp8 group scales; fp8; bf16) + torch.save, behind
    the method byte its main() writes (1 brotli-11, 2 zstd-22); dequantized by its deq_sd."""
    ns = load_record_functions(shared, XNOR_RECORD, "train_gpt_cuda_xnor.py")
    g = torch.Generator().manual_seed(405)
    state = {
        "blocks.0.mlp.fc.weight": torch.randn(288, 250, generator=g) * 0.02,  # binary, groups of 128, padded
        "tok_emb.weight": torch.randn(256, 64, generator=g) * 0.02,            # fp8
        "blocks.0.attn_scale": torch.randn(64, generator=g),                   # bf16
    }
    for scale_fp8, method, folder in ((False, 1, "record-xnor-brotli"), (True, 2, "record-xnor-zstd")):
        q_obj, _ = ns["q_sd"](state, group_size=128, fp_storage=True, scale_fp8=scale_fp8)
        raw = torch_save_bytes(q_obj)
        body = brotli.compress(raw, quality=11) if method == 1 else zstandard.ZstdCompressor(level=22).compress(raw)
        blob = bytes([method]) + body
        loaded = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=False)
        wm_golden(FIXTURES / "artifacts" / folder, blob, "model.xnor.ptz", {}, ns["deq_sd"](loaded), XNOR_RECORD,
                  f"q_sd(sd, group_size=128, fp_storage=True, scale_fp8={scale_fp8}) + torch.save + method byte {method}; deq_sd")


PGRP_RECORD = "2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611"


def record_pergroup(shared: pathlib.Path) -> None:
    """F5: gptq_mixed_quantize (LQER, gates) + _serialize_pergroup (PGRP: lrzip groups + brotli remainder);
    read back by _deserialize_pergroup and dequantized by dequantize_mixed. Needs the lrzip program."""
    import tempfile
    ns = load_record_functions(shared, f"{RECORDS}/{PGRP_RECORD}")
    defaults = ns["Hyperparameters"]
    h = types.SimpleNamespace(**{k: getattr(defaults, k) for k in (
        "embed_clip_sigmas", "mlp_clip_sigmas", "attn_clip_sigmas", "matrix_clip_sigmas", "embed_bits", "matrix_bits",
        "lqer_enabled", "lqer_rank", "lqer_top_k", "lqer_factor_bits", "lqer_asym_enabled", "lqer_asym_group")})
    h.gated_attn_quant_gate = True
    g = torch.Generator().manual_seed(1855)
    template = {
        "tok_emb.weight": spiky(g, 257, 256, dtype=torch.bfloat16),    # group _tok_emb (row-sorted)
        "blocks.0.attn.c_q.weight": spiky(g, 257, 256),                 # group attn.c_q (row-sorted)
        "blocks.1.attn.c_q.weight": spiky(g, 257, 256),                 # second layer of the same group
        "blocks.0.mlp.proj.weight": spiky(g, 256, 264),                 # group mlp.proj (not sorted)
        "blocks.0.attn.attn_gate_w": spiky(g, 8, 12),                   # gate rows: int8, stays in the remainder
        "blocks.0.attn_scale": spiky(g, 256),                           # passthrough
    }
    hessians = {}
    for name, t in template.items():
        if t.numel() > 65_536:
            x = torch.randn(512, t.shape[1], generator=g)
            hessians[name] = x.T @ x / 512
    w, m = ns["gptq_mixed_quantize"](template, hessians, h)
    with tempfile.TemporaryDirectory() as tmp:
        blob = ns["_serialize_pergroup"](w, m, 2, tmp)
        assert blob[:4] == b"PGRP"
        result, meta = ns["_deserialize_pergroup"](blob, 2, tmp)
    dequantized = ns["dequantize_mixed"](result, meta, template)
    wm_golden(FIXTURES / "artifacts" / "record-pergroup-lrzip", blob, "model.int6.ptz", m, dequantized, f"{RECORDS}/{PGRP_RECORD}",
              "gptq_mixed_quantize(sd, hessians, h defaults incl. LQER + gates) + _serialize_pergroup (num_layers 2); _deserialize_pergroup + dequantize_mixed (CPU)")


JEPA_RECORD = "corpus/parameter-golf/records/track_non_record_16mb/2026-03-26_37M_LeWM_Jepa_Mamba2_10L_UNet_INT4FP8QAT_Brotli"


def record_jepa_intn(shared: pathlib.Path) -> None:
    """F8: the JEPA/Mamba2 non-record's save_model_quantized (int6 bit-packed rows, fp8, bf16; best of
    lzma/zstd/brotli) on a tiny module, read back by its load_model_quantized into the same module."""
    import tempfile
    ns = load_record_functions(shared, JEPA_RECORD, "train_jepa_ssm.py")
    g = torch.Generator().manual_seed(326)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mixer = torch.nn.Linear(250, 96, bias=False)     # int6 rows (>= 4096 elements)
            self.token_embed = torch.nn.Embedding(128, 64)         # never int: fp8
            self.norm_scale = torch.nn.Parameter(torch.randn(64, generator=g))  # 1-D: bf16
            with torch.no_grad():
                self.mixer.weight.copy_(torch.randn(96, 250, generator=g) * 0.02)
                self.token_embed.weight.copy_(torch.randn(128, 64, generator=g) * 0.02)

    model = Tiny()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(pathlib.Path(tmp) / "final_model")
        method, *_ = ns["save_model_quantized"](model, "code", prefix, bits=6, fp_storage="fp8")
        path = f"{prefix}.{method}.ptz"
        blob = pathlib.Path(path).read_bytes()
        restored = ns["load_model_quantized"](path, Tiny(), torch.device("cpu"))
    dequantized = {k: v.detach() for k, v in restored.state_dict().items()}
    wm_golden(FIXTURES / "artifacts" / "record-jepa-int6", blob, f"final_model.{method}.ptz", {}, dequantized, JEPA_RECORD,
              f"save_model_quantized(tiny module, bits=6, fp_storage='fp8') -> best method {method}; load_model_quantized into the same module")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=pathlib.Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    torch.manual_seed(0)
    baseline = load_baseline(args.shared)
    real_artifact_goldens(baseline, args.shared)
    synthetic_artifact(baseline)
    wrapped_artifacts()
    hostile_fixtures()
    record_wm_zstd(args.shared)
    record_wm_xz(args.shared)
    record_wm_bshf_brotli(args.shared)
    record_wm_lqer(args.shared)
    record_mixed_int6_tagged(args.shared)
    record_packed_ternary(args.shared)
    record_packed_binary(args.shared)
    record_xnor(args.shared)
    record_pergroup(args.shared)
    record_jepa_intn(args.shared)


if __name__ == "__main__":
    sys.exit(main())
