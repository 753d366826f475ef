import Foundation

/// How a scored target's bytes are counted.
public enum PhasedTTTByteCounts: Sendable, Equatable {
    /// The tokenizer tables (`base_bytes[y] + (leading_space[y] & !boundary[x])`).
    case tables(ByteAccounting)
    /// A CaseOps byte sidecar, one entry per stream position (2026-04-18 and later with CaseOps):
    /// a target's bytes are the entry at its position.
    case sidecar([UInt16])
}

/// Adapters whose reset can keep `A` (`TTT_WARM_START_A`, 2026-04-23 and later: only `B` is zeroed
/// per document; `A` keeps training across the batches of a phase). A model whose adapters do not
/// conform cannot run settings with warm-started `A`.
public protocol WarmStartLoRAAdapters: BatchedLoRAAdapters {
    /// Row `row` for a new document keeping its current (trained) `A`: every `B` of the row zero.
    func resetKeepingA(row: Int)
}

/// Phased test-time training: `eval_val_ttt_phased` of
/// records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT (and of the eight later records
/// that define it), for one rank.
///
/// Documents (BOS through the next BOS) are sorted by length and cut into batches of
/// `ttt_batch_size`, claimed longest batch first. Each batch gets fresh adapters (rank
/// `ttt_lora_rank` on every layer pass's q, v and optionally k, MLP and attention output, and on the
/// head) and a fresh optimizer. Chunk `ci` of every document is scored in one window reaching back
/// at most `ttt_eval_seq_len` positions inside the document, then — for documents with later chunks —
/// `ttt_grad_steps` optimizer steps on the mean loss of that chunk's targets. After each batch, while
/// phases remain, the batch's documents count towards the prefix; once the count reaches the next
/// phase boundary, the base model itself trains (SGD with momentum, cosine learning rate over chunks,
/// gradient clipping) on the concatenation of the documents scored so far (cut to the boundary, in
/// batch order), and the next batches see the updated weights. Every target is scored exactly once,
/// before any step that uses it.
///
/// Known limits of exact reproduction: on 8 GPUs the ranks claim batches from a shared counter in an
/// order that depends on timing, and a phase pauses whichever batches each rank holds; with one rank
/// the order and the pauses are deterministic, and that is what pgverify reproduces. The records draw
/// LoRA `A` from torch's global RNG (not replayable); pgverify draws from ``LoRAInit`` with `document`
/// = the document's ordinal in the stream. `val_doc_fraction` < 1 is refused.
public struct PhasedTTTEvaluator {
    public let settings: PhasedTTTSettings
    public let byteCounts: PhasedTTTByteCounts
    /// The whole validation stream (as the records' `val_data.val_tokens`).
    public let tokens: [UInt16]
    /// The documents evaluated (after `ttt_doc_limit`), in stream order.
    public let documents: [PhasedTTTDocument]

    /// The token that starts a document.
    public static let bos: UInt16 = 1

    public init(settings: PhasedTTTSettings, byteCounts: PhasedTTTByteCounts, tokens: [UInt16], vocabulary: Int) throws(PhasedTTTError) {
        do throws(TTTError) {
            try settings.validate()
            if case .tables(let accounting) = byteCounts, accounting.vocabularySize < vocabulary {
                throw .evaluation(.byteTablesTooSmall(tables: accounting.vocabularySize, vocabulary: vocabulary))
            }
            if case .sidecar(let entries) = byteCounts, entries.count < tokens.count {
                throw .evaluation(.byteSidecarTooShort(entries: entries.count, tokens: tokens.count))
            }
            if let position = tokens.firstIndex(where: { Int($0) >= vocabulary }) {
                throw .evaluation(.tokenOutOfRange(position: position, token: Int(tokens[position]), vocabulary: vocabulary))
            }
            documents = PhasedTTTPlan.selected(try PhasedTTTPlan.documents(in: tokens), docLimit: settings.docLimit)
        } catch {
            throw .ttt(error)
        }
        self.settings = settings
        self.byteCounts = byteCounts
        self.tokens = tokens
    }

    /// Bytes of the target at stream position `position`.
    @inline(__always)
    func bytes(at position: Int) -> Int {
        switch byteCounts {
        case .tables(let accounting): accounting.bytes(target: Int(tokens[position]), previous: Int(tokens[position - 1]))
        case .sidecar(let entries): Int(entries[position])
        }
    }

    /// Runs the evaluation. With `adapt` false nothing trains (no adapter steps, no global phases):
    /// the model's own score on the same windows. `model`'s base parameters change when global
    /// phases run. `onScore` sees every scored target's stream position and loss, in scoring order.
    public func evaluate<M: PhasedTTTModel>(
        model: M, adapt: Bool = true,
        onScore: ((_ position: Int, _ loss: Float) -> Void)? = nil,
        progress: ((_ batchesDone: Int, _ batches: Int) -> Void)? = nil
    ) throws(PhasedTTTError) -> PhasedTTTResult {
        try run(model: model, adapt: adapt, positions: 0..<batchCount, globalPhases: adapt, onScore: onScore, progress: progress)
    }

    /// Batches in claim order (the items a sharded evaluation splits).
    public var batchCount: Int { PhasedTTTPlan.batches(documents, batchSize: settings.batchSize, ascending: settings.ascendingBatchOrder).count }

    /// Batches (from the start of the claim order) scored before the last global phase has run:
    /// the prefix. Every later batch is scored with the final weights.
    public var prefixBatchCount: Int {
        let queue = PhasedTTTPlan.batches(documents, batchSize: settings.batchSize, ascending: settings.ascendingBatchOrder)
        let boundaries = PhasedTTTPlan.phaseBoundaries(prefixDocs: settings.prefixDocs, documents: documents.count, phases: settings.phases)
        return PhasedTTTPlan.prefixBatchCount(batchSizes: queue.map(\.documents.count), boundaries: boundaries,
                                              prefixDocs: max(0, min(documents.count, settings.prefixDocs)))
    }

    /// The prefix on its own: batches `0 ..< prefixBatchCount` and every global phase, exactly as
    /// ``evaluate(model:adapt:onScore:progress:)`` runs them; afterwards `model`'s base parameters
    /// are the weights every suffix batch is scored with.
    public func evaluatePrefix<M: PhasedTTTModel>(
        model: M, onScore: ((_ position: Int, _ loss: Float) -> Void)? = nil,
        progress: ((_ batchesDone: Int, _ batches: Int) -> Void)? = nil
    ) throws(PhasedTTTError) -> PhasedTTTResult {
        try run(model: model, adapt: true, positions: 0..<prefixBatchCount, globalPhases: true, onScore: onScore, progress: progress)
    }

    /// The suffix batches at claim positions `positions` (inside `prefixBatchCount ..< batchCount`) on a
    /// `model` that holds the weights after the prefix (``evaluatePrefix(model:onScore:progress:)``),
    /// each as the whole evaluation scores it: without warm-started `A` a batch depends only on those
    /// weights and its documents. With `TTT_WARM_START_A` the suffix batches chain through the kept
    /// `A`, so only a range that starts at the first suffix batch is exact; others are refused. With
    /// `adapt` false (the score without adaptation) any positions, on the unadapted weights.
    public func evaluate<M: PhasedTTTModel>(
        model: M, batches positions: Range<Int>, adapt: Bool = true,
        onScore: ((_ position: Int, _ loss: Float) -> Void)? = nil,
        progress: ((_ batchesDone: Int, _ batches: Int) -> Void)? = nil
    ) throws(PhasedTTTError) -> PhasedTTTResult {
        let first = adapt ? prefixBatchCount : 0
        guard positions.lowerBound >= first, positions.upperBound <= batchCount else {
            throw .unsupported(feature: "scoring batches \(positions.lowerBound)..<\(positions.upperBound) on their own",
                               reason: "the suffix is batches \(first)..<\(batchCount) of the claim order")
        }
        if adapt && settings.warmStartA && positions.lowerBound != first && !positions.isEmpty {
            throw .unsupported(feature: "TTT_WARM_START_A with a suffix part that starts after its first batch",
                               reason: "every full suffix batch trains the A the next one starts from, so batch \(positions.lowerBound) "
                                   + "depends on all suffix batches before it")
        }
        return try run(model: model, adapt: adapt, positions: positions, globalPhases: false, onScore: onScore, progress: progress)
    }

    /// The claim loop over `positions` of the queue, with fresh adapters at its start; global phases
    /// run (as the prefix's batches reach the boundaries) only when `globalPhases`.
    private func run<M: PhasedTTTModel>(
        model: M, adapt: Bool, positions: Range<Int>, globalPhases: Bool,
        onScore: ((_ position: Int, _ loss: Float) -> Void)?,
        progress: ((_ batchesDone: Int, _ batches: Int) -> Void)?
    ) throws(PhasedTTTError) -> PhasedTTTResult {
        // As ``Evaluator``: OpenBLAS's threaded sgemm rounds differently, and a score (or a part of a
        // sharded one) must not depend on how many threads the process happens to have set.
        BLAS.threads = 1
        let s = settings
        if s.warmStartA && !(M.Adapters.self is any WarmStartLoRAAdapters.Type) {
            throw .unsupported(feature: "TTT_WARM_START_A", reason: "the model's LoRA adapters (\(M.Adapters.self)) cannot keep A on reset")
        }
        let queue = PhasedTTTPlan.batches(documents, batchSize: s.batchSize, ascending: s.ascendingBatchOrder)
        let prefixLimit = max(0, min(documents.count, s.prefixDocs))
        let boundaries = PhasedTTTPlan.phaseBoundaries(prefixDocs: s.prefixDocs, documents: documents.count, phases: s.phases)
        var phase = 0, boundary = boundaries[0]
        var globalDone = prefixLimit == 0 || !adapt || !globalPhases
        var scoredDocuments: [(batch: Int, position: Int, document: PhasedTTTDocument)] = []
        var prefixDone = 0
        var reusable = makeAdapters(model: model, rows: s.batchSize)
        var reusableFresh = true
        var batches: [PhasedTTTBatchResult] = []
        var phases: [PhasedTTTPhaseResult] = []
        var total = EvalPartial()
        var adapterSteps = 0, globalSteps = 0

        for queuePosition in positions {
            let (batchIndex, batch) = queue[queuePosition]
            let adapters: M.Adapters
            if batch.count == s.batchSize {
                adapters = reusable
                prepare(adapters, for: batch, fresh: reusableFresh)
                reusableFresh = false
            } else {
                adapters = makeAdapters(model: model, rows: batch.count)
                prepare(adapters, for: batch, fresh: true)
            }
            let (partial, steps) = try scoreBatch(batch, model: model, adapters: adapters, adapt: adapt, onScore: onScore)
            adapterSteps += steps
            total += partial
            batches.append(PhasedTTTBatchResult(batch: batchIndex, queuePosition: queuePosition, documents: batch.map(\.index),
                                                partial: partial, globalDone: globalDone))
            progress?(queuePosition - positions.lowerBound + 1, positions.count)
            guard !globalDone else { continue }
            scoredDocuments += batch.enumerated().map { (batchIndex, $0.offset, $0.element) }
            prefixDone += batch.count
            guard prefixDone >= boundary else { continue }
            let used = scoredDocuments.sorted { ($0.batch, $0.position) < ($1.batch, $1.position) }.prefix(boundary).map(\.document)
            var result = try globalPhase(used, phase: phase + 1, model: model)
            result.afterBatches = batches.count
            result.prefixDone = prefixDone
            globalSteps += result.trained.reduce(0) { $0 + $1.losses.count }
            phases.append(result)
            reusable = makeAdapters(model: model, rows: s.batchSize)
            reusableFresh = true
            phase += 1
            if phase >= boundaries.count { globalDone = true } else { boundary = boundaries[phase] }
        }
        return PhasedTTTResult(total: total, batches: batches, phases: phases, boundaries: boundaries,
                               documents: documents.count, adapterSteps: adapterSteps, globalSteps: globalSteps)
    }

    private func makeAdapters<M: PhasedTTTModel>(model: M, rows: Int) -> M.Adapters {
        model.makeAdapters(rows: rows, rank: settings.loraRank, targets: settings.targets)
    }

    /// New `A` draws for a fresh set (or every reset without warm start); else only `B` zeroed.
    private func prepare<A: BatchedLoRAAdapters>(_ adapters: A, for batch: [PhasedTTTDocument], fresh: Bool) {
        adapters.zeroGradients()
        for (row, document) in batch.enumerated() {
            if settings.warmStartA && !fresh, let warm = adapters as? any WarmStartLoRAAdapters {
                warm.resetKeepingA(row: row)
            } else {
                adapters.reset(row: row, document: document.index)
            }
        }
    }

    /// Scores (and trains on) every chunk of one batch; returns its partial and the optimizer steps.
    private func scoreBatch<M: PhasedTTTModel>(
        _ batch: [PhasedTTTDocument], model: M, adapters: M.Adapters, adapt: Bool,
        onScore: ((Int, Float) -> Void)?
    ) throws(PhasedTTTError) -> (EvalPartial, Int) {
        let s = settings, rows = batch.count
        let chunkCounts = batch.map { PhasedTTTPlan.chunkCount(predictions: $0.predictions, chunkSize: s.chunkSize) }
        let parameterCount = adapters.parameters.count
        var adam = AdamOptimizer(count: parameterCount, learningRate: s.loraLearningRate, beta1: s.beta1, beta2: s.beta2,
                                 epsilon: PhasedTTTSettings.adamEpsilon, weightDecay: s.weightDecay, decoupledWeightDecay: true)
        var sgd = SGDOptimizer(count: parameterCount, learningRate: Float(s.loraLearningRate), momentum: Float(s.beta1),
                               weightDecay: Float(s.weightDecay))
        let all = [0..<parameterCount]
        var partial = EvalPartial(), steps = 0
        for chunk in 0..<(chunkCounts.max() ?? 0) {
            // The shared window shape: that of a document with a full chunk here.
            let context = PhasedTTTPlan.window(chunk: chunk, predictions: (chunk + 1) * s.chunkSize, chunks: chunk + 1,
                                               chunkSize: s.chunkSize, evalSeqLen: s.evalSeqLen)
            let columns = context.windowLength
            var inputs = [Int32](repeating: 0, count: rows * columns), targets = inputs
            var windows: [PhasedTTTChunkWindow?] = []
            for (row, document) in batch.enumerated() {
                guard chunk < chunkCounts[row] else { windows.append(nil); continue }
                let window = PhasedTTTPlan.window(chunk: chunk, predictions: document.predictions, chunks: chunkCounts[row],
                                                  chunkSize: s.chunkSize, evalSeqLen: s.evalSeqLen)
                let first = document.start + window.windowStart
                for j in 0..<window.windowLength {
                    inputs[row * columns + j] = Int32(tokens[first + j])
                    targets[row * columns + j] = Int32(tokens[first + j + 1])
                }
                windows.append(window)
            }
            let rowsBatch = TokenRows(inputs: inputs, targets: targets, rows: rows, columns: columns,
                                      scoredRows: windows.map { $0 != nil })
            let needsTrain = adapt && s.gradSteps > 0 && chunkCounts.contains { chunk < $0 - 1 }
            var weights: [Float] = []
            if needsTrain {
                weights = [Float](repeating: 0, count: rows * columns)
                let weight = 1 / Float(s.chunkSize)
                for row in 0..<rows where chunkCounts[row] - 1 > chunk {
                    for j in context.chunkOffset..<(context.chunkOffset + s.chunkSize) { weights[row * columns + j] = weight }
                }
                adapters.zeroGradients()
            }
            var losses = needsTrain
                ? model.accumulateAdapterGradients(rowsBatch, adapters: adapters, lossWeights: weights)
                : model.perTokenLosses(rowsBatch, adapters: adapters)
            for (row, window) in windows.enumerated() {
                guard let window else { continue }
                let first = batch[row].start + window.windowStart
                for j in window.chunkOffset..<(window.chunkOffset + window.chunkLength) {
                    let loss = losses[row * columns + j], position = first + j + 1
                    guard loss.isFinite else { throw .ttt(.evaluation(.nonFiniteLoss(position: position, value: loss))) }
                    partial.lossSum.add(loss)
                    partial.tokens += 1
                    partial.bytes += bytes(at: position)
                    onScore?(position, loss)
                }
            }
            guard needsTrain else { continue }
            for step in 0..<s.gradSteps {
                if step > 0 {
                    adapters.zeroGradients()
                    losses = model.accumulateAdapterGradients(rowsBatch, adapters: adapters, lossWeights: weights)
                }
                let parameters = adapters.parameters.baseAddress!, gradients = adapters.gradients.baseAddress!
                switch s.optimizer {
                case .adam: adam.step(parameters: parameters, gradients: gradients, ranges: all)
                case .sgd: sgd.step(parameters: parameters, gradients: gradients, ranges: all)
                }
                steps += 1
            }
        }
        return (partial, steps)
    }

    /// `train_val_ttt_global_sgd_distributed` on the concatenation of `used` (each document through
    /// the next BOS, so neighbouring documents share that BOS twice, as in the records).
    private func globalPhase<M: PhasedTTTModel>(_ used: [PhasedTTTDocument], phase: Int, model: M) throws(PhasedTTTError) -> PhasedTTTPhaseResult {
        let s = settings
        var stream: [Int32] = []
        for document in used { stream += tokens[document.start..<(document.start + document.length)].map { Int32($0) } }
        let plan = PhasedTTTPlan.globalChunks(tokens: stream.count, settings: s)
        let count = model.baseParameters.count, all = [0..<count]
        var sgd = SGDOptimizer(count: count, learningRate: 0, momentum: Float(s.globalMomentum))
        var trained: [PhasedTTTGlobalChunkResult] = []
        for chunk in plan.training {
            sgd.learningRate = Float(chunk.learningRate)
            var losses: [Double] = []
            for _ in 0..<s.globalEpochs {
                for step in chunk.steps {
                    let inputs = Array(stream[step.start..<(step.end - 1)]), targets = Array(stream[(step.start + 1)..<step.end])
                    model.zeroBaseGradients()
                    let loss: Double
                    if s.globalRespectDocBoundaries {
                        let bos = inputs.indices.filter { inputs[$0] == 1 }
                        let segments = PhasedTTTPlan.segmentStarts(bosPositions: bos, total: inputs.count, maxDocLength: s.globalSeqLen)
                        loss = model.accumulateBaseGradients(inputs: inputs, targets: targets, segmentStarts: segments)
                    } else {
                        // Rows of eval_seq_len, each its own sequence: the mean over rows of equal length
                        // is the mean of the row means.
                        let rows = inputs.count / s.globalSeqLen
                        var sum = 0.0
                        for r in 0..<rows {
                            let range = (r * s.globalSeqLen)..<((r + 1) * s.globalSeqLen)
                            sum += model.accumulateBaseGradients(inputs: Array(inputs[range]), targets: Array(targets[range]), segmentStarts: [0])
                        }
                        let gradients = model.baseGradients
                        let scale = 1 / Float(rows)
                        for i in gradients.indices { gradients[i] *= scale }
                        loss = sum / Double(rows)
                    }
                    guard loss.isFinite else { throw .globalPhaseDiverged(phase: phase, chunk: chunk.chunk, loss: loss) }
                    losses.append(loss)
                    if s.globalGradClip > 0 {
                        clipGradientNorm(model.baseGradients.baseAddress!, ranges: all, maxNorm: Float(s.globalGradClip))
                    }
                    sgd.step(parameters: model.baseParameters.baseAddress!, gradients: model.baseGradients.baseAddress!, ranges: all)
                    model.baseParametersDidChange()
                }
            }
            trained.append(PhasedTTTGlobalChunkResult(chunk: chunk.chunk, learningRate: chunk.learningRate, losses: losses))
        }
        return PhasedTTTPhaseResult(phase: phase, afterBatches: 0, prefixDone: 0, documents: used.map(\.index),
                                    tokens: stream.count, chunks: plan.chunks, trained: trained)
    }
}
