import Foundation
import Testing
@testable import Reference

/// Our model and evaluators against PyTorch running the challenge's own code (tools/eval_goldens.py).
@Suite struct EvalGoldenTests {
    static let tolerance = 1e-4

    @Test(arguments: ["baseline-2L64d", "tiny"])
    func matchesPyTorchGoldens(model name: String) throws {
        let (model, accounting, golden) = try EvalFixtures.load(name)
        let stream = try EvalFixtures.smallValidationTokens()
        for golden in golden.cases {
            let tokens = try EvalTokens.prepare(stream, seqLen: golden.seq_len, maxTokens: golden.max_tokens)
            let plan = try EvalPlan(mode: golden.evalMode, seqLen: golden.seq_len, streamLength: tokens.count)
            let evaluator = try Evaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)
            let result = try evaluator.evaluate(threads: 2)
            #expect(result.tokens == golden.tokens, "\(name) \(golden)")
            #expect(result.bytes == golden.bytes, "\(name) \(golden)")
            #expect(abs(result.meanLoss - golden.val_loss) <= Self.tolerance,
                    "\(name) \(golden): val_loss \(result.meanLoss) vs \(golden.val_loss)")
            #expect(abs(result.bitsPerByte - golden.val_bpb) <= Self.tolerance,
                    "\(name) \(golden): val_bpb \(result.bitsPerByte) vs \(golden.val_bpb)")
        }
    }

    /// The first window's logits and per-token losses, for locating a mismatch. Causality makes
    /// the logits of rows 0 and 1 those of a two-token window, and row T−1's those of the full
    /// window scored from T−1 only.
    @Test(arguments: ["baseline-2L64d", "tiny"])
    func firstWindowMatchesLogitsAndLosses(model name: String) throws {
        let (model, _, golden) = try EvalFixtures.load(name)
        let stream = try EvalFixtures.smallValidationTokens()
        let seqLen = golden.cases[0].seq_len
        let workspace = ForwardWorkspace(model: model, maxTokens: seqLen)
        BLAS.threads = 1  // other suites evaluate concurrently; OpenBLAS threads would spin against them
        let vocab = model.config.vocabSize
        #expect(golden.spot.logits_rows == [0, 1, seqLen - 1])
        var logits: [[Float]] = []
        stream.withUnsafeBufferPointer { tokens in
            let inputs = tokens.baseAddress!
            model.forward(inputs: inputs, targets: inputs + 1, tokens: 2, scoredFrom: 0, workspace: workspace)
            logits.append(Array(UnsafeBufferPointer(start: workspace.logits, count: vocab)))
            logits.append(Array(UnsafeBufferPointer(start: workspace.logits + vocab, count: vocab)))
            model.forward(inputs: inputs, targets: inputs + 1, tokens: seqLen, scoredFrom: seqLen - 1, workspace: workspace)
            logits.append(Array(UnsafeBufferPointer(start: workspace.logits, count: vocab)))
            model.forward(inputs: inputs, targets: inputs + 1, tokens: seqLen, scoredFrom: 0, workspace: workspace)
        }
        var maxLogitDiff: Float = 0
        for (ours, expected) in zip(logits, golden.spot.logits) {
            for (column, value) in expected.enumerated() { maxLogitDiff = max(maxLogitDiff, abs(ours[column] - value)) }
        }
        #expect(maxLogitDiff <= 1e-3, "\(name): logits max diff \(maxLogitDiff)")
        var maxLossDiff: Float = 0
        for (position, expected) in golden.spot.nll_first.enumerated() {
            maxLossDiff = max(maxLossDiff, abs(workspace.nll[position] - expected))
        }
        #expect(maxLossDiff <= 1e-4, "\(name): per-token loss max diff \(maxLossDiff)")
    }
}
