import Reference

/// The outer compressor of an artifact, detected from its leading bytes.
public enum Compression: String, Sendable, CaseIterable, Codable {
    /// A zlib stream (`78 01/5E/9C/DA`), as `zlib.compress` writes.
    case zlib
    /// A zstd frame (`28 B5 2F FD`).
    case zstd
    /// An .xz container (`FD 37 7A 58 5A 00`), as Python's `lzma.compress` writes by default.
    case xz
    /// A legacy LZMA "alone" stream (`lzma.FORMAT_ALONE`): properties byte, dictionary size, length.
    case lzmaAlone = "lzma-alone"
    /// Brotli: it has no magic number, so it is tried last, when nothing else matches.
    case brotli
    /// No outer compression: the bytes already are a ZIP archive or a `BSHF` block.
    case none
    /// A method byte 0 then an .xz stream (2026-04-05 XNOR-Net non-record: 0 lzma, 1 brotli, 2 zstd).
    case methodByteXz = "method-byte xz"
    /// A method byte 1 then a brotli stream; found when brotli fails on the whole file.
    case methodByteBrotli = "method-byte brotli"
    /// A method byte 2 then a zstd frame.
    case methodByteZstd = "method-byte zstd"
    /// The `PGRP` per-group container (lrzip streams + brotli); see ``PerGroupContainer``.
    case perGroup = "PGRP lrzip groups + brotli"
    /// A 4-byte `ZSTD` tag, then a zstd frame (2026-03-21 DepthRecurrence's `compress_bytes`).
    case taggedZstd = "ZSTD-tagged zstd"
    /// A 4-byte `ZLIB` tag, then a zlib stream (the same record without the zstandard package).
    case taggedZlib = "ZLIB-tagged zlib"

    /// Detects the compression from the leading bytes. Brotli is the answer by elimination.
    public static func detect(_ bytes: [UInt8]) -> Compression {
        let reader = ByteReading(bytes: bytes, file: "")
        if reader.matches(0, [0x50, 0x4B, 0x03, 0x04]) || reader.matches(0, Array("BSHF".utf8)) { return .none }
        if reader.matches(0, [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        if reader.matches(0, Array("PGRP".utf8)) { return .perGroup }
        if reader.matches(0, Array("ZSTD".utf8)) { return .taggedZstd }
        if reader.matches(0, [0x00, 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .methodByteXz }
        if reader.matches(0, [0x02, 0x28, 0xB5, 0x2F, 0xFD]) { return .methodByteZstd }
        if reader.matches(0, Array("ZLIB".utf8)) { return .taggedZlib }
        if reader.matches(0, [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if bytes.count >= 2, bytes[0] & 0x0F == 8, bytes[0] >> 4 <= 7,
           (UInt16(bytes[0]) << 8 | UInt16(bytes[1])) % 31 == 0 {
            return .zlib
        }
        if looksLikeLZMAAlone(bytes) { return .lzmaAlone }
        return .brotli
    }

    /// An LZMA-alone header: properties byte below 9·5·5, a dictionary size of 2^n or 2^n + 2^(n-1),
    /// and an uncompressed length that is either unknown (all ones) or plausible (below 2^40).
    private static func looksLikeLZMAAlone(_ bytes: [UInt8]) -> Bool {
        let reader = ByteReading(bytes: bytes, file: "")
        guard bytes.count >= 13, bytes[0] < 225,
              let dictionary = try? reader.uint32(1, "dictionary size"),
              let length = try? reader.uint64(5, "length") else { return false }
        let isPowerOfTwo = dictionary != 0 && dictionary & (dictionary - 1) == 0
        let third = dictionary / 3
        let isThreeTimesPowerOfTwo = dictionary % 3 == 0 && third != 0 && third & (third - 1) == 0
        guard dictionary >= 4096, isPowerOfTwo || isThreeTimesPowerOfTwo else { return false }
        return length == UInt64.max || length < (1 << 40)
    }
}
