"""Writes full-size artifacts for Benchmarks/artifact.sh (run by hand with a torch venv; never in CI).

A baseline-shaped model (9 layers, dim 512, vocab 1024, the baseline's default Hyperparameters) with
random weights, exported by the challenge's own `quantize_state_dict_int8` + `torch.save`, then the
same torch.save bytes under each outer compression the records use, and once more as the modern
records store it: a `BSHF` header (stride 2, one-byte form) and the bytes split into two lanes
(even bytes, then odd bytes), under brotli. The weights are scaled so the files come out near
the 16 MB cap, as real submissions do (see WEIGHT_STD).

usage: python Benchmarks/make_full_size_artifacts.py OUTPUT_DIR
"""
import importlib.util
import io
import lzma
import os
import sys
import zlib

import brotli
import numpy
import torch
import zstandard

# Random weights as compressible as trained ones: at the init scale 0.02 the int8 export's per-row
# scale floor (1/127) leaves ~3.4 bits per value and the zlib file is 8.5 MB, half the naive
# baseline record's 15.86 MB; at 1.0 the values carry ~7.35 bits and the files are about that size.
WEIGHT_STD = 1.0

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BASELINE = os.path.join(ROOT, "..", "shared", "corpus", "parameter-golf", "train_gpt.py")


def main(out_dir):
    spec = importlib.util.spec_from_file_location("baseline", BASELINE)
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    torch.manual_seed(1)
    h = baseline.Hyperparameters()
    model = baseline.GPT(vocab_size=h.vocab_size, num_layers=h.num_layers, model_dim=h.model_dim,
                         num_heads=h.num_heads, num_kv_heads=h.num_kv_heads, mlp_mult=h.mlp_mult,
                         tie_embeddings=h.tie_embeddings, tied_embed_init_std=h.tied_embed_init_std,
                         logit_softcap=h.logit_softcap, rope_base=h.rope_base, qk_gain_init=h.qk_gain_init)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, WEIGHT_STD)
    quantized, _ = baseline.quantize_state_dict_int8(model.state_dict())
    buffer = io.BytesIO()
    torch.save(quantized, buffer)
    raw = buffer.getvalue()
    lanes = numpy.frombuffer(raw, dtype=numpy.uint8)
    shuffled = b"BSHF" + bytes([2]) + lanes[0::2].tobytes() + lanes[1::2].tobytes()
    os.makedirs(out_dir, exist_ok=True)
    outputs = {
        "zlib": zlib.compress(raw, 9),
        "zstd": zstandard.ZstdCompressor(level=22).compress(raw),
        "xz": lzma.compress(raw, preset=6),
        # Quality 9 rather than the records' 11: decompression speed hardly depends on it, and q11
        # on 17 MB takes minutes.
        "brotli": brotli.compress(raw, quality=9),
        "brotli-bshf": brotli.compress(shuffled, quality=9),
    }
    for name, data in outputs.items():
        with open(os.path.join(out_dir, f"final_model.{name}.ptz"), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes (torch.save {len(raw)} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
