/// PG-WRAPPED-SOURCE — the file is self-extracting code; the analysis ran on the decoded code.
///
/// ## What it flags
/// `exec(lzma.decompress(base64.b85decode("...")))` and its zlib/base64/codecs variants at the
/// top level of a file. A note, not a violation: the findings of the decoded code follow, with
/// line numbers of the decoded code.
///
/// ## Why
/// Reviewers cannot read the code in the PR diff; they need to know that what was analysed is
/// the decoded source, and that the code bytes counted are the wrapper's.
///
/// ## Source
/// compliance guide §18: merged records `2026-04-03_*`, `2026-04-06_SP8192_QK5_LegalTTT_1.0828`
/// ship wrapped code; README counts the code bytes of `train_gpt.py` as submitted.
///
/// ## Legal example
/// Plain source (no finding), or a wrapper (a note).
///
/// ## Illegal example
/// None. A recognised wrapper whose payload is corrupt is bad input (exit 2); an `exec` of
/// anything else is PG-UNREAD-CODE.
public enum WrappedSource: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-WRAPPED-SOURCE", name: "wrapped-source", severity: .note,
        summary: "Self-extracting code: findings refer to the decoded source.",
        source: "compliance guide §18; README (code bytes)")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        source.wrappers.map { wrapper in
            var note = finding(source, line: wrapper.line,
                "self-extracting code (\(wrapper.scheme)) decoded to \(wrapper.innerSource.utf8.count) bytes, " +
                "\(wrapper.innerSource.split(separator: "\n", omittingEmptySubsequences: false).count) lines; " +
                "analysed as decoded, code bytes are the wrapper's")
            note.decodedFromLine = source.wrapper?.line
            return note
        }
    }
}
