import Foundation
import Testing
@testable import Verifier

/// `verify` on every record folder of the corpus: no crash, a verdict for each, and the committed,
/// reviewed summary (`fixtures/audit/corpus-summary.tsv`, see `docs/corpus-audit.md`) reproduced.
/// Set `PGVERIFY_UPDATE_GOLDENS=1` to rewrite the file after a reviewed change.
@Suite struct CorpusAuditTests {
    static let records = Paths.shared("corpus/parameter-golf/records")
    static let summary = Paths.fixture("audit/corpus-summary.tsv")

    /// The folders, as `track_*/<name>`, sorted.
    static func folders() throws -> [URL] {
        let manager = FileManager.default
        return try manager.contentsOfDirectory(atPath: records.path).filter { $0.hasPrefix("track_") }.sorted().flatMap { track in
            try manager.contentsOfDirectory(atPath: records.appendingPathComponent(track).path).sorted()
                .map { records.appendingPathComponent(track).appendingPathComponent($0) }
        }
    }

    /// One row: folder, verdict, every check's status, and the deciding reasons (REPRODUCED-VAL-BPB,
    /// incomplete in every row since no corpus folder ships its artifact, left out).
    static func row(_ report: AuditReport) -> String {
        let placeholders = [Audit.reproducedScoreID]
        let statuses = report.checks.filter { !placeholders.contains($0.id) }.map { "\($0.id)=\($0.status.rawValue)" }
        let reasons = report.verdict.reasons.filter { reason in !placeholders.contains { reason.hasPrefix($0 + ":") } }
        let errors = Array(Set(report.findings.filter { $0.severity == .error }.map(\.rule))).sorted()
        return [report.subject, report.verdict.outcome.rawValue, statuses.joined(separator: " "),
                errors.isEmpty ? "-" : errors.joined(separator: ","), reasons.joined(separator: " | ")]
            .map { $0.replacingOccurrences(of: "\t", with: " ") }.joined(separator: "\t")
    }

    @Test func everyCorpusFolderGetsTheReviewedVerdict() throws {
        try #require(FileManager.default.fileExists(atPath: Self.records.path), "needs ../shared/corpus")
        let folders = try Self.folders()
        #expect(folders.count == 60)
        var rows = ["# verify on each record folder of ../shared/corpus/parameter-golf/records (no --previous-record); "
                    + "reviewed in docs/corpus-audit.md",
                    "folder\tverdict\tchecks\terror_rules\treasons"]
        for folder in folders {
            let report = try Audit.run(try Submission.read(at: folder))
            #expect(report.verdict.outcome != .pass, "\(folder.lastPathComponent): nothing can pass without the evaluator")
            rows.append(Self.row(report))
        }
        let text = rows.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["PGVERIFY_UPDATE_GOLDENS"] == "1" {
            try Data(text.utf8).write(to: Self.summary)
        }
        let committed = try String(contentsOf: Self.summary, encoding: .utf8)
        let expected = committed.split(separator: "\n", omittingEmptySubsequences: false)
        let actual = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(expected.count == actual.count)
        for (want, got) in zip(expected, actual) where want != got {
            Issue.record("corpus summary differs:\n  committed: \(want)\n  now:       \(got)")
        }
    }
}
