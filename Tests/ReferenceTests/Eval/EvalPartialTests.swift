import Testing
@testable import Reference

@Suite struct EvalPartialTests {
    /// Disjoint window ranges evaluated separately add up exactly to the whole, and the whole does
    /// not depend on the thread count.
    @Test(arguments: [("tiny", 24), ("baseline-2L64d", 64)])
    func partsAddUpExactlyToTheWhole(model name: String, stride: Int) throws {
        let (model, accounting, golden) = try EvalFixtures.load(name)
        let seqLen = golden.cases[0].seq_len
        let tokens = try EvalTokens.prepare(try EvalFixtures.smallValidationTokens(), seqLen: seqLen, maxTokens: 4 * seqLen + 5)
        for mode in [EvalMode.standard, .sliding(stride: stride)] {
            let plan = try EvalPlan(mode: mode, seqLen: seqLen, streamLength: tokens.count)
            let evaluator = try Evaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)
            let whole = try evaluator.evaluate(threads: 1)
            #expect(try evaluator.evaluate(threads: 2) == whole)
            let n = plan.windows.count
            let cuts = [0, 1, n / 3, n / 2 + 1, n]
            var sum = EvalPartial()
            for (lower, upper) in zip(cuts, cuts.dropFirst()) {
                sum += try evaluator.evaluate(windows: lower..<upper, threads: 2)
            }
            #expect(sum == whole, "\(name) \(mode)")
            #expect(whole.tokens == plan.scoredTokens)
            #expect(whole.tokens == 4 * seqLen)
        }
    }

    @Test func exactLossSumCarriesAndHandlesNegatives() {
        var sum = ExactLossSum()
        for _ in 0..<1000 { sum.add(1e8) }          // 1e11 nats: crosses 2⁶⁴ units, needs the carry
        sum.add(-0.5)
        #expect(sum.high > 0)
        #expect(abs(sum.value - (1e11 - 0.5)) < 1e-3)
        var small = ExactLossSum()
        small.add(0.25); small.add(-0.75)
        #expect(small.value == -0.5)
        #expect(small + sum == sum + small)
    }

    @Test func meanLossAndBitsPerByteFollowTheChallengeFormula() {
        var sum = ExactLossSum()
        sum.add(2); sum.add(1)
        let partial = EvalPartial(lossSum: sum, tokens: 2, bytes: 6)
        #expect(partial.meanLoss == 1.5)
        #expect(abs(partial.bitsPerByte - 1.5 / 0.6931471805599453 * 2 / 6) < 1e-15)
    }
}
