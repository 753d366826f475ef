import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The challenge's token shard format (`fineweb_val_*.bin`, written by its data export): a header of
/// 256 little-endian int32 — magic 20240520, version 1, token count — then the tokens as little-endian
/// uint16. The file's size must be exactly `1024 + 2 * count` bytes.
public enum ValidationShard {
    /// Header magic (first int32).
    public static let magic: Int32 = 20_240_520
    /// Header version (second int32).
    public static let version: Int32 = 1
    /// Bytes of the header: 256 int32.
    public static let headerBytes = 256 * 4

    /// Reads one shard's tokens, validating its header and size.
    public static func read(_ url: URL) throws(ValidationShardError) -> [UInt16] {
        let file = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw .unreadable(file: file, reason: error.localizedDescription)
        }
        // `Data.withUnsafeBytes` only rethrows untyped errors, so carry the typed one out in a Result.
        let result = data.withUnsafeBytes { raw in
            Result { () throws(ValidationShardError) -> [UInt16] in try decode(raw, file: file) }
        }
        return try result.get()
    }

    /// Decodes a whole shard held in memory; `file` names it in errors.
    public static func decode(_ raw: UnsafeRawBufferPointer, file: String) throws(ValidationShardError) -> [UInt16] {
        guard raw.count >= headerBytes else {
            throw .truncatedHeader(InputLocation(file: file, offset: raw.count), size: raw.count)
        }
        func headerInt(_ index: Int) -> Int32 {
            Int32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: Int32.self))
        }
        let foundMagic = headerInt(0)
        guard foundMagic == magic else { throw .badMagic(InputLocation(file: file, offset: 0), found: foundMagic) }
        let foundVersion = headerInt(1)
        guard foundVersion == version else {
            throw .badVersion(InputLocation(file: file, offset: 4), found: foundVersion)
        }
        let count = Int(headerInt(2))
        guard count >= 0 else { throw .negativeTokenCount(InputLocation(file: file, offset: 8), count: count) }
        let expectedSize = headerBytes + 2 * count
        guard raw.count == expectedSize else {
            throw .sizeMismatch(InputLocation(file: file, offset: 8), tokenCount: count,
                                expectedBytes: expectedSize, actualBytes: raw.count)
        }
        var tokens = [UInt16](repeating: 0, count: count)
        tokens.withUnsafeMutableBytes { destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[headerBytes..<expectedSize]))
        }
        #if _endian(big)
        for index in tokens.indices { tokens[index] = UInt16(littleEndian: tokens[index]) }
        #endif
        return tokens
    }

    /// The shard files matching a glob `pattern` (e.g. `/data/fineweb_val_*.bin`), sorted by path as
    /// the challenge's `sorted(glob.glob(pattern))` sorts them (by code point).
    public static func files(matching pattern: String) throws(ValidationShardError) -> [URL] {
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = glob(pattern, 0, nil, &matches)
        if status == GLOB_NOMATCH { throw .noMatch(pattern: pattern) }
        guard status == 0 else { throw .globFailed(pattern: pattern, code: Int(status)) }
        var paths: [String] = []
        for index in 0..<Int(matches.gl_pathc) {
            if let cString = matches.gl_pathv[index] { paths.append(String(cString: cString)) }
        }
        guard !paths.isEmpty else { throw .noMatch(pattern: pattern) }
        // UTF-8 byte order equals code-point order, which is how Python sorts strings.
        paths.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return paths.map { URL(fileURLWithPath: $0) }
    }

    /// Reads every shard matching `pattern`, concatenated in name order. CaseOps byte sidecars
    /// (`fineweb_val_bytes_*.bin`) that a token glob such as `fineweb_val_*.bin` also matches are
    /// left out, as the records' `load_validation_tokens` leaves them out; a pattern that names
    /// `_bytes_` itself reads them.
    public static func readAll(pattern: String) throws(ValidationShardError) -> [UInt16] {
        var urls = try files(matching: pattern)
        if !URL(fileURLWithPath: pattern).lastPathComponent.contains("_bytes_") {
            urls.removeAll { $0.lastPathComponent.contains("_bytes_") }
            if urls.isEmpty { throw .noMatch(pattern: pattern + " (only CaseOps byte sidecars match)") }
        }
        var tokens: [UInt16] = []
        for url in urls {
            tokens.append(contentsOf: try read(url))
        }
        return tokens
    }
}
