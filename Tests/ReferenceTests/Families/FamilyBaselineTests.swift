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
/// (tiny tied) and 9.5e-6 on the stack-loop model (whose random weights give ~17 nats a token, a few
/// float32 ulps) on 2026-12-06, against the goldens' 1e-4.
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
        // Whole-stack passes with per-pass LoRA: the 2026-03-19 record's shape of fixtures/conformance/stack-loops.*.
        let loops = try RawFloatWeights(contentsOf: Paths.fixture("conformance/stack-loops.weights.json"))
        var loopConfig = try #require(loops.config)
        loopConfig.features.stackLoops = .init(count: 2, loraRank: 4)
        cases.append(("stack loops ×2, LoRA rank 4", loopConfig, loops.weights, try #require(loops.seqLen)))
        for (name, config, weights, seqLen) in cases {
            let difference = try Self.maxLossDifference(config: config, weights: weights, seqLen: seqLen, tokens: stream)
            print("\(name): max |Δ nll| \(difference)")
            #expect(difference <= 1e-5, "\(name): max |Δ nll| \(difference)")
        }
    }
}

/// The family model's description of the baseline features is the graph ``GPTModel`` described, so
/// the baseline's conformance can compare code against it.
@Suite("Record families: the family description of the baseline features is GPTModel's")
struct FamilyBaselineDescriptionTests {
    static var configs: [(String, GPTConfig)] {
        var tiny = GPTConfig(vocabSize: 1030, numLayers: 3, modelDim: 24, numHeads: 4, numKVHeads: 2, mlpHidden: 48,
                             tieEmbeddings: false, ropeBase: 500, logitSoftcap: 20)
        var cases = [("tiny", tiny), ("9L/512d", GPTConfig(vocabSize: 1024, numLayers: 9, modelDim: 512, numHeads: 8, numKVHeads: 4,
                                                              mlpHidden: 1024, tieEmbeddings: true, ropeBase: 10000, logitSoftcap: 30))]
        tiny.rmsNormEps = 1e-6
        tiny.logitSoftcap = nil
        cases.append(("tiny, eps 1e-6, no softcap", tiny))
        tiny.features.mlpActivation = .leakyReluSquared(slope: 0.5)
        cases.append(("tiny leaky", tiny))
        tiny.features.mlpActivation = .reluPower(exponent: 3)
        tiny.features.stackLoops = .init(count: 2, loraRank: 4)
        cases.append(("tiny relu³, 2 passes with LoRA", tiny))
        tiny.features.stackLoops = .init(count: 3, loraRank: 0)
        cases.append(("tiny relu³, 3 passes", tiny))
        return cases
    }

    @Test func graphsAndSummariesAgree() throws {
        for (name, config) in Self.configs {
            let baseline = GPTModel.forwardDescription(config)
            let family = try FamilyGPTModel.forwardDescription(config)
            var forward = ForwardGraphComparison(code: baseline.graph, reference: family.graph)
            let baselineMatches = forward.equal(baseline.loss, family.loss)
            #expect(baselineMatches, "\(name)")
            var backward = ForwardGraphComparison(code: family.graph, reference: baseline.graph)
            let familyMatches = backward.equal(family.loss, baseline.loss)
            #expect(familyMatches, "\(name)")
            #expect(family.summary == baseline.summary.replacingOccurrences(of: "(GPTModel)", with: "(FamilyGPTModel, baseline features)"),
                    "\(name): \(family.summary)")
        }
    }

    /// A description that differs is not equal: the check above can fail.
    @Test func anotherActivationIsAnotherGraph() throws {
        var config = try #require(Self.configs.first).1
        let baseline = GPTModel.forwardDescription(config)
        config.features.mlpActivation = .reluPower(exponent: 3)
        let family = try FamilyGPTModel.forwardDescription(config)
        var comparison = ForwardGraphComparison(code: baseline.graph, reference: family.graph)
        let matches = comparison.equal(baseline.loss, family.loss)
        #expect(!matches)
    }
}
