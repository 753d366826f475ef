import Foundation
import Reference
import Testing
@testable import Verifier

@Suite("Model config resolution from shapes, code, logs and overrides")
struct ModelConfigResolverTests {
    static let artifactCode = Paths.shared("artifacts/taleef7-baseline-2L64d/train_gpt.py")
    static let baselineCode = Paths.shared("corpus/parameter-golf/train_gpt.py")
    static func record(_ folder: String, _ file: String) -> URL {
        Paths.shared("corpus/parameter-golf/records/track_10min_16mb/\(folder)/\(file)")
    }

    @Test("the real 2L64d artifact's code with its shapes: 4 heads / 2 KV heads, code defaults for the rest")
    func taleef7Artifact() throws {
        let resolved = try ModelConfigResolver.resolve(
            weights: BaselineWeights.taleef7(), code: Self.artifactCode, logs: [], overrides: [:])
        #expect(resolved.config == GPTConfig(vocabSize: 1024, numLayers: 2, modelDim: 64, numHeads: 4, numKVHeads: 2,
                                             mlpHidden: 64, tieEmbeddings: true, ropeBase: 10_000, logitSoftcap: 30))
        #expect(resolved.seqLen == 1024)   // SOURCE: "its sequence length is not recorded (baseline default 1024)"
        #expect(resolved.sources["num_heads"] == .tensorShape(tensor: "blocks.0.attn.q_gain", shape: [4]))
        #expect(resolved.sources["vocab_size"] == .tensorShape(tensor: "tok_emb.weight", shape: [1024, 64]))
        #expect(resolved.sources["tie_embeddings"] == .tensorAbsent(tensor: "lm_head.weight"))
        let path = Self.artifactCode.path
        #expect(resolved.sources["rope_base"] == .codeDefault(
            name: "rope_base", environmentVariable: "ROPE_BASE",
            expression: #"float(os.environ.get("ROPE_BASE", 10000.0))"#, file: path, line: 72))
        #expect(resolved.sources["logit_softcap"]?.description == "code default of LOGIT_SOFTCAP at \(path):73 "
                + #"(float(os.environ.get("LOGIT_SOFTCAP", 30.0)))"#)
        #expect(resolved.sources["seq_len"]?.description.contains("TRAIN_SEQ_LEN at \(path):59") == true)
        // Its code defaults are 9 x 512 with 8/4 heads and MLP x2: the run changed them, and we say so.
        #expect(resolved.notes.count == 5)
        #expect(resolved.notes.contains { $0.hasPrefix("code default NUM_LAYERS=9 at \(path):66 is superseded by ")
                                          && $0.contains("num_layers = 2") })
        #expect(resolved.notes.contains { $0.hasPrefix("code default NUM_KV_HEADS=4 at \(path):67") })
        #expect(resolved.notes.contains { $0.hasPrefix("code default MLP_MULT=2 at \(path):70") })
    }

    @Test("without q_gain, a heads default the run evidently changed is refused; an override settles it")
    func headsWithoutQueryGain() throws {
        let weights = try BaselineWeights.taleef7(includeQueryGain: false)
        #expect {
            try ModelConfigResolver.resolve(weights: weights, code: Self.artifactCode, logs: [], overrides: [:])
        } throws: { error in
            guard case let .untrustedCodeDefault(key, value, _, evidence) = error as? ModelConfigError else { return false }
            return key == "num_heads" && value == "8" && evidence.count == 3
        }
        let resolved = try ModelConfigResolver.resolve(
            weights: weights, code: Self.artifactCode, logs: [], overrides: ["NUM_HEADS": "4"])
        #expect(resolved.config.numHeads == 4)
        #expect(resolved.config.numKVHeads == 2)
        #expect(resolved.sources["num_heads"] == .override(key: "NUM_HEADS", value: "4"))
    }

    @Test("the corpus baseline with the naive-baseline record's log: 9 x 512, 8/4 heads, as its README says")
    func naiveBaselineRecord() throws {
        let weights = try BaselineWeights.make(vocab: 1024, layers: 9, dim: 512, heads: 8, kvHeads: 4,
                                               mlpHidden: 1024, tied: true)
        let log = Self.record("2026-03-17_NaiveBaseline", "train.log")
        let resolved = try ModelConfigResolver.resolve(
            weights: weights, code: Self.record("2026-03-17_NaiveBaseline", "train_gpt.py"), logs: [log], overrides: [:])
        #expect(resolved.config == GPTConfig(vocabSize: 1024, numLayers: 9, modelDim: 512, numHeads: 8, numKVHeads: 4,
                                             mlpHidden: 1024, tieEmbeddings: true, ropeBase: 10_000, logitSoftcap: 30))
        #expect(resolved.seqLen == 1024)
        // The log's "train_seq_len:1024" outranks the code default.
        #expect(resolved.sources["seq_len"] == .log(
            file: log.path, line: 56,
            text: "train_batch_tokens:524288 train_seq_len:1024 iterations:20000 warmup_steps:20 max_wallclock_seconds:600.000"))
        #expect(resolved.notes.isEmpty)
    }

    @Test("the corpus baseline train_gpt.py alone resolves its own default shape")
    func corpusBaselineDefaults() throws {
        let weights = try BaselineWeights.make(vocab: 1024, layers: 9, dim: 512, heads: 8, kvHeads: 4,
                                               mlpHidden: 1024, tied: true, includeQueryGain: false)
        let resolved = try ModelConfigResolver.resolve(weights: weights, code: Self.baselineCode, logs: [], overrides: [:])
        #expect(resolved.config.numHeads == 8)
        #expect(resolved.config.numKVHeads == 4)
        #expect(resolved.seqLen == 1024)
        #expect(resolved.sources["num_heads"]?.description.contains("NUM_HEADS at \(Self.baselineCode.path):") == true)
        #expect(resolved.notes.isEmpty)
    }

    @Test("10L mixed precision: the README's 10 layers supersede the code default of 9")
    func tenLayerRecord() throws {
        let folder = "2026-03-19_10L_MixedPrecision"
        let weights = try BaselineWeights.make(vocab: 1024, layers: 10, dim: 512, heads: 8, kvHeads: 4,
                                               mlpHidden: 1024, tied: true)
        let resolved = try ModelConfigResolver.resolve(
            weights: weights, code: Self.record(folder, "train_gpt.py"), logs: [Self.record(folder, "train.log")],
            overrides: [:])
        #expect(resolved.config.numLayers == 10)
        #expect(resolved.notes.count == 1)
        #expect(resolved.notes.first?.contains("NUM_LAYERS") == true)
        // Its README's run command states NUM_LAYERS=10, which then agrees with the shapes.
        let withReadme = try ModelConfigResolver.resolve(
            weights: weights, code: Self.record(folder, "train_gpt.py"),
            logs: [Self.record(folder, "train.log"), Self.record(folder, "README.md")], overrides: [:])
        #expect(withReadme.notes.isEmpty)
        if case .log(let file, _, _) = try #require(withReadme.sources["num_layers"]) {
            Issue.record("num_layers should stay a shape fact, got a log source \(file)")
        }
    }

    @Test("MLP3x sliding window: EVAL_SEQ_LEN 0 falls back to TRAIN_SEQ_LEN; README's MLP_MULT=3 fits hidden 1536")
    func mlp3xRecord() throws {
        let folder = "2026-03-19_MLP3x_QAT_Int6_SlidingWindow"
        let weights = try BaselineWeights.make(vocab: 1024, layers: 11, dim: 512, heads: 8, kvHeads: 4,
                                               mlpHidden: 1536, tied: true)
        let resolved = try ModelConfigResolver.resolve(
            weights: weights, code: Self.record(folder, "train_gpt.py"),
            logs: [Self.record(folder, "train.log"), Self.record(folder, "README.md")], overrides: [:])
        #expect(resolved.config.mlpHidden == 1536)
        #expect(resolved.config.numLayers == 11)
        #expect(resolved.seqLen == 1024)
        #expect(resolved.notes.isEmpty)
        // A contradicting multiplier from an override is an error naming both.
        #expect(throws: ModelConfigError.contradictsShapes(
            key: "mlp_mult", stated: "2", statedBy: .override(key: "MLP_MULT", value: "2"), shapeValue: "1536 / 512",
            shapeSource: .tensorShape(tensor: "blocks.0.mlp.fc.weight", shape: [1536, 512]))) {
            try ModelConfigResolver.resolve(weights: weights, code: Self.record(folder, "train_gpt.py"),
                                            logs: [], overrides: ["MLP_MULT": "2"])
        }
    }

    @Test("a compressed (lzma-exec) script is read through its decoded code; its logs' Hyperparameters blocks win (README: 11L 512d 8H/4KV MLP 4x)")
    func compressedCodeWithLogs() throws {
        let folder = "2026-04-06_SP8192_QK5_LegalTTT_1.0828"
        let code = Self.record(folder, "train_gpt.py")
        let logs = ["train_seed0.log", "train_seed1234.log", "train_seed42.log"].map { Self.record(folder, $0) }
        let weights = try BaselineWeights.make(vocab: 8192, layers: 11, dim: 512, heads: 8, kvHeads: 4,
                                               mlpHidden: 2048, tied: true)
        // The logs state a loop of layers 4–5 ×2 (encoder [0,1,2,3,4,5,4], decoder [5,4,5,6,…]: 7 skips);
        // these baseline-shaped weights have 5 skip weights, so they cannot be that model.
        #expect {
            try ModelConfigResolver.resolve(weights: weights, code: code, logs: logs, overrides: [:])
        } throws: { error in
            guard case let .contradictsShapes(key, _, _, shapeValue, _) = error as? ModelConfigError else { return false }
            return key == "num_loops" && shapeValue == "5 skip weights, the loop implies 7"
        }
        // Without the loop (NUM_LOOPS=0) the logs give the rest; the MLP activation is code, which is compressed.
        let resolved = try ModelConfigResolver.resolve(weights: weights, code: code, logs: logs,
                                                       overrides: ["NUM_LOOPS": "0", "XSA_LAST_N": "0",
                                                                   "ROPE_DIMS": "0", "LN_SCALE": "0"])
        #expect(resolved.config == GPTConfig(vocabSize: 8192, numLayers: 11, modelDim: 512, numHeads: 8, numKVHeads: 4,
                                             mlpHidden: 2048, tieEmbeddings: true, ropeBase: 10_000, logitSoftcap: 30))
        #expect(resolved.seqLen == 2048)
        #expect(resolved.sources["seq_len"] == .log(file: logs[0].path, line: 21, text: "eval_seq_len: 2048"))
        #expect(resolved.sources["rope_base"] == .log(file: logs[0].path, line: 58, text: "rope_base: 10000.0"))
        #expect(resolved.notes.isEmpty)
        // Without logs, the code the wrapper decodes to gives its defaults: its NUM_LOOPS default (2)
        // contradicts these shapes the same way, and the source names the decoded code.
        #expect {
            try ModelConfigResolver.resolve(weights: weights, code: code, logs: [], overrides: [:])
        } throws: { error in
            guard case let .contradictsShapes(key, _, source, _, _) = error as? ModelConfigError else { return false }
            return key == "num_loops" && "\(source)".contains("decoded from its self-extracting wrapper")
        }
    }

    @Test("a log that contradicts a shape is an error naming the log line and the tensor")
    func logContradictsShapes() throws {
        let log = Self.record("2026-03-17_NaiveBaseline", "train.log")
        #expect {
            try ModelConfigResolver.resolve(weights: BaselineWeights.taleef7(), code: Self.artifactCode,
                                            logs: [log], overrides: [:])
        } throws: { error in
            guard case let .contradictsShapes(key, stated, statedBy, shapeValue, shapeSource) = error as? ModelConfigError
            else { return false }
            return key == "num_heads" && stated == "8" && shapeValue == "4"
                && statedBy == .log(file: log.path, line: 54, text: "attention_mode:gqa num_heads:8 num_kv_heads:4")
                && shapeSource == .tensorShape(tensor: "blocks.0.attn.q_gain", shape: [4])
        }
    }

    @Test("an override beats a log and a code default; seq_len overrides directly")
    func overridePrecedence() throws {
        let weights = try BaselineWeights.make(vocab: 1024, layers: 9, dim: 512, heads: 8, kvHeads: 4,
                                               mlpHidden: 1024, tied: true)
        let log = Self.record("2026-03-17_NaiveBaseline", "train.log")
        let resolved = try ModelConfigResolver.resolve(
            weights: weights, code: Self.baselineCode, logs: [log],
            overrides: ["TRAIN_SEQ_LEN": "2048", "rope_base": "5e4", "LOGIT_SOFTCAP": "0"])
        #expect(resolved.seqLen == 2048)
        #expect(resolved.config.ropeBase == 50_000)
        #expect(resolved.config.logitSoftcap == 0)
        #expect(resolved.sources["rope_base"] == .override(key: "rope_base", value: "5e4"))
        let direct = try ModelConfigResolver.resolve(weights: weights, code: Self.baselineCode, logs: [log],
                                                     overrides: ["SEQ_LEN": "512"])
        #expect(direct.seqLen == 512)
    }

    @Test("two logs that disagree are an error unless an override settles it")
    func conflictingLogs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-logs-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("a.log")
        let second = directory.appendingPathComponent("b.log")
        try "step:0\ntrain_seq_len:1024 iterations:1\n".write(to: first, atomically: true, encoding: .utf8)
        try "TRAIN_SEQ_LEN=2048 torchrun train_gpt.py\n".write(to: second, atomically: true, encoding: .utf8)
        let weights = try BaselineWeights.taleef7()
        #expect(throws: ModelConfigError.conflictingLogValues(
            key: "train_seq_len", first: "1024",
            firstSource: .log(file: first.path, line: 2, text: "train_seq_len:1024 iterations:1"),
            second: "2048", secondSource: .log(file: second.path, line: 1, text: "TRAIN_SEQ_LEN=2048 torchrun train_gpt.py"))) {
            try ModelConfigResolver.resolve(weights: weights, code: Self.artifactCode, logs: [first, second], overrides: [:])
        }
        let settled = try ModelConfigResolver.resolve(weights: weights, code: Self.artifactCode, logs: [first, second],
                                                      overrides: ["TRAIN_SEQ_LEN": "4096"])
        #expect(settled.seqLen == 4096)
    }

    @Test("values nobody states are refused with the missing name")
    func missingValues() throws {
        #expect(throws: ModelConfigError.missingValue(
            key: "rope_base", environmentVariable: "ROPE_BASE",
            detail: "no code was given, and no log or override states it")) {
            try ModelConfigResolver.resolve(weights: BaselineWeights.taleef7(), code: nil, logs: [], overrides: [:])
        }
        #expect {
            try ModelConfigResolver.resolve(weights: BaselineWeights.taleef7(includeQueryGain: false), code: nil,
                                            logs: [], overrides: ["ROPE_BASE": "10000", "LOGIT_SOFTCAP": "30"])
        } throws: { error in
            guard case let .missingValue(key, variable, _) = error as? ModelConfigError else { return false }
            return key == "num_heads" && variable == "NUM_HEADS"
                && "\(error)".contains("pass it as an override (NUM_HEADS=...)")
        }
        #expect {
            try ModelConfigResolver.resolve(weights: BaselineWeights.taleef7(), code: nil, logs: [],
                                            overrides: ["ROPE_BASE": "10000", "LOGIT_SOFTCAP": "30"])
        } throws: { error in
            guard case let .missingValue(key, _, _) = error as? ModelConfigError else { return false }
            return key == "train_seq_len"
        }
    }

    @Test("bad overrides, unreadable files and broken shapes are typed errors")
    func badInputs() throws {
        let weights = try BaselineWeights.taleef7()
        #expect(throws: ModelConfigError.unknownOverride(
            key: "NUM_HAEDS", known: ModelConfigResolver.statedKeys.map(\.environmentVariable) + ["SEQ_LEN"])) {
            try ModelConfigResolver.resolve(weights: weights, code: Self.artifactCode, logs: [], overrides: ["NUM_HAEDS": "4"])
        }
        #expect(throws: ModelConfigError.invalidValue(
            key: "rope_base", value: "fast", source: .override(key: "ROPE_BASE", value: "fast"), reason: "not a number")) {
            try ModelConfigResolver.resolve(weights: weights, code: Self.artifactCode, logs: [], overrides: ["ROPE_BASE": "fast"])
        }
        #expect {
            try ModelConfigResolver.resolve(weights: weights, code: URL(fileURLWithPath: "/nonexistent/train_gpt.py"),
                                            logs: [], overrides: [:])
        } throws: { error in
            guard case let .unreadable(file, _) = error as? ModelConfigError else { return false }
            return file == "/nonexistent/train_gpt.py"
        }
        var noEmbedding = weights
        noEmbedding["tok_emb.weight"] = nil
        #expect(throws: ModelConfigError.missingTensor("tok_emb.weight")) {
            try ModelConfigResolver.resolve(weights: noEmbedding, code: Self.artifactCode, logs: [], overrides: [:])
        }
        var gap = try BaselineWeights.make(vocab: 1024, layers: 4, dim: 64, heads: 4, kvHeads: 2, mlpHidden: 64, tied: true)
        for name in gap.keys where name.hasPrefix("blocks.2.") { gap[name] = nil }
        #expect(throws: ModelConfigError.missingTensor("blocks.2.* (blocks up to 3 are present)")) {
            try ModelConfigResolver.resolve(weights: gap, code: Self.artifactCode, logs: [], overrides: [:])
        }
        var untiedWrong = weights
        untiedWrong["lm_head.weight"] = try Tensor(zeros: [1000, 64])
        #expect(throws: ModelConfigError.unexpectedShape(
            tensor: "lm_head.weight", shape: [1000, 64], expected: "[1024, 64] like tok_emb.weight")) {
            try ModelConfigResolver.resolve(weights: untiedWrong, code: Self.artifactCode, logs: [], overrides: [:])
        }
        var oddHeads = weights
        oddHeads["blocks.0.attn.q_gain"] = try Tensor(zeros: [3])
        #expect {
            try ModelConfigResolver.resolve(weights: oddHeads, code: Self.artifactCode, logs: [], overrides: [:])
        } throws: { error in
            guard case let .inconsistent(key, reason, _) = error as? ModelConfigError else { return false }
            return key == "num_heads" && reason.contains("not divisible by 3 heads")
        }
    }

    @Test("an untied head is a shape fact")
    func untiedHead() throws {
        let weights = try BaselineWeights.make(vocab: 1000, layers: 3, dim: 96, heads: 6, kvHeads: 3, mlpHidden: 192,
                                               tied: false)
        let resolved = try ModelConfigResolver.resolve(
            weights: weights, code: nil, logs: [],
            overrides: ["ROPE_BASE": "10000", "LOGIT_SOFTCAP": "30", "TRAIN_SEQ_LEN": "128"])
        #expect(resolved.config == GPTConfig(vocabSize: 1000, numLayers: 3, modelDim: 96, numHeads: 6, numKVHeads: 3,
                                             mlpHidden: 192, tieEmbeddings: false, ropeBase: 10_000, logitSoftcap: 30))
        #expect(resolved.sources["tie_embeddings"] == .tensorShape(tensor: "lm_head.weight", shape: [1000, 96]))
        #expect(throws: ModelConfigError.contradictsShapes(
            key: "tie_embeddings", stated: "1", statedBy: .override(key: "TIE_EMBEDDINGS", value: "1"),
            shapeValue: "false", shapeSource: .tensorShape(tensor: "lm_head.weight", shape: [1000, 96]))) {
            try ModelConfigResolver.resolve(
                weights: weights, code: nil, logs: [],
                overrides: ["ROPE_BASE": "10000", "LOGIT_SOFTCAP": "30", "TRAIN_SEQ_LEN": "128", "TIE_EMBEDDINGS": "1"])
        }
    }
}

/// NUM_LOOPS in code without LOOP_START/LOOP_END (2026-03-19_SlidingWindowEval) counts passes over the
/// whole stack: 1 is the plain model; more are ``ArchitectureFeatures/StackLoops`` (``StackLoopTests``),
/// refused by name where the weights contradict them.
@Suite struct WholeStackLoopResolutionTests {
    static let code = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-03-19_SlidingWindowEval/train_gpt.py")

    @Test func onePassIsThePlainModel() throws {
        let weights = try BaselineWeights.make(vocab: 1024, layers: 2, dim: 64, heads: 4, kvHeads: 2, mlpHidden: 128, tied: true)
        let resolved = try ModelConfigResolver.resolve(weights: weights, code: Self.code, logs: [], overrides: [:])
        #expect(resolved.config.features == .baseline)
        #expect(resolved.config.numLayers == 2)
    }

    /// Plain 2-block weights (one skip weight) with NUM_LOOPS=2: the effective depth 4 implies two.
    @Test func passesTheSkipWeightsContradictAreRefusedByName() throws {
        let weights = try BaselineWeights.make(vocab: 1024, layers: 2, dim: 64, heads: 4, kvHeads: 2, mlpHidden: 128, tied: true)
        #expect {
            try ModelConfigResolver.resolve(weights: weights, code: Self.code, logs: [], overrides: ["NUM_LOOPS": "2"])
        } throws: { error in
            guard case .contradictsShapes(let key, _, _, let shapeValue, _)? = error as? ModelConfigError else { return false }
            return key == "num_loops" && shapeValue.contains("2 passes over 2 blocks imply 2")
        }
    }
}
