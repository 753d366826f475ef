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
