import Foundation

/// The `eval_val_sliding` of records 2026-04-10_VarLenAttn … 2026-04-18_PR1626_CaseOps_Taper
/// (e.g. 2026-04-14_MultiPhaseGlobalSGD_PhasedTTT): the windows of a sliding ``EvalPlan`` (stride,
/// exactly-once rule), split contiguously over the ranks and, per rank, into batches of
/// `batchSequences` windows. A batch is one flat sequence — its windows back to back — whose
/// attention is confined to segments starting at each window's first token and at every BOS inside a
/// window; rotary positions count over the batch, and SmearGate's previous token runs across it (the
/// first token of a window reads the previous window's last input). Each window scores its targets
/// from `scoredFrom` on, so the batching matters only through SmearGate and rounding.
public struct DocumentSlidingPlan: Sendable, Equatable {
    /// The sliding windows, in stream order.
    public let plan: EvalPlan
    /// Window indices of each batch, in flat-sequence order.
    public let batches: [Range<Int>]
    public let batchSequences: Int
    public let worldSize: Int
    public let bosToken: Int

    /// Plans windows of `seqLen` advanced by `stride` over a stream of `streamLength` tokens (already
    /// cut by ``EvalTokens/prepare``); `batchSequences` is the records' `batch_seqs` (32).
    public init(seqLen: Int, stride: Int, streamLength: Int, batchSequences: Int, worldSize: Int,
                bosToken: Int = 1) throws(EvalError) {
        // As DocumentSegmentedPlan: non-positive batch settings are reported as an invalid count.
        guard batchSequences > 0 else { throw .invalidMaxTokens(batchSequences) }
        guard worldSize > 0 else { throw .invalidMaxTokens(worldSize) }
        let plan = try EvalPlan(mode: .sliding(stride: stride), seqLen: seqLen, streamLength: streamLength)
        let total = plan.windows.count
        var batches: [Range<Int>] = []
        for rank in 0..<worldSize {
            let first = total * rank / worldSize, last = total * (rank + 1) / worldSize
            for start in Swift.stride(from: first, to: last, by: batchSequences) {
                batches.append(start ..< min(start + batchSequences, last))
            }
        }
        self.plan = plan
        self.batches = batches
        self.batchSequences = batchSequences
        self.worldSize = worldSize
        self.bosToken = bosToken
    }

    /// Tokens in the longest batch's flat sequence (the rotary positions the model needs).
    public var longestBatch: Int {
        batches.map { $0.reduce(0) { $0 + plan.windows[$1].length } }.max() ?? 0
    }
}

/// Runs a ``DocumentSlidingPlan`` with a ``FamilyGPTModel``.
public struct DocumentSlidingEvaluator: Sendable {
    public let model: FamilyGPTModel
    public let bytes: TokenByteCounts
    public let tokens: [UInt16]
    public let plan: DocumentSlidingPlan

    public init(model: FamilyGPTModel, bytes: TokenByteCounts, tokens: [UInt16], plan: DocumentSlidingPlan)
        throws(EvalError)
    {
        guard plan.plan.streamLength <= tokens.count else {
            throw .planDoesNotMatchStream(planned: plan.plan.streamLength, actual: tokens.count)
        }
        let vocabulary = model.config.vocabSize
        if let bad = tokens.prefix(plan.plan.streamLength).firstIndex(where: { Int($0) >= vocabulary }) {
            throw .tokenOutOfRange(position: bad, token: Int(tokens[bad]), vocabulary: vocabulary)
        }
        switch bytes {
        case .tokenizer(let accounting):
            guard accounting.vocabularySize >= vocabulary else {
                throw .byteTablesTooSmall(tables: accounting.vocabularySize, vocabulary: vocabulary)
            }
        case .sidecar(let counts):
            guard counts.count >= plan.plan.streamLength else {
                throw .byteSidecarTooShort(entries: counts.count, tokens: plan.plan.streamLength)
            }
        }
        guard plan.longestBatch <= model.maxPositions else {
            throw .sequenceLongerThanModel(seqLen: plan.longestBatch, modelPositions: model.maxPositions)
        }
        self.model = model
        self.bytes = bytes
        self.tokens = tokens
        self.plan = plan
    }

    /// One batch: its windows back to back, each split at BOS, targets from each window's
    /// `scoredFrom` on scored.
    public func evaluate(batch: Range<Int>) throws(EvalError) -> EvalPartial {
        var partial = EvalPartial()
        var offset = 0
        for index in batch {
            partial += try evaluate(window: index, offset: offset, previousWindowLast: lastInput(before: index, in: batch))
            offset += plan.plan.windows[index].length
        }
        return partial
    }

    /// One window (an index into `plan.plan.windows`) scored exactly as inside its batch: at its
    /// offset in the batch's flat sequence, after the previous window's last input. Windows are this
    /// evaluation's independent scoring units; a batch's sum is the sum of its windows'.
    public func evaluate(window index: Int) throws(EvalError) -> EvalPartial {
        guard let batch = plan.batches.first(where: { $0.contains(index) }) else { preconditionFailure("window outside the plan") }
        var offset = 0
        for earlier in batch.lowerBound..<index { offset += plan.plan.windows[earlier].length }
        return try evaluate(window: index, offset: offset, previousWindowLast: lastInput(before: index, in: batch))
    }

    /// The last input of the window before `index` in its batch (SmearGate reads it), `nil` for a batch's first.
    func lastInput(before index: Int, in batch: Range<Int>) -> UInt16? {
        guard index > batch.lowerBound else { return nil }
        let previous = plan.plan.windows[index - 1]
        return tokens[previous.start + previous.length - 1]
    }

    func evaluate(window index: Int, offset: Int, previousWindowLast: UInt16?) throws(EvalError) -> EvalPartial {
        var partial = EvalPartial()
        let window = plan.plan.windows[index]
        let inputs = Array(tokens[window.start ..< window.start + window.length])
        var starts = inputs.indices.filter { Int(inputs[$0]) == plan.bosToken }
        if starts.first != 0 { starts.insert(0, at: 0) }
        for (k, lower) in starts.enumerated() {
            let upper = k + 1 < starts.count ? starts[k + 1] : inputs.count
            let previous = lower > 0 ? inputs[lower - 1] : previousWindowLast
            // A segment before the scored rows affects no score (attention stays inside a segment).
            let firstScored = max(window.scoredFrom, lower) - lower
            guard firstScored < upper - lower else { continue }
            try model.withWorkspace(tokens: upper - lower) { w throws(EvalError) in
                inputs.withUnsafeBufferPointer { all in
                    model.forward(tokens: UnsafeBufferPointer(rebasing: all[lower ..< upper]), previousToken: previous,
                                  firstPosition: offset + lower, firstRow: firstScored, workspace: w)
                }
                model.score(rows: firstScored ..< (upper - lower), workspace: w) { t in Int(tokens[window.start + lower + t + 1]) }
                for t in firstScored ..< (upper - lower) {
                    let position = window.start + lower + t, nll = w.nll[t]
                    guard nll.isFinite else { throw .nonFiniteLoss(position: position + 1, value: nll) }
                    partial.lossSum.add(nll)
                    partial.tokens += 1
                    switch bytes {
                    case .tokenizer(let accounting):
                        partial.bytes += accounting.bytes(target: Int(tokens[position + 1]), previous: Int(tokens[position]))
                    case .sidecar(let counts):
                        partial.bytes += Int(counts[position + 1])
                    }
                }
            }
        }
        return partial
    }
}
