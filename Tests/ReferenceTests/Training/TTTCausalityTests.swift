import Foundation
import Testing
@testable import Reference

/// Score-first, asserted: changing a token inside chunk k changes no score of an earlier chunk (after
/// all the training those chunks fed), and does change chunk k's.
@Suite struct TTTCausalityTests {
    @Test(arguments: [1, 2, 3])
    func futureTokenDoesNotChangeEarlierScores(flippedChunk: Int) throws {
        let tokens = try TTTFixtures.sliceTokens()
        let settings = ChunkedTTTSettings(seqLen: 64, stride: 24, chunkTokens: 2048, epochs: 1, learningRate: 0.05,
                                          momentum: 0.9, freezeBlocks: 1, batchSequences: 8, gradientClip: 1)
        let accounting = try TTTFixtures.accounting()
        func run(_ stream: [UInt16]) throws -> ChunkedTTTResult {
            let model = try TTTFixtures.tinyModel()
            return try ChunkedTTTEvaluator(settings: settings, accounting: accounting, tokens: stream,
                                           vocabulary: model.config.vocabSize).evaluate(model: model)
        }
        // A target far enough into chunk k that no window of chunk k−1 scores or reads it.
        let position = flippedChunk * settings.chunkTokens + settings.seqLen + 7
        var flipped = tokens
        flipped[position] = tokens[position] == 500 ? 501 : 500
        let original = try run(tokens), changed = try run(flipped)
        for chunk in 0..<flippedChunk {
            #expect(TTTCausality.same(original.chunks[chunk], changed.chunks[chunk]), "chunk \(chunk) changed")
        }
        #expect(!TTTCausality.same(original.chunks[flippedChunk], changed.chunks[flippedChunk]))
    }
}

/// Scoring spreads windows over threads and training steps split their products over them; the
/// result must not change.
@Suite struct TTTThreadsTests {
    @Test func resultDoesNotDependOnThreads() throws {
        let tokens = Array(try TTTFixtures.sliceTokens()[0...4096])
        let settings = ChunkedTTTSettings(seqLen: 64, stride: 32, chunkTokens: 1024, epochs: 1, learningRate: 0.05,
                                          momentum: 0.9, freezeBlocks: 0, batchSequences: 4, gradientClip: 1)
        let accounting = try TTTFixtures.accounting()
        var results: [ChunkedTTTResult] = []
        for threads in [1, 2] {
            let model = try TTTFixtures.tinyModel()
            let evaluator = try ChunkedTTTEvaluator(settings: settings, accounting: accounting, tokens: tokens,
                                                    vocabulary: model.config.vocabSize)
            results.append(try evaluator.evaluate(model: model, threads: threads))
        }
        #expect(results[0].chunks.count == 4 && results[0].steps == 3 * 4)
        // Scoring sums exactly and the tape's tiles are fixed, so training on more threads changes no bit.
        #expect(results[0] == results[1])
    }

    /// Settings the record's loop cannot run with are refused before anything runs.
    @Test func invalidSettingsAreRefused() throws {
        let tokens = try TTTFixtures.sliceTokens(), accounting = try TTTFixtures.accounting()
        var settings = ChunkedTTTSettings(seqLen: 64, stride: 65)
        #expect(throws: TTTError.invalidSetting(name: "eval_stride", value: "65 (must be in 1...64)")) {
            try ChunkedTTTEvaluator(settings: settings, accounting: accounting, tokens: tokens, vocabulary: 1030)
        }
        settings.stride = 64
        settings.batchSequences = 0
        #expect(throws: TTTError.self) {
            try ChunkedTTTEvaluator(settings: settings, accounting: accounting, tokens: tokens, vocabulary: 1030)
        }
        settings.batchSequences = 4
        #expect(throws: TTTError.evaluation(.tokenOutOfRange(position: 1, token: 1000, vocabulary: 900))) {
            try ChunkedTTTEvaluator(settings: settings, accounting: accounting, tokens: [1, 1000] + tokens, vocabulary: 900)
        }
    }
}

enum TTTCausality {
    /// Two scores of the same targets are the same: equal counts, and loss sums equal up to the
    /// rounding OpenBLAS introduces when its thread count differs between runs (tests running in
    /// parallel change that process-wide setting; measured ~1e-9 nats per token). A future token
    /// leaking into a score moves it by orders of magnitude more.
    static func same(_ a: EvalPartial, _ b: EvalPartial) -> Bool {
        a.tokens == b.tokens && a.bytes == b.bytes && abs(a.lossSum.value - b.lossSum.value) <= 1e-7 * Double(a.tokens)
    }
}
