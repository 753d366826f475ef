import Foundation
import Reference

/// The score-first test-time-training procedure a submission's code defines, by the function the
/// records use for it.
public enum TTTProcedure: String, Sendable, Codable, CaseIterable {
    /// `eval_val_sliding_ttt` (2026-03-23 and its descendants): chunks scored with sliding windows,
    /// then trained on with SGD.
    case chunkedSGD = "chunked-sgd"
    /// `eval_val_ttt_lora`: per-document LoRA adapters (2026-03-17 on the baseline model; the batched
    /// form of 2026-04-10/04-16 on record families, the phased loop without global phases).
    case perDocumentLoRA = "lora"
    /// `eval_val_ttt_phased` (2026-04-13 on, the best records): per-document LoRA with global SGD
    /// phases over the documents already scored.
    case phased

    /// The Python function that defines the procedure.
    public var functionName: String {
        switch self {
        case .chunkedSGD: return "eval_val_sliding_ttt"
        case .perDocumentLoRA: return "eval_val_ttt_lora"
        case .phased: return "eval_val_ttt_phased"
        }
    }

    /// Which procedure `code` defines (decoded first when it is a self-extracting wrapper), or `nil`
    /// when it defines none of them. A script that defines several is read by the most specific:
    /// phased, then LoRA, then chunked.
    public static func detect(code: URL) throws -> TTTProcedure? {
        let text = try SubmissionCodeText.read(code)
        for procedure in [TTTProcedure.phased, .perDocumentLoRA, .chunkedSGD]
        where text.contains("def \(procedure.functionName)(") {
            return procedure
        }
        return nil
    }
}

/// A score-first TTT re-run: the adapted score, the same procedure without adaptation, and the
/// settings with where each came from.
public struct TTTReevaluationResult: Sendable {
    public var procedure: TTTProcedure
    public var resolved: ResolvedModelConfig
    /// The score with test-time training.
    public var score: EvalPartial
    /// The same windows scored without adaptation (learning rate 0 or no epochs).
    public var before: EvalPartial
    /// Cumulative (tokens scored, val_bpb so far) after each chunk or document.
    public var stream: [(tokens: Int, bitsPerByte: Double)]
    /// Optimizer steps taken.
    public var steps: Int
    /// Each TTT setting's value and source, by the records' attribute names.
    public var settings: [String: String]
    public var sources: [String: String]
    /// Sequence length of the scoring windows.
    public var seqLen: Int
    /// Wall-clock seconds of the adapted run.
    public var seconds: Double
    /// The procedure's own settings and detail, as `verify eval` reports them.
    public var detail: TTTDetail
    /// `eval_val_ttt_phased` run as a part or with ``ReevaluationRequest/digestsInputs``: the part to
    /// write for `verify merge` (and the audit's `--partial`).
    public var partial: PartialEvaluation? = nil
    /// CPU seconds of this process (all threads) during the adapted run, where measured (phased TTT).
    public var cpuSeconds: Double? = nil
}

/// What each procedure reports beyond the score: its typed settings and per-item detail.
public enum TTTDetail: Sendable {
    /// `eval_val_sliding_ttt`: each chunk's mean loss, scored before training on it.
    case chunked(settings: ChunkedTTTSettings, chunkLosses: [Double])
    /// 2026-03-17's per-document LoRA on the baseline model.
    case lora(settings: LoRATTTSettings, documents: Int)
    /// The phased loop (also the batched `eval_val_ttt_lora`): its settings and the batches and phases
    /// this run scored (``PhasedTTTPartDetail/sources`` without the byte counts' provenance).
    case phased(settings: PhasedTTTSettings, detail: PhasedTTTPartDetail, part: PhasedTTTPartScope)
}

/// Which batches of a phased TTT evaluation one run scored.
public struct PhasedTTTPartScope: Sendable, Equatable {
    /// What was asked for.
    public var part: PhasedTTTPart
    /// Batches scored, in claim order, of ``totalBatches``; the prefix is `0 ..< prefixBatches`.
    public var batches: Range<Int>
    public var totalBatches: Int
    public var prefixBatches: Int
}

/// A phased TTT evaluation whole or in parts (docs/sharded-evaluation.md): the prefix (every batch up
/// to the last global phase, and the phases) once, then the suffix batches in parts from its state.
public enum PhasedTTTPart: Sendable, Equatable {
    case whole
    /// Score the prefix and write the weights after its last phase to `stateOut`.
    case prefix(stateOut: URL)
    /// Score part `shard` of the suffix batches from the weights in `state`.
    case suffix(state: URL, shard: EvalShard)
}

/// Where the TTT settings of a re-run came from, reported before anything is scored.
public struct TTTSettingsProvenance: Sendable {
    public var procedure: TTTProcedure
    /// Whether the procedure runs as the phased loop (the phased procedure, or the batched
    /// `eval_val_ttt_lora` on a record family).
    public var phasedLoop: Bool
    /// Each TTT setting's source, by hyperparameter name.
    public var sources: [String: String]
}

/// How a TTT re-run is observed, and which part of a phased one runs.
public struct TTTRunOptions {
    /// `eval_val_ttt_phased` only.
    public var phasedPart: PhasedTTTPart = .whole
    /// Called once the model configuration is resolved and its architecture matched.
    public var onResolved: (ResolvedModelConfig) -> Void = { _ in }
    /// Called with the TTT settings' provenance, once everything is read and before anything is scored.
    public var onSettings: (TTTSettingsProvenance) -> Void = { _ in }
    /// The adapted run's progress: chunks, documents or batches done, of all.
    public var progress: ((_ done: Int, _ total: Int) -> Void)? = nil

    public init(phasedPart: PhasedTTTPart = .whole) { self.phasedPart = phasedPart }
}

/// A TTT mode's run cannot be split as asked.
public struct UnshardableEvaluation: InputError, Equatable {
    public var reason: String
    public var description: String { reason }
}

/// Re-runs a submission's score-first TTT with pgverify's own model, optimizers and evaluators: one
/// path, weights and code → settings with their provenance → evaluator → result, for the audit's
/// claimed TTT scores and `verify eval --mode ttt|ttt-lora|ttt-phased` alike.
public enum TTTReevaluation {
    public static func run(
        _ request: ReevaluationRequest, procedure: TTTProcedure, options: TTTRunOptions = TTTRunOptions()
    ) throws -> TTTReevaluationResult {
        let result = try runUnchecked(request, procedure: procedure, options: options)
        // A part may hold no batch (more parts than suffix batches); its empty sums are a valid part.
        if !(result.partial != nil && result.score.tokens == 0) {
            try NonFiniteScore.check(result.score, request: request)
            try NonFiniteScore.check(result.before, label: "val_bpb before TTT", request: request)
        }
        return result
    }

    private static func runUnchecked(
        _ request: ReevaluationRequest, procedure: TTTProcedure, options: TTTRunOptions
    ) throws -> TTTReevaluationResult {
        try BLAS.requireLibrary()
        guard procedure == .phased || options.phasedPart == .whole else {
            throw UnshardableEvaluation(reason: "\(procedure.functionName) is not run in parts: only eval_val_ttt_phased "
                                        + "splits into a prefix and suffix parts")
        }
        let (weights, settings, tttOverrides) = try loadSettings(
            artifact: request.artifact, code: request.code, overrides: request.overrides, seqLen: request.seqLen, procedure: procedure)
        var resolved = try ModelConfigResolver.resolve(weights: weights, code: request.code, logs: request.logs,
                                                       overrides: settings)
        try Reevaluation.confirmArchitecture(&resolved, code: request.code, logs: request.logs, overrides: settings, weights: weights,
                                             scoresThroughForwardTTT: procedure != .chunkedSGD)
        options.onResolved(resolved)
        let family = !resolved.config.features.runsOnBaselineModel
        switch procedure {
        case .phased:
            return try runPhased(request, weights: weights, resolved: resolved, settings: settings, tttOverrides: tttOverrides,
                                 options: options)
        case .perDocumentLoRA where family:
            // 2026-04-10/04-16 define the batched eval_val_ttt_lora: the phased loop without phases.
            guard let code = request.code, PhasedTTTSettings.definesBatchedLoRATTT(try SubmissionCodeText.read(code)) else {
                throw UnsupportedArtifact(path: request.artifact.path, reason: "eval_val_ttt_lora on a record-family "
                    + "architecture (\(Reevaluation.featureNames(resolved.config.features))) is re-run only in its batched "
                    + "form (the code's _build_ttt_global_batches, _compute_chunk_window and BatchedTTTLoRA, as 2026-04-16); "
                    + "this code defines another")
            }
            return try runPhased(request, weights: weights, resolved: resolved, settings: settings,
                                 tttOverrides: tttOverrides, procedure: .perDocumentLoRA, options: options)
        case .chunkedSGD:
            return try runChunked(request, weights: weights, resolved: resolved, settings: settings, tttOverrides: tttOverrides,
                                  options: options)
        case .perDocumentLoRA:
            return try runLoRA(request, weights: weights, resolved: resolved, tttOverrides: tttOverrides, options: options)
        }
    }

    /// The weights, the model's settings (the format's, then the caller's) and the TTT overrides: the
    /// TTT resolvers take their own keys (and read the sequence lengths from the model's settings
    /// too); the rest configure the model, whose resolver refuses a key it does not know. Chunked TTT
    /// reads no phased key.
    static func loadSettings(artifact: URL, code: URL?, overrides: [String: String], seqLen: Int?, procedure: TTTProcedure)
        throws -> (weights: Weights, settings: [String: String], tttOverrides: [String: String]) {
        var (weights, settings) = try Reevaluation.loadWeights(artifact, code: code)
        var tttOverrides: [String: String] = [:]
        for (key, value) in overrides {
            if TTTSettingsResolver.handles(key) || LoRATTTSettingsResolver.handles(key)
                || (procedure != .chunkedSGD && PhasedTTTSettingsResolver.handles(key)) {
                tttOverrides[key] = value
            } else {
                settings[key] = value
            }
        }
        if let seqLen { settings[ModelConfigResolver.seqLenOverrideKey] = String(seqLen) }
        return (weights, settings, tttOverrides)
    }

    /// The phased TTT settings a run on `artifact` with `code`, `logs` and `overrides` resolves (what a
    /// sharded run's parts record).
    public static func phasedSettings(artifact: URL, code: URL?, logs: [URL], overrides: [String: String] = [:])
        throws -> ResolvedPhasedTTTSettings {
        let (_, settings, tttOverrides) = try loadSettings(artifact: artifact, code: code, overrides: overrides, seqLen: nil,
                                                           procedure: .phased)
        return try PhasedTTTSettingsResolver.resolve(code: code, logs: logs, overrides: settings.merging(tttOverrides) { _, ttt in ttt })
    }

    /// `eval_val_sliding_ttt` (2026-03-23 and descendants) on ``DifferentiableFamilyGPT``: with the baseline's
    /// features for baseline weights, with the family's for record-family weights (banked records freeze only block scalars;
    /// 2026-03-23's late QAT trains its `CastedLinear` projections fake-quantised).
    static func runChunked(
        _ request: ReevaluationRequest, weights: Weights, resolved: ResolvedModelConfig,
        settings: [String: String], tttOverrides: [String: String], options: TTTRunOptions
    ) throws -> TTTReevaluationResult {
        let config = resolved.config
        let accounting = try SentencePieceModel(contentsOf: request.tokenizer)
            .byteAccounting(modelVocabularySize: config.vocabSize)
        BLAS.threads = 1  // OpenBLAS single-threaded: its threaded sgemm rounds differently, and a score must not depend on --threads
        let ttt = try TTTSettingsResolver.resolve(code: request.code, logs: request.logs,
                                                  overrides: settings.merging(tttOverrides) { _, ttt in ttt })
        let s = ttt.settings
        let family = !config.features.runsOnBaselineModel
        if family {
            try refuseUnsupportedFamilyTraining(ttt, artifact: request.artifact, features: config.features)
        } else if ttt.lateQAT != .off {
            // The baseline's model trains plainly: a run whose CastedLinear trained fake-quantised would be another number.
            throw UnsupportedArtifact(path: request.artifact.path, reason: "eval_val_sliding_ttt on the baseline architecture: its "
                + "CastedLinear trains fake-quantised (\(ttt.lateQAT.rawValue)) once late QAT is on "
                + "(\(ttt.sources[TTTSettingsResolver.lateQATKey] ?? "")); pgverify reproduces late QAT in TTT only for the banked "
                + "record family's projections (set \(TTTSettingsResolver.lateQATKey)=0 to run without it)")
        }
        let tokens = try EvalTokens.prepare(try ValidationShard.readAll(pattern: request.validationPattern),
                                            seqLen: s.seqLen, maxTokens: request.maxTokens)
        var frozen = s
        frozen.epochs = 0
        let scoreOnly = try ChunkedTTTEvaluator(settings: frozen, accounting: accounting, tokens: tokens,
                                                vocabulary: config.vocabSize)
        let adapted = try ChunkedTTTEvaluator(settings: s, accounting: accounting, tokens: tokens,
                                              vocabulary: config.vocabSize)
        options.onSettings(TTTSettingsProvenance(procedure: .chunkedSGD, phasedLoop: false, sources: ttt.sources))
        // One differentiable model: the baseline's features, or the record family's.
        func load() throws -> DifferentiableFamilyGPT {
            family ? try DifferentiableFamilyGPT(forBaseGradients: config, weights: weights)
                : try DifferentiableFamilyGPT(baseline: config, weights: weights)
        }
        let before = try scoreOnly.evaluate(model: try load(), threads: request.threads)
        let model = try load()
        // 2026-03-23's late QAT fake-quantises the March family's CastedLinear projections (refused above for the baseline).
        model.lateQATInTraining = family && ttt.lateQAT == .int6StraightThrough
        let start = Date()
        let result = try adapted.evaluate(model: model, threads: request.threads, progress: options.progress)
        let seconds = Date().timeIntervalSince(start)
        var described = describe(s)
        described[TTTSettingsResolver.lateQATKey] = ttt.lateQAT.rawValue
        return TTTReevaluationResult(
            procedure: .chunkedSGD, resolved: resolved, score: result.total, before: before.total,
            stream: cumulative(result.chunks), steps: result.steps, settings: described, sources: ttt.sources,
            seqLen: s.seqLen, seconds: seconds, detail: .chunked(settings: s, chunkLosses: result.chunks.map(\.meanLoss)))
    }

    /// Training modes of a family's chunked TTT that pgverify does not reproduce, refused by name
    /// (``UnsupportedArtifact`` naming `artifact`).
    public static func refuseUnsupportedFamilyTraining(
        _ ttt: ResolvedTTTSettings, artifact: URL, features: ArchitectureFeatures
    ) throws {
        let where_ = "eval_val_sliding_ttt on a record-family architecture (\(Reevaluation.featureNames(features)))"
        switch ttt.lateQAT {
        case .off: break
        case .softRound:
            throw UnsupportedArtifact(path: artifact.path, reason: where_ + ": its CastedLinear trains through "
                + "sigmoid soft rounding (`soft_rounded`, as 2026-03-31) once late QAT is on (\(ttt.sources[TTTSettingsResolver.lateQATKey] ?? "")); "
                + "pgverify reproduces only 2026-03-23's int6 straight-through form (set \(TTTSettingsResolver.lateQATKey)=0 to run without it)")
        case .int6StraightThrough where ttt.settings.freezeScope != .blockScalars:
            throw UnsupportedArtifact(path: artifact.path, reason: where_ + ": late QAT in unbanked code (its blocks' "
                + "matrices would be CastedLinear too); pgverify fake-quantises only the banked records' projections")
        case .int6StraightThrough: break
        }
    }

    /// 2026-03-17's per-document `eval_val_ttt_lora` on ``DifferentiableFamilyGPT`` with the baseline's features.
    static func runLoRA(
        _ request: ReevaluationRequest, weights: Weights, resolved: ResolvedModelConfig, tttOverrides: [String: String],
        options: TTTRunOptions
    ) throws -> TTTReevaluationResult {
        let accounting = try SentencePieceModel(contentsOf: request.tokenizer)
            .byteAccounting(modelVocabularySize: resolved.config.vocabSize)
        BLAS.threads = 1  // OpenBLAS single-threaded: its threaded sgemm rounds differently, and a score must not depend on --threads
        let lora = try LoRATTTSettingsResolver.resolve(code: request.code, logs: request.logs, overrides: tttOverrides)
        let s = lora.settings
        var tokens = try ValidationShard.readAll(pattern: request.validationPattern)
        if let maxTokens = request.maxTokens, tokens.count > maxTokens + 1 { tokens = Array(tokens[...maxTokens]) }
        var frozen = s
        frozen.learningRate = 0
        let scoreOnly = try LoRATTTEvaluator(settings: frozen, accounting: accounting, tokens: tokens,
                                             vocabulary: resolved.config.vocabSize)
        let adapted = try LoRATTTEvaluator(settings: s, accounting: accounting, tokens: tokens,
                                           vocabulary: resolved.config.vocabSize)
        options.onSettings(TTTSettingsProvenance(procedure: .perDocumentLoRA, phasedLoop: false, sources: lora.sources))
        // Only adapters train: the model is the same for both runs.
        let model = try DifferentiableFamilyGPT(baseline: resolved.config, weights: weights)
        let before = try scoreOnly.evaluate(model: model, threads: request.threads)
        let start = Date()
        let result = try adapted.evaluate(model: model, threads: request.threads, progress: options.progress)
        return TTTReevaluationResult(
            procedure: .perDocumentLoRA, resolved: resolved, score: result.total, before: before.total,
            stream: cumulative(result.documents), steps: result.steps, settings: describe(s), sources: lora.sources,
            seqLen: s.evalSeqLen, seconds: Date().timeIntervalSince(start),
            detail: .lora(settings: s, documents: result.documents.count))
    }

    /// Running totals after each part.
    static func cumulative(_ parts: [EvalPartial]) -> [(tokens: Int, bitsPerByte: Double)] {
        var total = EvalPartial()
        return parts.map { part in
            total += part
            return (total.tokens, total.bitsPerByte)
        }
    }

    /// Settings as `name: value` text, through their JSON encoding; a nested value (such as the LoRA
    /// targets) as its JSON text with sorted keys, so the text never depends on a dictionary's order.
    static func describe<S: Encodable>(_ settings: S) -> [String: String] {
        guard let data = try? JSONEncoder().encode(settings),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.mapValues { value in
            guard JSONSerialization.isValidJSONObject(value),
                  let text = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "\(value)" }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
