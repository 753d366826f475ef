import Foundation
import Testing
@testable import Reference

/// Chunked score-first SGD TTT on record-family models against the records' own `eval_val_sliding_ttt`
/// (fixtures/ttt/family-chunked): 2026-03-23 on a tiny banked March-family model (BigramHash, value
/// embeddings, SmearGate(dim), XSA; tail windows rescored) and 2026-04-06 on the tiny looped 2026-04 core
/// (gated skips, loops; every target scored once); 3,840 targets in four chunks of 1,024, stride 48,
/// two epochs, one frozen block. Required: |Δ val_bpb| ≤ 1e-4 (measured ≤ 3e-9), every chunk's token and
/// byte counts exact and its mean loss within 1e-4.
@Suite struct FamilyChunkedTTTGoldenTests {
    static let cases: [(String, String)] = [
        (FamilyChunkedTTTFixtures.parallelMuon, "pre_ttt"), (FamilyChunkedTTTFixtures.parallelMuon, "ttt"),
        (FamilyChunkedTTTFixtures.parallelMuon, "ttt_late_qat"),
        (FamilyChunkedTTTFixtures.looped, "pre_ttt"), (FamilyChunkedTTTFixtures.looped, "ttt"),
    ]

    /// Runs `run` of the golden `name` (`ttt_late_qat`: the record's `CastedLinear._qat_enabled` on, as its
    /// runs leave it; ``DifferentiableFamilyGPT/lateQATInTraining``).
    static func adapt(_ name: String, run: String) throws -> (golden: FamilyChunkedTTTFixtures.Golden,
                                                                model: DifferentiableFamilyGPT, result: ChunkedTTTResult) {
        let golden = try FamilyChunkedTTTFixtures.golden(name)
        let model = try FamilyChunkedTTTFixtures.model(golden)
        model.lateQATInTraining = run == "ttt_late_qat"
        let evaluator = try ChunkedTTTEvaluator(
            settings: FamilyChunkedTTTFixtures.settings(golden, epochs: run == "pre_ttt" ? 0 : nil),
            accounting: try FamilyChunkedTTTFixtures.accounting(golden), tokens: try FamilyChunkedTTTFixtures.tokens(golden),
            vocabulary: model.config.vocabSize)
        return (golden, model, try evaluator.evaluate(model: model, threads: 2))
    }

    @Test(arguments: cases)
    func matchesRecord(name: String, run: String) throws {
        let (golden, _, result) = try Self.adapt(name, run: run)
        let expected = try #require(golden.runs[run])
        #expect(abs(result.total.bitsPerByte - expected.val_bpb) <= 1e-4, "val_bpb \(result.total.bitsPerByte) vs \(expected.val_bpb)")
        #expect(abs(result.total.meanLoss - expected.val_loss) <= 1e-4, "val_loss \(result.total.meanLoss) vs \(expected.val_loss)")
        try #require(result.chunks.count == expected.chunks.count)
        for (ours, theirs) in zip(result.chunks, expected.chunks) {
            #expect(Double(ours.tokens) == theirs.tokens)
            #expect(Double(ours.bytes) == theirs.bytes)
            #expect(abs(ours.meanLoss - theirs.loss) <= 1e-4, "chunk \(theirs.chunk): \(ours.meanLoss) vs \(theirs.loss)")
        }
        // Three chunks trained, two epochs, batches of 3 over 8 sequences: 3 steps each.
        #expect(result.steps == (run == "pre_ttt" ? 0 : 3 * 2 * 3))
    }

    /// After the run every tensor matches the record's (Σw, Σ|w| and spread values): the same tensors
    /// trained (frozen ones unchanged), by the same steps.
    @Test(arguments: cases.filter { $0.1 != "pre_ttt" })
    func adaptedWeightsMatchRecord(name: String, run: String) throws {
        let (golden, model, _) = try Self.adapt(name, run: run)
        let expected = try #require(golden.runs[run]?.final_weights)
        let weights = model.weights()
        #expect(Set(weights.keys) == Set(expected.keys))
        for (name, summary) in expected {
            let data = try #require(weights[name]).data
            let sum = data.reduce(0.0) { $0 + Double($1) }, absSum = data.reduce(0.0) { $0 + Double(abs($1)) }
            #expect(abs(sum - summary.sum) <= 1e-5 * max(1, summary.abs_sum), "\(name): Σw \(sum) vs \(summary.sum)")
            #expect(abs(absSum - summary.abs_sum) <= 1e-5 * max(1, summary.abs_sum), "\(name): Σ|w| \(absSum) vs \(summary.abs_sum)")
            for (index, value) in zip(summary.indices, summary.values) {
                #expect(abs(Double(data[index]) - value) <= 1e-5 * max(1, abs(value)), "\(name)[\(index)]: \(data[index]) vs \(value)")
            }
        }
    }
}
