import Foundation
import Testing
@testable import Verifier

/// The audit re-evaluating a real artifact (fixtures/eval/tiny.int8.ptz inside the synthetic
/// submissions `fixtures/audit/reproducible` and `not-reproducible`, see tools/make_audit_fixtures.py).
@Suite struct ReproducedScoreProviderTests {
    static let evaluation = AuditEvaluationSettings(
        tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
        validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", threads: 2)

    static func audit(_ name: String, evaluation: AuditEvaluationSettings? = Self.evaluation, quick: Bool = false) throws -> AuditReport {
        let submission = try Submission.read(at: Paths.fixture("audit/\(name)"))
        return try Audit.run(submission, options: AuditOptions(quick: quick, evaluation: evaluation))
    }

    static func reproduced(_ report: AuditReport) throws -> AuditCheck {
        try #require(report.checks.first { $0.id == Audit.reproducedScoreID })
    }

    @Test func honestClaimIsReproduced() throws {
        let check = try Self.reproduced(try Self.audit("reproducible"))
        #expect(check.status == .pass)
        let value = try #require(check.measurements.first { $0.name == "reproduced_val_bpb" }?.value)
        // The PyTorch golden of this artifact (fixtures/eval/goldens.json, tiny, standard, all tokens).
        #expect(abs(value - 5.0154879063058635) <= 1e-4)
        #expect(check.series.first?.points.count == ReproducedScoreCheckProvider.streamSegments)
        #expect(check.series.first?.points.last.map { abs($0.y - value) < 1e-12 } == true)
        #expect(!check.evidence.contains { $0.text.contains(Paths.packageRoot.path) })
    }

    @Test func inflatedClaimFailsTheAudit() throws {
        let report = try Self.audit("not-reproducible")
        let check = try Self.reproduced(report)
        #expect(check.status == .fail)
        #expect(check.findings.contains { $0.severity == .error && $0.message.contains("not reproduced") })
        #expect(report.verdict.outcome == .fail)
    }

    @Test func withoutDataOrWithQuickTheCheckIsIncomplete() throws {
        let noData = try Self.reproduced(try Self.audit("reproducible", evaluation: nil))
        #expect(noData.status == .incomplete)
        #expect(noData.summary.contains("--tokenizer"))
        let quick = try Self.reproduced(try Self.audit("reproducible", quick: true))
        #expect(quick.status == .incomplete)
    }

    @Test func unreadableArtifactLeavesTheCheckIncompleteWithTheReason() throws {
        // The synthetic record's artifact is a byte pattern, not a torch archive.
        let check = try Self.reproduced(try Self.audit("record"))
        #expect(check.status == .incomplete)
        #expect(check.summary.hasPrefix("could not re-evaluate final_model.int8.ptz"))
    }
}
