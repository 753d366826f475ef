"""Writes fixtures/artifacts/compressible/: 300,000 bytes of a repeating pattern under every outer
compression, each stream far smaller than 1/8 of its output, so the readers' output buffer has to grow
past its first guess (and zstd is written both with and without the frame's content size).

Run by hand: /work/venv/bin/python tools/compressible_streams.py
"""
import lzma
import os
import zlib

import brotli
import zstandard

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "artifacts", "compressible")
PAYLOAD = bytes(range(200)) * 1500  # 300,000 bytes


def main():
    os.makedirs(OUT, exist_ok=True)
    streams = {
        "zlib": zlib.compress(PAYLOAD, 9),
        "zstd": zstandard.ZstdCompressor(level=19).compress(PAYLOAD),
        "zstd-unsized": zstandard.ZstdCompressor(level=19, write_content_size=False).compress(PAYLOAD),
        "xz": lzma.compress(PAYLOAD, preset=6),
        "lzma-alone": lzma.compress(PAYLOAD, format=lzma.FORMAT_ALONE),
        "brotli": brotli.compress(PAYLOAD, quality=9),
    }
    for name, data in streams.items():
        with open(os.path.join(OUT, f"pattern.{name}"), "wb") as f:
            f.write(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
