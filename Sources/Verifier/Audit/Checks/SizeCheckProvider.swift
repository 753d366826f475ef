/// `SIZE`: the 16,000,000-byte cap, from measured bytes and from the submission's own figures
/// (``SizeReport``; its finding IDs are documented in rules.md under "Size accounting").
public struct SizeCheckProvider: CheckProvider {
    public init() {}

    public func checks(for context: AuditContext) throws -> [AuditCheck] {
        let report = context.size
        let textFiles = context.submission.logs.map(\.name) + (context.submission.readme.map { [$0.name] } ?? [])
        let findings = report.findings.map {
            AuditFinding(rule: $0.id.rawValue, severity: AuditSeverity(rawValue: $0.severity.rawValue) ?? .note,
                         at: Self.firstCitedLine(in: $0.message, files: textFiles), message: $0.message)
        }
        let status: AuditStatus
        let summary: String
        switch report.status {
        case .fail:
            status = .fail
            summary = findings.first { $0.severity == .error }?.message ?? "over the cap"
        case .incomplete:
            status = .incomplete
            summary = findings.first { $0.rule == SizeCheckID.artifactMissing.rawValue || $0.rule == SizeCheckID.artifactAmbiguous.rawValue }
                .map { _ in "model bytes not measured (no single artifact in the folder); claimed figures are within the cap" }
                ?? "the total could not be measured"
        case .pass:
            let hasWarnings = findings.contains { $0.severity == .warning }
            status = hasWarnings ? .warn : .pass
            summary = "\(AuditFormat.grouped(report.totalBytes ?? 0)) bytes measured, within the \(AuditFormat.grouped(SizeReport.limit))-byte cap"
                + (hasWarnings ? "; claimed figures disagree (see findings)" : "")
        }
        var evidence: [AuditEvidence] = []
        if let file = report.codeFile, let bytes = report.codeBytes {
            evidence.append(AuditEvidence("code: \(bytes) bytes on disk", at: AuditLocation(file: file)))
        }
        if let file = report.artifactFile, let bytes = report.modelBytes {
            evidence.append(AuditEvidence("model: \(bytes) bytes on disk", at: AuditLocation(file: file)))
        }
        for mismatch in report.mismatches {
            evidence.append(AuditEvidence(
                "\(mismatch.quantity.rawValue) claimed \(mismatch.claimed), \(mismatch.expectedIsMeasured ? "measured" : "expected") "
                    + "\(mismatch.expected) (\(mismatch.expectedSource))",
                at: AuditLocation(mismatch.claimSource)))
        }
        var measurements: [AuditMeasurement] = []
        if let bytes = report.codeBytes { measurements.append(AuditMeasurement("code_bytes", Double(bytes), unit: "bytes")) }
        if let bytes = report.modelBytes { measurements.append(AuditMeasurement("model_bytes", Double(bytes), unit: "bytes")) }
        if let bytes = report.totalBytes { measurements.append(AuditMeasurement("total_bytes", Double(bytes), unit: "bytes")) }
        if let claimed = report.claims.filter({ $0.kind == .totalBytes && $0.aggregate != .mean })
            .max(by: { ($0.value.double ?? 0) < ($1.value.double ?? 0) }), let value = claimed.value.double {
            measurements.append(AuditMeasurement("largest_claimed_total_bytes", value, unit: "bytes", seed: claimed.seed,
                                                 at: AuditLocation(claimed.source)))
        }
        measurements.append(AuditMeasurement("limit_bytes", Double(SizeReport.limit), unit: "bytes"))
        return [AuditCheck(
            id: "SIZE", title: "Artifact size ≤ 16,000,000 bytes", status: status, severity: .error, summary: summary,
            evidence: evidence, findings: findings, measurements: measurements)]
    }

    /// The first `file:line` the message cites for one of `files` (size findings cite their claims in
    /// the text), so reports can show the line.
    static func firstCitedLine(in message: String, files: [String]) -> AuditLocation? {
        var best: (offset: Int, location: AuditLocation)?
        for file in files {
            var search = message[...]
            while let range = search.range(of: file + ":") {
                let digits = message[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
                let before = range.lowerBound == message.startIndex ? " " : message[message.index(before: range.lowerBound)]
                if let line = Int(digits), before == " " || before == "(" {
                    let offset = message.distance(from: message.startIndex, to: range.lowerBound)
                    if best.map({ offset < $0.offset }) ?? true { best = (offset, AuditLocation(file: file, line: line)) }
                    break
                }
                search = message[range.upperBound...]
            }
        }
        return best?.location
    }
}
