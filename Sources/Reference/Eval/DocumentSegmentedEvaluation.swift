import Foundation

/// The modern records' `eval_val` (2026-04-10_VarLenAttn and later, e.g.
/// 2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT): the stream, cut to whole windows of
/// `seqLen` (+1), is split per rank into batches of `batchTokens / seqLen` windows (a rank's tail
/// short of a full batch is dropped); each batch is one flat sequence whose attention is confined
/// to segments starting at every BOS token and every `seqLen` tokens into a document
/// (`_build_cu_seqlens(bos_pos, n, eval_seq_len)`), with rotary positions counted over the batch.
/// Every target of a kept batch is scored once.
public struct DocumentSegmentedPlan: Sendable, Equatable {
    /// One eval batch: inputs `stream[start ..< start + length]`, targets one further, and the
    /// attention segments as offsets into the batch (ascending, covering `0 ..< length`).
    public struct Batch: Sendable, Equatable {
        public var start: Int
        public var length: Int
        public var segments: [Range<Int>]
    }

    public let seqLen: Int
    public let batchTokens: Int
    public let worldSize: Int
    public let bosToken: Int
    /// Tokens kept by `load_validation_tokens` (whole windows + 1).
    public let streamLength: Int
    public let batches: [Batch]

    /// `batchTokens` is the records' per-rank `local_batch_tokens`:
    /// `VAL_BATCH_TOKENS // (world_size · grad_accum_steps)`.
    public init(tokens: [UInt16], seqLen: Int, batchTokens: Int, worldSize: Int = 1, bosToken: Int = 1)
        throws(EvalError)
    {
        guard seqLen > 0 else { throw .invalidSequenceLength(seqLen) }
        guard batchTokens >= seqLen else { throw .invalidMaxTokens(batchTokens) }
        guard worldSize > 0 else { throw .invalidMaxTokens(worldSize) }
        let usable = (tokens.count - 1) / seqLen * seqLen
        guard tokens.count > 0, usable > 0 else { throw .streamTooShort(tokens: tokens.count, seqLen: seqLen) }
        let totalWindows = usable / seqLen
        let windowsPerBatch = batchTokens / seqLen
        var batches: [Batch] = []
        for rank in 0..<worldSize {
            let first = totalWindows * rank / worldSize
            var last = totalWindows * (rank + 1) / worldSize
            last = first + (last - first) / windowsPerBatch * windowsPerBatch
            for batchStart in stride(from: first, to: last, by: windowsPerBatch) {
                let start = batchStart * seqLen, length = min(windowsPerBatch, last - batchStart) * seqLen
                batches.append(Batch(start: start, length: length,
                                     segments: Self.segments(tokens[start ..< start + length], maxLength: seqLen, bos: bosToken)))
            }
        }
        self.seqLen = seqLen
        self.batchTokens = batchTokens
        self.worldSize = worldSize
        self.bosToken = bosToken
        self.streamLength = usable + 1
        self.batches = batches
    }

    /// The part of one document inside one batch: the batch's segments `segments` (one starting at
    /// the batch's start or at a BOS, and the `seq_len` pieces that follow it). Pieces are the
    /// evaluation's independent scoring units: a piece's segments depend on no token outside it
    /// except the one before it (SmearGate's previous token), and on its offset in the batch
    /// (rotary positions), both fixed by the plan.
    public struct DocumentPiece: Sendable, Equatable {
        public var batch: Int
        public var segments: Range<Int>
        /// Targets the piece scores.
        public var tokens: Int
    }

    /// Every batch's document pieces, in stream order; `tokens` is the stream the plan was made on.
    public func documentPieces(tokens: [UInt16]) -> [DocumentPiece] {
        var pieces: [DocumentPiece] = []
        for (index, batch) in batches.enumerated() {
            var first = 0
            for (k, segment) in batch.segments.enumerated() where k > 0 && Int(tokens[batch.start + segment.lowerBound]) == bosToken {
                pieces.append(piece(batch: index, segments: first..<k))
                first = k
            }
            pieces.append(piece(batch: index, segments: first..<batch.segments.count))
        }
        return pieces
    }

    private func piece(batch: Int, segments: Range<Int>) -> DocumentPiece {
        let parts = batches[batch].segments[segments]
        return DocumentPiece(batch: batch, segments: segments, tokens: parts.reduce(0) { $0 + $1.count })
    }

    /// `_build_cu_seqlens`: a segment at 0, at every BOS, and every `maxLength` tokens after each.
    static func segments(_ inputs: ArraySlice<UInt16>, maxLength: Int, bos: Int) -> [Range<Int>] {
        let base = inputs.startIndex
        var starts = inputs.indices.filter { Int(inputs[$0]) == bos }.map { $0 - base }
        if starts.first != 0 { starts.insert(0, at: 0) }
        var segments: [Range<Int>] = []
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : inputs.count
            var position = start
            while position < end {
                segments.append(position ..< min(position + maxLength, end))
                position += maxLength
            }
        }
        return segments
    }
}

/// Per-token byte budgets for BPB: the tokenizer's tables (the records' `build_sentencepiece_luts`
/// rule), or a CaseOps byte sidecar (`fineweb_val_bytes_*.bin`: the val shard layout, one uint16
/// byte count per token, aligned with the token stream) which replaces them.
public enum TokenByteCounts: Sendable {
    case tokenizer(ByteAccounting)
    case sidecar([UInt16])
}

/// Runs a ``DocumentSegmentedPlan`` with a ``FamilyGPTModel``.
public struct DocumentSegmentedEvaluator: Sendable {
    public let model: FamilyGPTModel
    public let bytes: TokenByteCounts
    public let tokens: [UInt16]
    public let plan: DocumentSegmentedPlan

    public init(model: FamilyGPTModel, bytes: TokenByteCounts, tokens: [UInt16], plan: DocumentSegmentedPlan)
        throws(EvalError)
    {
        guard plan.streamLength <= tokens.count else {
            throw .planDoesNotMatchStream(planned: plan.streamLength, actual: tokens.count)
        }
        let vocabulary = model.config.vocabSize
        if let bad = tokens.prefix(plan.streamLength).firstIndex(where: { Int($0) >= vocabulary }) {
            throw .tokenOutOfRange(position: bad, token: Int(tokens[bad]), vocabulary: vocabulary)
        }
        switch bytes {
        case .tokenizer(let accounting):
            guard accounting.vocabularySize >= vocabulary else {
                throw .byteTablesTooSmall(tables: accounting.vocabularySize, vocabulary: vocabulary)
            }
        case .sidecar(let counts):
            guard counts.count >= plan.streamLength else {
                throw .byteSidecarTooShort(entries: counts.count, tokens: plan.streamLength)
            }
        }
        let longest = plan.batches.map(\.length).max() ?? 0
        guard longest <= model.maxPositions else {
            throw .sequenceLongerThanModel(seqLen: longest, modelPositions: model.maxPositions)
        }
        self.model = model
        self.bytes = bytes
        self.tokens = tokens
        self.plan = plan
    }

    /// Loss, token and byte totals over every batch, batches spread over `threads` threads (and a
    /// batch's segments over the threads left when there are fewer batches than threads).
    public func evaluate(threads: Int = 1) throws(EvalError) -> EvalPartial {
        let count = plan.batches.count
        let workers = max(1, min(threads, count)), inner = Self.segmentThreads(threads: threads, items: count)
        let results = ResultSlots(count: count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: count, by: workers) {
                results.set(index, Result { () throws(EvalError) in try evaluate(batch: plan.batches[index], threads: inner) })
            }
        }
        var total = EvalPartial()
        for result in results.all() {
            guard let result else { continue }
            total += try result.get()
        }
        return total
    }

    /// Threads for one batch's segments when `threads` threads share `items` batches: what the batches
    /// leave idle (an eval of one batch of 16,384 tokens would otherwise run on one thread).
    public static func segmentThreads(threads: Int, items: Int) -> Int {
        max(1, threads / max(1, min(threads, items)))
    }

    /// One batch: every segment through the model, every target's NLL and bytes; its segments
    /// spread over `threads` threads. The sum does not depend on `threads`: each segment is computed
    /// alone, single-threaded, and the partial sums add exactly.
    public func evaluate(batch: DocumentSegmentedPlan.Batch, threads: Int = 1) throws(EvalError) -> EvalPartial {
        try evaluate(batch: batch, segments: batch.segments.indices, threads: threads)
    }

    /// One document piece (``DocumentSegmentedPlan/DocumentPiece``), scored exactly as inside its
    /// whole batch: the batch's sum is the sum of its pieces' (each segment is computed alone).
    public func evaluate(piece: DocumentSegmentedPlan.DocumentPiece) throws(EvalError) -> EvalPartial {
        try evaluate(batch: plan.batches[piece.batch], segments: piece.segments)
    }

    /// The segments `segments` (indices into `batch.segments`) of one batch, longest first over
    /// `threads` threads.
    func evaluate(batch: DocumentSegmentedPlan.Batch, segments: Range<Int>, threads: Int = 1) throws(EvalError) -> EvalPartial {
        let parts = batch.segments[segments]
        let workers = max(1, min(threads, parts.count))
        guard workers > 1 else {
            var partial = EvalPartial()
            for segment in parts { partial += try evaluate(batch: batch, segment: segment) }
            return partial
        }
        let order = parts.sorted { $0.count > $1.count }
        let results = ResultSlots(count: order.count)
        let next = NextIndex()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let index = next.claim(below: order.count) {
                results.set(index, Result { () throws(EvalError) in try evaluate(batch: batch, segment: order[index]) })
            }
        }
        var total = EvalPartial()
        for result in results.all() {
            guard let result else { continue }
            total += try result.get()
        }
        return total
    }

    /// One attention segment of a batch (offsets into it): its tokens through the model, its targets scored.
    private func evaluate(batch: DocumentSegmentedPlan.Batch, segment: Range<Int>) throws(EvalError) -> EvalPartial {
        let first = batch.start + segment.lowerBound, n = segment.count
        let previous: UInt16? = segment.lowerBound > 0 ? tokens[first - 1] : nil
        return try model.withWorkspace(tokens: n) { w throws(EvalError) -> EvalPartial in
            tokens.withUnsafeBufferPointer { all in
                model.forward(tokens: UnsafeBufferPointer(rebasing: all[first ..< first + n]), previousToken: previous,
                              firstPosition: segment.lowerBound, firstRow: 0, workspace: w)
                model.score(rows: 0..<n, workspace: w) { t in Int(all[first + t + 1]) }
            }
            var partial = EvalPartial()
            for t in 0..<n {
                let position = first + t, nll = w.nll[t]
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
            return partial
        }
    }
}

/// The next unclaimed index of a shared work list.
final class NextIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func claim(below count: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < count else { return nil }
        value += 1
        return value - 1
    }
}

/// Thread-safe result slots for the concurrent batches.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<EvalPartial, EvalError>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<EvalPartial, EvalError>) {
        lock.lock(); slots[index] = result; lock.unlock()
    }
    func all() -> [Result<EvalPartial, EvalError>?] {
        lock.lock(); defer { lock.unlock() }
        return slots
    }
}
