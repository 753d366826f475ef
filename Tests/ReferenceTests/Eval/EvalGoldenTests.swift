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
        BLAS.threads = 1  // other suites evaluate concurrently; OpenBLAS threads would spin against them
        let vocab = model.config.vocabSize, c = model.config.modelDim
        #expect(golden.spot.logits_rows == [0, 1, seqLen - 1])
        var logits: [[Float]] = []
        var nll: [Float] = []
        let twoTokens = model.logits(segment: Array(stream[0..<2]), previousToken: nil, firstPosition: 0)
        logits.append(Array(twoTokens[0..<vocab]))
        logits.append(Array(twoTokens[vocab..<(2 * vocab)]))
        stream.withUnsafeBufferPointer { tokens in
            let window = UnsafeBufferPointer(rebasing: tokens[0..<seqLen])
            model.withWorkspace(tokens: seqLen) { w in
                model.forward(tokens: window, previousToken: nil, firstPosition: 0, firstRow: seqLen - 1, workspace: w)
                var last = [Float](repeating: 0, count: vocab)
                last.withUnsafeMutableBufferPointer { model.logits(hidden: w.x + (seqLen - 1) * c, rows: 1, out: $0.baseAddress!) }
                logits.append(last)
                model.forward(tokens: window, previousToken: nil, firstPosition: 0, firstRow: 0, workspace: w)
                model.score(rows: 0..<seqLen, workspace: w) { Int(tokens[$0 + 1]) }
                nll = Array(UnsafeBufferPointer(start: w.nll, count: seqLen))
            }
        }
        var maxLogitDiff: Float = 0
        for (ours, expected) in zip(logits, golden.spot.logits) {
            for (column, value) in expected.enumerated() { maxLogitDiff = max(maxLogitDiff, abs(ours[column] - value)) }
        }
        #expect(maxLogitDiff <= 1e-3, "\(name): logits max diff \(maxLogitDiff)")
        var maxLossDiff: Float = 0
        for (position, expected) in golden.spot.nll_first.enumerated() {
            maxLossDiff = max(maxLossDiff, abs(nll[position] - expected))
        }
        #expect(maxLossDiff <= 1e-4, "\(name): per-token loss max diff \(maxLossDiff)")
    }
}
