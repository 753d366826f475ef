/// A self-extracting wrapper found in a module: `exec(lzma.decompress(base64.b85decode("...")))`
/// and its zlib/base64/codecs variants, with the payload decoded in Swift.
public struct SelfExtractingWrapper: Sendable, Equatable {
    /// Line of the `exec(...)` statement in the wrapping file.
    public var line: Int
    /// How the payload was encoded and compressed, as `base85+lzma-raw` etc.
    public var scheme: String
    /// The decoded inner source.
    public var innerSource: String

    /// Finds the wrappers in `module` (an `exec` anywhere, its code possibly passed through
    /// `compile(..., "exec")`) and decodes them. A recognised wrapper whose payload does not
    /// decode is a ``LintError/undecodableWrapper``.
    public static func find(in module: PyNode, file: String) throws -> [SelfExtractingWrapper] {
        try scan(module, file: file).wrappers
    }

    /// An `exec`/`eval` whose code is not a payload the analysis can decode: what runs there is
    /// unread. `expression` is the code argument as written.
    public struct Opaque: Sendable, Equatable {
        public var line: Int
        /// The call as a short outline: `exec(compile(source, …))`.
        public var construct: String
        /// String literals inside the code argument (a file name the code is read from).
        public var literals: [String]
        /// Whether the code argument reads a file (`open(...)`, `.read()`, `.read_text()`).
        public var readsFile = false

        init(line: Int, call: PyNode, code: PyNode) {
            self.line = line
            self.construct = Self.outline(call, depth: 0)
            var literals: [String] = []
            var reads = false
            code.walk { node in
                if let text = node.stringLiteral, text.count < 300 { literals.append(text) }
                if node.type == "Call", ["open", "read", "read_text"].contains(node.terminalName ?? "") { reads = true }
            }
            self.literals = literals
            self.readsFile = reads
        }

        public init(line: Int, construct: String, literals: [String] = []) {
            self.line = line
            self.construct = construct
            self.literals = literals
        }

        private static func outline(_ node: PyNode, depth: Int) -> String {
            guard depth < 6 else { return "…" }
            switch node.type {
            case "Call":
                let arguments = node.children("args").prefix(2).map { outline($0, depth: depth + 1) }
                let more = node.children("args").count > 2 || !node.children("keywords").isEmpty ? ", …" : ""
                return (outline(node.child("func") ?? node, depth: depth + 1)) + "(" + arguments.joined(separator: ", ") + more + ")"
            case "Name", "Attribute":
                return node.dottedName ?? (node.child("value").map { outline($0, depth: depth + 1) + "." } ?? "") + (node.string("attr") ?? "…")
            case "Constant":
                return node.stringLiteral.map { $0.count <= 24 ? "\"\($0)\"" : "\"…\"" } ?? "…"
            default:
                return "…"
            }
        }
    }

    /// The wrappers of `module`, and the `exec`/`eval` calls whose code cannot be decoded.
    public static func scan(_ module: PyNode, file: String) throws -> (wrappers: [SelfExtractingWrapper], opaque: [Opaque]) {
        let aliases = ImportAliases(module: module)
        let literals = ModuleLiterals(module: module)
        var calls: [PyNode] = []
        module.walk { node in
            guard node.type == "Call", let function = node.child("func"), function.type == "Name",
                  let name = aliases.resolve(function), name == "exec" || name == "eval",
                  node.children("args").first != nil else { return }
            calls.append(node)
        }
        var found: [SelfExtractingWrapper] = []
        var opaque: [Opaque] = []
        for call in calls {
            var payload = call.children("args")[0]
            let isExec = aliases.resolve(call.child("func")) == "exec"
            if payload.type == "Call", aliases.resolve(payload.child("func")) == "compile",
               let code = payload.children("args").first {
                payload = code
            }
            do {
                guard let (bytes, scheme) = try decode(payload, aliases: aliases, literals: literals), scheme != "literal" || isExec
                else {
                    // `eval` of an expression string (a setting) is not hidden code unless it decodes something.
                    if isExec || containsDecoding(payload, aliases: aliases) { opaque.append(Opaque(line: call.line, call: call, code: payload)) }
                    continue
                }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw LintError.undecodableWrapper(file: file, line: call.line, reason: "decoded code is not UTF-8")
                }
                found.append(SelfExtractingWrapper(line: call.line, scheme: scheme, innerSource: text))
            } catch let failure as BinaryTextDecoding.Invalid {
                throw LintError.undecodableWrapper(file: file, line: call.line, reason: failure.description)
            } catch let failure as WrapperDecompression.Failure {
                throw LintError.undecodableWrapper(file: file, line: call.line, reason: failure.description)
            }
        }
        return (found, opaque)
    }

    private static let decodingNames = ["decompress", "decode", "b85decode", "b64decode", "a85decode", "unhexlify", "fromhex", "loads"]

    private static func containsDecoding(_ node: PyNode, aliases: ImportAliases) -> Bool {
        var decodes = false
        node.walk { child in
            if child.type == "Call", let name = child.child("func")?.terminalName,
               decodingNames.contains(where: { name.contains($0) }) { decodes = true }
        }
        return decodes
    }

    /// Decodes an expression built from decode/decompress calls around a literal; nil when the
    /// expression is something else (then `exec` runs code we cannot see statically).
    static func decode(_ expression: PyNode, aliases: ImportAliases, literals: ModuleLiterals = ModuleLiterals()) throws -> ([UInt8], String)? {
        if let literal = literals.bytes(of: expression) { return (literal, "literal") }
        // `_src = lzma.decompress(...)` at module level, then `exec(compile(_src, ...))`.
        if expression.type == "Name", let bound = literals.binding(of: expression), bound.type == "Call" {
            return try decode(bound, aliases: aliases, literals: literals)
        }
        guard expression.type == "Call", let function = expression.child("func") else { return nil }
        let arguments = expression.children("args")
        // `payload.decode()` / `payload.decode("utf-8")`: text of the inner bytes.
        if function.type == "Attribute", function.string("attr") == "decode",
           aliases.resolve(function) != "codecs.decode",
           let receiver = function.child("value"), arguments.allSatisfy({ $0.type == "Constant" }) {
            if let codec = arguments.first?.stringLiteral, codec.lowercased().contains("base64") || codec == "zlib" {
                guard let (inner, scheme) = try decode(receiver, aliases: aliases, literals: literals) else { return nil }
                return try applyCodec(codec, to: inner, scheme: scheme)
            }
            return try decode(receiver, aliases: aliases, literals: literals)
        }
        guard let name = aliases.resolve(function), let first = arguments.first,
              let (inner, scheme) = try decode(first, aliases: aliases, literals: literals)
        else { return nil }
        let keywords = Dictionary(
            expression.children("keywords").compactMap { keyword in keyword.string("arg").map { ($0, keyword) } },
            uniquingKeysWith: { first, _ in first })
        switch name {
        case "base64.b85decode":
            return (try BinaryTextDecoding.base85(inner), "base85" + suffix(scheme))
        case "base64.b64decode", "base64.decodebytes", "base64.standard_b64decode":
            return (try BinaryTextDecoding.base64(inner), "base64" + suffix(scheme))
        case "base64.a85decode":
            return (try BinaryTextDecoding.ascii85(inner), "ascii85" + suffix(scheme))
        case "base64.b16decode", "binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex":
            return (try BinaryTextDecoding.hex(inner), "hex" + suffix(scheme))
        case "brotli.decompress":
            return (try WrapperDecompression.brotli(inner), "brotli" + suffix(scheme))
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
