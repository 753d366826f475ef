import Foundation
import Testing
@testable import Verifier

/// More statements of a run's hardware: a GPU count in a log's path (`eval_1gpu.log`), the L20 family, and a
/// submission.json time that a log states to the digit taking that log's hardware.
@Suite struct RunHardwareStatementTests {
    @Test func readsAGPUCountInAPath() {
        #expect(RunHardware.gpuCount(inPath: "adaptive_ttt_eval_1gpu.log") == 1)
        #expect(RunHardware.gpuCount(inPath: "8gpu_depth_ngram_ttt_v2.txt") == 8)
        #expect(RunHardware.gpuCount(inPath: "verify_sp2048_w6e16_8gpu_seed41.txt") == 8)
        #expect(RunHardware.gpuCount(inPath: "runs_2-gpus/train.log") == 2)
        #expect(RunHardware.gpuCount(inPath: "logs/helix_8GPU.txt") == 8)
        #expect(RunHardware.gpuCount(inPath: "v1.8gpu.log") == nil)
        #expect(RunHardware.gpuCount(inPath: "layer12gpu.log") == nil)
        #expect(RunHardware.gpuCount(inPath: "1gpuburn.log") == nil)
        #expect(RunHardware.gpuCount(inPath: "train_seed42.log") == nil)
        #expect(RunHardware.stated(inName: "eval_1gpu.log") == RunHardware(gpus: 1, model: nil, source: "eval_1gpu.log (its name)"))
    }

    @Test func readsTheL20Family() {
        #expect(RunHardware.countedModels(in: "### 3-Seed Results (8×L20Z, ~2.58x slower than H100)").map { "\($0.gpus) \($0.model)" } == ["8 L20"])
        #expect(RunHardware.knownModel(in: "8x NVIDIA L20") == "L20")
        #expect(RunHardware(gpus: 8, model: "L20", source: "").isBelowReference)
        // A README naming the challenge's 8×H100 and the 8×L20Z it ran on names two models: nothing stated.
        #expect(RunHardware.stated(inReadme: RunHardwareTests.readme("**val_bpb: 0.1290** | 8×H100 SXM\n### Results (8×L20Z)")) == nil)
    }

    /// A folder with `files` (name → text) and submission.json `metadata`; its TIME-EVAL check.
    static func timeEval(_ files: [String: String], metadata: String) throws -> AuditCheck {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-hardware-eval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("track_10min_16mb/run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: folder.appendingPathComponent(name)) }
        try Data(metadata.utf8).write(to: folder.appendingPathComponent("submission.json"))
        let context = AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
        return try #require(try TimeLimitCheckProvider().checks(for: context).first { $0.id == "TIME-EVAL" })
    }

    static let evaluation = "quantized_ttt val_loss:2.79799957 val_bpb:1.08319283 eval_time:1274666ms\n"

    /// `35ab278868ab`: a 1-GPU evaluation (its log's name), submission.json's figure the same measurement,
    /// submission.json's hardware the training's 8×H100.
    @Test func aOneGPUEvaluationAndItsSubmissionJSONFigureAreNotFailures() throws {
        let metadata = "{\"hardware\": \"8xH100 80GB SXM\", \"seed_results\": {\"42\": {\"val_bpb\": 1.0832, \"eval_time_ms\": %@}}}"
        let sameFigure = try Self.timeEval(["adaptive_ttt_eval_1gpu.log": Self.evaluation],
                                           metadata: metadata.replacingOccurrences(of: "%@", with: "1274666"))
        #expect(sameFigure.status == .incomplete)
        #expect(sameFigure.findings.filter { $0.rule == "TIME-EVAL" }.map(\.severity) == [.warning, .warning])
        #expect(sameFigure.findings.allSatisfy {
            $0.message.contains("on 1 GPU × H100 (adaptive_ttt_eval_1gpu.log (its name), submission.json: hardware)")
        })
        // Another figure in submission.json is another measurement: judged on submission.json's 8×H100.
        let otherFigure = try Self.timeEval(["adaptive_ttt_eval_1gpu.log": Self.evaluation],
                                            metadata: metadata.replacingOccurrences(of: "%@", with: "1200000"))
        #expect(otherFigure.status == .fail)
        #expect(otherFigure.findings.filter { $0.severity == .error }.map(\.file) == ["submission.json"])
        // A log whose name states no count: both are judged on submission.json's 8×H100.
        let unnamed = try Self.timeEval(["adaptive_ttt_eval.log": Self.evaluation],
                                        metadata: metadata.replacingOccurrences(of: "%@", with: "1274666"))
        #expect(unnamed.findings.filter { $0.rule == "TIME-EVAL" }.map(\.severity) == [.error, .error])
    }

    /// `4a96c35dc43b`: the README's results are on 8×L20Z, its headline names 8×H100; the log states no count.
    @Test func anEvaluationOnL20sIsNotAFailure() throws {
        let log = "ngram:done val_loss=0.217864 val_bpb=0.129031 elapsed=846.0s\n"
            + "final_ngram val_loss:0.2179 val_bpb:0.1290 stride:64 eval_time:847008ms\n"
        let readme = "**val_bpb: 0.1290** (3-seed mean) | 8×H100 SXM\n\n### 3-Seed Results (8×L20Z, ~2.58x slower than H100)\n"
        let l20 = try Self.timeEval(["train_seed2025.log": log, "README.md": readme], metadata: "{\"val_bpb\": 0.129}")
        #expect(l20.status == .incomplete)
        #expect(l20.findings.map(\.severity) == [.warning])
        let h100Only = try Self.timeEval(["train_seed2025.log": log, "README.md": "**val_bpb: 0.1290** | 8×H100 SXM\n"],
                                         metadata: "{\"val_bpb\": 0.129}")
        #expect(h100Only.status == .fail)
    }
}
