import CChecksum
import CZlib

/// The CRC-32 of ZIP entries: carry-less-multiplication folding where the CPU has it (x86-64 with
/// PCLMULQDQ, several times zlib's speed on multi-megabyte storages), zlib's `crc32` elsewhere.
enum CRC32 {
    static let folds = pgv_crc32_fold_available() != 0

    /// The CRC-32 of `bytes`, continuing from `crc` (0 to start).
    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        if folds { return pgv_crc32_fold(crc, base, bytes.count) }
        // zlib takes 32-bit lengths: feed it in pieces.
        var crc = UInt(crc), offset = 0
        while offset < bytes.count {
            let piece = min(bytes.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, base + offset, UInt32(piece))
            offset += piece
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}
