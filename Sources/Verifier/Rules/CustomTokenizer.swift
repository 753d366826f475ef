import Foundation

/// PG-CUSTOM-TOKENIZER — the code loads a tokenizer other than the challenge's
/// `fineweb_<V>_bpe.model`.
///
/// ## What it flags
/// A string literal naming a SentencePiece model (`*.model`) whose file name is not
/// `fineweb_<digits>_bpe.model`. A note when the module also reads a validation byte sidecar
/// (`val_bytes`, `fineweb_val_bytes_*`): the score is then meant to use the original bytes and
/// must be checked dynamically; a warning when it does not (bytes come from the custom
/// tokenizer's own pieces).
///
/// ## Why
/// val_bpb divides by the original UTF-8 bytes of the validation text. A changed tokenizer (a
/// case transform, extra reserved pieces) changes the pieces the byte table is built from; the
/// README requires proving the computation correct and says such submissions are "examined much
/// more carefully".
///
/// ## Source
/// README submission rule 2; compliance guide §13 (CaseOps: lossless case transform with
/// validation byte sidecars, leaderboard note on PR #1729); Scylla byte-table closures
/// (#1143/#1184/#1289).
///
/// ## Legal example
/// `tokenizer_path = "./data/tokenizers/fineweb_1024_bpe.model"`.
///
/// ## Illegal example (warning)
/// `spm.SentencePieceProcessor(model_file="my_tokenizer_v2.model")` with bytes counted from its
/// pieces and no sidecar.
public enum CustomTokenizer: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-CUSTOM-TOKENIZER", name: "custom-tokenizer", severity: .warning,
        summary: "A tokenizer other than the challenge's fineweb_<V>_bpe.model is loaded.",
        source: "README submission rule 2; PR #1729 (CaseOps byte sidecars)")

    private static let official = try? NSRegularExpression(pattern: #"^fineweb_[0-9]+_bpe\.model$"#)

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        var docstrings: Set<ObjectIdentifier> = []
        var readsSidecar = false
        var custom: (name: String, line: Int)?
        for node in source.nodes {
            if node.type == "Expr", let value = node.child("value"), value.stringLiteral != nil {
                docstrings.insert(ObjectIdentifier(value))
            }
            if (node.type == "Name" || node.type == "Attribute"), (node.terminalName ?? "").contains("val_bytes") {
                readsSidecar = true
            }
            guard node.type == "Constant", !docstrings.contains(ObjectIdentifier(node)),
                  let text = node.stringLiteral else { continue }
            if text.contains("val_bytes") { readsSidecar = true }
            guard custom == nil, text.hasSuffix(".model"), !text.contains("{") else { continue }
            let fileName = text.split(separator: "/").last.map(String.init) ?? text
            guard let first = fileName.unicodeScalars.first, CharacterSet.letters.contains(first) else { continue }
            let range = NSRange(fileName.startIndex..., in: fileName)
            if official?.firstMatch(in: fileName, range: range) == nil { custom = (fileName, node.line) }
        }
        guard let custom else { return [] }
        if readsSidecar {
            return [finding(source, line: custom.line,
                "loads tokenizer \(custom.name), not an official fineweb_<V>_bpe.model; a validation byte sidecar is read: " +
                "check bytes and bijectivity dynamically", severity: .note)]
        }
        return [finding(source, line: custom.line,
            "loads tokenizer \(custom.name), not an official fineweb_<V>_bpe.model, and reads no validation byte sidecar: " +
            "bytes would come from the custom pieces")]
    }
}
