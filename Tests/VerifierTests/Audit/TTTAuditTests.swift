import Foundation
import Testing
@testable import Verifier

/// The audit re-running a claimed score-first TTT score (fixtures/audit/ttt-chunked and ttt-lora:
/// the real tiny artifact, claims computed by the records' own TTT functions on it, written by
/// tools/make_ttt_audit_fixtures.py; each folder's golden.json holds the PyTorch values).
@Suite struct TTTAuditTests {
    static let evaluation = AuditEvaluationSettings(
        tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
        validationPattern: Paths.fixture("ttt/val_slice.bin").path, threads: 2)

    struct Golden: Decodable {
        struct Score: Decodable { var val_loss: Double; var val_bpb: Double }
        var val_bpb: Double
        var pre_ttt: Score
        var function: String
    }

    static func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("audit/\(name)/golden.json")))
    }

    @Test("a claimed TTT score is re-run by the code's procedure and matches the record's function",
          arguments: ["ttt-chunked", "ttt-lora"])
    func claimedTTTScoreIsReproduced(_ name: String) throws {
        let golden = try Self.golden(name)
        let submission = try Submission.read(at: Paths.fixture("audit/\(name)"))
        let report = try Audit.run(submission, options: AuditOptions(evaluation: Self.evaluation))
        let check = try #require(report.checks.first { $0.id == Audit.reproducedScoreID })
        #expect(check.status == .pass, "\(check.summary)")
        let after = try #require(check.measurements.first { $0.name == "reproduced_val_bpb" }?.value)
        let before = try #require(check.measurements.first { $0.name == "reproduced_val_bpb_before_ttt" }?.value)
        #expect(abs(after - golden.val_bpb) <= 2e-4)
        #expect(abs(before - golden.pre_ttt.val_bpb) <= 2e-4)
        #expect(before - after > 0.1, "adaptation must visibly gain on this model")
        #expect(check.evidence.first?.text.contains(golden.function) == true)
        #expect(check.series.first.map { abs($0.points.last!.y - after) < 1e-12 } == true)
        #expect(report.verdict.outcome == .pass)
    }

    @Test("the TTT procedure is read from the code, also from a self-extracting wrapper")
    func procedureDetection() throws {
        #expect(try TTTProcedure.detect(code: Paths.fixture("audit/ttt-chunked/train_gpt.py")) == .chunkedSGD)
        #expect(try TTTProcedure.detect(code: Paths.fixture("audit/ttt-lora/train_gpt.py")) == .perDocumentLoRA)
        #expect(try TTTProcedure.detect(code: Paths.fixture("audit/reproducible/train_gpt.py")) == nil)
        let records = Paths.shared("corpus/parameter-golf/records/track_10min_16mb")
        #expect(try TTTProcedure.detect(code: records.appendingPathComponent(
            "2026-04-08_SP8192_ParallelResid_ScoreFirstTTT/train_gpt.py")) == .chunkedSGD)
        #expect(try TTTProcedure.detect(code: records.appendingPathComponent(
            "2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py")) == .phased)
    }

    @Test("a TTT claim on code without a known TTT function is incomplete, naming the functions looked for")
    func unknownProcedureIsIncomplete() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-ttt-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Paths.fixture("audit/ttt-chunked"), to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("MAX_WALLCLOCK_SECONDS = 600.0\n".utf8).write(to: folder.appendingPathComponent("train_gpt.py"))
        let report = try Audit.run(try Submission.read(at: folder), options: AuditOptions(evaluation: Self.evaluation))
        let check = try #require(report.checks.first { $0.id == Audit.reproducedScoreID })
        #expect(check.status == .incomplete)
        #expect(check.summary.contains("eval_val_ttt_phased"))
    }
}
