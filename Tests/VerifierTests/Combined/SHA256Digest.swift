import Foundation
import Verifier

/// The digests the combined goldens record (`hashlib.sha256`), computed with pgverify's ``SHA256``.
enum SHA256Digest {
    static func hex(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }

    /// The digest of float32 values as little-endian bytes (`numpy.astype('<f4').tobytes()`).
    static func hex(float32 values: [Float]) -> String {
        SHA256.hex(littleEndian: values.map(\.bitPattern))
    }
}
