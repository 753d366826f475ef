import Foundation
import Testing
@testable import Reference

/// Configurations the torch goldens do not cover (no record fixture has them), checked against
/// FamilyGPTModel's forward and against finite differences of the whole model's varlen mean loss.
@Suite struct FamilyGradientVariantTests {
    struct Variant: CustomStringConvertible, Sendable {
        var description: String
        var fixture: String
        /// Tensors whose largest gradient entries are probed by finite differences.
        var probed: [String]
        var edit: @Sendable (inout GPTConfig, inout Weights) -> Void
    }

    static let variants: [Variant] = [
        Variant(description: "untied head", fixture: "plain-sp1024", probed: ["lm_head.weight", "tok_emb.weight"]) { config, weights in
            config = GPTConfig(vocabSize: config.vocabSize, numLayers: config.numLayers, modelDim: config.modelDim,
                               numHeads: config.numHeads, numKVHeads: config.numKVHeads, mlpHidden: config.mlpHidden,
                               tieEmbeddings: false, ropeBase: config.ropeBase, logitSoftcap: config.logitSoftcap,
                               features: config.features)
            let embedding = weights["tok_emb.weight"]!
            weights["lm_head.weight"] = try! Tensor(shape: embedding.shape, data: embedding.data.enumerated().map { $1 * 1.5 + Float($0 % 7) * 0.01 })
        },
        Variant(description: "output gate reading the raw query", fixture: "outgate-smear-sp1024",
                probed: ["blocks.2.attn.attn_gate_proj.weight", "blocks.2.attn.c_q.weight"]) { config, _ in
            if case .outputGate(let window, _) = config.features.attentionGate {
                config.features.attentionGate = .outputGate(window: window, source: .queryProjection)
            }
        },
        Variant(description: "attention final lane, no loop, no ln_scale", fixture: "gatedattn-sp1024",
                probed: ["parallel_post_lambdas", "blocks.5.attn.attn_gate_w", "skip_gates"]) { config, _ in
            config.features.parallelResiduals?.finalLane = .attention
            config.features.loop?.active = false
            config.features.layerNormScale = false
        },
    ]

    @Test(arguments: variants)
    func variantMatchesFamilyGPTModelAndFiniteDifferences(_ variant: Variant) throws {
        var config = try FamilyFixtures.golden(variant.fixture).hyperparameters.config
        var weights = try FamilyFixtures.weights(variant.fixture)
        variant.edit(&config, &weights)
        let tokens = try FamilyFixtures.tokens(variant.fixture)
        let reference = try FamilyGPTModel(config: config, weights: weights, maxPositions: 512)
        let model = try DifferentiableFamilyGPT(config: config, weights: weights)

        // Forward: one TTT row against FamilyGPTModel.
        let start = tokens.firstIndex(of: 1)!, n = 128
        let inputs = Array(tokens[start..<(start + n)]), targets = Array(tokens[(start + 1)...(start + n)])
        let expected = FamilyGradientModelTests.referenceLosses(reference, tokens: inputs, targets: targets, previousToken: nil,
                                                                firstPosition: 0)
        let losses = model.perTokenLosses(TokenRows(inputs: inputs.map(Int32.init), targets: targets.map(Int32.init), rows: 1, columns: n),
                                          adapters: model.makeAdapters(rows: 1, rank: 2, targets: LoRATargets()))
        let worst = zip(losses, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-5, "\(variant): losses differ from FamilyGPTModel by \(worst)")

        // Backward: the largest gradient entries of the probed tensors against central differences.
        let x = inputs.map(Int32.init), y = targets.map(Int32.init), segments = [0, 50]
        model.zeroBaseGradients()
        _ = model.accumulateBaseGradients(inputs: x, targets: y, segmentStarts: segments)
        let analytic = Array(model.baseGradients)
        for name in variant.probed {
            let entry = try #require(model.entry(named: name), "\(name)")
            let indices = (entry.offset..<(entry.offset + entry.count)).sorted { abs(analytic[$0]) > abs(analytic[$1]) }.prefix(4)
            #expect(abs(analytic[indices.first!]) > 5e-4, "\(variant) \(name): vacuous gradient")
            for index in indices {
                let original = model.baseParameters[index], step: Float = 1e-2
                model.baseParameters[index] = original + step
                let plus = model.accumulateBaseGradients(inputs: x, targets: y, segmentStarts: segments)
                model.baseParameters[index] = original - step
                let minus = model.accumulateBaseGradients(inputs: x, targets: y, segmentStarts: segments)
                model.baseParameters[index] = original
                let numeric = (plus - minus) / Double(2 * step)
                #expect(abs(numeric - Double(analytic[index])) <= 0.02 * abs(Double(analytic[index])) + 2e-5,
                        "\(variant) \(name)[\(index - entry.offset)]: analytic \(analytic[index]) vs numeric \(numeric)")
            }
        }
    }
}
