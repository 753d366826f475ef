import CChecksum
import Foundation
import Reference

/// SHA-256 digests as lowercase hex, of bytes or of a file read in pieces (never whole in memory).
public enum SHA256 {
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var context = pgv_sha256_context()
        pgv_sha256_init(&context)
        if let base = bytes.baseAddress {
            pgv_sha256_update(&context, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        return finish(&context)
    }

    public static func hex(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { hex($0) } }

    /// The digest of values as they lie in memory (little-endian on every platform pgverify runs on).
    public static func hex<T: FixedWidthInteger>(littleEndian values: [T]) -> String {
        values.withUnsafeBytes { hex($0) }
    }

    /// The digest of a file's contents; unreadable files are an ``ArtifactError/unreadable(_:detail:)``.
    public static func hex(file: URL) throws(ArtifactError) -> String {
        let (descriptor, _) = try FileBytes.openRegular(file.path)
        defer { close(descriptor) }
        var context = pgv_sha256_context()
        pgv_sha256_init(&context)
        let chunk = 1 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        while true {
            let got = systemRead(descriptor, buffer, chunk)
            if got < 0 {
                if errno == EINTR { continue }
                throw .unreadable(InputLocation(file: file.path), detail: FileBytes.systemError())
            }
            if got == 0 { break }
            pgv_sha256_update(&context, buffer, got)
        }
        return finish(&context)
    }

    private static func finish(_ context: inout pgv_sha256_context) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        pgv_sha256_final(&context, &digest)
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
