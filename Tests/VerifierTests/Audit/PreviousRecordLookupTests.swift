import Foundation
import Testing
@testable import Verifier

/// The previous record found in a checkout of the challenge's repository (fixtures/audit/checkout: a
/// made-up track folder whose records are dated by folder name, one by the compact `YYYYMMDD_` form).
@Suite struct PreviousRecordLookupTests {
    static func record(_ name: String, track: String = "track_10min_16mb") throws -> Submission {
        try Submission.read(at: Paths.fixture("audit/checkout/records/\(track)/\(name)"))
    }

    @Test func bestRecordDatedStrictlyEarlierIsChosen() throws {
        // Earlier than 2026-03-20: Baseline 1.2244, Better 1.2000, Worse 1.2100, CompactDate 1.1950;
        // SameDay (1.1000, same date) and Later (1.0500) are not earlier.
        let previous = try #require(PreviousRecord.bestEarlierRecord(for: try Self.record("2026-03-20_New")))
        #expect(previous.valLosses == [2.0180])
        #expect(previous.source == "track_10min_16mb/20260319_CompactDate, the best earlier record of the track (val_bpb 1.19500, dated 2026-03-19)")

        let forWorse = try #require(PreviousRecord.bestEarlierRecord(for: try Self.record("2026-03-19_Worse")))
        #expect(forWorse.valLosses == [2.0260, 2.0270, 2.0265])
        #expect(forWorse.source.hasPrefix("track_10min_16mb/2026-03-18_Better,"))
    }

    @Test func noPreviousRecordWhereNoneCanBeOrdered() throws {
        #expect(PreviousRecord.bestEarlierRecord(for: try Self.record("2026-03-17_Baseline")) == nil)
        #expect(PreviousRecord.bestEarlierRecord(for: try Self.record("NoDate")) == nil)
        #expect(PreviousRecord.bestEarlierRecord(for: try Self.record("2026-03-19_Unlimited", track: "track_non_record_16mb")) == nil)
        #expect(PreviousRecord.bestEarlierRecord(for: try Submission.read(at: Paths.fixture("audit/record"))) == nil)
    }

    @Test func datesComeFromTheFolderNameElseSubmissionJSON() throws {
        #expect(PreviousRecord.recordDate(of: try Self.record("20260319_CompactDate")) == "2026-03-19")
        #expect(PreviousRecord.recordDate(of: try Self.record("2026-03-18_Better")) == "2026-03-18")
        #expect(PreviousRecord.recordDate(of: try Self.record("NoDate")) == nil)
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("submission.json", "{\"date\": \"2026-03-19T10:00:00Z\"}")
        #expect(PreviousRecord.recordDate(of: try Submission.read(at: folder.url)) == "2026-03-19")
    }

    @Test func theAuditReachesAVerdictWithoutInputsAndTheOptionOverrides() throws {
        let folder = Paths.fixture("audit/checkout/records/track_10min_16mb/2026-03-20_New").path
        let automatic = try VerifyExecutable.run([folder, "--format", "json", "--quick"])
        #expect(automatic.stderr.contains("previous record: track_10min_16mb/20260319_CompactDate"))
        let json = try JSONValue.parse(Array(automatic.stdout.utf8), file: "stdout")
        #expect(json["previous_record"]?["val_loss"] == .array([.number("2.018")]))
        #expect(automatic.stdout.contains("\"id\": \"SIGNIFICANCE\",\n      \"title\": \"Beats the previous record by ≥ 0.005 nats at p < 0.01\",\n      \"status\": \"pass\""))

        let overridden = try VerifyExecutable.run([folder, "--format", "json", "--quick", "--previous-record", "2.0110,2.0120"])
        #expect(!overridden.stderr.contains("previous record:"))
        #expect(overridden.stdout.contains("\"status\": \"fail\",\n      \"severity\": \"error\",\n      \"summary\": \"not significant"))
    }
}
