import Foundation
import Testing
@testable import Verifier

/// Which track a folder is judged on: its track folder (the parent, or the folder itself when a pull
/// request changes a track folder's files), submission.json's `track`, or the README's own declaration.
@Suite struct TrackDeclarationTests {
    static func readme(_ lines: [String]) -> SubmissionTextFile {
        SubmissionTextFile(name: "README.md", bytes: 0, lines: lines)
    }

    @Test func aReadmeDeclaresTheNonRecordTrack() {
        let heading = ReadmeClaims.nonRecordDeclaration(in: Self.readme(["# QAT + Neural Cache + LoRA TTT (Non-Record Submission)"]))
        #expect(heading?.source == .line(file: "README.md", line: 1))
        #expect(ReadmeClaims.nonRecordDeclaration(in: Self.readme([
            "Some text", "**Status:** Complete. Non-record submission (artifact 16.9MB > 16MB; TTT eval 20.4 min > 10 min budget)."
        ]))?.source == .line(file: "README.md", line: 2))
        #expect(ReadmeClaims.nonRecordDeclaration(in: Self.readme(["Runs with unlimited compute (4 hours)."])) != nil)
        // Not beating the record while meeting the 10-minute limit is still the 10-minute track.
        #expect(ReadmeClaims.nonRecordDeclaration(in: Self.readme([
            "This is a **non-record 10min/16MB submission**. It does not beat the current SOTA."
        ])) == nil)
        #expect(ReadmeClaims.nonRecordDeclaration(in: Self.readme(["Compared with the non-record baselines in the leaderboard"])) == nil)
    }

    /// `8891e2cda233`: a quoted, emphasised `Status:` label naming the run non-record.
    @Test func aStatusLineDeclaresTheNonRecordTrack() {
        let quoted = ReadmeClaims.nonRecordDeclaration(in: Self.readme([
            "**val_bpb = 1.1882** (seed 1337, preliminary)",
            "> **Status: non-record preliminary run.** This run was executed without `torch.compile` support.",
        ]))
        #expect(quoted?.source == .line(file: "README.md", line: 2))
        #expect(ReadmeClaims.nonRecordDeclaration(in: Self.readme(["**Status:** Pending H100 validation"])) == nil)
        #expect(ReadmeClaims.nonRecordDeclaration(in: Self.readme([
            "**Status:** non-record 10min/16MB submission (does not beat SOTA)"
        ])) == nil)
    }

    /// `8891e2cda233`'s submission.json: `"status": "non_record_pending_validation"` in a 10-minute folder.
    @Test func aSubmissionJSONStatusDeclaresTheNonRecordTrack() throws {
        func status(_ members: [(key: String, value: JSONValue)]) -> Claim? {
            MetadataClaims.nonRecordStatus(in: SubmissionMetadata(name: "submission.json", json: .object(members)))
        }
        let declared = status([("track", .string("10min_16mb")), ("status", .string("non_record_pending_validation"))])
        #expect(declared?.source == .jsonKey(file: "submission.json", path: "status"))
        #expect(declared?.value.description.hasPrefix("non_record") == true)
        #expect(status([("submission_type", .string("non-record research contribution"))]) != nil)
        #expect(status([("status", .string("draft_non_record_compute_request"))]) != nil)
        #expect(status([("status", .string("submission_candidate"))]) == nil)
        #expect(status([("status", .string("nonsense_record"))]) == nil)
        #expect(status([("notes", .string("non_record"))]) == nil)
        #expect(status([("status", .bool(false))]) == nil)

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-track-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("records/track_10min_16mb/2026-03-27_run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("world_size:8\nstep:2002/2002 val_loss:2.0 val_bpb:1.2 train_time:1333600ms\n".utf8)
            .write(to: folder.appendingPathComponent("train.log"))
        // `32e6383b1e90`: `"submission_type": "non_record"` beside "a non-record 10-minute entry" in the README.
        for (text, readme, nonRecord) in [("non_record_pending_validation", "# Run", true), ("submission_candidate", "# Run", false),
                                          ("non_record", "We are submitting this as a non-record 10-minute entry.", false)] {
            try Data("{\"track\": \"10min_16mb\", \"status\": \"\(text)\"}".utf8)
                .write(to: folder.appendingPathComponent("submission.json"))
            try Data(readme.utf8).write(to: folder.appendingPathComponent("README.md"))
            let context = AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
            #expect(context.isNonRecord == nonRecord)
            let time = try TimeLimitCheckProvider().checks(for: context).first { $0.id == "TIME-TRAIN" }
            #expect(time?.status == (nonRecord ? .skipped : .fail))
        }
    }

    @Test func theTrackIsTheFolderItselfWhenItIsATrackFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-track-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("records/track_non_record_16mb")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("2026-03-24_run"), withIntermediateDirectories: true)
        try Data("step:9000/9000 val_loss:2.0 val_bpb:1.2 train_time:7200000ms\n".utf8)
            .write(to: folder.appendingPathComponent("2026-03-24_run/train.log"))
        let submission = try Submission.read(at: folder)
        #expect(submission.trackFolder == "track_non_record_16mb")
        let context = AuditContext(submission: submission, options: AuditOptions())
        #expect(context.isNonRecord)
        let time = try TimeLimitCheckProvider().checks(for: context).first { $0.id == "TIME-TRAIN" }
        #expect(time?.status == .skipped)
    }

    /// `f946a4c646dc`: `records/non_record/<folder>`, a non-record folder outside the `track_*` folders.
    @Test func aParentNamedNonRecordIsTheNonRecordTrack() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-track-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for (parent, nonRecord) in [("non_record", true), ("non-record", true), ("phase3", false), ("records", false)] {
            let folder = root.appendingPathComponent("records/\(parent)/2026-03-19_run")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("world_size:8\nstep:9000/9000 val_loss:2.0 val_bpb:1.2 train_time:1333600ms\n".utf8)
                .write(to: folder.appendingPathComponent("train.log"))
            let context = AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
            #expect(context.isNonRecord == nonRecord)
            let time = try TimeLimitCheckProvider().checks(for: context).first { $0.id == "TIME-TRAIN" }
            #expect(time?.status == (nonRecord ? .skipped : .fail))
        }
    }
}
