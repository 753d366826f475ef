import Foundation
import Testing
@testable import Reference

/// Phased TTT split into its prefix (batches up to the last global phase, and the phases) and parts
/// of the suffix, each part on a fresh model holding only the prefix's final weights: the parts'
/// sums and batches are exactly the whole evaluation's (the golden cases' settings and fixtures, on
/// their first 8,192 targets).
@Suite struct PhasedTTTSplitTests {
    @Test func thePrefixEndsWhereTheRecordsLastPhaseRan() throws {
        for name in ["adam_two_phases", "sgd_three_phases", "gated_warm_start"] {
            let golden = try PhasedTTTFixtures.golden(name)
            let evaluator = try PhasedTTTFixtures.evaluator(golden.settings.phased, family: golden.family ?? PhasedTTTFixtures.family)
            #expect(evaluator.prefixBatchCount == golden.phases.last?.after_batches, "\(name)")
            #expect(evaluator.batchCount == golden.batches.count, "\(name)")
        }
        // One phase per batch at most: a boundary passed by several phases at once waits for later batches.
        #expect(PhasedTTTPlan.prefixBatchCount(batchSizes: [2, 2, 2], boundaries: [0, 0, 1], prefixDocs: 1) == 3)
        #expect(PhasedTTTPlan.prefixBatchCount(batchSizes: [2, 2], boundaries: [0, 0, 1], prefixDocs: 1) == 2)
        #expect(PhasedTTTPlan.prefixBatchCount(batchSizes: [1, 1, 1, 1], boundaries: [1, 3], prefixDocs: 3) == 3)
        #expect(PhasedTTTPlan.prefixBatchCount(batchSizes: [3, 3], boundaries: [0], prefixDocs: 0) == 0)
    }

    /// The family's first 8,192 targets (no trailing BOS, which would open an empty document).
    static func tokens(_ family: String) throws -> [UInt16] {
        var tokens = Array(try FamilyFixtures.tokens(family).prefix(8193))
        while tokens.last == PhasedTTTEvaluator.bos { tokens.removeLast() }
        return tokens
    }

    /// Runs the whole evaluation, then the prefix and `parts` suffix parts, and compares.
    static func expectSplitIsExact(_ settings: PhasedTTTSettings, family: String, loraAlpha: Double?, parts: Int) throws {
        let evaluator = try PhasedTTTFixtures.evaluator(settings, family: family, tokens: try tokens(family))
        #expect(evaluator.prefixBatchCount > 0 && evaluator.batchCount - evaluator.prefixBatchCount >= parts)
        let whole = try evaluator.evaluate(model: try PhasedTTTFixtures.model(family: family, loraAlpha: loraAlpha))
        // The evaluator itself runs OpenBLAS single-threaded, whatever the process had set: otherwise the
        // whole run and the parts could round their sgemms differently (a flake seen in the full suite).
        #expect(BLAS.threads == 1)
        let prefixModel = try PhasedTTTFixtures.model(family: family, loraAlpha: loraAlpha)
        let prefix = try evaluator.evaluatePrefix(model: prefixModel)
        let state = Array(prefixModel.baseParameters)
        var total = prefix.total, batches = prefix.batches
        let first = evaluator.prefixBatchCount, suffix = evaluator.batchCount - first
        for part in 0..<parts {
            let model = try PhasedTTTFixtures.model(family: family, loraAlpha: loraAlpha)
            _ = model.baseParameters.update(from: state)
            model.baseParametersDidChange()
            let positions = (first + part * suffix / parts)..<(first + (part + 1) * suffix / parts)
            let result = try evaluator.evaluate(model: model, batches: positions)
            total += result.total
            batches += result.batches
        }
        #expect(total == whole.total)
        #expect(batches == whole.batches)
        #expect(prefix.phases == whole.phases)
    }

    @Test func adamTwoPhasesSplitsExactly() throws {
        let golden = try PhasedTTTFixtures.golden("adam_two_phases")
        var settings = golden.settings.phased
        settings.batchSize = 1
        settings.prefixDocs = 2
        try Self.expectSplitIsExact(settings, family: PhasedTTTFixtures.family, loraAlpha: nil, parts: 3)
    }

    @Test func sgdThreePhasesSplitsExactly() throws {
        let golden = try PhasedTTTFixtures.golden("sgd_three_phases")
        var settings = golden.settings.phased
        settings.batchSize = 1
        settings.prefixDocs = 3
        try Self.expectSplitIsExact(settings, family: PhasedTTTFixtures.family, loraAlpha: nil, parts: 2)
    }

    /// Warm-started `A` chains the suffix batches: the whole suffix as one part is exact; a part that
    /// starts later is refused.
    @Test func warmStartedAIsExactOnlyAsOneSuffixPart() throws {
        let golden = try PhasedTTTFixtures.golden("gated_warm_start")
        let family = try #require(golden.family)
        var settings = golden.settings.phased
        settings.batchSize = 1
        settings.prefixDocs = 2
        #expect(settings.warmStartA)
        try Self.expectSplitIsExact(settings, family: family, loraAlpha: golden.settings.ttt_lora_alpha, parts: 1)
        let evaluator = try PhasedTTTFixtures.evaluator(settings, family: family, tokens: try Self.tokens(family))
        let model = try PhasedTTTFixtures.model(family: family, loraAlpha: golden.settings.ttt_lora_alpha)
        let later = (evaluator.prefixBatchCount + 1)..<evaluator.batchCount
        #expect(throws: PhasedTTTError.self) { try evaluator.evaluate(model: model, batches: later) }
        #expect(throws: PhasedTTTError.self) { try evaluator.evaluate(model: model, batches: 0..<1) }
        // Without adaptation every batch stands alone, warm start or not.
        #expect(try evaluator.evaluate(model: model, batches: later, adapt: false).batches.count == later.count)
    }
}
