import Foundation
import Testing
@testable import Reference

/// The record-family forward's shortcuts give the numbers of the plain computation: a batch's
/// segments spread over threads, the last block run only for the scored rows, and the softcap fused
/// into the log-softmax.
@Suite("Record families: threaded segments, scored rows only, fused softcap")
struct FamilyFastPathTests {
    @Test("a batch's segments spread over threads give exactly the one-thread sums", arguments: FamilyFixtures.names)
    func segmentThreadsExact(name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let tokens = try FamilyFixtures.tokens(name)
        let model = try FamilyGPTModel(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name),
                                       maxPositions: golden.eval_batch_tokens)
        let plan = try DocumentSegmentedPlan(tokens: tokens, seqLen: golden.hyperparameters.eval_seq_len,
                                             batchTokens: golden.eval_batch_tokens)
        let evaluator = try DocumentSegmentedEvaluator(model: model, bytes: .tokenizer(FamilyFixtures.accounting(golden)),
                                                       tokens: tokens, plan: plan)
        let batch = try #require(plan.batches.first { $0.segments.count > 2 })
        let one = try evaluator.evaluate(batch: batch, threads: 1)
        #expect(one.tokens == batch.length)
        #expect(try evaluator.evaluate(batch: batch, threads: 3) == one)
        #expect(try evaluator.evaluate(threads: 4) == (try evaluator.evaluate(threads: 1)))
        #expect(DocumentSegmentedEvaluator.segmentThreads(threads: 4, items: 1) == 4)
        #expect(DocumentSegmentedEvaluator.segmentThreads(threads: 4, items: 3) == 1)
        #expect(DocumentSegmentedEvaluator.segmentThreads(threads: 2, items: 0) == 2)
    }

    @Test("the last block run for the scored rows only gives the full pass's losses", arguments: FamilyFixtures.names + FamilyFixtures.marchNames)
    func scoredRowsOnly(name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let seqLen = golden.hyperparameters.eval_seq_len
        let config = FamilyFixtures.marchNames.contains(name) ? golden.hyperparameters.marchConfig : golden.hyperparameters.config
        let model = try FamilyGPTModel(config: config, weights: FamilyFixtures.weights(name), maxPositions: seqLen)
        let tokens = Array(try FamilyFixtures.tokens(name).prefix(seqLen + 1))
        let n = seqLen, firstRow = seqLen - 37
        func losses(from row: Int) -> [Float] {
            model.withWorkspace(tokens: n) { w in
                tokens.withUnsafeBufferPointer { all in
                    model.forward(tokens: UnsafeBufferPointer(rebasing: all[0..<n]), previousToken: nil, firstPosition: 0,
                                  firstRow: row, workspace: w)
                    model.score(rows: firstRow..<n, workspace: w) { Int(all[$0 + 1]) }
                }
                return Array(UnsafeBufferPointer(start: w.nll + firstRow, count: n - firstRow))
            }
        }
        let full = losses(from: 0), partial = losses(from: firstRow)
        for (a, b) in zip(full, partial) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "\(a) vs \(b)") }
        // The same rows' logits from the public whole-segment path agree with the scored losses.
        let logits = model.logits(segment: Array(tokens[0..<n]), previousToken: nil, firstPosition: 0)
        let v = config.vocabSize, row = n - 1
        let rowLogits = Array(logits[(row * v)..<((row + 1) * v)])
        let largest = rowLogits.max()!
        let expected = largest + log(rowLogits.reduce(0) { $0 + exp($1 - largest) }) - rowLogits[Int(tokens[row + 1])]
        #expect(abs(full.last! - expected) <= 1e-4, "\(full.last!) vs \(expected)")
    }

    @Test("softcap fused into the log-softmax matches softcap, then cross-entropy")
    func fusedSoftcap() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        for (cap, spread) in [(Float(30), Float(1)), (30, 80), (15, 5), (50, 20)] {
            let count = 8192
            let row = (0..<count).map { _ in next() * spread }
            let target = Int(abs(next()) * Float(count - 1))
            var capped = row
            capped.withUnsafeMutableBufferPointer { softcap($0.baseAddress!, count: count, cap: cap) }
            var scratch = [Float](repeating: 0, count: count)
            let expected = capped.withUnsafeBufferPointer { c in
                scratch.withUnsafeMutableBufferPointer { crossEntropy(logits: c.baseAddress!, count: count, target: target, scratch: $0.baseAddress!) }
            }
            var fused = row
            let got = fused.withUnsafeMutableBufferPointer { softcappedCrossEntropy($0.baseAddress!, count: count, target: target, cap: cap) }
            #expect(abs(got - expected) <= 2e-5 * max(1, abs(expected)), "cap \(cap), spread \(spread): \(got) vs \(expected)")
        }
    }
}
