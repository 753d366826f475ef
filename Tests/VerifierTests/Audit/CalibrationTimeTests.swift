import Foundation
import Testing
@testable import Verifier

/// TIME-TRAIN counts calibration on training data after the loop (TIME-TRAIN-CALIBRATION).
@Suite struct CalibrationTimeTests {
    static func log(_ lines: [String]) -> SubmissionTextFile {
        SubmissionTextFile(name: "train_seed42.log", bytes: 0, lines: lines)
    }

    static let training = [
        "step:6000/20000 val_loss:1.9541 val_bpb:1.1573 train_time:540000ms step_avg:90.00ms",
        "step:6667/20000 val_loss:1.9473 val_bpb:1.1533 train_time:600037ms step_avg:90.00ms",
        "stopping_early: wallclock_cap train_time:600037ms step:6667/20000",
    ]

    @Test(arguments: [
        ("GPTQ:collected 66 Hessians in 9.8s", 9.8),
        ("gptq:calibrated 66 layers in 3.5s", 3.5),
        ("GPTQ:collected 66 Hessians + 66 act_stats in 4.25 s", 4.25),
        ("2026-03-25 10:00:01 | gptq:calibrated 66 layers in 3.5s", 3.5),
    ])
    func aTimedCalibrationAfterTrainingIsAdded(line: String, seconds: Double) throws {
        let outcome = try #require(CalibrationTimeSurvey.survey(Self.log(Self.training + ["gptq:calibrating with training data...", line])))
        guard case .readsTrainingData(let calibration) = outcome else { Issue.record("\(outcome)"); return }
        #expect(calibration.trainSeconds == 600.037)
        #expect(calibration.trainLine == 3)
        #expect(calibration.seconds == seconds)
        #expect(calibration.line == 5)
    }

    @Test(arguments: [
        "gptq:reserving 12s, effective=588000ms",          // no duration of calibration
        "GPTQ:collecting Hessians from calibration data...",
        "gptq:calibrated 66 layers in 256 seqs",           // not seconds
        "quantize: 66 GPTQ layers in 3.5s",                // neither Hessians nor calibration
    ])
    func otherLinesAreNotCalibrationTimes(line: String) {
        #expect(CalibrationTimeSurvey.survey(Self.log(Self.training + [line])) == nil)
    }

    @Test func calibrationDataReadFromATrainShardIsNotSelfGenerated() {
        #expect(!CalibrationTimeSurvey.isSelfGeneratedData("calib: using 64 windows from train shard fineweb_train_000000.bin (seq_len=2048)"))
        #expect(!CalibrationTimeSurvey.isSelfGeneratedData("gptq:calibrating with training data..."))
    }

    @Test(arguments: ["gptq:generating autoregressive calibration data (64 seqs x 2048 tokens, temp=0.8)...",
                      "gptq: generating AR calibration data...", "ar_self_gen_calib:n=64"])
    func selfGeneratedCalibrationDataIsNotTraining(evidence line: String) throws {
        let lines = Self.training + [line, "GPTQ:collected 66 Hessians in 20.0s"]
        guard case .selfGenerated(let calibration, let evidence) = try #require(CalibrationTimeSurvey.survey(Self.log(lines))) else {
            Issue.record("not self-generated"); return
        }
        #expect(evidence == 4)
        #expect(calibration.seconds == 20)
    }

    @Test func calibrationInsideTheLoopIsAlreadyInTrainTime() {
        let lines = ["step:100/200 train_time:300000ms", "gptq:calibrated 66 layers in 3.5s", "step:200/200 train_time:590000ms"]
        #expect(CalibrationTimeSurvey.survey(Self.log(lines)) == nil)
    }

    /// The `record` fixture with its seed-42 log ending in a calibration line.
    static func auditRecord(appending lines: [String]) throws -> AuditReport {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-calib-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Paths.fixture("audit/record"), to: folder)
        let log = folder.appendingPathComponent("train_seed42.log")
        let text = try String(contentsOf: log, encoding: .utf8)
        try (text + lines.joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        return try Audit.run(try Submission.read(at: folder), options: AuditOptions(previousRecord: nil),
                             providers: [TimeLimitCheckProvider()])
    }

    @Test func calibrationThatTakesTrainingPastTheBudgetFails() throws {
        // The fixture's seed-42 run trained for 598 s; 3.5 s of calibration makes it 601.5 s.
        let report = try Self.auditRecord(appending: ["gptq:calibrated 66 layers in 3.5s"])
        let check = try #require(report.checks.first { $0.id == "TIME-TRAIN" })
        #expect(check.status == .fail)
        let finding = try #require(check.findings.first { $0.rule == "TIME-TRAIN-CALIBRATION" })
        #expect(finding.severity == .error)
        #expect(finding.locationText == "train_seed42.log:\(try Self.recordLogLines() + 1)")
        #expect(finding.message.contains("calibration after training took 3.5 s"))
        #expect(finding.message.contains("601.5 s, over the 600 s budget"))
    }

    @Test func anOvershootOfAStatedReserveIsAWarning() throws {
        let report = try Self.auditRecord(appending: ["gptq:reserving 0s, effective=599500ms", "gptq_reserve_seconds: 0.5",
                                                      "GPTQ:collected 67 Hessians in 3.5s"])
        let check = try #require(report.checks.first { $0.id == "TIME-TRAIN" })
        #expect(check.status == .warn)
        let finding = try #require(check.findings.first { $0.rule == "TIME-TRAIN-CALIBRATION" })
        #expect(finding.severity == .warning)
        #expect(finding.message.contains("and the 0.5 s reserved for it were not enough"))
    }

    @Test(arguments: [
        ("gptq:reserving 12s, effective=588000ms", 12.0),
        ("gptq:reserving 8000ms from training budget, effective=592000ms", 8.0),
        ("  gptq_reserve_seconds: 0.5", 0.5),
        ("gptq_reserve_ms=2500", 2.5),
        ("stopping_early: wallclock_cap train_time:588000ms step:5000/20000 (reserving 12s for GPTQ)", 12.0),
    ])
    func reservesAreRead(line: String, seconds: Double) {
        #expect(CalibrationTimeSurvey.reservedSeconds(line.lowercased()) == seconds)
    }

    @Test func linesWithoutAReserveStateNone() {
        #expect(CalibrationTimeSurvey.reservedSeconds("reserved: 1024 mib") == nil)
        #expect(CalibrationTimeSurvey.reservedSeconds("gptq:reserving some time") == nil)
    }

    @Test func calibrationWithinTheReserveIsEvidenceOnly() throws {
        let report = try Self.auditRecord(appending: ["gptq:calibrated 66 layers in 1.5s"])
        let check = try #require(report.checks.first { $0.id == "TIME-TRAIN" })
        #expect(check.status == .pass)
        #expect(check.evidence.contains { $0.text.contains("training 598.0 s (line 5) + calibration 1.5 s = 599.5 s") })
    }

    static func recordLogLines() throws -> Int {
        try String(contentsOf: Paths.fixture("audit/record/train_seed42.log"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).count - 1
    }
}
