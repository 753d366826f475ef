import Foundation

/// The audit as a pull-request comment (GitHub-flavoured Markdown): the verdict first, a table of
/// checks, the runs with claimed (and, when available, reproduced) numbers, the findings with
/// `file:line`, the evidence, and how to reproduce the audit.
extension AuditReport {
    public var markdown: String {
        var out: [String] = []
        out.append("## pgverify audit: \(AuditMarkdown.badge(verdict.outcome)) `\(subject)`")
        out.append("")
        out.append("**Verdict: \(verdict.outcome.rawValue)** (exit code \(verdict.exitStatus.rawValue))")
        if !verdict.reasons.isEmpty {
            out.append("")
            for reason in verdict.reasons { out.append("- \(AuditMarkdown.inline(reason))") }
        }
        out.append("")
        out.append("### Checks")
        out.append("")
        out.append("| | Check | Status | Summary |")
        out.append("|---|---|---|---|")
        for check in checks {
            out.append("| \(AuditMarkdown.icon(check.status)) | `\(check.id)` \(AuditMarkdown.cell(check.title)) | "
                + "\(check.status.rawValue) | \(AuditMarkdown.cell(check.summary)) |")
        }
        out += runsSection()
        out += findingsSection()
        out += evidenceSection()
        out.append("")
        out.append("### Reproduce this audit")
        out.append("")
        out.append("```sh")
        out.append("swift build -c release")
        out.append(".build/release/" + reproduceCommand(format: "markdown"))
        out.append("```")
        out.append("")
        out.append("pgverify never runs the submission's code; exit codes: 0 PASS, 1 FAIL, 3 INCOMPLETE, 2 bad input.")
        return out.joined(separator: "\n") + "\n"
    }

    /// The command line that gives this report again (the subject under `records/` when it sits in a track folder).
    public func reproduceCommand(format: String) -> String {
        var command = "verify '\(subject.hasPrefix("track_") ? "records/" + subject : subject)' --format \(format)"
        if quick { command += " --quick" }
        if let evaluation {
            command += " --tokenizer '\(evaluation.tokenizer.relativePath)' --val '\(evaluation.validationPattern)'"
        }
        if let previousRecord {
            command += " --previous-record "
                + (previousRecord.source == "command line"
                    ? previousRecord.valLosses.map { AuditFormat.fixed($0, digits: 8) }.joined(separator: ",")
                    : "'\(previousRecord.source)'")
        }
        return command
    }

    private func runsSection() -> [String] {
        var out = ["", "### Runs: claimed and reproduced", ""]
        guard !runs.isEmpty else { return out + ["No train log reports a run."] }
        let reproduced = checks.first { $0.id == Audit.reproducedScoreID }
        let reproducedBySeed = Dictionary(
            (reproduced?.measurements ?? []).filter { $0.name == "reproduced_val_bpb" }.map { ($0.seed ?? -1, $0.value) },
            uniquingKeysWith: { first, _ in first })
        out.append("| Log | Seed | val_bpb (claimed) | val_loss (nats) | Train (s) | Eval (s) | val_bpb (reproduced) |")
        out.append("|---|---|---|---|---|---|---|")
        for run in runs {
            func cell(_ claim: Claim?, digits: Int? = nil) -> String {
                guard let claim else { return "—" }
                let text = digits.flatMap { d in claim.value.double.map { AuditFormat.fixed($0, digits: d) } } ?? claim.value.description
                return "\(text) (\(AuditLocation(claim.source).line.map { "l.\($0)" } ?? "name"))"
            }
            let again = reproducedBySeed[run.seed ?? -1].map { AuditFormat.fixed($0, digits: 8) } ?? "—"
            out.append("| \(AuditMarkdown.cell(run.log)) | \(run.seed.map(String.init) ?? "—") | \(cell(run.valBPB)) | "
                + "\(cell(run.valLoss)) | \(cell(run.trainSeconds, digits: 1)) | \(cell(run.evalSeconds, digits: 1)) | \(again) |")
        }
        if let reproduced {
            out.append("")
            out.append("Reproduction (`\(reproduced.id)`): \(reproduced.status.rawValue) — \(AuditMarkdown.inline(reproduced.summary))")
        }
        if let previousRecord {
            out.append("")
            out.append("Previous record (\(AuditMarkdown.inline(previousRecord.source))): val_loss "
                + previousRecord.valLosses.map { AuditFormat.fixed($0, digits: 8) }.joined(separator: ", ") + " nats")
        }
        return out
    }

    private func findingsSection() -> [String] {
        var out = ["", "### Findings", ""]
        let all = checks.flatMap { check in check.findings.map { (check.id, $0) } }
            .enumerated().sorted { ($0.element.1.severity, $0.offset) < ($1.element.1.severity, $1.offset) }.map(\.element)
        guard !all.isEmpty else { return out + ["No findings."] }
        for (_, finding) in all {
            let location = finding.locationText.map { " `\($0)`" } ?? ""
            out.append("- **\(finding.severity.rawValue)** `\(finding.rule)`\(location): \(AuditMarkdown.inline(finding.message))")
        }
        return out
    }

    private func evidenceSection() -> [String] {
        var out = ["", "<details><summary>Evidence for each check</summary>", ""]
        for check in checks where !check.evidence.isEmpty {
            out.append("**`\(check.id)`**")
            out.append("")
            for item in check.evidence {
                let location = item.location.map { "`\($0)`: " } ?? ""
                out.append("- \(location)\(AuditMarkdown.inline(item.text))")
            }
            out.append("")
        }
        out.append("</details>")
        return out
    }
}

/// Markdown helpers: status marks and escaping of text from the submission.
enum AuditMarkdown {
    static func badge(_ outcome: AuditVerdict.Outcome) -> String {
        switch outcome {
        case .pass: return "✅ PASS"
        case .fail: return "❌ FAIL"
        case .incomplete: return "⚠️ INCOMPLETE"
        }
    }

    static func icon(_ status: AuditStatus) -> String {
        switch status {
        case .pass: return "✅"
        case .fail: return "❌"
        case .warn: return "⚠️"
        case .incomplete: return "❔"
        case .skipped: return "➖"
        }
    }

    /// Text safe inside a line: HTML-significant characters escaped, newlines flattened.
    static func inline(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }

    /// Text safe inside a table cell (pipes escaped as well).
    static func cell(_ text: String) -> String {
        inline(text).replacingOccurrences(of: "|", with: "\\|")
    }
}
