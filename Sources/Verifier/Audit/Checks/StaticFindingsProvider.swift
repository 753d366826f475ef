import Foundation

/// `STATIC-FINDINGS`: the static compliance analyzer (`verify lint`, rules.md "Static rules") over every
/// `.py` file of the submission folder, as a check. The code is parsed, never run; a folder without
/// code, or code the analyzer cannot read, leaves the check incomplete with the reason.
public enum StaticFindingsProvider {
    /// The provider the audit uses.
    public static func make() -> FindingsCheckProvider {
        FindingsCheckProvider(id: Audit.staticFindingsID, title: "Static code findings") { context in
            outcome(for: context.submission, nonRecord: context.isNonRecord)
        }
    }

    static func outcome(for submission: Submission, nonRecord: Bool = false) -> FindingsOutcome {
        let folder = submission.folder.standardizedFileURL.path
        let hasPython = FileManager.default.enumerator(atPath: folder)?.contains { ($0 as? String)?.hasSuffix(".py") == true } ?? false
        guard hasPython else {
            return FindingsOutcome(findings: [], incompleteReason: "no Python code in the folder to analyse")
        }
        let inputs: Linter.Inputs
        do {
            inputs = try Linter.collect([folder])
        } catch {
            return FindingsOutcome(findings: [], incompleteReason: "could not list the code: \(relative(String(describing: error), to: folder))")
        }
        let files = inputs.files
        let findings: [Finding]
        do {
            let linter = Linter(parser: try PythonParser())
            let sources = try linter.analyze(files: files)
            findings = (linter.check(sources, submissionFolder: folder) + linter.linkFindings(inputs.linksOutside))
                .sorted(by: Finding.reportOrder)
        } catch {
            return FindingsOutcome(findings: [], incompleteReason: "the static analyzer could not run: \(relative(String(describing: error), to: folder))")
        }
        let analysed = files.map { AuditEvidence("analysed \(relative($0, to: folder)) (parsed with python3's ast, never run)") }
        // Code the submission runs but the analysis did not read leaves the check incomplete, naming it.
        let unread = findings.filter { $0.rule == UnreadCode.descriptor.id }
            .map { "\(relative($0.file, to: folder)):\($0.decodedFromLine ?? $0.line)" }
        let incomplete = unread.isEmpty ? nil : "code not analysed: " + unread.prefix(8).joined(separator: ", ")
            + (unread.count > 8 ? " and \(unread.count - 8) more" : "") + " (PG-UNREAD-CODE)"
        let recordTrackRules = Set(LintRules.descriptors.filter(\.recordTrackOnly).map(\.id))
        let judged = findings.map { finding in
            var finding = finding
            if nonRecord && recordTrackRules.contains(finding.rule) {
                finding.severity = .note
                finding.message += " (non-record track: the 10-minute limits do not apply)"
            }
            return auditFinding(finding, folder: folder)
        }
        return FindingsOutcome(findings: judged, incompleteReason: incomplete, analysed: analysed)
    }

    static func auditFinding(_ finding: Finding, folder: String) -> AuditFinding {
        let severity: AuditSeverity = switch finding.severity {
        case .error: .error
        case .warning: .warning
        case .note: .note
        }
        // Reports point at lines of the file as shipped; for code decoded from a self-extracting
        // wrapper that is the wrapper's line, with the decoded line in the message.
        let decoded = finding.decodedFromLine.map { _ in " (line \(finding.line) of the code decoded from this wrapper)" } ?? ""
        return AuditFinding(rule: finding.rule, severity: severity, file: relative(finding.file, to: folder),
                            line: finding.decodedFromLine ?? finding.line, message: finding.message + decoded)
    }

    /// `path` relative to `folder`, so that reports are the same wherever the folder lies.
    static func relative(_ path: String, to folder: String) -> String {
        path.replacingOccurrences(of: folder.hasSuffix("/") ? folder : folder + "/", with: "")
    }
}
