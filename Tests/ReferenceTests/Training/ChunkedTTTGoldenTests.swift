import Foundation
import Testing
@testable import Reference

/// The chunked score-first TTT against the record's own `eval_val_sliding_ttt`
/// (fixtures/ttt/ttt_golden.json): the tiny model on 8,192 targets (six documents), four chunks of
/// 2,048, stride 24, two epochs, one frozen block. Required: |Δ val_bpb| ≤ 2e-4 (issue 7), every
/// chunk's token and byte counts exact and its mean loss within 2e-4 nats.
@Suite struct ChunkedTTTGoldenTests {
    static func settings(_ golden: TTTFixtures.Settings, epochs: Int, rule: TTTWindowRule = .rescoreTail) -> ChunkedTTTSettings {
        ChunkedTTTSettings(seqLen: golden.train_seq_len, stride: golden.stride, chunkTokens: golden.ttt_chunk_tokens,
                           epochs: epochs, learningRate: golden.ttt_lr, momentum: golden.ttt_momentum,
                           freezeBlocks: golden.ttt_freeze_blocks, batchSequences: golden.ttt_batch_seqs,
                           gradientClip: golden.ttt_grad_clip, windowRule: rule)
    }

    /// `pre_ttt` and `ttt`: 2026-03-23's function (tail windows rescored); `ttt_exactly_once`:
    /// 2026-04-08's (every target once).
    @Test(arguments: ["pre_ttt", "ttt", "ttt_exactly_once"])
    func matchesRecord(run: String) throws {
        let golden = try TTTFixtures.decode(TTTFixtures.TTTGolden.self, "ttt_golden.json")
        let expected = ["ttt": golden.ttt, "pre_ttt": golden.pre_ttt, "ttt_exactly_once": golden.ttt_exactly_once][run]!
        let model = try TTTFixtures.tinyModel()
        let evaluator = try ChunkedTTTEvaluator(
            settings: Self.settings(golden.settings, epochs: run == "pre_ttt" ? 0 : golden.settings.ttt_epochs,
                                    rule: run == "ttt_exactly_once" ? .exactlyOnce : .rescoreTail),
            accounting: try TTTFixtures.accounting(), tokens: try TTTFixtures.sliceTokens(),
            vocabulary: model.config.vocabSize)
        let result = try evaluator.evaluate(model: model)
        #expect(abs(result.total.bitsPerByte - expected.val_bpb) <= 2e-4, "val_bpb \(result.total.bitsPerByte) vs \(expected.val_bpb)")
        #expect(abs(result.total.meanLoss - expected.val_loss) <= 2e-4, "val_loss \(result.total.meanLoss) vs \(expected.val_loss)")
        try #require(result.chunks.count == expected.chunks.count)
        for (ours, theirs) in zip(result.chunks, expected.chunks) {
            #expect(Double(ours.tokens) == theirs.tokens)
            #expect(Double(ours.bytes) == theirs.bytes)
            #expect(abs(ours.meanLoss - theirs.loss) <= 2e-4, "chunk \(theirs.chunk): \(ours.meanLoss) vs \(theirs.loss)")
        }
        if run != "pre_ttt" { #expect(result.steps == 3 * golden.settings.ttt_epochs * 4) }
    }
}
