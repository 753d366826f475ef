/// What a chunked TTT evaluation measured: the total and each chunk's share (scored before the
/// chunk was trained on).
public struct ChunkedTTTResult: Sendable, Equatable {
    public var total: EvalPartial
    /// One partial per chunk, in order.
    public var chunks: [EvalPartial]
    /// Training steps taken.
    public var steps: Int
}

/// Score-first test-time training in chunks with SGD, as `eval_val_sliding_ttt` of
/// records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon defines it (and, with their
/// window rule, 2026-04-04 and 2026-04-08; see ``TTTWindowRule``):
///
/// for each chunk of `ttt_chunk_tokens` targets: (1) score its sliding windows (``TTTWindowPlan``)
/// with the current weights; (2) unless it is the last chunk, train on it: `ttt_epochs` passes over
/// its whole `seq_len` sequences in batches of `ttt_batch_seqs` (a batch whose last target would run
/// past the stream is skipped), mean cross-entropy, gradient clipped to `ttt_grad_clip`, one SGD
/// (momentum) step per batch with the chunk's cosine learning rate; the first `ttt_freeze_blocks`
/// blocks stay frozen (all their tensors, or with banked records only their scalars, see
/// ``TTTFreezeScope``), every other parameter (embedding, skip weights, head, …) trains; one optimizer
/// (momentum buffers) for the whole run. The model is any ``ChunkedTTTModel``: ``DifferentiableFamilyGPT``
/// with the baseline's features or a record family's.
///
/// Every target is scored before any update that uses it: phase (1) of chunk `i` runs before phase
/// (2) of chunk `i`, and phase (2) only reads targets of chunk `i` (its sequences end at the chunk's
/// end, plus the one next token as the last target).
public struct ChunkedTTTEvaluator {
    public let settings: ChunkedTTTSettings
    public let accounting: ByteAccounting
    /// The validation stream (`targets + 1` tokens, as `load_validation_tokens` returns it).
    public let tokens: [UInt16]

    public init(settings: ChunkedTTTSettings, accounting: ByteAccounting, tokens: [UInt16], vocabulary: Int) throws(TTTError) {
        try settings.validate()
        guard tokens.count > settings.seqLen else {
            throw .evaluation(.streamTooShort(tokens: tokens.count, seqLen: settings.seqLen))
        }
        guard accounting.vocabularySize >= vocabulary else {
            throw .evaluation(.byteTablesTooSmall(tables: accounting.vocabularySize, vocabulary: vocabulary))
        }
        if let position = tokens.firstIndex(where: { Int($0) >= vocabulary }) {
            throw .evaluation(.tokenOutOfRange(position: position, token: Int(tokens[position]), vocabulary: vocabulary))
        }
        self.settings = settings
        self.accounting = accounting
        self.tokens = tokens
    }

    /// Number of targets scored from (`tokens.count − 1`).
    public var targets: Int { tokens.count - 1 }

    /// Runs the evaluation, adapting `model` in place; `progress` is told after each chunk.
    /// Scoring spreads windows over `threads` workers; training steps run the model on `threads`
    /// (``ChunkedTTTModel/threads``).
    public func evaluate<Model: ChunkedTTTModel>(
        model: Model, threads: Int = 1, progress: ((_ chunksDone: Int, _ chunks: Int) -> Void)? = nil
    ) throws(TTTError) -> ChunkedTTTResult {
        BLAS.threads = 1  // as Evaluator: a score must not depend on OpenBLAS's thread count
        let s = settings
        let plan = TTTWindowPlan.chunks(targets: targets, seqLen: s.seqLen, stride: s.stride, chunkTokens: s.chunkTokens,
                                            rule: s.windowRule)
        let threads = max(1, threads)
        model.threads = threads
        let trainable = model.trainableRanges(freezeBlocks: s.freezeBlocks, scope: s.freezeScope)
        // Whole frozen blocks need no weight gradients; banked matrices of frozen blocks still train.
        let gradientFreeBlocks = s.freezeScope == .wholeBlocks ? s.freezeBlocks : 0
        var optimizer = SGDOptimizer(count: model.parameters.count, learningRate: Float(s.learningRate),
                                     momentum: Float(s.momentum))
        var chunks: [EvalPartial] = []
        var steps = 0
        for (index, windows) in plan.enumerated() {
            chunks.append(try score(windows, model: model, chunk: index, threads: threads))
            let chunkStart = index * s.chunkTokens, chunkEnd = min(chunkStart + s.chunkTokens, targets)
            let sequences = (chunkEnd - chunkStart) / s.seqLen
            if index < plan.count - 1, s.epochs > 0, sequences > 0, !windows.isEmpty {
                optimizer.learningRate = Float(s.learningRate(chunk: index, of: plan.count))
                BLAS.threads = 1  // single-threaded OpenBLAS, as in scoring: its threaded sgemm rounds differently
                for _ in 0..<s.epochs {
                    for first in stride(from: 0, to: sequences, by: s.batchSequences) {
                        let last = min(first + s.batchSequences, sequences)
                        let startToken = chunkStart + first * s.seqLen, endToken = chunkStart + last * s.seqLen + 1
                        if endToken > tokens.count { continue }
                        tokens.withUnsafeBufferPointer { stream in
                            model.accumulateSequenceGradients(stream: stream.baseAddress! + startToken,
                                                              sequences: last - first, length: s.seqLen,
                                                              frozenBlocks: gradientFreeBlocks)
                        }
                        clipGradientNorm(model.gradients.baseAddress!, ranges: trainable, maxNorm: Float(s.gradientClip))
                        optimizer.step(parameters: model.parameters.baseAddress!, gradients: model.gradients.baseAddress!,
                                       ranges: trainable)
                        steps += 1
                    }
                }
            }
            progress?(index + 1, plan.count)
        }
        return ChunkedTTTResult(total: chunks.reduce(EvalPartial(), +), chunks: chunks, steps: steps)
    }

    /// Phase 1: the chunk's windows under the current weights, over the slice of the stream the
    /// windows read, `threads` windows at a time.
    private func score<Model: ChunkedTTTModel>(
        _ windows: [EvalWindow], model: Model, chunk: Int, threads: Int
    ) throws(TTTError) -> EvalPartial {
        guard let first = windows.first else { return EvalPartial() }
        let low = first.start
        let high = windows.map { $0.start + $0.length }.max()! + 1
        let slice = Array(tokens[low..<high])
        let rebased = windows.map { EvalWindow(start: $0.start - low, length: $0.length, scoredFrom: $0.scoredFrom) }
        let plan = EvalPlan(windows: rebased, stride: settings.stride, seqLen: settings.seqLen, streamLength: slice.count)
        do {
            return try model.scoreWindows(plan, tokens: slice, accounting: accounting, seqLen: settings.seqLen,
                                          threads: threads)
        } catch {
            switch error {
            case .unusableWeights(let reason): throw .adaptedWeightsUnusable(chunk: chunk, reason: reason)
            case .evaluation(let evalError): throw .evaluation(Self.shifted(evalError, by: low))
            }
        }
    }

    /// An evaluation error located in a chunk's slice, moved to stream positions.
    static func shifted(_ error: EvalError, by offset: Int) -> EvalError {
        switch error {
        case .nonFiniteLoss(let position, let value): .nonFiniteLoss(position: position + offset, value: value)
        case .tokenOutOfRange(let position, let token, let vocabulary):
            .tokenOutOfRange(position: position + offset, token: token, vocabulary: vocabulary)
        default: error
        }
    }
}
