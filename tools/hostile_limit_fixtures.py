#!/usr/bin/env python3
"""Writes the hostile fixtures for pgverify's input limits (fixtures/hostile/), with the standard library only.

Deeply nested pickles (the reader must refuse them before anything recursive walks or releases the
tree) and ZIP archives whose central directory lies, derived from the committed torch.save archive
fixtures/artifacts/wrappers/model.none.pt. Run from the repository root: python3 tools/hostile_limit_fixtures.py
"""
import io
import pathlib
import struct
import zipfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDER = ROOT / "fixtures" / "hostile"
LEVELS = 30_000  # far past the reader's limit; as a plain recursive release, this overflows an 8 MiB stack


def torch_like_zip(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def write(name: str, data: bytes) -> None:
    (FOLDER / name).write_bytes(data)
    print("wrote", (FOLDER / name).relative_to(ROOT), len(data), "bytes")


def nested_pickles() -> None:
    # PROTO 2; then tuples: EMPTY_TUPLE and TUPLE1 per level; lists: MARK per level, EMPTY_LIST, LIST per
    # level; dicts: MARK, key 1 per level, EMPTY_DICT, DICT per level. Each ends in STOP.
    programs = {
        "deep_tuple.ptz": b"\x80\x02)" + b"\x85" * LEVELS + b".",
        "deep_list.ptz": b"\x80\x02" + b"(" * LEVELS + b"]" + b"l" * LEVELS + b".",
        "deep_dict.ptz": b"\x80\x02" + b"(K\x01" * LEVELS + b"}" + b"d" * LEVELS + b".",
    }
    for name, program in programs.items():
        write(name, zlib.compress(torch_like_zip({"archive/data.pkl": program, "archive/byteorder": b"little"}), 9))


def end_record(archive: bytes) -> int:
    return archive.rindex(b"PK\x05\x06")


def lying_zips() -> None:
    valid = (ROOT / "fixtures/artifacts/wrappers/model.none.pt").read_bytes()
    with zipfile.ZipFile(io.BytesIO(valid)) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]

    # A second archive/data/0 after the real one, with other values: Python's zipfile (and so torch.load)
    # reads the last entry of a name, a first-match reader the first.
    storage_name = next(name for name, _ in entries if name.endswith("/data/0"))
    storage = dict(entries)[storage_name]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries + [(storage_name, bytes(len(storage)))]:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    write("zip_duplicate_entry.pt", buffer.getvalue())

    # Without ZIP64 records (Python's zipfile writes none for small archives): the end record counts one
    # entry fewer than the central directory holds (both count fields); then a directory size 46 bytes short.
    plain = torch_like_zip(dict(entries))
    end = end_record(plain)
    fewer = bytearray(plain)
    count = struct.unpack_from("<H", fewer, end + 10)[0]
    struct.pack_into("<HH", fewer, end + 8, count - 1, count - 1)
    write("zip_eocd_wrong_count.pt", bytes(fewer))
    shorter = bytearray(plain)
    size = struct.unpack_from("<I", shorter, end + 12)[0]
    struct.pack_into("<I", shorter, end + 12, size - 46)
    write("zip_eocd_wrong_size.pt", bytes(shorter))

    # torch.save's own archive (with ZIP64 records): the 32-bit directory offset moved 46 bytes on, so
    # it disagrees with the ZIP64 record.
    moved = bytearray(valid)
    end = end_record(valid)
    offset = struct.unpack_from("<I", moved, end + 16)[0]
    struct.pack_into("<I", moved, end + 16, offset + 46)
    write("zip_eocd_wrong_offset.pt", bytes(moved))


if __name__ == "__main__":
    FOLDER.mkdir(parents=True, exist_ok=True)
    nested_pickles()
    lying_zips()
