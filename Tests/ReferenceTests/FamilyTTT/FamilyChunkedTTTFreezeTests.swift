import Foundation
import Testing
@testable import Reference

/// Which tensors chunked TTT leaves fixed on a family model, and that it scores before it trains.
@Suite struct FamilyChunkedTTTFreezeTests {
    /// Runs the golden's TTT (optionally on a shorter stream or with another freeze scope) and returns
    /// the weights before and after, and the result.
    static func adapt(_ name: String = FamilyChunkedTTTFixtures.parallelMuon, scope: TTTFreezeScope? = nil,
                      tokens: [UInt16]? = nil) throws -> (before: Weights, after: Weights, result: ChunkedTTTResult) {
        let golden = try FamilyChunkedTTTFixtures.golden(name)
        let model = try FamilyChunkedTTTFixtures.model(golden)
        let before = model.weights()
        var settings = FamilyChunkedTTTFixtures.settings(golden)
        if let scope { settings.freezeScope = scope }
        let result = try ChunkedTTTEvaluator(settings: settings, accounting: try FamilyChunkedTTTFixtures.accounting(golden),
                                             tokens: try tokens ?? FamilyChunkedTTTFixtures.tokens(golden),
                                             vocabulary: model.config.vocabSize).evaluate(model: model)
        return (before, model.weights(), result)
    }

    /// Banked records (2026-03-23): block 0's own scalars stay bit-identical, its bank matrices train;
    /// every tensor outside block 0 trains.
    @Test func bankedRecordsFreezeOnlyBlockScalars() throws {
        let (before, after, _) = try Self.adapt(scope: .blockScalars)
        for name in ["blocks.0.attn_scale", "blocks.0.mlp_scale", "blocks.0.resid_mix", "blocks.0.attn.q_gain"] {
            #expect(after[name]?.data == before[name]?.data, "\(name) changed")
        }
        for name in ["blocks.0.attn.c_q.weight", "blocks.0.mlp.fc.weight", "blocks.1.attn_scale", "blocks.2.attn.q_gain",
                     "tok_emb.weight", "skip_weights", "smear.gate", "bigram.embed.weight", "ve_layer_scales.0"] {
            #expect(after[name]?.data != before[name]?.data, "\(name) did not train")
        }
    }

    /// Unbanked records (2026-04-06, the baseline): every tensor of a frozen block stays bit-identical.
    @Test func wholeBlocksFreezeEveryBlockTensor() throws {
        let (before, after, _) = try Self.adapt(FamilyChunkedTTTFixtures.looped)
        let blockZero = before.keys.filter { $0.hasPrefix("blocks.0.") }
        #expect(blockZero.count == 10)
        for name in blockZero { #expect(after[name]?.data == before[name]?.data, "\(name) changed") }
        #expect(after["blocks.1.attn.c_q.weight"]?.data != before["blocks.1.attn.c_q.weight"]?.data)
    }

    /// Score-first, both window rules: a token changed inside chunk 2 leaves the scores of chunks 0 and 1 unchanged (after
    /// the training they fed; up to the OpenBLAS rounding ``TTTCausality/same(_:_:)`` allows when parallel
    /// tests change its thread count), and changes chunk 2's.
    @Test(arguments: [FamilyChunkedTTTFixtures.parallelMuon, FamilyChunkedTTTFixtures.looped])
    func futureTokenDoesNotChangeEarlierScores(name: String) throws {
        let golden = try FamilyChunkedTTTFixtures.golden(name)
        let tokens = try FamilyChunkedTTTFixtures.tokens(golden)
        let position = 2 * golden.ttt.ttt_chunk_tokens + golden.ttt.train_seq_len + 7
        var flipped = tokens
        flipped[position] = tokens[position] == 500 ? 501 : 500
        let original = try Self.adapt(name, tokens: tokens).result
        let changed = try Self.adapt(name, tokens: flipped).result
        for chunk in 0..<2 {
            #expect(TTTCausality.same(original.chunks[chunk], changed.chunks[chunk]), "chunk \(chunk) changed")
        }
        #expect(!TTTCausality.same(original.chunks[2], changed.chunks[2]))
    }
}
