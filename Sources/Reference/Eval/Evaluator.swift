import Foundation

/// Runs an ``EvalPlan`` (standard or sliding windows, each window one independent sequence from
/// rotary position 0) over a token stream with a ``FamilyGPTModel`` and the challenge's byte
/// accounting: the baseline's `eval_val` / `eval_val_sliding`, and the March records' use of theirs.
///
/// Windows are independent, so they are split across threads (each with its own workspace) and
/// any range of them can be evaluated alone; ``EvalPartial``s add up exactly to the whole.
public struct Evaluator: Sendable {
    public let model: FamilyGPTModel
    public let accounting: ByteAccounting
    /// The prepared stream (see ``EvalTokens/prepare(_:seqLen:maxTokens:)``).
    public let tokens: [UInt16]
    public let plan: EvalPlan

    /// Checks that every token fits the model's vocabulary and the byte tables, and that the plan's
    /// windows fit the model's rotary tables.
    public init(model: FamilyGPTModel, accounting: ByteAccounting, tokens: [UInt16], plan: EvalPlan) throws(EvalError) {
        let vocabulary = model.config.vocabSize
        guard accounting.vocabularySize >= vocabulary else {
            throw .byteTablesTooSmall(tables: accounting.vocabularySize, vocabulary: vocabulary)
        }
        guard plan.seqLen <= model.maxPositions else {
            throw .sequenceLongerThanModel(seqLen: plan.seqLen, modelPositions: model.maxPositions)
        }
        guard plan.streamLength == tokens.count else {
            throw .planDoesNotMatchStream(planned: plan.streamLength, actual: tokens.count)
        }
        if let position = tokens.firstIndex(where: { Int($0) >= vocabulary }) {
            throw .tokenOutOfRange(position: position, token: Int(tokens[position]), vocabulary: vocabulary)
        }
        self.model = model
        self.accounting = accounting
        self.tokens = tokens
        self.plan = plan
    }

    /// Evaluates every window.
    public func evaluate(threads: Int = 1, progress: (@Sendable (_ windowsDone: Int) -> Void)? = nil) throws(EvalError) -> EvalPartial {
        try evaluate(windows: 0..<plan.windows.count, threads: threads, progress: progress)
    }

    /// Evaluates the windows in `windows` (indices into `plan.windows`).
    ///
    /// With `threads > 1` the windows are dealt round-robin in chunks to that many workers, each
    /// running OpenBLAS single-threaded, always: OpenBLAS's multi-threaded sgemm rounds differently,
    /// and a window's losses must not depend on how many threads or which shard (``EvalShard``)
    /// evaluated it. This sets OpenBLAS's process-wide thread count. The result does not depend on
    /// the thread count.
    public func evaluate(
        windows: Range<Int>, threads: Int = 1, progress: (@Sendable (_ windowsDone: Int) -> Void)? = nil
    ) throws(EvalError) -> EvalPartial {
        precondition(windows.lowerBound >= 0 && windows.upperBound <= plan.windows.count, "window range out of plan")
        guard !windows.isEmpty else { return EvalPartial() }
        let workers = max(1, min(threads, windows.count))
        BLAS.threads = 1

        let chunk = 4
        let chunks = (windows.count + chunk - 1) / chunk
        let results = WorkerResults(count: workers)
        let counter = ProgressCounter(report: progress)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let outcome = model.withWorkspace(tokens: plan.seqLen) { workspace in
                Result { () throws(EvalError) -> EvalPartial in
                    var partial = EvalPartial()
                    for c in stride(from: worker, to: chunks, by: workers) {
                        let first = windows.lowerBound + c * chunk
                        let last = min(first + chunk, windows.upperBound)
                        for index in first..<last {
                            partial += try evaluate(window: plan.windows[index], workspace: workspace)
                        }
                        counter.add(last - first)
                    }
                    return partial
                }
            }
            results.set(worker, outcome)
        }
        var total = EvalPartial()
        for result in results.all() {
            switch result {
            case .success(let partial): total += partial
            case .failure(let error): throw error
            case nil: preconditionFailure("a worker ended without a result")
            }
        }
        return total
    }

    /// Each of the windows `windows` (indices into `plan.windows`) alone, in the given order, on
    /// `threads` workers: a window's sums are the same as inside ``evaluate(windows:threads:progress:)``
    /// (the same per-window code, OpenBLAS single-threaded). For sampled evaluations.
    public func evaluate(
        eachOf windows: [Int], threads: Int = 1, progress: (@Sendable (_ windowsDone: Int) -> Void)? = nil
    ) throws(EvalError) -> [EvalPartial] {
        precondition(windows.allSatisfy { plan.windows.indices.contains($0) }, "window index out of plan")
        guard !windows.isEmpty else { return [] }
        let workers = max(1, min(threads, windows.count))
        BLAS.threads = 1
        let slots = WindowSlots(count: windows.count)
        let counter = ProgressCounter(report: progress)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            model.withWorkspace(tokens: plan.seqLen) { workspace in
                for slot in stride(from: worker, to: windows.count, by: workers) {
                    slots.set(slot, Result { () throws(EvalError) in try evaluate(window: plan.windows[windows[slot]], workspace: workspace) })
                    counter.add(1)
                }
            }
        }
        var partials: [EvalPartial] = []
        for result in slots.all() {
            guard let result else { preconditionFailure("a window ended without a result") }
            partials.append(try result.get())
        }
        return partials
    }

    /// One window's contribution, on a workspace borrowed from the model for it.
    public func evaluate(window: EvalWindow) throws(EvalError) -> EvalPartial {
        try model.withWorkspace(tokens: window.length) { workspace throws(EvalError) in try evaluate(window: window, workspace: workspace) }
    }

    /// One window's contribution: its tokens through the model from position 0, targets from
    /// `scoredFrom` scored (the last block pass and the head run only for those rows).
    func evaluate(window: EvalWindow, workspace: FamilyForwardWorkspace) throws(EvalError) -> EvalPartial {
        var partial = EvalPartial()
        try tokens.withUnsafeBufferPointer { (stream: UnsafeBufferPointer<UInt16>) throws(EvalError) in
            let inputs = stream.baseAddress! + window.start
            model.forward(tokens: UnsafeBufferPointer(rebasing: stream[window.start ..< window.start + window.length]),
                          previousToken: nil, firstPosition: 0, firstRow: window.scoredFrom, workspace: workspace)
            model.score(rows: window.scoredFrom..<window.length, workspace: workspace) { r in Int(inputs[r + 1]) }
            for r in window.scoredFrom..<window.length {
                let loss = workspace.nll[r]
                guard loss.isFinite, Double(abs(loss)) <= ExactLossSum.maximumLoss else {
                    throw .nonFiniteLoss(position: window.start + r + 1, value: loss)
                }
                partial.lossSum.add(loss)
                partial.bytes += accounting.bytes(target: Int(inputs[r + 1]), previous: Int(inputs[r]))
            }
            partial.tokens += window.length - window.scoredFrom
        }
        return partial
    }
}

/// One slot per worker, written once each.
private final class WorkerResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<EvalPartial, EvalError>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<EvalPartial, EvalError>) {
        lock.lock(); defer { lock.unlock() }
        slots[index] = result
    }

    func all() -> [Result<EvalPartial, EvalError>?] {
        lock.lock(); defer { lock.unlock() }
        return slots
    }
}

/// One result slot per window of ``Evaluator/evaluate(eachOf:threads:progress:)``.
private final class WindowSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<EvalPartial, EvalError>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<EvalPartial, EvalError>) { lock.lock(); slots[index] = result; lock.unlock() }
    func all() -> [Result<EvalPartial, EvalError>?] { lock.lock(); defer { lock.unlock() }; return slots }
}

/// Counts finished windows across workers and forwards the running total to a progress callback.
private final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private let report: (@Sendable (Int) -> Void)?

    init(report: (@Sendable (Int) -> Void)?) { self.report = report }

    func add(_ count: Int) {
        guard let report else { return }
        lock.lock()
        done += count
        let snapshot = done
        lock.unlock()
        report(snapshot)
    }
}
