import Foundation
import Reference
import Testing
@testable import Verifier

/// Feature resolution for the record families: the fixtures' weights (fixtures/families) with the
/// record's own train_gpt.py as code and the golden run's env as overrides must resolve to the model
/// that reproduces the record's eval_val.
@Suite("Model config resolution: record-family features")
struct FamilyConfigResolutionTests {
    static func record(_ folder: String) -> URL {
        Paths.shared("corpus/parameter-golf/records/track_10min_16mb/\(folder)/train_gpt.py")
    }

    static func weights(_ family: String) throws -> Weights {
        try RawFloatWeights(contentsOf: Paths.fixture("families/\(family)/model.weights.json")).weights
    }

    /// The tiny dimensions the goldens ran with (tools/family_goldens.py TINY_ENV), as the run's env.
    static let tinyEnv = [
        "ROPE_DIMS": "4", "XSA_LAST_N": "4", "NUM_LOOPS": "2", "LOOP_START": "1", "LOOP_END": "2",
        "PARALLEL_START_LAYER": "4", "EVAL_SEQ_LEN": "256",
    ]

    @Test("2026-04-27 SmearGate BOS fix + SparseAttnGate: every feature from tensors, code and env")
    func sparseGateSmearBOS() throws {
        let resolved = try ModelConfigResolver.resolve(
            weights: Self.weights("sparsegate-smearbos-sp8192"),
            code: Self.record("2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT"), logs: [],
            overrides: Self.tinyEnv.merging(["SPARSE_ATTN_GATE_SCALE": "0.75"]) { $1 })
        let f = resolved.config.features
        #expect(f.mlpActivation == .leakyReluSquared(slope: 0.5))
        #expect(f.ropeDims == 4 && f.xsaLastN == 4 && f.layerNormScale && f.skipGates)
        #expect(f.loop == .init(start: 1, end: 2, count: 2, active: true))
        #expect(f.parallelResiduals == .init(startLayer: 4, finalLane: .mean))
        #expect(f.smearGate == .init(window: 12, resetToken: 1))
        #expect(f.attentionGate == .sparse(window: 12, scale: 0.75))
        #expect(f.mlpOutputGateWindow == nil)
        #expect(resolved.config.vocabSize == 8192 && resolved.config.numHeads == 4 && resolved.config.numKVHeads == 2)
        #expect(resolved.seqLen == 256)
        #expect(resolved.sources["smear_gate"]?.description.contains("bos_mask") == true)
        #expect(resolved.sources["ln_scale"]?.description.contains("LN_SCALE") == true)
    }

    @Test("record #1 (BOSSmearFix_9HpStack): its not_bos form of the BOS fix is recognised")
    func recordOneBOSFix() throws {
        let resolved = try ModelConfigResolver.resolve(
            weights: Self.weights("sparsegate-bosfix9hp-sp1024"),
            code: Self.record("2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611"), logs: [],
            overrides: Self.tinyEnv.merging(["SPARSE_ATTN_GATE_SCALE": "1.5"]) { $1 })
        #expect(resolved.config.features.smearGate == .init(window: 12, resetToken: 1))
        #expect(resolved.config.features.attentionGate == .sparse(window: 12, scale: 1.5))
        #expect(resolved.sources["smear_gate"]?.description.contains("not_bos") == true)
    }

    @Test("2026-04-16: output gate, MLP gate, SmearGate without the BOS fix")
    func outputGateSmear() throws {
        let resolved = try ModelConfigResolver.resolve(
            weights: Self.weights("outgate-smear-sp1024"),
            code: Self.record("2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT"), logs: [], overrides: Self.tinyEnv)
        let f = resolved.config.features
        #expect(f.smearGate == .init(window: 10, resetToken: nil))
        #expect(f.attentionGate == .outputGate(window: 12, source: .blockInput))
        #expect(f.mlpOutputGateWindow == 12)
    }

    @Test("2026-04-19: a [heads, model_dim] gate is dense gated attention")
    func denseGate() throws {
        let resolved = try ModelConfigResolver.resolve(
            weights: Self.weights("gatedattn-sp1024"),
            code: Self.record("2026-04-19_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT"), logs: [],
            overrides: Self.tinyEnv)
        #expect(resolved.config.features.attentionGate == .dense)
        #expect(resolved.config.features.smearGate == nil)
    }

    @Test("a loop the skip_weights rows contradict is refused")
    func loopContradictsSkips() throws {
        #expect(throws: ModelConfigError.self) {
            try ModelConfigResolver.resolve(
                weights: Self.weights("plain-sp1024"),
                code: Self.record("2026-04-14_MultiPhaseGlobalSGD_PhasedTTT"), logs: [],
                overrides: Self.tinyEnv.merging(["NUM_LOOPS": "1"]) { $1 })
        }
    }

    @Test("family weights without code: the MLP activation is unknown, not assumed")
    func noCode() throws {
        do {
            _ = try ModelConfigResolver.resolve(
                weights: Self.weights("plain-sp1024"), code: nil, logs: [],
                overrides: Self.tinyEnv.merging(["ROPE_BASE": "10000", "LOGIT_SOFTCAP": "30"]) { $1 })
            Issue.record("resolved a family model's activation without its code")
        } catch let error as ModelConfigError {
            guard case .unreadCodeFact(let key, _) = error else {
                Issue.record("expected unreadCodeFact, got \(error)")
                return
            }
            #expect(key == "mlp_activation")
            // A fact of the code: the message must not suggest an override (there is no setting to name).
            #expect(error.description.contains("no override can supply it"))
            #expect(!error.description.contains("-=..."))
        }
    }

    @Test("tensors of unimplemented features are named; YaRN is refused")
    func unsupported() throws {
        var weights = try Self.weights("plain-sp1024")
        weights["blocks.0.attn.vrl_alpha"] = try Tensor(shape: [1], data: [1])
        let code = Self.record("2026-04-14_MultiPhaseGlobalSGD_PhasedTTT")
        do {
            _ = try ModelConfigResolver.resolve(weights: weights, code: code, logs: [], overrides: Self.tinyEnv)
            Issue.record("expected an unsupported-tensor error")
        } catch {
            #expect(error.description == "unsupported: tensor blocks.0.attn.vrl_alpha — feature value-residual learning (vrl_alpha / vr_lambda) not implemented")
        }
        var banked = try Self.weights("plain-sp1024")
        banked["qo_bank"] = try Tensor(shape: [2, 2], data: [1, 2, 3, 4])
        #expect(throws: ModelConfigError.unsupportedTensor(
            name: "qo_bank", feature: "parameter banks (un-bank into blocks.{i}.… names first)")) {
            try ModelConfigResolver.resolve(weights: banked, code: code, logs: [], overrides: Self.tinyEnv)
        }
        #expect(throws: ModelConfigError.self) {
            try ModelConfigResolver.resolve(weights: Self.weights("plain-sp1024"), code: code, logs: [],
                                            overrides: Self.tinyEnv.merging(["ROPE_YARN": "1"]) { $1 })
        }
    }

    @Test("the resolved configuration reproduces the record's eval_val on the fixture")
    func resolvedConfigEvaluates() throws {
        let family = "sparsegate-smearbos-sp8192"
        let weights = try Self.weights(family)
        let resolved = try ModelConfigResolver.resolve(
            weights: weights, code: Self.record("2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT"), logs: [],
            overrides: Self.tinyEnv.merging(["SPARSE_ATTN_GATE_SCALE": "0.75"]) { $1 })
        struct Golden: Decodable { var val_bpb: Double; var eval_batch_tokens: Int }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("families/\(family)/golden.json")))
        let tokens = try ValidationShard.read(Paths.fixture("families/\(family)/val_tokens.bin"))
        let model = try FamilyGPTModel(config: resolved.config, weights: weights, maxPositions: golden.eval_batch_tokens)
        let plan = try DocumentSegmentedPlan(tokens: tokens, seqLen: resolved.seqLen, batchTokens: golden.eval_batch_tokens)
        let accounting = try SentencePieceModel(contentsOf: Paths.shared("tokenizers/fineweb_8192_bpe.model"))
            .byteAccounting(modelVocabularySize: 8192)
        let result = try DocumentSegmentedEvaluator(model: model, bytes: .tokenizer(accounting), tokens: tokens, plan: plan)
            .evaluate(threads: 2)
        #expect(abs(result.bitsPerByte - golden.val_bpb) <= 1e-4)
    }

    @Test("March record: BigramHash, value embeddings, SmearGate(dim) and NTK RoPE resolve and reproduce eval_val")
    func marchFamily() throws {
        let family = "march-bigram-ve-sp1024"
        let weights = try Self.weights(family)
        let code = Self.record("2026-03-25_ValCalib_GPTQ_XSA_BigramHash3072")
        let env = ["ROPE_DIMS": "4", "XSA_LAST_N": "3", "VE_LAYERS": "1,3", "EVAL_SEQ_LEN": "2048"]
        let resolved = try ModelConfigResolver.resolve(weights: weights, code: code, logs: [], overrides: env)
        let f = resolved.config.features
        #expect(f.bigramHash == .init(vocab: 97, dim: 16, trigram: false))
        #expect(f.valueEmbeddings == .init(layers: [1, 3], dim: 8))
        #expect(f.channelSmearGate && f.ropeNTKTrainSeqLen == 1024 && f.ropeDims == 4 && f.xsaLastN == 3)
        #expect(f.mlpActivation == .leakyReluSquared(slope: 0.5) && f.loop == nil && f.parallelResiduals == nil)
        #expect(resolved.seqLen == 2048)
        #expect(throws: ModelConfigError.self) {  // 3 layers named, 2 ve_layer_scales
            try ModelConfigResolver.resolve(weights: weights, code: code, logs: [],
                                            overrides: env.merging(["VE_LAYERS": "1,2,3"]) { $1 })
        }

        struct Golden: Decodable { var val_bpb: Double }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("families/\(family)/golden.json")))
        let tokens = try EvalTokens.prepare(ValidationShard.read(Paths.fixture("families/\(family)/val_tokens.bin")), seqLen: 2048)
        let model = try FamilyGPTModel(config: resolved.config, weights: weights, maxPositions: resolved.seqLen)
        let accounting = try SentencePieceModel(contentsOf: Paths.shared("tokenizers/fineweb_1024_bpe.model"))
            .byteAccounting(modelVocabularySize: 1024)
        let result = try Evaluator(model: model, accounting: accounting, tokens: tokens,
                                               plan: EvalPlan(mode: .standard, seqLen: 2048, streamLength: tokens.count))
            .evaluate(threads: 2)
        #expect(abs(result.bitsPerByte - golden.val_bpb) <= 1e-4)
    }

    @Test("record #2 at full size from its own code and log: the 10-best architecture, every feature sourced")
    func fullSizeRecordFromLog() throws {
        let folder = "2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT"
        var weights = try BaselineWeights.make(vocab: 8192, layers: 11, dim: 512, heads: 8, kvHeads: 4,
                                               mlpHidden: 2048, tied: true)
        weights["skip_weights"] = try Tensor(zeros: [8, 512])   // loop 3...5 ×2: 8 encoder / 9 decoder passes
        weights["skip_gates"] = try Tensor(zeros: [8, 512])
        weights["parallel_post_lambdas"] = try Tensor(zeros: [11, 2, 2])
        weights["parallel_resid_lambdas"] = try Tensor(zeros: [11, 2])
        weights["smear_gate.weight"] = try Tensor(zeros: [1, 12])
        weights["smear_lambda"] = try Tensor(zeros: [1])
        weights["blocks.0.attn.attn_gate_w"] = try Tensor(zeros: [8, 12])
        let log = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/\(folder)/train_seed42.log")
        let resolved = try ModelConfigResolver.resolve(weights: weights, code: Self.record(folder), logs: [log], overrides: [:])
        var expected = ArchitectureFeatures()
        expected.mlpActivation = .leakyReluSquared(slope: 0.5)
        expected.ropeDims = 16
        expected.xsaLastN = 11
        expected.layerNormScale = true
        expected.skipGates = true
        expected.loop = .init(start: 3, end: 5, count: 2)
        expected.parallelResiduals = .init(startLayer: 8, finalLane: .mean)
        expected.smearGate = .init(window: 12, resetToken: 1)
        expected.attentionGate = .sparse(window: 12, scale: 1.0)
        #expect(resolved.config.features == expected)
        #expect(resolved.seqLen == 2048 && resolved.config.vocabSize == 8192 && resolved.config.mlpHidden == 2048)
        #expect(resolved.sources["rope_dims"] == .log(file: log.path, line: 87, text: "rope_dims: 16"))
        #expect(resolved.sources["loop"]?.description.contains("blocks 3...5 ×3") == true)
    }
}
