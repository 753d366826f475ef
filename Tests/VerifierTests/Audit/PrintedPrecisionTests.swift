import Foundation
import Testing
@testable import Verifier

/// Printed values agree when the more precise one, rounded to the other's decimals, is within one unit
/// of the last decimal: `1.05782711` claimed for a logged `1.057827121` (1.1e-8 apart) agrees; two units
/// apart once rounded does not.
@Suite struct PrintedPrecisionTests {
    @Test func toleranceIsOneUnitAtEqualPrecisionAndOneAndAHalfWhenOneIsMorePrecise() {
        #expect(abs(ClaimConsistencyCheckProvider.tolerance("1.2244", "1.2243") - 1e-4) < 1e-9)
        #expect(abs(ClaimConsistencyCheckProvider.tolerance("1.05782711", "1.057827121") - 1.5e-8) < 1e-12)
        // One literal: one unit of its last decimal (the reproduced-score checks' allowance).
        #expect(abs(ClaimConsistencyCheckProvider.tolerance("1.21494627") - 1e-8) < 1e-12)
    }

    static func perSeedClaims(logged: String, claimedBPB: String, claimedLoss: String) throws -> AuditCheck {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-precision-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("track_10min_16mb/run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("quantized_ttt_phased \(logged) eval_time:510213ms\n".utf8)
            .write(to: folder.appendingPathComponent("train_seed42.log"))
        try Data("""
            {"seeds": [42], "seed_results": {"42": {"val_loss": \(claimedLoss), "val_bpb": \(claimedBPB)}}}
            """.utf8).write(to: folder.appendingPathComponent("submission.json"))
        let context = AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
        return try #require(try ClaimConsistencyCheckProvider().checks(for: context).first)
    }

    @Test func oneUnitAtTheLastDecimalOnceRoundedAgrees() throws {
        // The form of `0f4a3556bdd7`: the log prints one more decimal for val_bpb.
        let check = try Self.perSeedClaims(logged: "val_loss:2.317128114 val_bpb:1.057827121",
                                           claimedBPB: "1.05782711", claimedLoss: "2.31712812")
        #expect(check.findings.filter { $0.rule.hasPrefix("CLAIM-VAL") }.isEmpty)
        #expect(check.status == .pass)
    }

    @Test func twoUnitsOnceRoundedStillDisagree() throws {
        // 1.057827141 rounds to 1.05782714: three units from 1.05782711, and better than the log: an error.
        // The loss 2.317128114 rounds to 2.31712811: two units from 2.31712813, a warning.
        let check = try Self.perSeedClaims(logged: "val_loss:2.317128114 val_bpb:1.057827141",
                                           claimedBPB: "1.05782711", claimedLoss: "2.31712813")
        #expect(check.findings.first { $0.rule == "CLAIM-VAL-BPB" }?.severity == .error)
        #expect(check.findings.first { $0.rule == "CLAIM-VAL-LOSS" }?.severity == .warning)
    }
}
