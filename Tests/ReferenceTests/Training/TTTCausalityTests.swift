import Foundation
import Testing
@testable import Reference

/// Score-first, asserted: changing a token inside chunk k changes no score of an earlier chunk (they
/// are identical to the bit, after all the training those chunks fed), and does change chunk k's.
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
            #expect(original.chunks[chunk] == changed.chunks[chunk], "chunk \(chunk) changed")
        }
        #expect(original.chunks[flippedChunk].lossSum != changed.chunks[flippedChunk].lossSum)
    }
}
