/// PG-BYTE-ACCOUNTING — the byte count behind val_bpb is computed differently from the
/// challenge: the leading space counted twice, byte-fallback tokens not counted as one byte, or
/// a byte table loaded from a file instead of built from the tokenizer.
///
/// ## What it flags
/// (a) In a function that fills a `base_bytes` table, `len(...) + 1` stored for a piece while
/// the module also adds `has_leading_space` at evaluation (the space counted twice), error;
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
        var addsLeadingSpace = false
        for node in source.nodes {
            guard node.type == "AugAssign", !addsLeadingSpace else { continue }
            node.walk { inner in
                if inner.type == "Name" || inner.type == "Attribute",
                   (inner.terminalName ?? "").contains("leading_space") { addsLeadingSpace = true }
            }
        }
        for node in source.nodes {
            guard node.type == "Assign", let value = node.child("value"),
                  let table = node.children("targets").first, table.type == "Subscript",
                  let name = table.child("value")?.terminalName, isByteTable(name) else { continue }
            if addsLeadingSpace, value.type == "BinOp", value.child("op")?.type == "Add",
               value.child("right")?.constant?.intValue == 1,
               value.child("left")?.terminalName == "len" {
                findings.append(finding(source, line: node.line,
                    "\(name) stores len(...) + 1 while evaluation also adds has_leading_space: the leading space is counted twice"))
            }
            if value.type == "Call", ["load", "from_numpy"].contains(value.terminalName ?? "") {
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

    private static func isByteTable(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("base_bytes") || lower.contains("bytes_lut") || lower == "byte_lut"
    }
}
