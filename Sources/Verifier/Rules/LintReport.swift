import Foundation

/// Renders lint findings as text, JSON or SARIF.
public enum LintReport {
    /// `file:line: severity [RULE] message`, one per line, then a summary line.
    public static func text(_ findings: [Finding], fileCount: Int) -> String {
        var lines = findings.map { finding in
            let decoded = finding.decodedFromLine.map { " (decoded code of the wrapper at line \($0))" } ?? ""
            return "\(finding.file):\(finding.line):\(decoded) \(finding.severity.rawValue) [\(finding.rule)] \(finding.message)"
        }
        let counts = Severity.allCases.reversed().map { severity in
            "\(severity.rawValue)s: \(findings.filter { $0.severity == severity }.count)"
        }
        lines.append("\(fileCount) file(s) checked; " + counts.joined(separator: ", "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"findings": [{rule, severity, file, line, message, decodedFromLine?}]}` with sorted keys.
    public static func json(_ findings: [Finding]) throws -> Data {
        struct Document: Encodable { var findings: [Finding] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Document(findings: findings))
    }

    /// A SARIF 2.1.0 log with every rule (so code scanning can show help for each).
    public static func sarif(_ findings: [Finding], version: String) throws -> Data {
        let rules = LintRules.descriptors.map { rule in
            SARIFLog.Rule(
                id: rule.id, name: rule.name, shortDescription: rule.summary,
                help: "\(rule.summary) Source: \(rule.source). See \(rule.documentationAnchor).",
                defaultLevel: rule.severity.rawValue)
        }
        let results = findings.map { finding in
            SARIFLog.Result(
                ruleId: finding.rule, level: finding.severity.rawValue,
                message: finding.message + (finding.decodedFromLine.map { " (line \(finding.line) of the code decoded from the wrapper at line \($0))" } ?? ""),
                uri: relativeURI(finding.file),
                startLine: finding.decodedFromLine ?? finding.line)
        }
        return try SARIFLog(toolName: "pgverify", toolVersion: version, rules: rules, results: results).json()
    }

    /// SARIF wants repository-relative URIs with forward slashes: drop a leading `./`.
    static func relativeURI(_ path: String) -> String {
        var uri = path.replacingOccurrences(of: "\\", with: "/")
        while uri.hasPrefix("./") { uri.removeFirst(2) }
        return uri
    }
}
