import Foundation
import Testing
@testable import Reference

/// The record-family reference model against goldens computed by each record's own `GPT` and
/// `eval_val` (tools/family_goldens.py).
@Suite("Record families: goldens from the records' own code")
struct FamilyGoldenTests {
    @Test("val_loss and val_bpb match the record's eval_val within 1e-4", arguments: FamilyFixtures.names)
    func evalMatchesRecord(name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let tokens = try FamilyFixtures.tokens(name)
        let model = try FamilyGPTModel(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name),
                                       maxPositions: golden.eval_batch_tokens)
        let plan = try DocumentSegmentedPlan(tokens: tokens, seqLen: golden.hyperparameters.eval_seq_len,
                                             batchTokens: golden.eval_batch_tokens)
        // Record #1 always counts bytes from a CaseOps sidecar; its fixture carries one (val_bytes.bin).
        let bytes: TokenByteCounts = try FamilyFixtures.sidecar(name).map { .sidecar($0) }
            ?? .tokenizer(FamilyFixtures.accounting(golden))
        let evaluator = try DocumentSegmentedEvaluator(model: model, bytes: bytes, tokens: tokens, plan: plan)
        let result = try evaluator.evaluate(threads: 2)
        #expect(result.tokens == golden.val_tokens - 1)
        #expect(abs(result.meanLoss - golden.val_loss) <= 1e-4, "val_loss \(result.meanLoss) vs \(golden.val_loss)")
        #expect(abs(result.bitsPerByte - golden.val_bpb) <= 1e-4, "val_bpb \(result.bitsPerByte) vs \(golden.val_bpb)")
    }

    @Test("first-batch logits match the record's forward_logits", arguments: FamilyFixtures.names)
    func logitsMatchRecord(name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let tokens = try FamilyFixtures.tokens(name)
        let model = try FamilyGPTModel(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name),
                                       maxPositions: golden.eval_batch_tokens)
        let plan = try DocumentSegmentedPlan(tokens: tokens, seqLen: golden.hyperparameters.eval_seq_len,
                                             batchTokens: golden.eval_batch_tokens)
        let vocabulary = golden.hyperparameters.vocab_size
        #expect(golden.logits_rows.count >= 7)
        for (key, expected) in golden.logits_rows {
            // "batch:row": a row of an eval batch's forward_logits (rows around a mid-batch BOS included).
            let parts = key.split(separator: ":").compactMap { Int($0) }
            let batch = plan.batches[try #require(parts.first)], row = try #require(parts.last)
            let segment = try #require(batch.segments.first { $0.contains(row) })
            let segmentTokens = Array(tokens[(batch.start + segment.lowerBound) ..< (batch.start + segment.upperBound)])
            let logits = model.logits(segment: segmentTokens,
                                      previousToken: segment.lowerBound > 0 ? tokens[batch.start + segment.lowerBound - 1] : nil,
                                      firstPosition: segment.lowerBound)
            let offset = (row - segment.lowerBound) * vocabulary
            for (column, value) in expected.enumerated() {
                #expect(abs(logits[offset + column] - value) <= 2e-4, "\(key) column \(column)")
            }
        }
    }
}

/// The March family (BigramHash, value embeddings, SmearGate(dim), NTK RoPE at 2,048) against the
/// record's own standard `eval_val` and `forward_logits`.
@Suite("Record families: March goldens")
struct MarchFamilyGoldenTests {
    @Test("val_loss and val_bpb match the record's eval_val within 1e-4", arguments: FamilyFixtures.marchNames)
    func evalMatchesRecord(name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let seqLen = golden.hyperparameters.eval_seq_len
        let tokens = try EvalTokens.prepare(FamilyFixtures.tokens(name), seqLen: seqLen)
        let model = try FamilyGPTModel(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name),
                                       maxPositions: seqLen)
        let plan = try EvalPlan(mode: .standard, seqLen: seqLen, streamLength: tokens.count)
        let result = try Evaluator(model: model, accounting: FamilyFixtures.accounting(golden),
                                               tokens: tokens, plan: plan).evaluate(threads: 2)
        #expect(result.tokens == golden.val_tokens - 1)
        #expect(abs(result.meanLoss - golden.val_loss) <= 1e-4, "val_loss \(result.meanLoss) vs \(golden.val_loss)")
        #expect(abs(result.bitsPerByte - golden.val_bpb) <= 1e-4, "val_bpb \(result.bitsPerByte) vs \(golden.val_bpb)")
    }

    @Test("window logits match the record's forward_logits", arguments: FamilyFixtures.marchNames)
    func logitsMatchRecord(name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let seqLen = golden.hyperparameters.eval_seq_len
        let tokens = try FamilyFixtures.tokens(name)
        let model = try FamilyGPTModel(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name),
                                       maxPositions: seqLen)
        let vocabulary = golden.hyperparameters.vocab_size
        var cache: [Int: [Float]] = [:]
        #expect(golden.logits_rows.count >= 10)
        for (key, expected) in golden.logits_rows {
            let parts = key.split(separator: ":").compactMap { Int($0) }
            let window = try #require(parts.first), row = try #require(parts.last)
            if cache[window] == nil {
                cache[window] = model.logits(segment: Array(tokens[(window * seqLen) ..< ((window + 1) * seqLen)]),
                                             previousToken: nil, firstPosition: 0)
            }
            let logits = try #require(cache[window])
            for (column, value) in expected.enumerated() {
                #expect(abs(logits[row * vocabulary + column] - value) <= 2e-4, "\(key) column \(column)")
            }
        }
    }
}
