import Foundation
import Testing
@testable import Verifier

/// The synthetic submissions of `fixtures/audit/` get the verdicts and findings they were built for.
@Suite struct AuditVerdictTests {
    static let previous = try? PreviousRecord.parse(Paths.fixture("audit/previous-record.txt").path)

    static func audit(_ fixture: String, providers: [any CheckProvider] = Audit.defaultProviders(),
                      previous: PreviousRecord? = AuditVerdictTests.previous) throws -> AuditReport {
        try Audit.run(try Submission.read(at: Paths.fixture("audit/\(fixture)")),
                      options: AuditOptions(previousRecord: previous), providers: providers)
    }

    static func status(_ report: AuditReport, _ id: String) -> AuditStatus? {
        report.checks.first { $0.id == id }?.status
    }

    /// The providers implemented in this build (without the two "not available" placeholders).
    static let coreProviders: [any CheckProvider] = [
        SizeCheckProvider(), TimeLimitCheckProvider(), ClaimConsistencyCheckProvider(), SignificanceCheckProvider(),
    ]

    @Test func completeRecordPassesTheCoreChecksAndIsIncompleteOverall() throws {
        let full = try Self.audit("record")
        #expect(full.verdict.outcome == .incomplete)
        // No tokenizer and validation data were given, so val_bpb is not reproduced.
        #expect(full.verdict.reasons.count == 1)
        #expect(Self.status(full, Audit.staticFindingsID) == .pass)
        #expect(full.verdict.reasons.contains { $0.hasPrefix("REPRODUCED-VAL-BPB") && $0.contains("no evaluation data given") })
        #expect(full.verdict.exitStatus == .incomplete)
        let core = try Self.audit("record", providers: Self.coreProviders)
        #expect(core.verdict == AuditVerdict(outcome: .pass, reasons: []))
        #expect(core.checks.map(\.status) == [.pass, .pass, .pass, .pass, .pass])
        let significance = try #require(core.checks.first { $0.id == "SIGNIFICANCE" })
        // SciPy: improvement-test-golden.tsv row 1.
        let p = try #require(significance.measurements.first { $0.name == "p_value" }?.value)
        #expect(abs(p - 0.0028432970505114386) < 1e-9)
        #expect(significance.evidence.last?.text.hasPrefix("one-sided Welch t-test on val_loss (nats)") == true)
    }

    @Test func aFourthSeedBreaksSignificance() throws {
        let report = try Self.audit("fourth-seed")
        #expect(report.verdict.outcome == .fail)
        #expect(Self.status(report, "SIGNIFICANCE") == .fail)
        let p = try #require(report.checks.first { $0.id == "SIGNIFICANCE" }?.measurements.first { $0.name == "p_value" }?.value)
        #expect(abs(p - 0.34120840991148227) < 1e-9)
        #expect(report.verdict.reasons == ["SIGNIFICANCE: not significant: p = 0.3412 ≥ 0.01"])
    }

    @Test func oversizeFails() throws {
        let report = try Self.audit("oversize")
        #expect(report.verdict.outcome == .fail)
        #expect(Self.status(report, "SIZE") == .fail)
        let overCap = report.findings.filter { $0.rule == "SIZE-CLAIMED-OVER-CAP" && $0.severity == .error }
        #expect(overCap.count == 2)
        // Size findings cite their claims in the text; the first cited log line becomes the location.
        #expect(overCap.map(\.locationText) == [nil, "train_seed1337.log:8"])
        #expect(SizeCheckProvider.firstCitedLine(in: "x (a.log:3) and b.log:2", files: ["b.log", "a.log"])
                == AuditLocation(file: "a.log", line: 3))
        #expect(SizeCheckProvider.firstCitedLine(in: "seed_a.log:3", files: ["a.log"]) == nil)
    }

    @Test func claimsThatDisagreeFail() throws {
        let report = try Self.audit("claims-disagree")
        #expect(report.verdict.outcome == .fail)
        #expect(Self.status(report, "CLAIMS") == .fail)
        let errors = report.findings.filter { $0.rule == "CLAIM-VAL-BPB" && $0.severity == .error }
        #expect(errors.count == 2)
        #expect(errors.first?.message.contains("seed 42 val_bpb 1.2101 (submission.json: seed_results.42.val_bpb) is better than the logs support: final score 1.21494627 (train_seed42.log:10)") == true)
    }

    @Test func missingLogsFail() throws {
        let report = try Self.audit("missing-logs")
        #expect(report.verdict.outcome == .fail)
        #expect(report.verdict.reasons.first?.hasPrefix("CLAIMS: no train log") == true)
        #expect(Self.status(report, "TIME-TRAIN") == .incomplete)
        #expect(Self.status(report, "SIGNIFICANCE") == .incomplete)
    }

    @Test func overtimeFailsButACapStopPasses() throws {
        let report = try Self.audit("overtime")
        #expect(Self.status(report, "TIME-TRAIN") == .fail)
        let findings = report.checks.first { $0.id == "TIME-TRAIN" }?.findings ?? []
        #expect(findings.map(\.severity) == [.note, .error])
        #expect(findings.last?.locationText == "train_seed42.log:5")
        #expect(findings.last?.message.contains("612.4 s") == true)
    }

    @Test func withoutThePreviousRecordSignificanceIsIncomplete() throws {
        let report = try Self.audit("record", providers: Self.coreProviders, previous: nil)
        #expect(report.verdict.outcome == .incomplete)
        #expect(report.verdict.reasons == ["SIGNIFICANCE: the previous record's per-seed val_loss values were not given (--previous-record)"])
    }

    @Test func verdictRules() {
        func check(_ status: AuditStatus, _ severity: AuditSeverity = .error) -> AuditCheck {
            AuditCheck(id: "X-\(status.rawValue)", title: "", status: status, severity: severity, summary: status.rawValue)
        }
        #expect(AuditVerdict.decide([check(.pass), check(.warn), check(.skipped)]).outcome == .pass)
        #expect(AuditVerdict.decide([check(.pass), check(.incomplete)]).outcome == .incomplete)
        #expect(AuditVerdict.decide([check(.incomplete), check(.fail)]) == AuditVerdict(outcome: .fail, reasons: ["X-fail: fail"]))
        #expect(AuditVerdict.decide([check(.fail, .warning)]).outcome == .pass)
        #expect(AuditVerdict.decide([]).outcome == .pass)
    }

    @Test func previousRecordArgumentForms() throws {
        #expect(try PreviousRecord.parse("2.06, 2.061,2.0605").valLosses == [2.06, 2.061, 2.0605])
        let file = try PreviousRecord.parse(Paths.fixture("audit/previous-record.txt").path)
        #expect(file == PreviousRecord(valLosses: [2.0600, 2.0610, 2.0605], source: "previous-record.txt"))
        let folder = try PreviousRecord.parse(Paths.fixture("audit/record").path)
        #expect(folder.valLosses == [2.0500, 2.0490, 2.0512])  // train_seed1337, train_seed2025, train_seed42
        #expect(throws: PreviousRecordError.notANumber("abc", .init(file: "--previous-record"))) {
            try PreviousRecord.parse("2.06,abc")
        }
        #expect(throws: PreviousRecordError.noValues(source: "--previous-record")) { try PreviousRecord.parse(" , ") }
    }
}

extension AuditVerdictTests {
    @Test func quickSaysTheReproductionWasSkipped() throws {
        let submission = try Submission.read(at: Paths.fixture("audit/record"))
        let report = try Audit.run(submission, options: AuditOptions(quick: true, previousRecord: Self.previous))
        let check = try #require(report.checks.first { $0.id == Audit.reproducedScoreID })
        #expect(check.status == .incomplete)
        #expect(check.summary.hasPrefix("skipped by --quick"))
        #expect(report.quick)
        #expect(report.markdown.contains("--quick"))
    }
}

/// submission.json's val_loss against the logged final lines (CLAIM-VAL-LOSS).
extension AuditVerdictTests {
    /// The `record` fixture with submission.json's text edited by `edit`.
    static func recordWithMetadata(_ edit: (String) -> String) throws -> AuditReport {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-loss-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Paths.fixture("audit/record"), to: folder)
        let metadata = folder.appendingPathComponent("submission.json")
        let text = try String(contentsOf: metadata, encoding: .utf8)
        try edit(text).write(to: metadata, atomically: true, encoding: .utf8)
        return try Audit.run(try Submission.read(at: folder), options: AuditOptions(previousRecord: previous),
                             providers: coreProviders)
    }

    @Test func lossesThatAgreeWithTheLogsRaiseNothing() throws {
        let report = try Self.recordWithMetadata { $0 }
        #expect(report.findings.filter { $0.rule == "CLAIM-VAL-LOSS" }.isEmpty)
    }

    @Test func aPerSeedLossTheLogsDoNotPrintIsAWarningCitingTheLog() throws {
        let report = try Self.recordWithMetadata { $0.replacingOccurrences(of: "\"val_loss\": 2.0512,", with: "\"val_loss\": 2.0412,") }
        let findings = report.findings.filter { $0.rule == "CLAIM-VAL-LOSS" }
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("seed 42 val_loss 2.0412 (submission.json: seed_results.42.val_loss) differs from 2.05120000 (train_seed42.log:10)") == true,
                "\(findings.map(\.message))")
        // A loss is not the score: CLAIMS warns, the verdict does not fail on it.
        #expect(Self.status(report, "CLAIMS") == .warn)
    }

    @Test func aMeanLossThatIsAnotherPrintedEvaluationIsCited() throws {
        // 2.0712 is seed 42's last step line, not a final evaluation.
        let report = try Self.recordWithMetadata { $0.replacingOccurrences(of: "\"val_loss\": 2.05006667,", with: "\"val_loss\": 2.0712,") }
        let findings = report.findings.filter { $0.rule == "CLAIM-VAL-LOSS" }
        #expect(findings.count == 1)
        #expect(findings.first?.message.contains("it matches train_seed42.log:5") == true, "\(findings.map(\.message))")
    }

    @Test func aLossKeyHoldingTheScoreIsSaidToBeOne() throws {
        let report = try Self.recordWithMetadata { $0.replacingOccurrences(of: "\"val_loss\": 2.05006667,", with: "\"val_loss\": 1.21427499,") }
        let findings = report.findings.filter { $0.rule == "CLAIM-VAL-LOSS" }
        #expect(findings.count == 1)
        #expect(findings.first?.message.contains("is not the logged val_loss 2.05006667 (mean of 3 logged runs); it is a val_bpb: ") == true,
                "\(findings.map(\.message))")
    }
}
