import Foundation

/// PG-CUSTOM-TOKENIZER — the code loads a tokenizer other than the challenge's
/// `fineweb_<V>_bpe.model`.
///
/// ## What it flags
/// A string literal naming a SentencePiece model (`*.model`) whose file name is not
/// `fineweb_<digits>_bpe.model`; an f-string too, its placeholders standing for the digits
/// (`f"fineweb_{vocab}_casefold_bpe.model"` is flagged, `f"fineweb_{vocab}_bpe.model"` is not,
/// `f"{prefix}.model"` cannot be told and is not). A note when the module also reads a validation byte sidecar
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
        var formatted: Set<ObjectIdentifier> = []
        for node in source.nodes {
            if node.type == "Expr", let value = node.child("value"), value.stringLiteral != nil {
                docstrings.insert(ObjectIdentifier(value))
            }
            if (node.type == "Name" || node.type == "Attribute"), (node.terminalName ?? "").contains("val_bytes") {
                readsSidecar = true
            }
            if node.type == "JoinedStr" {
                // An f-string is read whole, each placeholder as `{}`; its literal parts are not read again.
                node.children("values").forEach { formatted.insert(ObjectIdentifier($0)) }
                if custom == nil, let name = customModelName(formattedText(node), placeholders: true) { custom = (name, node.line) }
                continue
            }
            guard node.type == "Constant", !docstrings.contains(ObjectIdentifier(node)),
                  let text = node.stringLiteral else { continue }
            if text.contains("val_bytes") { readsSidecar = true }
            guard custom == nil, !formatted.contains(ObjectIdentifier(node)), !text.contains("{"), let name = customModelName(text, placeholders: false) else { continue }
            custom = (name, node.line)
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

    /// The file name of a SentencePiece model path that is not `fineweb_<digits>_bpe.model`; with
    /// `placeholders`, a `{}` may stand for the digits (`fineweb_{vocab_size}_bpe.model` is the
    /// challenge's) but not for the name's start (`{prefix}.model` cannot be told).
    static func customModelName(_ text: String, placeholders: Bool) -> String? {
        guard text.hasSuffix(".model") else { return nil }
        let fileName = text.split(separator: "/").last.map(String.init) ?? text
        // A name with a space is prose (`f"Saved: {prefix}.model"`), not a path.
        guard let first = fileName.unicodeScalars.first, CharacterSet.letters.contains(first),
              !fileName.contains(where: \.isWhitespace) else { return nil }
        let candidate = placeholders ? fileName.replacingOccurrences(of: "{}", with: "0") : fileName
        let range = NSRange(candidate.startIndex..., in: candidate)
        return official?.firstMatch(in: candidate, range: range) == nil ? fileName : nil
    }

    /// An f-string's text with each formatted value as `{}`.
    static func formattedText(_ node: PyNode) -> String {
        node.children("values").map { $0.stringLiteral ?? "{}" }.joined()
    }
}
