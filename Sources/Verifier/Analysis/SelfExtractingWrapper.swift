/// A self-extracting wrapper found in a module: `exec(lzma.decompress(base64.b85decode("...")))`
/// and its zlib/base64/codecs variants, with the payload decoded in Swift.
public struct SelfExtractingWrapper: Sendable, Equatable {
    /// Line of the `exec(...)` statement in the wrapping file.
    public var line: Int
    /// How the payload was encoded and compressed, as `base85+lzma-raw` etc.
    public var scheme: String
    /// The decoded inner source.
    public var innerSource: String

    /// Finds the wrappers among the module-level statements of `module` and decodes them.
    /// A recognised wrapper whose payload does not decode is a ``LintError/undecodableWrapper``.
    public static func find(in module: PyNode, file: String) throws -> [SelfExtractingWrapper] {
        let aliases = ImportAliases(module: module)
        var found: [SelfExtractingWrapper] = []
        for statement in module.children("body") where statement.type == "Expr" {
            guard let call = statement.child("value"), call.type == "Call",
                  aliases.resolve(call.child("func")) == "exec",
                  let payload = call.children("args").first
            else { continue }
            do {
                guard let (bytes, scheme) = try decode(payload, aliases: aliases) else { continue }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw LintError.undecodableWrapper(file: file, line: statement.line, reason: "decoded code is not UTF-8")
                }
                found.append(SelfExtractingWrapper(line: statement.line, scheme: scheme, innerSource: text))
            } catch let failure as BinaryTextDecoding.Invalid {
                throw LintError.undecodableWrapper(file: file, line: statement.line, reason: failure.description)
            } catch let failure as WrapperDecompression.Failure {
                throw LintError.undecodableWrapper(file: file, line: statement.line, reason: failure.description)
            }
        }
        return found
    }

    /// Decodes an expression built from decode/decompress calls around a literal; nil when the
    /// expression is something else (then `exec` runs code we cannot see statically).
    static func decode(_ expression: PyNode, aliases: ImportAliases) throws -> ([UInt8], String)? {
        if let literal = literalBytes(expression) { return (literal, "literal") }
        guard expression.type == "Call", let function = expression.child("func") else { return nil }
        let arguments = expression.children("args")
        // `payload.decode()` / `payload.decode("utf-8")`: text of the inner bytes.
        if function.type == "Attribute", function.string("attr") == "decode",
           aliases.resolve(function) != "codecs.decode",
           let receiver = function.child("value"), arguments.allSatisfy({ $0.type == "Constant" }) {
            if let codec = arguments.first?.stringLiteral, codec.lowercased().contains("base64") || codec == "zlib" {
                guard let (inner, scheme) = try decode(receiver, aliases: aliases) else { return nil }
                return try applyCodec(codec, to: inner, scheme: scheme)
            }
            return try decode(receiver, aliases: aliases)
        }
        guard let name = aliases.resolve(function), let first = arguments.first,
              let (inner, scheme) = try decode(first, aliases: aliases)
        else { return nil }
        let keywords = Dictionary(
            expression.children("keywords").compactMap { keyword in keyword.string("arg").map { ($0, keyword) } },
            uniquingKeysWith: { first, _ in first })
        switch name {
        case "base64.b85decode":
            return (try BinaryTextDecoding.base85(inner), "base85" + suffix(scheme))
        case "base64.b64decode", "base64.decodebytes", "base64.standard_b64decode":
            return (try BinaryTextDecoding.base64(inner), "base64" + suffix(scheme))
        case "base64.urlsafe_b64decode":
            return (try BinaryTextDecoding.base64(inner, urlsafe: true), "base64url" + suffix(scheme))
        case "codecs.decode":
            guard let codec = (arguments.dropFirst().first ?? keywords["encoding"]?.child("value"))?.stringLiteral
            else { return nil }
            return try applyCodec(codec, to: inner, scheme: scheme)
        case "zlib.decompress":
            var windowBits: Int32 = 15
            if let bitsNode = arguments.dropFirst().first ?? keywords["wbits"]?.child("value"),
               let bits = integer(bitsNode) { windowBits = Int32(truncatingIfNeeded: bits) }
            return (try WrapperDecompression.zlib(inner, windowBits: windowBits), "zlib" + suffix(scheme))
        case "gzip.decompress":
            return (try WrapperDecompression.zlib(inner, windowBits: 31), "gzip" + suffix(scheme))
        case "lzma.decompress":
            let format = keywords["format"].flatMap { $0.child("value") }.flatMap { $0.terminalName }
            if format == "FORMAT_RAW" {
                let dictionary = lzma2DictionarySize(keywords["filters"]?.child("value"))
                return (try WrapperDecompression.lzma(inner, format: .rawLZMA2(dictionarySize: dictionary)),
                        "lzma-raw" + suffix(scheme))
            }
            return (try WrapperDecompression.lzma(inner, format: .auto), "lzma" + suffix(scheme))
        default:
            return nil
        }
    }

    private static func applyCodec(_ codec: String, to bytes: [UInt8], scheme: String) throws -> ([UInt8], String)? {
        switch codec.lowercased().replacingOccurrences(of: "_", with: "") {
        case "base64", "base64codec": return (try BinaryTextDecoding.base64(bytes), "base64" + suffix(scheme))
        case "zlib", "zlibcodec": return (try WrapperDecompression.zlib(bytes), "zlib" + suffix(scheme))
        default: return nil
        }
    }

    private static func suffix(_ scheme: String) -> String { scheme == "literal" ? "" : "+" + scheme }

    /// The bytes of a string/bytes literal, implicit concatenations, `+` of literals and
    /// `"...".encode()`.
    static func literalBytes(_ node: PyNode) -> [UInt8]? {
        switch node.type {
        case "Constant":
            switch node.constant {
            case .string(let text)?: return Array(text.utf8)
            case .bytes(let bytes)?: return bytes
            default: return nil
            }
        case "BinOp":
            guard node.child("op")?.type == "Add", let left = node.child("left").flatMap(literalBytes),
                  let right = node.child("right").flatMap(literalBytes) else { return nil }
            return left + right
        case "Call":
            guard let function = node.child("func"), function.type == "Attribute",
                  function.string("attr") == "encode", let receiver = function.child("value") else { return nil }
            return literalBytes(receiver)
        default:
            return nil
        }
    }

    private static func integer(_ node: PyNode) -> Int? {
        if node.type == "UnaryOp", node.child("op")?.type == "USub", let operand = node.child("operand") {
            return integer(operand).map { -$0 }
        }
        return node.constant?.intValue
    }

    /// The LZMA2 dictionary size of `filters=[{"id": FILTER_LZMA2, "preset": P, "dict_size": D}]`;
    /// Python's default is preset 6 (8 MiB), the most any preset uses is 64 MiB.
    private static func lzma2DictionarySize(_ filters: PyNode?) -> UInt32 {
        var size: UInt32 = 8 << 20
        guard let filters, let first = filters.children("elts").first, first.type == "Dict" else { return size }
        for (key, value) in zip(first[field: "keys"].nodeList, first.children("values")) {
            guard let keyName = key?.stringLiteral else { continue }
            if keyName == "dict_size", let bytes = integer(value) { size = UInt32(clamping: bytes) }
            if keyName == "preset", let preset = integer(value) {
                let presetSizes: [UInt32] = [1, 2, 4, 4, 8, 8, 8, 16, 32, 64].map { $0 << 20 }
                size = presetSizes[min(max(preset & 0x1f, 0), 9)]
            }
        }
        return max(size, 4096)
    }
}

extension PyField {
    /// The entries of a list field, keeping absent ones (`Dict.keys` has `None` for `**x`).
    var nodeList: [PyNode?] {
        if case .list(let nodes) = self { return nodes }
        return []
    }
}
