import Foundation

extension AuditReport {
    /// The audit as a SARIF 2.1.0 log for GitHub code scanning: one result per finding of every check,
    /// static rules and audit checks alike, each with its rules.md documentation as help.
    ///
    /// - Parameter folderPath: the submission folder relative to the repository root (`records/.../x`),
    ///   prefixed to every file so code scanning can place the results; findings about no particular
    ///   file point at the folder's `submission.json`.
    public func sarif(folderPath: String, version: String) throws -> Data {
        var prefix = LintReport.relativeURI(folderPath)
        while prefix.hasSuffix("/") { prefix.removeLast() }
        func uri(_ file: String?) -> String {
            let name = file ?? "submission.json"
            return prefix.isEmpty || prefix == "." ? name : prefix + "/" + name
        }
        var rules = LintRules.descriptors.map { rule in
            SARIFLog.Rule(id: rule.id, name: rule.name, shortDescription: rule.summary,
                          help: "\(rule.summary) Source: \(rule.source). See \(rule.documentationAnchor).",
                          defaultLevel: rule.severity.rawValue)
        }
        var known = Set(rules.map(\.id))
        var results: [SARIFLog.Result] = []
        for check in checks {
            for finding in check.findings {
                if !known.contains(finding.rule) {
                    known.insert(finding.rule)
                    rules.append(SARIFLog.Rule(
                        id: finding.rule, name: finding.rule.lowercased(), shortDescription: check.title,
                        help: "\(check.title). See rules.md#\(finding.rule.lowercased()).",
                        defaultLevel: finding.severity.rawValue))
                }
                results.append(SARIFLog.Result(
                    ruleId: finding.rule, level: finding.severity.rawValue, message: finding.message,
                    uri: uri(finding.file), startLine: finding.line ?? 1))
            }
        }
        return try SARIFLog(toolName: "pgverify", toolVersion: version, rules: rules, results: results).json()
    }
}
