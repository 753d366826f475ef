/// Settings of the per-document LoRA TTT (the `TTT_*` hyperparameters of
/// records/track_10min_16mb/2026-03-17_LoRA_TTT and its Adam's `BETA1`, `BETA2`).
public struct LoRATTTSettings: Sendable, Equatable, Codable {
    /// `ttt_lora_rank`.
    public var rank: Int
    /// `ttt_lora_lr`: Adam's learning rate (constant).
    public var learningRate: Double
    /// `ttt_chunk_size`: targets per chunk of a document.
    public var chunkSize: Int
    /// `ttt_eval_seq_len`: the longest window (a chunk plus its context within the document).
    public var evalSeqLen: Int
    /// `beta1`, `beta2` of the training Adam, reused for the TTT Adam (eps 1e-10).
    public var beta1: Double
    public var beta2: Double

    public init(rank: Int = 8, learningRate: Double = 0.01, chunkSize: Int = 256, evalSeqLen: Int = 1024,
                beta1: Double = 0.9, beta2: Double = 0.95) {
        self.rank = rank
        self.learningRate = learningRate
        self.chunkSize = chunkSize
        self.evalSeqLen = evalSeqLen
        self.beta1 = beta1
        self.beta2 = beta2
    }

    /// The Adam epsilon the record hard-codes.
    public static let epsilon = 1e-10

    public func validate() throws(TTTError) {
        func require(_ ok: Bool, _ name: String, _ value: String) throws(TTTError) {
            if !ok { throw .invalidSetting(name: name, value: value) }
        }
        try require(rank > 0, "ttt_lora_rank", "\(rank)")
        try require(learningRate.isFinite && learningRate >= 0, "ttt_lora_lr", "\(learningRate)")
        try require(chunkSize > 0, "ttt_chunk_size", "\(chunkSize)")
        try require(evalSeqLen >= chunkSize, "ttt_eval_seq_len", "\(evalSeqLen) (must be ≥ ttt_chunk_size \(chunkSize))")
        try require((0..<1).contains(beta1) && (0..<1).contains(beta2), "beta1/beta2", "\(beta1), \(beta2)")
    }
}

/// What a LoRA TTT evaluation measured: the total and each document's share, in stream order.
public struct LoRATTTResult: Sendable, Equatable {
    public var total: EvalPartial
    public var documents: [EvalPartial]
    /// Each document's chunks, in order (each scored before the step that trained on it).
    public var chunks: [[EvalPartial]]
    /// Adam steps taken over all documents.
    public var steps: Int
}

/// Per-document LoRA test-time training, as `eval_val_ttt_lora` of
/// records/track_10min_16mb/2026-03-17_LoRA_TTT defines it:
///
/// documents start at each BOS (token 1) and run to the next BOS *inclusive* (the last to the end of
/// the stream; tokens before the first BOS are not scored). Each document gets fresh adapters
/// (``FamilyLoRAAdapters`` of one row, rank r on every block's q and v and on the head; the base model frozen) and a
/// fresh Adam (`betas = (beta1, beta2)`, eps 1e-10). Its targets are cut into chunks of
/// `ttt_chunk_size`; chunk `i` is scored in one window ending at the chunk's end and reaching back at
/// most `ttt_eval_seq_len` tokens within the document, then — unless it is the document's last chunk —
/// one Adam step on the mean loss of that chunk's targets. So every target is scored before any step
/// that used it.
///
/// The record batches documents (`ttt_batch_size`) with independent adapters per document; the numbers
/// do not depend on the batching, so pgverify runs documents one by one. The record draws `A` from
/// torch's RNG (state left by training: not replayable); pgverify uses ``LoRAInit``.
public struct LoRATTTEvaluator {
    public let settings: LoRATTTSettings
    public let accounting: ByteAccounting
    /// The whole validation stream (not cut to windows: the record reads the shards itself).
    public let tokens: [UInt16]
    /// `(start, length)` of each document: from its BOS through the next BOS (or the stream's end).
    public let documents: [(start: Int, length: Int)]

    /// The token that starts a document.
    public static let bos: UInt16 = 1

    public init(settings: LoRATTTSettings, accounting: ByteAccounting, tokens: [UInt16], vocabulary: Int) throws(TTTError) {
        try settings.validate()
        guard accounting.vocabularySize >= vocabulary else {
            throw .evaluation(.byteTablesTooSmall(tables: accounting.vocabularySize, vocabulary: vocabulary))
        }
        if let position = tokens.firstIndex(where: { Int($0) >= vocabulary }) {
            throw .evaluation(.tokenOutOfRange(position: position, token: Int(tokens[position]), vocabulary: vocabulary))
        }
        let starts = tokens.indices.filter { tokens[$0] == Self.bos }
        var documents: [(start: Int, length: Int)] = []
        for (i, start) in starts.enumerated() {
            let end = i + 1 < starts.count ? starts[i + 1] + 1 : tokens.count
            guard end - start >= 2 else { throw .emptyDocument(position: start) }
            documents.append((start, end - start))
        }
        guard !documents.isEmpty else { throw .noDocuments }
        self.settings = settings
        self.accounting = accounting
        self.tokens = tokens
        self.documents = documents
    }

    /// Runs every document on `model` (the baseline's ``DifferentiableFamilyGPT/init(baseline:weights:)``,
    /// whose parameters are not changed: only adapters train). A document's forward and backward
    /// spread over `threads` threads in fixed tiles, so no number depends on the count.
    public func evaluate(
        model: DifferentiableFamilyGPT, threads: Int = 1, progress: ((_ documentsDone: Int, _ documents: Int) -> Void)? = nil
    ) throws(TTTError) -> LoRATTTResult {
        BLAS.threads = 1  // as Evaluator: a score must not depend on OpenBLAS's thread count
        let s = settings
        model.threads = max(1, threads)
        // One row: documents run one by one, each with its own adapters (the record's q, v and head).
        let lora = model.makeAdapters(rows: 1, rank: s.rank, targets: LoRATargets(key: false, mlp: false, output: false))
        var optimizer = AdamOptimizer(count: lora.parameters.count, learningRate: s.learningRate, beta1: s.beta1,
                                      beta2: s.beta2, epsilon: LoRATTTSettings.epsilon)
        let all = [0..<lora.parameters.count]
        var results: [EvalPartial] = []
        var chunkResults: [[EvalPartial]] = []
        var steps = 0
        for (index, document) in documents.enumerated() {
            lora.reset(row: 0, document: index)
            optimizer.reset()
            var documentChunks: [EvalPartial] = []
            let predictions = document.length - 1
            let chunks = (predictions + s.chunkSize - 1) / s.chunkSize
            for chunk in 0..<chunks {
                let chunkStart = chunk * s.chunkSize
                let chunkEnd = chunk == chunks - 1 ? predictions : chunkStart + s.chunkSize
                let windowStart = max(0, chunkEnd - s.evalSeqLen), length = chunkEnd - windowStart
                let offset = chunkStart - windowStart, first = document.start + windowStart
                let window = TokenRows(inputs: tokens[first..<(first + length)].map(Int32.init),
                                       targets: tokens[(first + 1)...(first + length)].map(Int32.init), rows: 1, columns: length)
                let trains = chunk < chunks - 1
                let losses: [Float]
                if trains {
                    // loss = ptl[chunk_offset : chunk_offset + chunk_size].mean(): the scores come from the same forward.
                    var weights = [Float](repeating: 0, count: length)
                    for r in offset..<(offset + s.chunkSize) { weights[r] = 1 / Float(s.chunkSize) }
                    lora.zeroGradients()
                    losses = model.accumulateAdapterGradients(window, adapters: lora, lossWeights: weights)
                } else {
                    losses = model.perTokenLosses(window, adapters: lora)
                }
                var partial = EvalPartial()
                for r in offset..<length {
                    let loss = losses[r], position = first + r + 1
                    guard loss.isFinite else { throw .evaluation(.nonFiniteLoss(position: position, value: loss)) }
                    partial.lossSum.add(loss)
                    partial.tokens += 1
                    partial.bytes += accounting.bytes(target: Int(tokens[position]), previous: Int(tokens[position - 1]))
                }
                documentChunks.append(partial)
                guard trains else { continue }
                optimizer.step(parameters: lora.parameters.baseAddress!, gradients: lora.gradients.baseAddress!, ranges: all)
                steps += 1
            }
            results.append(documentChunks.reduce(EvalPartial(), +))
            chunkResults.append(documentChunks)
            progress?(index + 1, documents.count)
        }
        return LoRATTTResult(total: results.reduce(EvalPartial(), +), documents: results, chunks: chunkResults, steps: steps)
    }
}
