/// What a rule is, for reports: ID, name, default severity, one-line help.
public struct RuleDescriptor: Sendable, Equatable {
    /// Stable ID used in findings, rules.md headings and SARIF (`PG-TARGET-IN-HASH`).
    public var id: String
    /// Short name (`target-in-hash-key`).
    public var name: String
    public var severity: Severity
    /// One sentence: what the rule flags.
    public var summary: String
    /// Where the rule comes from (README, maintainers' ruling with PR/issue number).
    public var source: String
    /// Whether the rule judges a record-track requirement (the 10-minute limits): on the
    /// non-record track the audit reports its findings as notes.
    public var recordTrackOnly = false

    /// The anchor of the rule's section in rules.md.
    public var documentationAnchor: String { "rules.md#" + id.lowercased() }
}

/// A static compliance rule. One type per file under `Rules/`, documented in its doc comment
/// (What it flags / Why / Source / Legal example / Illegal example) and in rules.md.
public protocol LintRule: Sendable {
    static var descriptor: RuleDescriptor { get }
    /// The findings of this rule in one analysed source.
    static func check(_ source: AnalyzedSource) -> [Finding]
}

extension LintRule {
    /// A finding of this rule at `line` of `source` with the rule's default severity.
    static func finding(_ source: AnalyzedSource, line: Int, _ message: String, severity: Severity? = nil) -> Finding {
        Finding(
            rule: descriptor.id, severity: severity ?? descriptor.severity, file: source.file, line: line,
            message: message, decodedFromLine: source.wrapper?.line)
    }
}
