import Foundation
import Testing
@testable import Verifier

/// A claimed val_bpb that a log prints under another `…bpb` key (`mix_bpb=`) is located there: a
/// warning that it is not the final score, not an error that no log supports it.
@Suite struct PrintedScoreTests {
    @Test func readsEveryKeyEndingInBPB() {
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "ppm_mix bytes=27048621 mix_bpb=0.901319 ppm_only=2.076814")
                == ["0.901319"])
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "final val_loss:2.05 val_bpb:1.2149 ttt_bpb: 1.2101")
                == ["1.2149", "1.2101"])
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "val_bpb:enabled tokenizer_kind=sentencepiece").isEmpty)
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "delta_bpb=-0.0030 bpb gain").isEmpty)
    }

    static func claims(log: String, claimed: String) throws -> AuditCheck {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-printed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("track_10min_16mb/run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(log.utf8).write(to: folder.appendingPathComponent("train_seed42.log"))
        try Data("{\"val_bpb\": \(claimed)}".utf8).write(to: folder.appendingPathComponent("submission.json"))
        let context = AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
        return try #require(try ClaimConsistencyCheckProvider().checks(for: context).first)
    }

    static let log = """
        final_int8_zlib_roundtrip_exact val_loss:2.31000000 val_bpb:1.06181165
        ppm_mix bytes=27048621 mix_bpb=0.901534 ppm_only=2.076814 nn_only=0.972497

        """

    @Test func aClaimPrintedAsAnotherBPBIsAWarning() throws {
        let check = try Self.claims(log: Self.log, claimed: "0.901534")
        #expect(check.findings.map(\.severity) == [.warning])
        #expect(check.findings.first?.message.contains("it matches train_seed42.log:2") == true)
    }

    @Test func aClaimBelowEveryPrintedFigureIsStillAnError() throws {
        let check = try Self.claims(log: Self.log, claimed: "0.8915")
        #expect(check.status == .fail)
        #expect(check.findings.first { $0.rule == "CLAIM-VAL-BPB" }?.severity == .error)
    }
}
