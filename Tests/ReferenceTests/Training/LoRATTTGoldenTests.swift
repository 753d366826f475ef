import Foundation
import Testing
@testable import Reference

/// Per-document LoRA TTT against the record's own `eval_val_ttt_lora` (2026-03-17_LoRA_TTT) on its
/// own GPT with the tiny weights (fixtures/ttt/lora_ttt_golden.json): six documents of the slice,
/// chunks of 64 targets, windows of up to 128, rank 4, Adam lr 0.01 (and lr 0: no adaptation).
/// Both sides draw the adapters' `A` from pgverify's ``LoRAInit`` (the harness patches the record's
/// reset to it). Required: |Δ val_bpb| ≤ 2e-4 and |Δ val_loss| ≤ 2e-4.
@Suite struct LoRATTTGoldenTests {
    struct Golden: Decodable {
        struct Settings: Decodable {
            var ttt_lora_rank: Int
            var ttt_lora_lr: Double
            var ttt_chunk_size, ttt_eval_seq_len: Int
            var beta1, beta2: Double
        }
        struct Run: Decodable { var val_loss, val_bpb: Double; var documents: Int }
        var settings: Settings
        var pre_ttt: Run
        var ttt: Run
    }

    @Test(arguments: ["pre_ttt", "ttt"])
    func matchesRecord(run: String) throws {
        let golden = try TTTFixtures.decode(Golden.self, "lora_ttt_golden.json")
        let expected = run == "ttt" ? golden.ttt : golden.pre_ttt
        let g = golden.settings
        let settings = LoRATTTSettings(rank: g.ttt_lora_rank, learningRate: run == "ttt" ? g.ttt_lora_lr : 0,
                                       chunkSize: g.ttt_chunk_size, evalSeqLen: g.ttt_eval_seq_len,
                                       beta1: g.beta1, beta2: g.beta2)
        let model = try TTTFixtures.tinyModel()
        let evaluator = try LoRATTTEvaluator(settings: settings, accounting: try TTTFixtures.accounting(),
                                             tokens: try TTTFixtures.sliceTokens(), vocabulary: model.config.vocabSize)
        #expect(evaluator.documents.count == expected.documents)
        let result = try evaluator.evaluate(model: model)
        #expect(abs(result.total.bitsPerByte - expected.val_bpb) <= 2e-4, "val_bpb \(result.total.bitsPerByte) vs \(expected.val_bpb)")
        #expect(abs(result.total.meanLoss - expected.val_loss) <= 2e-4, "val_loss \(result.total.meanLoss) vs \(expected.val_loss)")
        #expect(result.total.tokens == 8192)  // every target after the first BOS, once
    }

    /// Score-first per document: changing a token of a document changes no score of its earlier
    /// chunks (after all the training they fed) nor of any other document, and does change its own chunk.
    @Test func futureTokenDoesNotChangeEarlierScores() throws {
        let all = try TTTFixtures.sliceTokens()
        let settings = LoRATTTSettings(rank: 2, learningRate: 0.05, chunkSize: 64, evalSeqLen: 128)
        let accounting = try TTTFixtures.accounting()
        func run(_ stream: [UInt16]) throws -> LoRATTTResult {
            let model = try TTTFixtures.tinyModel()
            return try LoRATTTEvaluator(settings: settings, accounting: accounting, tokens: stream,
                                        vocabulary: model.config.vocabSize).evaluate(model: model)
        }
        let full = try LoRATTTEvaluator(settings: settings, accounting: accounting, tokens: all, vocabulary: 1030)
        let tokens = Array(all[..<full.documents[4].start])  // the first four documents
        let evaluator = try LoRATTTEvaluator(settings: settings, accounting: accounting, tokens: tokens, vocabulary: 1030)
        let document = 3, inDocument = 5 * 64 + 10  // a token of the 4th document; its target is in chunk 5
        let position = evaluator.documents[document].start + inDocument
        var flipped = tokens
        flipped[position] = tokens[position] == 500 ? 501 : 500
        let original = try run(tokens), changed = try run(flipped)
        let flippedChunk = (inDocument - 1) / 64
        #expect(original.chunks[document].count > flippedChunk + 2)
        for chunk in 0..<flippedChunk {
            #expect(TTTCausality.same(original.chunks[document][chunk], changed.chunks[document][chunk]), "chunk \(chunk) changed")
        }
        #expect(!TTTCausality.same(original.chunks[document][flippedChunk], changed.chunks[document][flippedChunk]))
        for other in original.documents.indices where other != document {
            #expect(TTTCausality.same(original.documents[other], changed.documents[other]), "document \(other) changed")
        }
    }
}
