import Foundation
import Reference
import Testing
@testable import Verifier

/// Every integer setting and numeric flag is range-checked against ``InputLimits`` before anything is
/// sized from it; the refusal names the setting, the value and where it was stated.
@Suite struct InputLimitsTests {
    @Test(arguments: [
        ("train_seq_len", InputLimits.sequenceLength), ("EVAL_STRIDE", InputLimits.sequenceLength),
        ("TTT_LORA_RANK", InputLimits.rank), ("ttt_batch_seqs", InputLimits.batchSequences),
        ("val_batch_tokens", InputLimits.tokenCount), ("TTT_CHUNK_TOKENS", InputLimits.tokenCount),
        ("ttt_batch_size", InputLimits.tokenCount), ("vocab_size", InputLimits.vocabularySize),
        ("num_layers", InputLimits.layers), ("num_kv_heads", InputLimits.heads), ("model_dim", InputLimits.width),
        ("ttt_epochs", InputLimits.repetitions), ("phased_ttt_num_phases", InputLimits.repetitions),
        ("world_size", InputLimits.ranks), ("seed", InputLimits.otherInteger),
    ])
    func everySettingHasABound(name: String, maximum: Int) {
        #expect(InputLimits.maximum(forSetting: name).maximum == maximum)
    }

    /// The bounds are far above what the challenge's records use: every record of the shared corpus
    /// resolves its TTT and model settings without meeting one (the corpus audit runs them all).
    @Test func boundsLeaveTheRecordsAlone() {
        #expect(InputLimits.sequenceLength >= 2 * 32_768)
        #expect(InputLimits.tokenCount >= 62_021_633)
        #expect(InputLimits.rank >= 8 * 512)
    }

    static func weights() throws -> Weights {
        try BaselineWeights.make(vocab: 1024, layers: 2, dim: 64, heads: 4, kvHeads: 2, mlpHidden: 128, tied: true)
    }

    func resolve(code: URL?, overrides: [String: String]) throws -> ResolvedModelConfig {
        try ModelConfigResolver.resolve(weights: Self.weights(), code: code, logs: [], overrides: overrides)
    }

    @Test func aSequenceLengthAtTheLimitResolvesAndOnePastIsRefused() throws {
        let base = ["ROPE_BASE": "10000", "LOGIT_SOFTCAP": "30"]
        #expect(try resolve(code: nil, overrides: base.merging(["TRAIN_SEQ_LEN": "65536"]) { $1 }).seqLen == 65_536)
        #expect {
            try resolve(code: nil, overrides: base.merging(["TRAIN_SEQ_LEN": "65537"]) { $1 })
        } throws: { error in
            guard case let .invalidValue(key, value, source, reason) = error as? ModelConfigError else { return false }
            return key == "train_seq_len" && value == "65537" && source == .override(key: "TRAIN_SEQ_LEN", value: "65537")
                && reason.contains("at most 65536")
        }
    }

    @Test func aHugeCodeDefaultIsRefusedNamingItsFileAndLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let code = folder.appendingPathComponent("train_gpt.py")
        try """
            import os
            class Hyperparameters:
                rope_base = float(os.environ.get("ROPE_BASE", 10000.0))
                logit_softcap = float(os.environ.get("LOGIT_SOFTCAP", 30.0))
                train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 4611686018427387904))

            """.write(to: code, atomically: true, encoding: .utf8)
        #expect {
            try resolve(code: code, overrides: [:])
        } throws: { error in
            guard let error = error as? ModelConfigError, case let .invalidValue(key, _, source, _) = error else { return false }
            return key == "train_seq_len" && error.description.contains("\(code.path):5")
                && { if case .codeDefault = source { true } else { false } }()
        }
    }

    @Test func ttTSettingsAreBoundedToo() throws {
        #expect {
            try LoRATTTSettingsResolver.resolve(code: nil, logs: [], overrides: ["TTT_LORA_RANK": "4611686018427387904"])
        } throws: { error in
            guard case let .invalidValue(key, _, _, reason) = error as? ModelConfigError else { return false }
            return key == "ttt_lora_rank" && reason.contains("at most 4096")
        }
        #expect(try LoRATTTSettingsResolver.resolve(code: nil, logs: [], overrides: ["TTT_LORA_RANK": "4096"]).settings.rank == 4096)
    }

    @Test func maxTokensOfIntMaxDoesNotOverflow() throws {
        let tokens = [UInt16](repeating: 3, count: 9)
        #expect(try EvalTokens.prepare(tokens, seqLen: 4, maxTokens: .max).count == 9)
    }
}

/// The same limits as a user meets them: exit 2, a message naming the value, no signal, no hang.
@Suite struct InputLimitsCommandTests {
    static let folder = Paths.fixture("audit/reproducible")
    static var evalArguments: [String] {
        ["eval", folder.appendingPathComponent("final_model.int8.ptz").path,
         "--code", folder.appendingPathComponent("train_gpt.py").path,
         "--log", folder.appendingPathComponent("train_seed1337.log").path,
         "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
         "--val", Paths.shared("val/small/fineweb_val_*.bin").path, "--threads", "1"]
    }

    @Test(arguments: [
        (["--seq-len", "4611686018427387904"], "--seq-len must be in 1...65536"),
        (["--seq-len", "2147483648"], "--seq-len must be in 1...65536"),
        (["--max-tokens", "4611686018427387904"], "--max-tokens must be in 1...134217728"),
        (["--threads", "2000"], "--threads must be in 1...512"),
        (["--set", "TRAIN_SEQ_LEN=4611686018427387904"], "train_seq_len = 4611686018427387904 from override TRAIN_SEQ_LEN"),
        (["--set", "EVAL_SEQ_LEN=100000000"], "eval_seq_len = 100000000 from override EVAL_SEQ_LEN"),
        (["--mode", "ttt", "--set", "TTT_BATCH_SEQS=4611686018427387904"], "ttt_batch_seqs = 4611686018427387904"),
        (["--mode", "ttt-lora", "--set", "TTT_LORA_RANK=2147483648"], "ttt_lora_rank = 2147483648"),
    ])
    func hugeNumbersAreRefused(extra: [String], message: String) throws {
        let run = try VerifyExecutable.run(Self.evalArguments + extra)
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    /// A batch far larger than the tokens evaluated allocates for the tokens: 65,536 sequences of
    /// 1,024 would be 64 Mi rows of workspace; over 8,192 targets the run needs a few hundred MB.
    @Test func aBatchLargerThanTheStreamIsSizedFromTheStream() throws {
        let run = try VerifyExecutable.run(Self.evalArguments + ["--mode", "ttt", "--max-tokens", "8192", "--json",
                                                                   "--set", "TTT_BATCH_SEQS=65536"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"tokens\":8192"))
    }

    /// A shard of only token 0 (a piece of no bytes): val_bpb would be infinite; exit 2 naming the shards and tokenizer.
    @Test func aValidationShardOfZeroByteTokensIsANamedError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("limits-shard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var header = [Int32](repeating: 0, count: 256)
        header[0] = 20_240_520; header[1] = 1; header[2] = 8193
        var bytes = header.withUnsafeBytes { Data($0) }
        bytes.append(Data(count: 2 * 8193))
        try bytes.write(to: folder.appendingPathComponent("zero_val_000000.bin"))
        var arguments = Self.evalArguments
        let pattern = folder.appendingPathComponent("zero_val_*.bin").path
        arguments[arguments.firstIndex(of: "--val")! + 1] = pattern
        let run = try VerifyExecutable.run(arguments)
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(pattern): val_bpb is not a finite number: the 8192 scored tokens count 0 bytes under "
                                    + Paths.shared("tokenizers/fineweb_1024_bpe.model").path), "\(run.stderr)")
    }

    @Test func anAuditOfAFolderWithAHugeSequenceLengthEnds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("limits-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let code = try String(contentsOf: Paths.shared("corpus/parameter-golf/train_gpt.py"), encoding: .utf8)
            .replacingOccurrences(of: #""TRAIN_SEQ_LEN", 1024"#, with: #""TRAIN_SEQ_LEN", 4611686018427387904"#)
        try code.write(to: folder.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        #expect(code.contains("4611686018427387904"))
        let run = try VerifyExecutable.run([folder.path, "--format", "json"])
        #expect([1, 3].contains(run.status), "\(run.stderr)")
    }
}
