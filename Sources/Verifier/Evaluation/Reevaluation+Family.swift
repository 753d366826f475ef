import Foundation
import Reference

extension Reevaluation {
    /// Record-family architectures: ``FamilyGPTModel`` scored the way the submission's own
    /// `eval_val` scores it (``FamilyEvaluationResolver``), or in sliding mode its own
    /// `eval_val_sliding` where pgverify implements that form (``FamilySlidingResolver``).
    static func runFamily(
        _ request: ReevaluationRequest, weights: Weights, resolved: ResolvedModelConfig, segments: Int,
        onSampleDrawn: (SamplePlan) -> Void = { _ in },
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?
    ) throws -> ReevaluationResult {
        var family = try FamilyEvaluationResolver.resolve(code: request.code, logs: request.logs, overrides: request.overrides)
        if case .sliding(let stride) = request.mode {
            family = try FamilySlidingResolver.resolve(code: request.code, standard: family, stride: stride,
                                                       features: featureNames(resolved.config.features))
        }
        let accounting = try SentencePieceModel(contentsOf: request.tokenizer)
            .byteAccounting(modelVocabularySize: resolved.config.vocabSize)
        let validation = try ValidationShard.readAll(pattern: request.validationPattern)
        let tokens = try EvalTokens.prepare(validation, seqLen: resolved.seqLen, maxTokens: request.maxTokens)
        var plan = try EvalPlan(mode: .standard, seqLen: resolved.seqLen, streamLength: tokens.count)
        let sidecar = family.usesByteSidecar ? try byteSidecar(request, tokens: tokens.count) : nil
        let bytes: TokenByteCounts = sidecar.map { .sidecar($0) } ?? .tokenizer(accounting)
        let inputs = request.digestsInputs ? try EvaluationInputDigests.of(request, tokens: tokens, byteCounts: sidecar) : nil

        let start = Date()
        var result: (score: EvalPartial, stream: [(tokens: Int, bitsPerByte: Double)], scored: ScoredItems)
        var documentPlan: DocumentSegmentedPlan?
        switch family.evaluation {
        case .windows:
            let model = try FamilyGPTModel(config: resolved.config, weights: weights, maxPositions: resolved.seqLen)
            let evaluator = try Evaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)
            if let sample = request.sample {
                let sampled = try sampled(sample, units: "windows", description: windowUnits(plan),
                                          lengths: plan.windows.map { $0.length - $0.scoredFrom },
                                          onSampleDrawn: onSampleDrawn) { [plan] units in
                    try scoreEach(units, threads: request.threads, progress: progress) { index throws(EvalError) in
                        try evaluator.evaluate(window: plan.windows[index])
                    }
                }
                return try sampledResult(sampled, resolved: resolved, plan: plan, start: start, request: request,
                                         inputs: inputs, family: family)
            }
            result = try scoreInSegments(kind: "windows", count: plan.windows.count, shard: request.shard, segments: segments,
                                         threads: request.threads, progress: progress) { [plan] index throws(EvalError) in
                try evaluator.evaluate(window: plan.windows[index])
            }
        case .documentSegmented(let settings):
            let batches = try DocumentSegmentedPlan(tokens: tokens, seqLen: resolved.seqLen,
                                                    batchTokens: settings.batchTokens, worldSize: settings.worldSize)
            guard !batches.batches.isEmpty else {
                throw UnsupportedArtifact(
                    path: request.artifact.path,
                    reason: "no eval batch to score: \(plan.windows.count) windows of \(resolved.seqLen) shared by "
                        + "\(settings.worldSize) ranks fill no whole batch of \(settings.batchTokens) tokens "
                        + "(the records' eval_val drops a rank's partial batch); evaluate more tokens")
            }
            documentPlan = batches
            let longest = batches.batches.map(\.length).max() ?? resolved.seqLen
            let model = try FamilyGPTModel(config: resolved.config, weights: weights, maxPositions: longest)
            let evaluator = try DocumentSegmentedEvaluator(model: model, bytes: bytes, tokens: tokens, plan: batches)
            if let sample = request.sample {
                let pieces = batches.documentPieces(tokens: tokens)
                let sampled = try sampled(
                    sample, units: "documents",
                    description: "documents: each document's part inside an eval batch (its segments from a BOS or the batch's "
                        + "start), which the document-segmented eval_val scores alone, at its place in the batch",
                    lengths: pieces.map(\.tokens), onSampleDrawn: onSampleDrawn) { units in
                    try scoreEach(units, threads: request.threads, progress: progress) { index throws(EvalError) in
                        try evaluator.evaluate(piece: pieces[index])
                    }
                }
                return try sampledResult(sampled, resolved: resolved, plan: plan, start: start, request: request,
                                         inputs: inputs, family: family, documentPlan: batches)
            }
            // Fewer batches than threads (one batch of 16,384 tokens, say): the idle threads take segments.
            let segmentThreads = DocumentSegmentedEvaluator.segmentThreads(
                threads: request.threads, items: request.shard?.range(of: batches.batches.count).count ?? batches.batches.count)
            result = try scoreInSegments(kind: "batches", count: batches.batches.count, shard: request.shard, segments: segments,
                                         threads: request.threads, progress: progress) { index throws(EvalError) in
                try evaluator.evaluate(batch: batches.batches[index], threads: segmentThreads)
            }
        case .documentSliding(let settings):
            let sliding = try DocumentSlidingPlan(seqLen: resolved.seqLen, stride: settings.stride, streamLength: tokens.count,
                                                  batchSequences: settings.batchSequences, worldSize: settings.worldSize)
            plan = sliding.plan
            let model = try FamilyGPTModel(config: resolved.config, weights: weights,
                                           maxPositions: max(sliding.longestBatch, resolved.seqLen))
            let evaluator = try DocumentSlidingEvaluator(model: model, bytes: bytes, tokens: tokens, plan: sliding)
            if let sample = request.sample {
                let sampled = try sampled(
                    sample, units: "windows",
                    description: "windows: each window of eval_val_sliding, scored at its place in its batch (rotary offset, "
                        + "SmearGate's previous token), split at BOS inside it",
                    lengths: sliding.plan.windows.map { $0.length - $0.scoredFrom }, onSampleDrawn: onSampleDrawn) { units in
                    try scoreEach(units, threads: request.threads, progress: progress) { index throws(EvalError) in
                        try evaluator.evaluate(window: index)
                    }
                }
                return try sampledResult(sampled, resolved: resolved, plan: plan, start: start, request: request,
                                         inputs: inputs, family: family)
            }
            result = try scoreInSegments(kind: "batches", count: sliding.batches.count, shard: request.shard, segments: segments,
                                         threads: request.threads, progress: progress) { index throws(EvalError) in
                try evaluator.evaluate(batch: sliding.batches[index])
            }
        }
        // A shard may hold no item (more shards than items); its empty sums are a valid part.
        if !(request.shard != nil && result.score.tokens == 0) { try NonFiniteScore.check(result.score, request: request) }
        return ReevaluationResult(resolved: resolved, score: result.score, plan: plan,
                                  seconds: Date().timeIntervalSince(start), stream: result.stream,
                                  familyEvaluation: family, documentPlan: documentPlan, scored: result.scored, inputs: inputs)
    }

    /// The CaseOps byte sidecar entries for the first `tokens` of the stream: `--val-bytes`, or
    /// `fineweb_val_bytes_*.bin` beside the validation shards. Never a fallback to the tokenizer
    /// tables, which count CaseOps operator pieces wrongly.
    static func byteSidecar(_ request: ReevaluationRequest, tokens: Int) throws -> [UInt16] {
        let pattern = request.byteSidecarPattern ?? URL(fileURLWithPath: request.validationPattern)
            .deletingLastPathComponent().appendingPathComponent("fineweb_val_bytes_*.bin").path
        let counts: [UInt16]
        switch Result(catching: { () throws(ValidationShardError) in try ValidationShard.readAll(pattern: pattern) }) {
        case .success(let values): counts = values
        case .failure(.noMatch):
            throw CaseOpsSidecarError.missing(directory: pattern + (request.byteSidecarPattern == nil
                ? " (the default beside --val; pass --val-bytes)" : ""))
        case .failure(let error): throw error
        }
        guard counts.count >= tokens else { throw CaseOpsSidecarError.tooShort(entries: counts.count, tokens: tokens) }
        return Array(counts.prefix(tokens))
    }

    /// Scores items `0 ..< count` (windows or batches), or the shard's part of them, on `threads`
    /// threads, `segments` stream points in order; the total does not depend on either (partial sums
    /// add exactly).
    static func scoreInSegments(
        kind: String, count: Int, shard: EvalShard?, segments: Int, threads: Int,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?,
        item: @Sendable (Int) throws(EvalError) -> EvalPartial
    ) throws(EvalError) -> (score: EvalPartial, stream: [(tokens: Int, bitsPerByte: Double)], scored: ScoredItems) {
        let items = shard?.range(of: count) ?? 0 ..< count
        progress?(0, items.count)
        let parts = max(1, min(segments, items.count))
        let done = DoneCounter()
        var score = EvalPartial()
        var stream: [(tokens: Int, bitsPerByte: Double)] = []
        for part in 0..<parts {
            let range = (items.lowerBound + part * items.count / parts) ..< (items.lowerBound + (part + 1) * items.count / parts)
            let workers = max(1, min(threads, range.count))
            let results = SegmentResults(count: workers)
            BLAS.threads = 1  // as Evaluator: an item's losses must not depend on the thread count or shard
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let outcome = Result { () throws(EvalError) -> EvalPartial in
                    var partial = EvalPartial()
                    for index in stride(from: range.lowerBound + worker, to: range.upperBound, by: workers) {
                        partial += try item(index)
                        let finished = done.increment()
                        progress?(finished, items.count)
                    }
                    return partial
                }
                results.set(worker, outcome)
            }
            for outcome in results.all() { score += try outcome.get() }
            stream.append((score.tokens, score.bitsPerByte))
        }
        return (score, stream, ScoredItems(kind: kind, total: count, range: items))
    }
}

/// One result per worker, written once each.
private final class SegmentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<EvalPartial, EvalError>]
    init(count: Int) { slots = Array(repeating: .success(EvalPartial()), count: count) }
    func set(_ index: Int, _ value: Result<EvalPartial, EvalError>) { lock.lock(); slots[index] = value; lock.unlock() }
    func all() -> [Result<EvalPartial, EvalError>] { lock.lock(); defer { lock.unlock() }; return slots }
}

/// Items finished so far, across workers.
private final class DoneCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
