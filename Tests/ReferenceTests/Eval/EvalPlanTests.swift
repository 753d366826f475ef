import Testing
@testable import Reference

@Suite struct EvalPlanTests {
    /// Each target in `0..<total` is scored by exactly one window, the first window scores all of
    /// its targets, and every later target sees `seq_len − stride` tokens of context or more.
    @Test(arguments: [(64, 24, 961), (64, 64, 961), (64, 1, 129), (1024, 64, 65537), (32, 7, 33)])
    func slidingScoresEveryTargetOnce(seqLen: Int, stride: Int, streamLength: Int) throws {
        let plan = try EvalPlan(mode: .sliding(stride: stride), seqLen: seqLen, streamLength: streamLength)
        var scored = [Int](repeating: 0, count: streamLength - 1)
        for window in plan.windows {
            #expect(window.length <= seqLen && window.start + window.length <= streamLength - 1)
            for r in window.scoredFrom..<window.length {
                scored[window.start + r] += 1
                if window.start > 0 { #expect(r >= seqLen - stride) }
            }
        }
        #expect(scored.allSatisfy { $0 == 1 })
        #expect(plan.windows.first?.scoredFrom == 0)
        #expect(plan.scoredTokens == streamLength - 1)
    }

    @Test func slidingTailWindowIsShorter() throws {
        // total 960, stride 24, context 40: the last window starts at 912 and scores 952..<960.
        let plan = try EvalPlan(mode: .sliding(stride: 24), seqLen: 64, streamLength: 961)
        #expect(plan.windows.last == EvalWindow(start: 912, length: 48, scoredFrom: 40))
        #expect(plan.windows.count == 39)
    }

    @Test func standardUsesWholeNonOverlappingSequences() throws {
        let plan = try EvalPlan(mode: .standard, seqLen: 64, streamLength: 200)
        #expect(plan.windows == [EvalWindow(start: 0, length: 64, scoredFrom: 0),
                                 EvalWindow(start: 64, length: 64, scoredFrom: 0),
                                 EvalWindow(start: 128, length: 64, scoredFrom: 0)])
    }

    @Test func prepareCutsToWholeSequencesAfterMaxTokens() throws {
        let stream = (0..<1000).map { UInt16($0) }
        #expect(try EvalTokens.prepare(stream, seqLen: 64).count == 961)          // 15·64 + 1
        #expect(try EvalTokens.prepare(stream, seqLen: 64, maxTokens: 200).count == 193)  // 3·64 + 1
        #expect(try EvalTokens.prepare(stream, seqLen: 64, maxTokens: 128).count == 129)
        #expect(throws: EvalError.streamTooShort(tokens: 51, seqLen: 64)) {
            try EvalTokens.prepare(stream, seqLen: 64, maxTokens: 50)
        }
        #expect(throws: EvalError.invalidMaxTokens(0)) { try EvalTokens.prepare(stream, seqLen: 64, maxTokens: 0) }
    }

    @Test func rejectsBadStrides() {
        #expect(throws: EvalError.invalidStride(stride: 0, seqLen: 64)) {
            try EvalPlan(mode: .sliding(stride: 0), seqLen: 64, streamLength: 200)
        }
        #expect(throws: EvalError.invalidStride(stride: 65, seqLen: 64)) {
            try EvalPlan(mode: .sliding(stride: 65), seqLen: 64, streamLength: 200)
        }
    }

    @Test func evaluatorRejectsTokensOutsideTheVocabulary() throws {
        let (model, accounting, _) = try EvalFixtures.load("baseline-2L64d")
        var tokens = [UInt16](repeating: 5, count: 1025)
        tokens[700] = 1024
        let plan = try EvalPlan(mode: .standard, seqLen: 1024, streamLength: tokens.count)
        #expect(throws: EvalError.tokenOutOfRange(position: 700, token: 1024, vocabulary: 1024)) {
            try Evaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)
        }
    }
}
