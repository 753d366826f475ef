import Foundation

/// The field layout of every node type in one parser output, read before the trees.
///
/// The front-end writes nodes as compact arrays `[type, line, endLine, field...]` and the
/// layout once per type (`[[name, kind], ...]`), which halves the output against keyed objects.
final class PyTreeSchema: @unchecked Sendable {
    static let key = CodingUserInfoKey(rawValue: "pgverify.pyTreeSchema")!
    /// Filled once, before any tree is decoded, then only read (hence `@unchecked Sendable`).
    var layouts: [String: (layout: PyNodeLayout, kinds: [String])] = [:]
}

/// The whole answer of the front-end script: the layouts, then one result per input.
struct ParserOutput: Decodable {
    let results: [ParseResult]

    enum CodingKeys: String, CodingKey { case schema, results }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let schema = decoder.userInfo[PyTreeSchema.key] as? PyTreeSchema else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no schema box"))
        }
        let raw = try container.decode([String: [[String]]].self, forKey: .schema)
        for (type, fields) in raw {
            let names = fields.map { $0.first ?? "" }
            let kinds = fields.map { $0.count > 1 ? $0[1] : "n" }
            schema.layouts[type] = (PyNodeLayout(names: names), kinds)
        }
        results = try container.decode([ParseResult].self, forKey: .results)
    }
}

/// One input's tree, or the syntax error that stopped it.
struct ParseResult: Decodable {
    let tree: NodeBox?
    let error: String?
    let line: Int?
}

/// Decodes one compact node array into a ``PyNode``.
struct NodeBox: Decodable {
    let node: PyNode

    init(from decoder: any Decoder) throws {
        guard let schema = decoder.userInfo[PyTreeSchema.key] as? PyTreeSchema else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no schema"))
        }
        var container = try decoder.unkeyedContainer()
        let type = try container.decode(String.self)
        let line = try container.decode(Int.self)
        let endLine = try container.decode(Int.self)
        guard let entry = schema.layouts[type] else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "node type \(type) missing from schema"))
        }
        var values: [PyField] = []
        values.reserveCapacity(entry.kinds.count)
        for kind in entry.kinds {
            if try container.decodeNil() {
                values.append(.none)
                continue
            }
            switch kind {
            case "n": values.append(.node(try container.decode(NodeBox.self).node))
            case "l": values.append(.list(try container.decode([NodeBox?].self).map { $0?.node }))
            case "s": values.append(.string(try container.decode(String.self)))
            case "S": values.append(.strings(try container.decode([String].self)))
            case "i": values.append(.int(try container.decode(Int.self)))
            case "v": values.append(.constant(Self.constant(try container.decode([String].self))))
            default:
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "unknown field kind \(kind)"))
            }
        }
        node = PyNode(type: type, line: line, endLine: endLine, layout: entry.layout, values: values)
    }

    static func constant(_ pair: [String]) -> PyConstant {
        let kind = pair.first ?? ""
        let text = pair.count > 1 ? pair[1] : ""
        switch kind {
        case "none": return .none
        case "bool": return .bool(text == "1")
        case "int": return .int(text)
        case "float": return Double(text).map { .float($0) } ?? .other(text)
        case "str": return .string(text)
        case "bytes": return .bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        default: return .other(text)
        }
    }
}
