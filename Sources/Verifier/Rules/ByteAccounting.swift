/// PG-BYTE-ACCOUNTING — the byte count behind val_bpb is computed differently from the
/// challenge: the leading space counted twice, byte-fallback tokens not counted as one byte, or
/// a byte table loaded from a file instead of built from the tokenizer.
///
/// ## What it flags
/// (a) A per-token table (named as bytes, or filled in a function that tests the space marker
/// `startswith("▁")`) storing a length with the space counted (`len(...) + 1` in either order,
/// `len(piece.replace("▁", " ").encode())`, or a helper returning one; by assignment or
/// `append`) while the module also adds the leading-space flags at evaluation (a `+`/`+=` of a
/// table named `*leading_space*`, set in a `startswith("▁")` branch, or computed from one): the
/// space counted twice, error;
/// (b) a `sp.is_byte(...)` branch storing something other than 1 into the table, error;
/// (c) a byte table loaded with `np.load`/`torch.load`, warning (must be checked against the
/// declared tokenizer dynamically).
///
/// ## Why
/// val_bpb divides the NLL by the original UTF-8 bytes. An inflated byte count deflates the
/// score (Issue #897: about 20% under-estimate).
///
/// ## Source
/// README submission rule 2; Issue #897; closures of #1545, #1576, #1632, #1672
/// (double-counted space); #1143/#1184/#1289 (byte-fallback tokens counted as 3 bytes).
///
/// ## Legal example
/// The baseline: strip `▁`, `base_bytes[i] = len(piece.encode("utf-8"))`, add the space at
/// eval only when the previous token is not a boundary; `base_bytes[i] = 1` for byte tokens.
///
/// ## Illegal example
/// `base_bytes[i] = len(piece[1:].encode("utf-8")) + 1` and `tb += has_leading_space_lut[tgt]`.
public enum ByteAccounting: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-BYTE-ACCOUNTING", name: "byte-accounting", severity: .error,
        summary: "The UTF-8 byte count behind val_bpb differs from the challenge's accounting.",
        source: "README submission rule 2; Issue #897; PRs #1545, #1576, #1632, #1672")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        var findings: [Finding] = []
        let spaceTables = leadingSpaceNames(source)
        let addsLeadingSpace = source.nodes.contains { node in
            let operands: [PyNode?]
            switch node.type {
            case "AugAssign": operands = [node.child("value")]
            case "BinOp" where node.child("op")?.type == "Add": operands = [node.child("left"), node.child("right")]
            default: return false
            }
            return operands.contains { $0.map { mentions($0, spaceTables) } ?? false }
        }
        let helpers = lengthPlusOneFunctions(source)
        let markerFunctions = functionsRecognisingSpaceMarker(source)
        for node in source.nodes {
            // `table[i] = value` or `table.append(value)`.
            let stored: (table: String, value: PyNode)?
            if node.type == "Assign", let value = node.child("value"), let target = node.children("targets").first,
               target.type == "Subscript", let name = target.child("value")?.terminalName {
                stored = (name, value)
            } else if node.type == "Call", node.terminalName == "append", let value = node.children("args").first,
                      let name = node.child("func")?.child("value")?.terminalName {
                stored = (name, value)
            } else {
                stored = nil
            }
            guard let (name, value) = stored else { continue }
            let perTokenTable = isByteTable(name) || markerFunctions.contains { $0.contains(node.line) }
            if addsLeadingSpace, perTokenTable, countsSpaceByte(value, helpers: helpers) {
                findings.append(finding(source, line: node.line,
                    "\(name) stores the piece's UTF-8 length with the leading space counted while evaluation also adds it (has_leading_space): the leading space is counted twice"))
            }
            if node.type == "Assign", isByteTable(name), value.type == "Call", ["load", "from_numpy"].contains(value.terminalName ?? "") {
                findings.append(finding(source, line: node.line,
                    "\(name) is loaded from a file: check it against the declared tokenizer", severity: .warning))
            }
        }
        for node in source.nodes {
            guard node.type == "If", let test = node.child("test") else { continue }
            var testsByte = false
            test.walk { inner in if inner.type == "Call", inner.terminalName == "is_byte" { testsByte = true } }
            guard testsByte else { continue }
            for statement in node.children("body") where statement.type == "Assign" {
                guard let table = statement.children("targets").first, table.type == "Subscript",
                      let name = table.child("value")?.terminalName, isByteTable(name),
                      let value = statement.child("value"), value.constant?.intValue != 1 else { continue }
                findings.append(finding(source, line: statement.line,
                    "\(name) does not count a byte-fallback token as exactly 1 byte"))
            }
        }
        return findings
    }

    /// Names holding the leading-space flags: named so, stored in a branch that tests the space
    /// marker (`if piece.startswith("▁"): space[i] = True`), or computed from such a name
    /// (`space_t = torch.tensor(space_np)`, `lut, space = build_luts(sp)` by position).
    static func leadingSpaceNames(_ source: AnalyzedSource) -> Set<String> {
        var names: Set<String> = []
        var returnedTuples: [String: [PyNode]] = [:]
        for node in source.nodes {
            if let name = node.terminalName, node.type == "Name" || node.type == "Attribute", name.contains("leading_space") {
                names.insert(name)
            }
            if node.type == "If", let test = node.child("test"), testsSpaceMarker(test) {
                for statement in node.children("body") where statement.type == "Assign" {
                    for target in statement.children("targets") where target.type == "Subscript" {
                        if let name = target.child("value")?.terminalName { names.insert(name) }
                    }
                }
            }
            if node.type == "FunctionDef", let name = node.string("name") {
                node.walk { inner in
                    if inner.type == "Return", let value = inner.child("value"), value.type == "Tuple" {
                        returnedTuples[name] = value.children("elts")
                    }
                }
            }
        }
        for _ in 0..<3 {
            let before = names.count
            for node in source.nodes where node.type == "Assign" {
                guard let value = node.child("value") else { continue }
                for target in node.children("targets") {
                    if target.type == "Tuple", value.type == "Call", let callee = value.terminalName,
                       let elements = returnedTuples[callee] {
                        for (element, returned) in zip(target.children("elts"), elements) where mentions(returned, names) {
                            if let name = element.terminalName { names.insert(name) }
                        }
                    } else if target.type != "Tuple", target.type != "Subscript", mentions(value, names), let name = target.terminalName {
                        names.insert(name)
                    }
                }
            }
            if names.count == before { break }
        }
        return names
    }

    /// `piece.startswith("▁")`.
    private static func testsSpaceMarker(_ test: PyNode) -> Bool {
        var found = false
        test.walk { node in
            if node.type == "Call", node.terminalName == "startswith",
               node.children("args").first?.stringLiteral?.contains("\u{2581}") == true { found = true }
        }
        return found
    }

    /// Line ranges of the functions that recognise the space marker: their tables are per-token
    /// byte tables whatever their names.
    private static func functionsRecognisingSpaceMarker(_ source: AnalyzedSource) -> [ClosedRange<Int>] {
        source.nodes.filter { $0.type == "FunctionDef" || $0.type == "AsyncFunctionDef" }.compactMap { function in
            var found = false
            function.walk { if $0.type == "If", let test = $0.child("test"), testsSpaceMarker(test) { found = true } }
            return found ? function.line...function.endLine : nil
        }
    }

    /// Functions every `return` of which gives a length with the space counted (helpers such as
    /// `def piece_bytes(p): return len(p[1:].encode()) + 1`).
    private static func lengthPlusOneFunctions(_ source: AnalyzedSource) -> Set<String> {
        var result: Set<String> = []
        for node in source.nodes where node.type == "FunctionDef" {
            var returns: [PyNode] = []
            node.walk { if $0.type == "Return", let value = $0.child("value") { returns.append(value) } }
            if let name = node.string("name"), !returns.isEmpty, returns.allSatisfy({ countsSpaceByte($0, helpers: []) }) {
                result.insert(name)
            }
        }
        return result
    }

    /// A UTF-8 length that includes the leading space: `len(...) + 1` (either order), the length
    /// of the piece with `▁` turned into a space, or a call of a helper returning one.
    private static func countsSpaceByte(_ value: PyNode, helpers: Set<String>) -> Bool {
        switch value.type {
        case "BinOp" where value.child("op")?.type == "Add":
            let sides = [value.child("left"), value.child("right")]
            return sides.contains { $0?.type == "Call" && $0?.terminalName == "len" }
                && sides.contains { $0?.constant?.intValue == 1 }
        case "Call":
            if value.child("func")?.type == "Name", let name = value.terminalName, helpers.contains(name) { return true }
            guard value.terminalName == "len" else { return false }
            var replacesMarker = false
            value.walk { node in
                let arguments = node.children("args")
                if node.type == "Call", node.terminalName == "replace", arguments.count == 2,
                   arguments[0].stringLiteral?.contains("\u{2581}") == true, arguments[1].stringLiteral == " " {
                    replacesMarker = true
                }
            }
            return replacesMarker
        default:
            return false
        }
    }

    private static func mentions(_ node: PyNode, _ names: Set<String>) -> Bool {
        var found = false
        node.walk { inner in
            if !found, inner.type == "Name" || inner.type == "Attribute", let name = inner.terminalName, names.contains(name) {
                found = true
            }
        }
        return found
    }

    private static func isByteTable(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("base_bytes") || lower.contains("bytes_lut") || lower == "byte_lut"
    }
}
