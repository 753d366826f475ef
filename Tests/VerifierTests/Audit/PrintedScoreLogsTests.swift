import Foundation
import Testing
@testable import Verifier

/// Where a claimed val_bpb is looked up: `key = value` with spaces, every log of a per-seed claim's seed
/// (also logs with no final line), and every log for a top-level claim. A claim found there is a warning
/// citing it; one below everything those logs print stays an error.
@Suite struct PrintedScoreLogsTests {
    /// A record-track folder with `files` (name → text) and submission.json `metadata`.
    static func claims(_ files: [String: String], metadata: String) throws -> AuditCheck {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-printed-logs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("track_10min_16mb/run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: folder.appendingPathComponent(name)) }
        try Data(metadata.utf8).write(to: folder.appendingPathComponent("submission.json"))
        let context = AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
        return try #require(try ClaimConsistencyCheckProvider().checks(for: context).first)
    }

    static func scoreFindings(_ check: AuditCheck) -> [AuditFinding] {
        check.findings.filter { $0.rule == "CLAIM-VAL-BPB" }
    }

    @Test func readsAKeyWithSpacesAroundItsSeparator() {
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "Submission:   val_bpb = 1.09517862") == ["1.09517862"])
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "val_bpb = 1.09700744") == ["1.09700744"])
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "ttt_bpb : 1.07") == ["1.07"])
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "val_loss, val_bpb = eval_val(args, model)").isEmpty)
        #expect(ClaimConsistencyCheckProvider.bpbLiterals(in: "bpb gain = -0.0030").isEmpty)
    }

    /// `0692b5fd6f10`: the claim is the mean of three separate evaluation logs printing `val_bpb = X`, lower
    /// than the train logs' final scores.
    static let trainLogs = [
        "train_seed42.log": "final_int6_sliding_window val_loss:2.58581 val_bpb:1.09951891 eval_time:90000ms\n",
        "train_seed314.log": "final_int6_sliding_window val_loss:2.58142 val_bpb:1.09765396 eval_time:90000ms\n",
        "train_seed1337.log": "final_int6_sliding_window val_loss:2.58447 val_bpb:1.09895156 eval_time:90000ms\n",
    ]
    static let evaluationLogs = [
        "ngram_eval_seed42.log": "8-GPU n-gram eval\nval_bpb = 1.09700744\n",
        "ngram_eval_seed314.log": "RESULTS stride=64\nSubmission:   val_bpb = 1.09517862\n",
        "ngram_eval_seed1337.log": "RESULTS stride=64\nSubmission:   val_bpb = 1.09650932\n",
    ]

    @Test func aMeanOfSeparateEvaluationLogsIsNotUnsupported() throws {
        let files = Self.trainLogs.merging(Self.evaluationLogs) { $1 }
        let supported = Self.scoreFindings(try Self.claims(files, metadata: "{\"val_bpb\": 1.09623179}"))
        #expect(supported.map(\.severity) == [.warning])
        // Below everything printed: still an error. Without the evaluation logs, the same claim is one too.
        let below = Self.scoreFindings(try Self.claims(files, metadata: "{\"val_bpb\": 1.0940}"))
        #expect(below.map(\.severity) == [.error])
        let trainOnly = Self.scoreFindings(try Self.claims(Self.trainLogs, metadata: "{\"val_bpb\": 1.09623179}"))
        #expect(trainOnly.map(\.severity) == [.error])
    }

    /// `9693317d34de`: a seed's claim printed by that seed's separate evaluation log, which has no final line.
    static let seedLogs = [
        "train_seed42.log": "final_int8_zlib_roundtrip_exact val_loss:1.87342257 val_bpb:1.10954931\n",
        "submission_ngram_seed42.log": "online_best_agree:done llm_bpb=1.10984470 best_agree_bpb=1.10680980\n",
    ]

    @Test func aSeedsClaimIsLookedUpInEveryLogOfThatSeed() throws {
        let metadata = "{\"seed_results\": {\"42\": {\"val_bpb\": 1.1068}}}"
        let findings = Self.scoreFindings(try Self.claims(Self.seedLogs, metadata: metadata))
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("it matches submission_ngram_seed42.log:1") == true)
        // Below both of the seed's logs: an error.
        let below = "{\"seed_results\": {\"42\": {\"val_bpb\": 1.1050}}}"
        #expect(Self.scoreFindings(try Self.claims(Self.seedLogs, metadata: below)).map(\.severity) == [.error])
        // The same figure in another seed's log does not support seed 42's claim.
        var otherSeed = Self.seedLogs
        otherSeed["submission_ngram_seed7.log"] = otherSeed.removeValue(forKey: "submission_ngram_seed42.log")
        #expect(Self.scoreFindings(try Self.claims(otherSeed, metadata: metadata)).map(\.severity) == [.error])
    }

    /// `c123066cfe95`: one log has a final line (a baseline); the claim is a figure of another log, a run
    /// that stopped before its final evaluation.
    static let stoppedRun = [
        "train_log_baseline.log": "final_int8_zlib_roundtrip_exact val_loss:2.19117971 val_bpb:1.29774005\n",
        "train_log_seed1337.log": "2000/2000 val_loss: 1.9713 val_bpb: 1.1675\n"
            + "pre-quantization post-ema val_loss:1.97817906 val_bpb:1.17158907 eval_time:33143ms\n"
            + "Traceback (most recent call last):\n",
    ]

    @Test func aTopLevelClaimIsLookedUpInEveryLog() throws {
        let findings = Self.scoreFindings(try Self.claims(Self.stoppedRun, metadata: "{\"val_bpb\": 1.17158907}"))
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("it matches train_log_seed1337.log:2") == true)
        let below = Self.scoreFindings(try Self.claims(Self.stoppedRun, metadata: "{\"val_bpb\": 1.15}"))
        #expect(below.map(\.severity) == [.error])
    }
}
