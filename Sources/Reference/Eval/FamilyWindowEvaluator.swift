import Foundation

/// Runs an ``EvalPlan`` (standard or sliding windows, each window one independent sequence) with a
/// ``FamilyGPTModel``: the March records' `eval_val` / `eval_val_sliding` use the model this way.
public struct FamilyWindowEvaluator: Sendable {
    public let model: FamilyGPTModel
    public let accounting: ByteAccounting
    public let tokens: [UInt16]
    public let plan: EvalPlan

    public init(model: FamilyGPTModel, accounting: ByteAccounting, tokens: [UInt16], plan: EvalPlan) throws(EvalError) {
        guard plan.streamLength == tokens.count else {
            throw .planDoesNotMatchStream(planned: plan.streamLength, actual: tokens.count)
        }
        let vocabulary = model.config.vocabSize
        if let bad = tokens.firstIndex(where: { Int($0) >= vocabulary }) {
            throw .tokenOutOfRange(position: bad, token: Int(tokens[bad]), vocabulary: vocabulary)
        }
        guard accounting.vocabularySize >= vocabulary else {
            throw .byteTablesTooSmall(tables: accounting.vocabularySize, vocabulary: vocabulary)
        }
        guard plan.seqLen <= model.maxPositions else {
            throw .sequenceLongerThanModel(seqLen: plan.seqLen, modelPositions: model.maxPositions)
        }
        self.model = model
        self.accounting = accounting
        self.tokens = tokens
        self.plan = plan
    }

    /// Loss, token and byte totals over every window, windows spread over `threads` threads.
    public func evaluate(threads: Int = 1) throws(EvalError) -> EvalPartial {
        let count = plan.windows.count, workers = max(1, min(threads, count))
        let lock = NSLock()
        nonisolated(unsafe) var results = [Result<EvalPartial, EvalError>?](repeating: nil, count: count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: count, by: workers) {
                let result = Result { () throws(EvalError) in try evaluate(window: plan.windows[index]) }
                lock.lock(); results[index] = result; lock.unlock()
            }
        }
        var total = EvalPartial()
        for result in results { if let result { total += try result.get() } }
        return total
    }

    /// One window: its tokens through the model from position 0, targets from `scoredFrom` scored
    /// (the last block and the head run only for those rows).
    public func evaluate(window: EvalWindow) throws(EvalError) -> EvalPartial {
        try model.withWorkspace(tokens: window.length) { w throws(EvalError) -> EvalPartial in
            tokens.withUnsafeBufferPointer { all in
                model.forward(tokens: UnsafeBufferPointer(rebasing: all[window.start ..< window.start + window.length]),
                              previousToken: nil, firstPosition: 0, firstRow: window.scoredFrom, workspace: w)
                model.score(rows: window.scoredFrom..<window.length, workspace: w) { r in Int(all[window.start + r + 1]) }
            }
            var partial = EvalPartial()
            for r in window.scoredFrom..<window.length {
                let nll = w.nll[r]
                guard nll.isFinite else { throw .nonFiniteLoss(position: window.start + r + 1, value: nll) }
                partial.lossSum.add(nll)
                partial.tokens += 1
                partial.bytes += accounting.bytes(target: Int(tokens[window.start + r + 1]), previous: Int(tokens[window.start + r]))
            }
            return partial
        }
    }
}
