import Foundation
import Testing
@testable import Reference

/// The whole phased TTT against the record's own `eval_val_ttt_phased` (fixtures/ttt/phased/,
/// tools/phased_ttt_goldens.py) on the plain-sp1024 family fixture with DifferentiableFamilyGPT.
@Suite struct PhasedTTTGoldenTests {
    /// Runs one golden case; `adapt: false` stands for the record run with nothing to adapt.
    static func run(_ name: String, adapt: Bool = true) throws -> (PhasedTTTFixtures.Case, PhasedTTTResult) {
        let golden = try PhasedTTTFixtures.golden(name)
        let family = golden.family ?? PhasedTTTFixtures.family
        let evaluator = try PhasedTTTFixtures.evaluator(golden.settings.phased, family: family)
        let model = try PhasedTTTFixtures.model(family: family, loraAlpha: golden.settings.ttt_lora_alpha)
        return (golden, try evaluator.evaluate(model: model, adapt: adapt))
    }

    static func check(_ golden: PhasedTTTFixtures.Case, _ result: PhasedTTTResult, _ name: String, phases: Bool = true) {
        #expect(abs(result.total.bitsPerByte - golden.val_bpb) <= 2e-4, "\(name): val_bpb \(result.total.bitsPerByte) vs \(golden.val_bpb)")
        #expect(abs(result.total.meanLoss - golden.val_loss) <= 3e-4, "\(name): val_loss \(result.total.meanLoss) vs \(golden.val_loss)")
        // Per batch, in the record's scoring order (its sums are cumulative).
        #expect(result.batches.map(\.batch) == golden.batches.map(\.batch), "\(name)")
        #expect(result.batches.map(\.documents) == golden.batches.map(\.documents), "\(name)")
        var previous = (loss: 0.0, bytes: 0.0, tokens: 0.0)
        for (ours, theirs) in zip(result.batches, golden.batches) {
            let tokens = theirs.token_count - previous.tokens, bytes = theirs.byte_sum - previous.bytes
            #expect(Double(ours.partial.tokens) == tokens, "\(name) batch \(theirs.batch)")
            #expect(Double(ours.partial.bytes) == bytes, "\(name) batch \(theirs.batch)")
            let batchLoss = (theirs.loss_sum - previous.loss) / tokens
            #expect(abs(ours.partial.meanLoss - batchLoss) <= 5e-4, "\(name) batch \(theirs.batch): bl \(ours.partial.meanLoss) vs \(batchLoss)")
            previous = (theirs.loss_sum, theirs.byte_sum, theirs.token_count)
        }
        // Phases: which documents, how many tokens, which chunks at which learning rate, step losses.
        guard phases else { return }
        #expect(result.phases.count == golden.phases.count, "\(name)")
        let tokens = (try? FamilyFixtures.tokens(golden.family ?? PhasedTTTFixtures.family)) ?? []
        let starts = ((try? PhasedTTTPlan.documents(in: tokens)) ?? []).map(\.start)
        for (ours, theirs) in zip(result.phases, golden.phases) {
            #expect(ours.afterBatches == theirs.after_batches, "\(name) phase \(theirs.phase)")
            #expect(ours.documents == theirs.documents.map { starts.firstIndex(of: $0[2]) ?? -1 }, "\(name) phase \(theirs.phase)")
            #expect(ours.tokens == theirs.tokens, "\(name) phase \(theirs.phase)")
            #expect(ours.trained.map(\.chunk) == theirs.chunks.map(\.chunk), "\(name) phase \(theirs.phase)")
            for (c, g) in zip(ours.trained, theirs.chunks) {
                #expect(c.learningRate == g.lr, "\(name) phase \(theirs.phase) chunk \(g.chunk)")
                #expect(c.losses.count == g.losses.count)
                let worst = zip(c.losses, g.losses).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 2e-4, "\(name) phase \(theirs.phase) chunk \(g.chunk): step losses differ by \(worst)")
            }
        }
    }

    @Test func adamWithTwoGlobalPhasesMatchesTheRecord() throws {
        let (golden, result) = try Self.run("adam_two_phases")
        Self.check(golden, result, "adam_two_phases")
        #expect(result.total.tokens == 16_384)
        #expect(result.phases.map(\.prefixDone) == [3, 7])
    }

    @Test func sgdWithThreePhasesMatchesTheRecord() throws {
        let (golden, result) = try Self.run("sgd_three_phases")
        Self.check(golden, result, "sgd_three_phases")
    }

    /// 2026-04-27 (SmearGate BOS fix, sparse attention gate): LoRA outputs scaled by alpha / rank and
    /// `A` kept across the batches between phases (drawn for the first batch each adapter set serves).
    @Test func gatedRecordWithWarmStartedAMatchesTheRecord() throws {
        let (golden, result) = try Self.run("gated_warm_start")
        #expect(golden.settings.ttt_warm_start_a == true && golden.settings.ttt_lora_alpha == 8)
        Self.check(golden, result, "gated_warm_start")
    }

    /// The record with LoRA lr 0 and no global epochs (nothing moves; its phases still pause, with
    /// nothing to train) is what pgverify's no-adaptation baseline computes; adaptation must have
    /// moved the score visibly.
    @Test func theBaselineIsTheRecordWithoutAdaptation() throws {
        let (golden, result) = try Self.run("no_adaptation", adapt: false)
        Self.check(golden, result, "no_adaptation", phases: false)
        #expect(golden.phases.allSatisfy { $0.chunks.isEmpty })
        #expect(result.adapterSteps == 0 && result.globalSteps == 0)
        let adapted = try PhasedTTTFixtures.golden("adam_two_phases")
        #expect(abs(adapted.val_bpb - golden.val_bpb) > 0.01)
    }
}
