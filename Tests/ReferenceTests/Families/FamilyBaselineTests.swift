import Foundation
import Testing
@testable import Reference

/// `ArchitectureFeatures.baseline` is the baseline GPT: the family model reproduces the baseline
/// goldens of fixtures/eval (the challenge's own train_gpt.py) through the window evaluator.
@Suite("Record families: baseline features are the baseline model")
struct FamilyBaselineTests {
    @Test("the tiny baseline fixture's cases (standard and sliding) within 1e-4", arguments: ["tiny"])
    func baselineGoldens(name: String) throws {
        let golden = try #require(try EvalFixtures.goldens().models[name])
        let accounting = try EvalFixtures.accounting(golden.luts)
        let weights = try EvalFixtures.weights(golden.weights)
        for goldenCase in golden.cases {
            let model = try FamilyGPTModel(config: golden.config.gptConfig, weights: weights, maxPositions: goldenCase.seq_len)
            let tokens = try EvalTokens.prepare(EvalFixtures.smallValidationTokens(), seqLen: goldenCase.seq_len,
                                                maxTokens: goldenCase.max_tokens)
            let plan = try EvalPlan(mode: goldenCase.evalMode, seqLen: goldenCase.seq_len, streamLength: tokens.count)
            let result = try FamilyWindowEvaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)
                .evaluate(threads: 2)
            #expect(result.tokens == goldenCase.tokens && result.bytes == goldenCase.bytes, "\(goldenCase)")
            #expect(abs(result.bitsPerByte - goldenCase.val_bpb) <= 1e-4, "\(goldenCase): \(result.bitsPerByte)")
        }
    }
}

/// The family model with baseline features against the baseline ``GPTModel`` on the same weights and
/// tokens, per token: the whole first window scored, and its last quarter scored alone (the sliding
/// form, where the last block runs only for the scored rows). Not bit for bit (the family fuses the
/// softcap into the log-softmax and runs q, k, v as three products): measured at most 3.8e-6 nats
/// (tiny tied) on 2026-12-06, against the goldens' 1e-4.
@Suite("Record families: the family model's per-token losses are GPTModel's")
struct FamilyBaselineEquivalenceTests {
    /// The largest |Δ nll| between the two models over the positions of both forms of the first window.
    static func maxLossDifference(config: GPTConfig, weights: Weights, seqLen: Int, tokens: [UInt16]) throws -> Float {
        let baseline = try GPTModel(config: config, weights: weights, maxPositions: seqLen)
        let family = try FamilyGPTModel(config: config, weights: weights, maxPositions: seqLen)
        let workspace = ForwardWorkspace(model: baseline, maxTokens: seqLen)
        BLAS.threads = 1
        var largest: Float = 0
        for scoredFrom in [0, seqLen * 3 / 4] {
            tokens.withUnsafeBufferPointer { stream in
                let inputs = stream.baseAddress!
                baseline.forward(inputs: inputs, targets: inputs + 1, tokens: seqLen, scoredFrom: scoredFrom, workspace: workspace)
                family.withWorkspace(tokens: seqLen) { w in
                    family.forward(tokens: UnsafeBufferPointer(rebasing: stream[0..<seqLen]), previousToken: nil,
                                   firstPosition: 0, firstRow: scoredFrom, workspace: w)
                    family.score(rows: scoredFrom..<seqLen, workspace: w) { Int(stream[$0 + 1]) }
                    for r in scoredFrom..<seqLen {
                        largest = max(largest, abs(w.nll[r] - workspace.nll[r]))
                    }
                }
            }
        }
        return largest
    }

    /// The fixtures/eval models (the real 2L/64d artifact, the tiny edge-case model, the tiny model
    /// tied as fixtures/ttt uses it) and the tiny model with the MLP activations of
    /// fixtures/conformance/variant-goldens.json.
    @Test func perTokenLossesAgree() throws {
        let stream = try EvalFixtures.smallValidationTokens()
        var cases: [(String, GPTConfig, Weights, Int)] = []
        for name in ["baseline-2L64d", "tiny"] {
            let golden = try #require(try EvalFixtures.goldens().models[name])
            cases.append((name, golden.config.gptConfig, try EvalFixtures.weights(golden.weights), golden.cases[0].seq_len))
        }
        var (config, weights) = try ModelWeightsTests.tiny()
        for activation in [ArchitectureFeatures.MLPActivation.leakyReluSquared(slope: 0.5), .reluPower(exponent: 3),
                           .reluPower(exponent: 1.5)] {
            config.features.mlpActivation = activation
            cases.append(("tiny \(activation.formula)", config, weights, 64))
        }
        config.features.mlpActivation = .reluSquared
        config.tieEmbeddings = true
        weights["lm_head.weight"] = nil
        cases.append(("tiny tied", config, weights, 64))
        for (name, config, weights, seqLen) in cases {
            let difference = try Self.maxLossDifference(config: config, weights: weights, seqLen: seqLen, tokens: stream)
            print("\(name): max |Δ nll| \(difference)")
            #expect(difference <= 1e-5, "\(name): max |Δ nll| \(difference)")
        }
    }
}

