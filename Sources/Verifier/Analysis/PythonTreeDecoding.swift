import Foundation

/// Reads the front-end's binary output (written by ``PythonParser/script``) into ``PyNode`` trees.
///
/// The output is native 32-bit integers and UTF-8 bytes, in this order:
/// - header: magic `0x50474153`, string count, type count, result count, stream length;
/// - the UTF-8 byte length of every string;
/// - per node type: its name's string index, its field count, each field name's string index;
/// - per input: `0, stream offset of its tree, 0` or `1, error line, error message's string index`;
/// - the strings' UTF-8 bytes, back to back;
/// - the stream: each tree in preorder. A node is `8 + type index, line, endLine`, then one value
///   per field of its type: `0` absent, `2 count element...` a node list (an element is `0` or a
///   node), `3 s` an identifier, `4 count s...` identifiers, `5 n` an integer,
///   `6 kind payload` a `Constant` literal, or directly a node (tag 8 and above).
///
/// Anything else (a short read, an index out of range, a tree deeper than the front-end allows)
/// is a ``LintError/parserOutputUnreadable(detail:)``, never a trap.
struct PyTreeReader {
    /// One input's tree, or the syntax error that stopped it.
    enum Outcome {
        case tree(PyNode)
        case error(line: Int, message: String)
    }

    static let magic: Int32 = 0x5047_4153
    /// The front-end refuses trees nested deeper than this; deeper output is corrupt.
    static let maxDepth = 400

    private struct NodeType {
        let name: String
        let layout: PyNodeLayout
    }

    private let words: UnsafeRawBufferPointer
    /// Byte offset of the next word.
    private var position = 0
    private var strings: [String] = []
    private var types: [NodeType] = []

    private init(words: UnsafeRawBufferPointer) {
        self.words = words
    }

    /// Decodes the output of one front-end run.
    static func read(_ data: Data) throws -> [Outcome] {
        try data.withUnsafeBytes { raw in
            var reader = PyTreeReader(words: raw)
            return try reader.readAll()
        }
    }

    private mutating func readAll() throws -> [Outcome] {
        guard try next() == Self.magic else { throw Self.unreadable("not pgverify front-end output (bad magic)") }
        let stringCount = try count()
        let typeCount = try count()
        let resultCount = try count()
        let streamLength = try count()
        var lengths: [Int] = []
        lengths.reserveCapacity(stringCount)
        for _ in 0..<stringCount { lengths.append(try count()) }
        var typeEntries: [(name: Int, fields: [Int])] = []
        for _ in 0..<typeCount {
            let name = try count()
            let fieldCount = try count()
            var fields: [Int] = []
            for _ in 0..<fieldCount { fields.append(try count()) }
            typeEntries.append((name, fields))
        }
        var rawResults: [(status: Int32, first: Int32, second: Int32)] = []
        for _ in 0..<resultCount { rawResults.append((try next(), try next(), try next())) }
        var byteOffset = position
        strings.reserveCapacity(stringCount)
        for length in lengths {
            guard length <= words.count - byteOffset else { throw Self.unreadable("string table runs past the end") }
            strings.append(String(decoding: UnsafeRawBufferPointer(rebasing: words[byteOffset..<byteOffset + length]), as: UTF8.self))
            byteOffset += length
        }
        types = try typeEntries.map { entry in
            NodeType(name: try string(entry.name), layout: PyNodeLayout(names: try entry.fields.map { try string($0) }))
        }
        guard (words.count - byteOffset) / 4 == streamLength, (words.count - byteOffset) % 4 == 0 else {
            throw Self.unreadable("tree stream is \(words.count - byteOffset) bytes, \(streamLength) words announced")
        }
        let streamStart = byteOffset
        return try rawResults.map { result in
            switch result.status {
            case 0:
                guard result.first >= 0, Int(result.first) < streamLength else { throw Self.unreadable("tree offset out of range") }
                position = streamStart + 4 * Int(result.first)
                return .tree(try node(tag: try next(), depth: 0))
            case 1:
                return .error(line: Int(result.first), message: try string(Int(result.second)))
            default:
                throw Self.unreadable("unknown result status \(result.status)")
            }
        }
    }

    private mutating func node(tag: Int32, depth: Int) throws -> PyNode {
        guard depth <= Self.maxDepth else { throw Self.unreadable("tree nested deeper than \(Self.maxDepth)") }
        let typeIndex = Int(tag) - 8
        guard typeIndex >= 0, typeIndex < types.count else { throw Self.unreadable("node type \(typeIndex) out of range") }
        let type = types[typeIndex]
        let line = Int(try next())
        let endLine = Int(try next())
        let fieldCount = type.layout.names.count
        var values: [PyValue] = []
        values.reserveCapacity(fieldCount)
        for _ in 0..<fieldCount { values.append(try value(depth: depth + 1)) }
        return PyNode(type: type.name, line: line, endLine: endLine, layout: type.layout, values: values)
    }

    private mutating func value(depth: Int) throws -> PyValue {
        let tag = try next()
        switch tag {
        case 0:
            return .none
        case 2:
            let length = try count()
            var nodes: [PyNode] = []
            nodes.reserveCapacity(length)
            for index in 0..<length {
                let element = try next()
                if element != 0 {
                    nodes.append(try node(tag: element, depth: depth))
                    continue
                }
                // An absent entry (`Dict.keys` of `**x`): keep the list's positions.
                var sparse: [PyNode?] = nodes
                sparse.append(nil)
                for _ in index + 1..<length {
                    let element = try next()
                    sparse.append(element == 0 ? nil : try node(tag: element, depth: depth))
                }
                return .sparseNodes(sparse)
            }
            return .nodes(nodes)
        case 3:
            return .string(try string(Int(try next())))
        case 4:
            let length = try count()
            var names: [String] = []
            names.reserveCapacity(length)
            for _ in 0..<length { names.append(try string(Int(try next()))) }
            return .strings(names)
        case 5:
            return .int(Int(try next()))
        case 6:
            let kind = try next()
            let payload = try next()
            if kind == 1 { return .constant(.bool(payload != 0)) }
            let text = try string(Int(payload))
            switch kind {
            case 2: return .constant(.int(text))
            case 3: return .constant(.string(text))
            case 4: return .constant(Double(text).map { .float($0) } ?? .other(text))
            case 5: return .constant(.bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
            case 6: return .constant(.other(text))
            default: throw Self.unreadable("unknown constant kind \(kind)")
            }
        case 8...:
            return .node(try node(tag: tag, depth: depth))
        default:
            throw Self.unreadable("unknown field tag \(tag)")
        }
    }

    private mutating func next() throws -> Int32 {
        guard position + 4 <= words.count else { throw Self.unreadable("output ends early") }
        defer { position += 4 }
        return words.loadUnaligned(fromByteOffset: position, as: Int32.self)
    }

    /// A count or index: a word that must not be negative, nor more than the output could hold.
    private mutating func count() throws -> Int {
        let word = try next()
        guard word >= 0, Int(word) <= words.count else { throw Self.unreadable("count \(word) out of range") }
        return Int(word)
    }

    private func string(_ index: Int) throws -> String {
        guard index >= 0, index < strings.count else { throw Self.unreadable("string \(index) out of range") }
        return strings[index]
    }

    private static func unreadable(_ detail: String) -> LintError {
        .parserOutputUnreadable(detail: detail)
    }
}
