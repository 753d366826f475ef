/// What a source of findings (the static analyzer) returns for one submission.
public struct FindingsOutcome: Sendable, Equatable {
    public var findings: [AuditFinding]
    /// Set when the source could not run (no code to analyse, a wrapper it cannot decode): the check is incomplete.
    public var incompleteReason: String?
    /// What was analysed, for the evidence (`train_gpt.py (self-extracting, inner source analysed)`).
    public var analysed: [AuditEvidence]

    public init(findings: [AuditFinding], incompleteReason: String? = nil, analysed: [AuditEvidence] = []) {
        self.findings = findings
        self.incompleteReason = incompleteReason
        self.analysed = analysed
    }
}

/// Turns a list of findings into one check: fail on an error finding, warn on a warning, pass
/// otherwise, incomplete when the source could not run. This is how the static analyzer's findings
/// (`verify lint`: rule, severity, file, line, message) plug into the audit:
/// `FindingsCheckProvider(id: Audit.staticFindingsID, title: "Static code findings") { context in ... }`.
public struct FindingsCheckProvider: CheckProvider {
    public var id: String
    public var title: String
    public var source: @Sendable (AuditContext) throws -> FindingsOutcome

    public init(id: String, title: String, source: @escaping @Sendable (AuditContext) throws -> FindingsOutcome) {
        self.id = id
        self.title = title
        self.source = source
    }

    public func checks(for context: AuditContext) throws -> [AuditCheck] {
        let outcome = try source(context)
        let findings = outcome.findings.enumerated()
            .sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
        func count(_ severity: AuditSeverity) -> Int { findings.filter { $0.severity == severity }.count }
        let counts = "\(count(.error)) error(s), \(count(.warning)) warning(s), \(count(.note)) note(s)"
        let status: AuditStatus
        let summary: String
        if count(.error) > 0 {
            status = .fail
            summary = counts + "; first: \(findings[0].rule)" + (findings[0].locationText.map { " at \($0)" } ?? "")
        } else if let reason = outcome.incompleteReason {
            status = .incomplete
            summary = reason
        } else {
            status = count(.warning) > 0 ? .warn : .pass
            summary = counts
        }
        return [AuditCheck(id: id, title: title, status: status, severity: .error, summary: summary,
                           evidence: outcome.analysed, findings: findings)]
    }
}
