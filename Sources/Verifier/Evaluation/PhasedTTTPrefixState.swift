import Foundation
import Reference

/// The state a sharded phased TTT evaluation carries from its prefix to its suffix parts: the base
/// weights after the last global phase (the only state that crosses: every suffix batch builds
/// fresh adapters and optimizers), with the identity of the evaluation that computed them.
///
/// File layout: the 8 bytes `PGVPFX01`, the header's length (UInt64, little-endian), the header
/// (JSON, ``Header``), then `parameterCount` float32 values, little-endian, in the model's
/// `baseParameters` order. Parts name the file by the SHA-256 of all its bytes.
public struct PhasedTTTPrefixState: Sendable, Equatable {
    public static let magic: [UInt8] = Array("PGVPFX01".utf8)
    public static let formatName = "pgverify-phased-ttt-prefix-state"
    public static let currentVersion = 1
    static let maximumHeaderBytes = 1 << 20

    public struct Header: Codable, Sendable, Equatable {
        public var format = PhasedTTTPrefixState.formatName
        public var version = PhasedTTTPrefixState.currentVersion
        /// The prefix run's identity (its `prefixState` nil): a suffix part must have the same.
        public var identity: PartialEvaluation.Identity
        /// The prefix is batches `0 ..< prefixBatches` of `totalBatches` in claim order.
        public var prefixBatches: Int
        public var totalBatches: Int
        public var parameterCount: Int
        /// SHA-256 of the parameter bytes.
        public var parameterDigest: String
    }

    public var header: Header
    public var parameters: [Float]

    public init(identity: PartialEvaluation.Identity, prefixBatches: Int, totalBatches: Int, parameters: [Float]) {
        self.parameters = parameters
        header = Header(identity: identity, prefixBatches: prefixBatches, totalBatches: totalBatches,
                        parameterCount: parameters.count, parameterDigest: SHA256.hex(littleEndian: parameters.map(\.bitPattern)))
    }

    /// The file's bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = [UInt8](try encoder.encode(header))
        var bytes = Self.magic
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
        bytes += json
        parameters.map { $0.bitPattern.littleEndian }.withUnsafeBytes { bytes += $0 }
        return bytes
    }

    /// Writes the file; returns its SHA-256 (what the parts record).
    @discardableResult
    public func write(to url: URL) throws -> String {
        let bytes = try encoded()
        try Data(bytes).write(to: url, options: .atomic)
        return SHA256.hex(bytes)
    }

    /// Reads a state file for a model of `parameterCount` base parameters; returns it and the file's
    /// SHA-256. Anything else than such a file is a ``PhasedTTTPrefixStateError`` naming the offset.
    public static func read(_ url: URL, parameterCount: Int) throws(PhasedTTTPrefixStateError) -> (state: PhasedTTTPrefixState, sha256: String) {
        let file = url.path
        let limit = magic.count + 8 + maximumHeaderBytes + 4 * parameterCount
        let bytes: [UInt8]
        do { bytes = try FileBytes.read(file, upTo: limit + 1) } catch {
            if case .unreadable(_, let detail) = error { throw .unreadable(file: file, detail: detail) }
            throw .unreadable(file: file, detail: error.description)
        }
        guard bytes.count >= magic.count + 8, Array(bytes[0..<magic.count]) == magic else {
            throw .malformed(file: file, offset: 0, detail: "not a \(formatName) file (no PGVPFX01 magic)")
        }
        let headerLength = bytes[magic.count..<(magic.count + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let headerStart = magic.count + 8
        guard headerLength <= UInt64(maximumHeaderBytes), headerStart + Int(headerLength) <= bytes.count else {
            throw .malformed(file: file, offset: magic.count, detail: "header length \(headerLength) beyond the file or the \(maximumHeaderBytes)-byte limit")
        }
        let headerEnd = headerStart + Int(headerLength)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let header: Header
        do { header = try decoder.decode(Header.self, from: Data(bytes[headerStart..<headerEnd])) } catch {
            throw .malformed(file: file, offset: headerStart, detail: "unreadable header (\(error))")
        }
        guard header.format == formatName, header.version == currentVersion else {
            throw .malformed(file: file, offset: headerStart,
                             detail: "format \(header.format) version \(header.version); expected \(formatName) version \(currentVersion)")
        }
        guard header.parameterCount == parameterCount else {
            throw .malformed(file: file, offset: headerStart,
                             detail: "\(header.parameterCount) parameters; the model has \(parameterCount)")
        }
        guard header.prefixBatches >= 0, header.prefixBatches <= header.totalBatches else {
            throw .malformed(file: file, offset: headerStart,
                             detail: "prefix of \(header.prefixBatches) batches out of \(header.totalBatches)")
        }
        guard bytes.count == headerEnd + 4 * parameterCount else {
            throw .malformed(file: file, offset: min(bytes.count, headerEnd + 4 * parameterCount),
                             detail: "\(bytes.count - headerEnd) parameter bytes; expected \(4 * parameterCount)")
        }
        let parameters = [Float](unsafeUninitializedCapacity: parameterCount) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                for i in 0..<parameterCount {
                    buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: headerEnd + 4 * i, as: UInt32.self)))
                }
            }
            initialized = parameterCount
        }
        guard SHA256.hex(littleEndian: parameters.map(\.bitPattern)) == header.parameterDigest else {
            throw .malformed(file: file, offset: headerEnd, detail: "the parameters' SHA-256 differs from the header's")
        }
        return (PhasedTTTPrefixState(header: header, parameters: parameters), SHA256.hex(bytes))
    }

    private init(header: Header, parameters: [Float]) {
        self.header = header
        self.parameters = parameters
    }
}

/// A prefix state file that cannot be read or does not belong to the evaluation.
public enum PhasedTTTPrefixStateError: InputError, Equatable {
    case unreadable(file: String, detail: String)
    case malformed(file: String, offset: Int, detail: String)
    case otherEvaluation(file: String, fields: [String])

    public var description: String {
        switch self {
        case .unreadable(let file, let detail): "\(file): \(detail)"
        case .malformed(let file, let offset, let detail): "\(file): at byte \(offset): \(detail)"
        case .otherEvaluation(let file, let fields):
            "\(file) is the prefix state of another evaluation: its \(fields.joined(separator: ", ")) differ"
        }
    }
}

extension PhasedTTTPrefixState {
    /// Refuses a state whose prefix run had another identity than `identity` (this run's, without
    /// a prefix state) or another batch plan.
    public func check(against identity: PartialEvaluation.Identity, prefixBatches: Int, file: String) throws(PhasedTTTPrefixStateError) {
        var fields = header.identity.differences(from: identity)
        if header.prefixBatches != prefixBatches || header.totalBatches != identity.totalItems { fields.append("batch plan") }
        guard fields.isEmpty else { throw .otherEvaluation(file: file, fields: fields) }
    }
}
