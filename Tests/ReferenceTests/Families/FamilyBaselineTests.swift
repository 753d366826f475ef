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
            let result = try Evaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)
                .evaluate(threads: 2)
            #expect(result.tokens == goldenCase.tokens && result.bytes == goldenCase.bytes, "\(goldenCase)")
            #expect(abs(result.bitsPerByte - goldenCase.val_bpb) <= 1e-4, "\(goldenCase): \(result.bitsPerByte)")
        }
    }
}

