import Foundation
import Testing
@testable import Reference

/// Each feature changes the numbers on the golden weights (so the goldens pin every one of them),
/// and weights the configuration does not explain are refused with the feature named.
@Suite("Record families: features and refusals")
struct FamilyFeatureTests {
    static let fixture = "sparsegate-smearbos-sp8192"

    /// Per-target NLLs of the first eval batch and the first batch with a document starting
    /// mid-batch (where the SmearGate BOS reset acts) under `config`.
    func losses(_ config: GPTConfig, golden: FamilyFixtures.Golden, weights: Weights, tokens: [UInt16]) throws -> [Float] {
        let model = try FamilyGPTModel(config: config, weights: weights, maxPositions: golden.eval_batch_tokens)
        let plan = try DocumentSegmentedPlan(tokens: tokens, seqLen: golden.hyperparameters.eval_seq_len,
                                             batchTokens: golden.eval_batch_tokens)
        let midBOS = try #require(plan.batches.first { batch in
            batch.segments.dropFirst().contains { Int(tokens[batch.start + $0.lowerBound]) == 1 }
        })
        let v = config.vocabSize
        var out: [Float] = []
        for batch in [plan.batches[0], midBOS] {
            for segment in batch.segments {
                let first = batch.start + segment.lowerBound
                let logits = model.logits(segment: Array(tokens[first ..< batch.start + segment.upperBound]),
                                          previousToken: segment.lowerBound > 0 ? tokens[first - 1] : nil,
                                          firstPosition: segment.lowerBound)
                for t in 0..<segment.count {
                    let row = logits[(t * v) ..< ((t + 1) * v)]
                    let largest = row.max()!
                    let lse = largest + log(row.reduce(0) { $0 + exp($1 - largest) })
                    out.append(lse - row[row.startIndex + Int(tokens[first + t + 1])])
                }
            }
        }
        return out
    }

    static let variants: [(String, @Sendable (inout ArchitectureFeatures) -> Void)] = [
        ("smear without BOS reset", { $0.smearGate?.resetToken = nil }),
        ("no XSA", { $0.xsaLastN = 0 }),
        ("full RoPE", { $0.ropeDims = nil }),
        ("loop inactive", { $0.loop?.active = false }),
        ("no ln scale", { $0.layerNormScale = false }),
        ("final lane attn", { $0.parallelResiduals?.finalLane = .attention }),
        ("parallel from layer 5", { $0.parallelResiduals?.startLayer = 5 }),
        ("sparse gate scale 4", { $0.attentionGate = .sparse(window: 12, scale: 4) }),
        ("relu²", { $0.mlpActivation = .reluSquared }),
    ]

    @Test("every feature moves some target's loss far beyond the golden tolerance", arguments: 0..<variants.count)
    func featureMatters(index: Int) throws {
        let golden = try FamilyFixtures.golden(Self.fixture)
        let weights = try FamilyFixtures.weights(Self.fixture), tokens = try FamilyFixtures.tokens(Self.fixture)
        let config = golden.hyperparameters.config
        var changed = config
        Self.variants[index].1(&changed.features)
        #expect(changed != config)
        let base = try losses(config, golden: golden, weights: weights, tokens: tokens)
        let other = try losses(changed, golden: golden, weights: weights, tokens: tokens)
        let largest = zip(base, other).map { abs($0 - $1) }.max() ?? 0
        // Golden logits are checked to 2e-4; a feature must move some target's NLL far more.
        #expect(largest > 1e-2, "\(Self.variants[index].0): largest NLL change \(largest)")
    }

    static let marchVariants: [(String, String, @Sendable (inout ArchitectureFeatures) -> Void)] = [
        ("march-bigram-ve-sp1024", "no NTK scaling", { $0.ropeNTKTrainSeqLen = nil }),
        ("march-bigram-ve-sp1024", "value embeddings on other layers", { $0.valueEmbeddings?.layers = [0, 2] }),
        ("march-bigram-ve-sp1024", "bigram table read as trigram", { $0.bigramHash?.trigram = true }),
        ("march-trigram-sp1024", "trigram off", { $0.bigramHash?.trigram = false }),
    ]

    @Test("every March feature moves some target's loss far beyond the golden tolerance",
          arguments: 0..<marchVariants.count)
    func marchFeatureMatters(index: Int) throws {
        let (name, label, change) = Self.marchVariants[index]
        let golden = try FamilyFixtures.golden(name)
        let weights = try FamilyFixtures.weights(name), tokens = try FamilyFixtures.tokens(name)
        let seqLen = golden.hyperparameters.eval_seq_len, v = golden.hyperparameters.vocab_size
        func losses(_ config: GPTConfig) throws -> [Float] {
            let model = try FamilyGPTModel(config: config, weights: weights, maxPositions: seqLen)
            let logits = model.logits(segment: Array(tokens[0..<seqLen]), previousToken: nil, firstPosition: 0)
            return (0..<seqLen).map { t in
                let row = logits[(t * v) ..< ((t + 1) * v)], largest = row.max()!
                return largest + log(row.reduce(0) { $0 + exp($1 - largest) }) - row[row.startIndex + Int(tokens[t + 1])]
            }
        }
        var changed = golden.hyperparameters.config
        change(&changed.features)
        let largest = try zip(losses(golden.hyperparameters.config), losses(changed)).map { abs($0 - $1) }.max() ?? 0
        #expect(largest > 1e-2, "\(label): largest NLL change \(largest)")
    }

    @Test("a tensor of an unimplemented feature is refused by name")
    func unsupportedTensorNamed() throws {
        let golden = try FamilyFixtures.golden(Self.fixture)
        var weights = try FamilyFixtures.weights(Self.fixture)
        weights["blocks.0.dtg_gate.weight"] = try Tensor(shape: [1, 32], data: Array(repeating: 1, count: 32))
        #expect(throws: ModelWeightsError.unsupportedTensor(
            name: "blocks.0.dtg_gate.weight", feature: "dynamic token gate (dtg_gate)")) {
            try FamilyGPTModel(config: golden.hyperparameters.config, weights: weights, maxPositions: 1024)
        }
        let message = ModelWeightsError.unsupportedTensor(name: "blocks.0.attn.foo", feature: "X").description
        #expect(message == "unsupported: tensor blocks.0.attn.foo — feature X not implemented")
    }

    @Test("gate tensors the configuration does not expect are refused; missing ones too")
    func gateTensorsMustMatchConfig() throws {
        let golden = try FamilyFixtures.golden(Self.fixture)
        let weights = try FamilyFixtures.weights(Self.fixture)
        var noGate = golden.hyperparameters.config
        noGate.features.attentionGate = .none
        #expect(throws: ModelWeightsError.unexpectedTensor(name: "blocks.0.attn.attn_gate_w")) {
            try FamilyGPTModel(config: noGate, weights: weights, maxPositions: 1024)
        }
        var dense = golden.hyperparameters.config
        dense.features.attentionGate = .dense
        #expect(throws: ModelWeightsError.shapeMismatch(name: "blocks.0.attn.attn_gate_w", expected: [4, 32], actual: [4, 12])) {
            try FamilyGPTModel(config: dense, weights: weights, maxPositions: 1024)
        }
        var trimmed = weights
        trimmed["smear_lambda"] = nil
        #expect(throws: ModelWeightsError.missingTensor(name: "smear_lambda")) {
            try FamilyGPTModel(config: golden.hyperparameters.config, weights: trimmed, maxPositions: 1024)
        }
    }

    @Test("loop schedules follow the records' index lists")
    func loopSchedule() {
        // The records' defaults: 11 layers, loop 3...5 ×2 → 17 passes, 8 encoder / 9 decoder, 8 skips.
        let s = FamilyGPTModel.schedules(layers: 11, loop: .init(start: 3, end: 5, count: 2))
        #expect(s.looped.encoder == [0, 1, 2, 3, 4, 5, 3, 4])
        #expect(s.looped.decoder == [5, 3, 4, 5, 6, 7, 8, 9, 10])
        #expect(s.plain.encoder == [0, 1, 2, 3, 4])
        #expect(s.skipCount == 8)
    }

    @Test("eval_val batches: per rank, a tail short of a full batch is dropped")
    func perRankTruncation() throws {
        // 10 windows of 4 over 2 ranks, 3 windows a batch: rank 0 keeps windows 0..<3 of 0..<5,
        // rank 1 keeps 5..<8 of 5..<10 (total_seqs·rank // world_size, then whole batches only).
        let tokens = [UInt16](repeating: 7, count: 10 * 4 + 3)
        let plan = try DocumentSegmentedPlan(tokens: tokens, seqLen: 4, batchTokens: 12, worldSize: 2)
        #expect(plan.batches.map(\.start) == [0, 20])
        #expect(plan.batches.map(\.length) == [12, 12])
        #expect(plan.streamLength == 41)
        #expect(plan.batches[0].segments == [0..<4, 4..<8, 8..<12])
    }

    @Test("segments start at 0, at every BOS and every seq_len tokens into a document")
    func segments() {
        let tokens: [UInt16] = [5, 5, 5, 1, 5, 5, 5, 5, 5, 1, 5]
        #expect(DocumentSegmentedPlan.segments(tokens[0...], maxLength: 4, bos: 1)
                == [0..<3, 3..<7, 7..<9, 9..<11])
    }
}
