import Foundation
import Testing
@testable import Verifier

/// The seams for the static analyzer and the reference evaluator: findings and reproduced scores
/// plug in as providers, and the verdict and reports use them without changes to the core.
@Suite struct PluggedProvidersTests {
    static let previous = try? PreviousRecord.parse(Paths.fixture("audit/previous-record.txt").path)

    /// A provider returning the reproduced scores it is given, as the evaluator's provider will.
    struct FixedReproduction: CheckProvider {
        var scores: [ReproducedScore]
        func checks(for context: AuditContext) throws -> [AuditCheck] {
            [ReproducedScoreCheck.check(scores, runs: context.runs)]
        }
    }

    static func providers(findings: [AuditFinding], scores: [ReproducedScore]) -> [any CheckProvider] {
        [SizeCheckProvider(), TimeLimitCheckProvider(), ClaimConsistencyCheckProvider(), SignificanceCheckProvider(),
         FindingsCheckProvider(id: Audit.staticFindingsID, title: "Static code findings") { _ in FindingsOutcome(findings: findings) },
         FixedReproduction(scores: scores)]
    }

    static let stream: [(x: Double, y: Double)] = [(1000, 1.31), (2000, 1.25), (4000, 1.22), (8000, 1.2151)]

    @Test func everyCheckPassingGivesPass() throws {
        let submission = try Submission.read(at: Paths.fixture("audit/record"))
        let scores = [ReproducedScore(artifact: "final_model.int8.ptz", seed: 42, valBPB: 1.2151, stream: Self.stream)]
        let report = try Audit.run(submission, options: AuditOptions(previousRecord: Self.previous),
                                   providers: Self.providers(findings: [], scores: scores))
        #expect(report.verdict == AuditVerdict(outcome: .pass, reasons: []))
        #expect(report.verdict.exitStatus == .pass)
        #expect(report.markdown.contains("| train_seed42.log | 42 | 1.21494627 (l.10) | 2.05120000 (l.10) | 598.0 (l.5) | 41.0 (l.9) | 1.21510000 |"))
        let html = report.html(folder: submission.folder)
        #expect(html.contains("<polyline points="))
        #expect(!html.contains("no evaluation ran"))
    }

    @Test func anErrorFindingFromTheAnalyzerFails() throws {
        let submission = try Submission.read(at: Paths.fixture("audit/record"))
        let finding = AuditFinding(rule: "TTT-UNSCORED-TOKENS", severity: .error, file: "train_gpt.py", line: 2,
                                   message: "weights updated on validation tokens before they are scored")
        let report = try Audit.run(submission, options: AuditOptions(previousRecord: Self.previous),
                                   providers: Self.providers(findings: [finding], scores: []))
        #expect(report.verdict.outcome == .fail)
        #expect(report.verdict.reasons == ["STATIC-FINDINGS: 1 error(s), 0 warning(s), 0 note(s); first: TTT-UNSCORED-TOKENS at train_gpt.py:2"])
        #expect(report.markdown.contains("- **error** `TTT-UNSCORED-TOKENS` `train_gpt.py:2`: weights updated on validation tokens before they are scored"))
        #expect(report.html(folder: submission.folder).contains("<mark>    2  MAX_WALLCLOCK_SECONDS = 600.0</mark>"))
        // The evaluator reported nothing: its check is incomplete, but the failure decides.
        #expect(report.checks.last?.status == .incomplete)
    }

    @Test func reproducedScoresAgainstClaims() throws {
        let runs = RunResult.runs(of: try Submission.read(at: Paths.fixture("audit/record")))
        // Claimed for seed 42: 1.21494627 (8 decimals): the tolerance is 0.001 + 1e-8.
        func status(_ value: Double, seed: Int? = 42) -> AuditStatus {
            ReproducedScoreCheck.check([ReproducedScore(artifact: "a.ptz", seed: seed, valBPB: value)], runs: runs).status
        }
        #expect(status(1.21494627) == .pass)
        #expect(status(1.2159) == .pass)
        #expect(status(1.2160) == .fail)
        #expect(status(1.2139) == .warn)
        // Without a seed, the closest claimed run (seed 2025, 1.21364319) is compared.
        let unknown = ReproducedScoreCheck.check([ReproducedScore(artifact: "a.ptz", valBPB: 1.2137)], runs: runs)
        #expect(unknown.status == .pass)
        #expect(unknown.evidence.first?.location?.description == "train_seed2025.log:10")
        #expect(ReproducedScoreCheck.check([], runs: runs).status == .incomplete)
        let orphan = ReproducedScoreCheck.check([ReproducedScore(artifact: "a.ptz", seed: 99, valBPB: 1.2)], runs: runs)
        #expect(orphan.status == .warn)
    }

    @Test func analyzerThatCannotRunIsIncomplete() throws {
        let provider = FindingsCheckProvider(id: Audit.staticFindingsID, title: "Static code findings") { _ in
            FindingsOutcome(findings: [AuditFinding(rule: "X", severity: .warning, message: "w")],
                            incompleteReason: "train_gpt.py: wrapper not decoded")
        }
        let context = AuditContext(submission: try Submission.read(at: Paths.fixture("audit/record")), options: AuditOptions())
        let check = try #require(try provider.checks(for: context).first)
        #expect(check.status == .incomplete)
        #expect(check.summary == "train_gpt.py: wrapper not decoded")
    }
}
