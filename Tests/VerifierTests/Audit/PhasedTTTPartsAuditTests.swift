import Foundation
import Testing
import Reference
@testable import Verifier

/// The audit taking the merged parts of a sharded `verify eval --mode ttt-phased` as its
/// reproduction of a claimed phased TTT score (`--partial`), on a record folder made from the phased
/// TTT golden tests' fixture; parts of another evaluation are refused with the reason.
@Suite("Audit with sharded phased TTT parts", .serialized)
struct PhasedTTTPartsAuditTests {
    static let code = Paths.shared(
        "corpus/parameter-golf/records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py")

    /// A record folder: the plain-sp1024 family weights (`final_model.json`, a pgverify-raw-f32 index),
    /// the 2026-04-14 record's code and a log whose command line states the golden's model and TTT
    /// settings, one document per batch (2 prefix batches, 3 suffix batches); and beside it a
    /// validation shard of the fixture's first 8,192 targets (5 documents).
    static func folder(in scratch: URL) throws -> (folder: URL, validation: String) {
        let folder = scratch.appendingPathComponent("record")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Paths.fixture("families/plain-sp1024/model.weights.json"),
                                         to: folder.appendingPathComponent("final_model.json"))
        try FileManager.default.copyItem(at: Paths.fixture("families/plain-sp1024/model.weights.f32"),
                                         to: folder.appendingPathComponent("model.weights.f32"))
        try FileManager.default.copyItem(at: code, to: folder.appendingPathComponent("train_gpt.py"))
        let arguments = try PhasedTTTShardingTests.arguments(PhasedTTTShardingTests.oneDocumentPerBatch)
        var settings: [String] = []
        for (flag, value) in zip(arguments, arguments.dropFirst()) where flag == "--set" && !value.hasSuffix("=") {
            settings.append(value)
        }
        try Data((settings.joined(separator: " ") + " torchrun --standalone --nproc_per_node=8 train_gpt.py\n").utf8)
            .write(to: folder.appendingPathComponent("train_seed1337.log"))
        let tokens = Array(try ValidationShard.read(Paths.fixture("families/plain-sp1024/val_tokens.bin")).prefix(8193))
        let validation = scratch.appendingPathComponent("val")
        try FileManager.default.createDirectory(at: validation, withIntermediateDirectories: true)
        try shard(tokens).write(to: validation.appendingPathComponent("fineweb_val_000000.bin"))
        return (folder, validation.appendingPathComponent("fineweb_val_*.bin").path)
    }

    /// Appends the score of `run` (`verify eval --json`) to the folder's log as the records print it.
    static func logClaim(of run: [String: Any], in folder: URL) throws {
        let loss = try #require(run["val_loss"] as? Double), bpb = try #require(run["val_bpb"] as? Double)
        let log = folder.appendingPathComponent("train_seed1337.log")
        let claim = String(format: "quantized_ttt_phased val_loss:%.8f val_bpb:%.8f eval_time:1000ms\n", loss, bpb)
        try (try Data(contentsOf: log) + Data(claim.utf8)).write(to: log)
    }

    /// A validation shard file of `tokens`.
    static func shard(_ tokens: [UInt16]) -> Data {
        var header = [Int32](repeating: 0, count: 256)
        header[0] = ValidationShard.magic
        header[1] = ValidationShard.version
        header[2] = Int32(tokens.count)
        return header.map(\.littleEndian).withUnsafeBytes { Data($0) } + tokens.map(\.littleEndian).withUnsafeBytes { Data($0) }
    }

    /// `verify eval --mode ttt-phased` of the folder with its own code and log, and no `--set`.
    static func evalArguments(_ folder: URL, validation: String) -> [String] {
        ["eval", folder.appendingPathComponent("final_model.json").path, "--code", folder.appendingPathComponent("train_gpt.py").path,
         "--log", folder.appendingPathComponent("train_seed1337.log").path,
         "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path, "--val", validation,
         "--mode", "ttt-phased", "--threads", "1"]
    }

    static func reproducedCheck(_ folder: URL, parts: [String], validation: String?) throws -> AuditCheck {
        let evaluation = validation.map {
            AuditEvaluationSettings(tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"), validationPattern: $0)
        }
        let report = try Audit.run(try Submission.read(at: folder), options: AuditOptions(
            evaluation: evaluation, reproductionParts: parts.map { URL(fileURLWithPath: $0) }))
        return try #require(report.checks.first { $0.id == Audit.reproducedScoreID })
    }

    /// Rewrites a part's identity (what a run with other flags would have recorded) into `to`.
    static func edit(_ part: String, to: URL, _ change: (inout PartialEvaluation) -> Void) throws -> String {
        var edited = try PartialEvaluation.read(URL(fileURLWithPath: part))
        change(&edited)
        try edited.write(to: to)
        return to.path
    }

    @Test("merged prefix and suffix parts reproduce the claim as the whole run does; parts of another evaluation are refused")
    func phasedPartsAreTheReproduction() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-phased-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (folder, validation) = try Self.folder(in: scratch)
        let common = Self.evalArguments(folder, validation: validation)

        // The claim is the whole run's score, written into the log as the records print it.
        let wholePart = scratch.appendingPathComponent("whole.json").path
        let whole = try PhasedTTTShardingTests.object(VerifyExecutable.run(common + ["--json", "--partial-out", wholePart]))
        let bpb = try #require(whole["val_bpb"] as? Double)
        let before = try #require((whole["ttt_phased"] as? [String: Any])?["val_bpb_before"] as? Double)
        try Self.logClaim(of: whole, in: folder)

        // The parts, made after the log is final (their identity holds its digest).
        let files = try PhasedTTTShardingTests.parts(common, count: 2, in: scratch)
        let parts = [files.prefix] + files.suffix
        let check = try Self.reproducedCheck(folder, parts: parts, validation: validation)
        #expect(check.status == .pass, "\(check.summary)")
        let reproduced = try #require(check.measurements.first { $0.name == "reproduced_val_bpb" }?.value)
        #expect(reproduced.bitPattern == bpb.bitPattern, "merged \(reproduced) vs whole \(bpb)")
        let reproducedBefore = try #require(check.measurements.first { $0.name == "reproduced_val_bpb_before_ttt" }?.value)
        #expect(reproducedBefore.bitPattern == before.bitPattern)
        let evidence = check.evidence.first?.text ?? ""
        #expect(evidence.hasPrefix("merged 3 partial results of a sharded re-run of the code's score-first TTT (eval_val_ttt_phased)"),
                "\(evidence)")
        #expect(check.evidence.contains { $0.text == "ttt setting batchSize = 1" })
        #expect(check.series.first.map { $0.points.last!.y.bitPattern == bpb.bitPattern } == true)
        // Without --val the stream is not compared; the parts still belong to the folder's files.
        #expect(try Self.reproducedCheck(folder, parts: parts, validation: nil).status == .pass)

        // The whole run's own part is the whole evaluation too, but it was made before the claim was logged.
        let stale = try Self.reproducedCheck(folder, parts: [wholePart], validation: validation)
        #expect(stale.status == .incomplete && stale.summary.contains("other logs"), "\(stale.summary)")

        // Parts of another evaluation: a missing suffix part, --set overrides, other settings, a prefix of the stream.
        let missing = try Self.reproducedCheck(folder, parts: [files.prefix, files.suffix[0]], validation: validation)
        #expect(missing.status == .incomplete && missing.summary.contains("do not merge"), "\(missing.summary)")
        let overridden = try parts.enumerated().map { index, part in
            try Self.edit(part, to: scratch.appendingPathComponent("set\(index).json")) { $0.identity.overrides = ["TTT_LORA_LR": "0.02"] }
        }
        let withSet = try Self.reproducedCheck(folder, parts: overridden, validation: validation)
        #expect(withSet.status == .incomplete && withSet.summary.contains("--set TTT_LORA_LR=0.02"), "\(withSet.summary)")
        let otherSettings = try parts.enumerated().map { index, part in
            try Self.edit(part, to: scratch.appendingPathComponent("lr\(index).json")) { $0.identity.phasedSettings?.loraLearningRate = 0.02 }
        }
        let otherLR = try Self.reproducedCheck(folder, parts: otherSettings, validation: validation)
        #expect(otherLR.status == .incomplete && otherLR.summary.contains("loraLearningRate 0.02 instead of 0.01"), "\(otherLR.summary)")
        let cut = try parts.enumerated().map { index, part in
            try Self.edit(part, to: scratch.appendingPathComponent("cut\(index).json")) { $0.identity.maxTokens = 8192 }
        }
        let prefixOnly = try Self.reproducedCheck(folder, parts: cut, validation: validation)
        #expect(prefixOnly.status == .incomplete && prefixOnly.summary.contains("--max-tokens"), "\(prefixOnly.summary)")

        // Another validation stream given to the audit than the parts evaluated.
        let otherValidation = scratch.appendingPathComponent("other-val")
        try FileManager.default.createDirectory(at: otherValidation, withIntermediateDirectories: true)
        var tokens = try ValidationShard.read(URL(fileURLWithPath: validation.replacingOccurrences(of: "*", with: "000000")))
        tokens[100] = tokens[100] == 7 ? 8 : 7
        try Self.shard(tokens).write(to: otherValidation.appendingPathComponent("fineweb_val_000000.bin"))
        let otherStream = try Self.reproducedCheck(folder, parts: parts,
                                                   validation: otherValidation.appendingPathComponent("fineweb_val_*.bin").path)
        #expect(otherStream.status == .incomplete && otherStream.summary.contains("another validation stream"), "\(otherStream.summary)")
    }

    @Test("phased parts are not the reproduction of a claim by another TTT procedure or of a standard claim")
    func otherClaimsRefusePhasedParts() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-phased-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Parts of the ttt-lora fixture's standard evaluation offered for its LoRA TTT claim.
        let lora = Paths.fixture("audit/ttt-lora")
        let part = scratch.appendingPathComponent("standard.json").path
        let run = try VerifyExecutable.run(
            ["eval", lora.appendingPathComponent("final_model.int8.ptz").path, "--code", lora.appendingPathComponent("train_gpt.py").path,
             "--log", lora.appendingPathComponent("train_seed1337.log").path,
             "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path, "--val", Paths.fixture("ttt/val_slice.bin").path,
             "--threads", "1", "--partial-out", part])
        #expect(run.status == 0, "\(run.stderr)")
        let check = try Self.reproducedCheck(lora, parts: [part], validation: nil)
        #expect(check.status == .incomplete)
        #expect(check.summary.contains("test-time training by eval_val_ttt_lora") && check.summary.contains("eval_val_ttt_phased"),
                "\(check.summary)")
    }
}
