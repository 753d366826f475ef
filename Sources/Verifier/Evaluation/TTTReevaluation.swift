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
}

/// Re-runs a submission's score-first TTT with pgverify's own model, optimizers and evaluators:
/// the audit's path for claimed TTT scores (`verify eval --mode ttt|ttt-lora` runs the same
/// evaluators).
public enum TTTReevaluation {
    public static func run(_ request: ReevaluationRequest, procedure: TTTProcedure) throws -> TTTReevaluationResult {
        let result = try runUnchecked(request, procedure: procedure)
        try NonFiniteScore.check(result.before, label: "val_bpb before TTT", request: request)
        try NonFiniteScore.check(result.score, request: request)
        return result
    }

    private static func runUnchecked(_ request: ReevaluationRequest, procedure: TTTProcedure) throws -> TTTReevaluationResult {
        try BLAS.requireLibrary()
        var (weights, settings) = try Reevaluation.loadWeights(request.artifact, code: request.code)
        var tttOverrides: [String: String] = [:]
        for (key, value) in request.overrides {
            if TTTSettingsResolver.handles(key) || LoRATTTSettingsResolver.handles(key) || PhasedTTTSettingsResolver.handles(key) {
                tttOverrides[key] = value
            } else {
                settings[key] = value
            }
        }
        var resolved = try ModelConfigResolver.resolve(weights: weights, code: request.code, logs: request.logs,
                                                       overrides: settings)
        try Reevaluation.confirmArchitecture(&resolved, code: request.code, logs: request.logs, overrides: settings, weights: weights)
        let family = !resolved.config.features.runsOnBaselineModel
        switch procedure {
        case .phased:
            return try runPhased(request, weights: weights, resolved: resolved, settings: settings, tttOverrides: tttOverrides)
        case .perDocumentLoRA where family:
            // 2026-04-10/04-16 define the batched eval_val_ttt_lora: the phased loop without phases.
            guard let code = request.code, PhasedTTTSettings.definesBatchedLoRATTT(try SubmissionCodeText.read(code)) else {
                throw UnsupportedArtifact(path: request.artifact.path, reason: "eval_val_ttt_lora on a record-family "
                    + "architecture (\(Reevaluation.featureNames(resolved.config.features))) is re-run only in its batched "
                    + "form (the code's _build_ttt_global_batches, _compute_chunk_window and BatchedTTTLoRA, as 2026-04-16); "
                    + "this code defines another")
            }
            return try runPhased(request, weights: weights, resolved: resolved, settings: settings,
                                 tttOverrides: tttOverrides, procedure: .perDocumentLoRA)
        case .chunkedSGD:
            return try runChunked(request, weights: weights, resolved: resolved, settings: settings, tttOverrides: tttOverrides)
        case .perDocumentLoRA:
            return try runLoRA(request, weights: weights, resolved: resolved, tttOverrides: tttOverrides)
        }
    }

    /// `eval_val_sliding_ttt` (2026-03-23 and descendants) on the baseline ``TrainableGPT``, or on
    /// ``DifferentiableFamilyGPT`` for record-family weights (banked records freeze only block scalars;
    /// 2026-03-23's late QAT trains its `CastedLinear` projections fake-quantised).
    static func runChunked(
        _ request: ReevaluationRequest, weights: Weights, resolved: ResolvedModelConfig,
        settings: [String: String], tttOverrides: [String: String]
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
        }
        let tokens = try EvalTokens.prepare(try ValidationShard.readAll(pattern: request.validationPattern),
                                            seqLen: s.seqLen, maxTokens: request.maxTokens)
        var frozen = s
        frozen.epochs = 0
        let scoreOnly = try ChunkedTTTEvaluator(settings: frozen, accounting: accounting, tokens: tokens,
                                                vocabulary: config.vocabSize)
        let adapted = try ChunkedTTTEvaluator(settings: s, accounting: accounting, tokens: tokens,
                                              vocabulary: config.vocabSize)
        let before: ChunkedTTTResult, result: ChunkedTTTResult
        let start: Date
        if family {
            before = try scoreOnly.evaluate(model: try DifferentiableFamilyGPT(forBaseGradients: config, weights: weights),
                                            threads: request.threads)
            let model = try DifferentiableFamilyGPT(forBaseGradients: config, weights: weights)
            model.lateQATInTraining = ttt.lateQAT == .int6StraightThrough
            start = Date()
            result = try adapted.evaluate(model: model, threads: request.threads)
        } else {
            before = try scoreOnly.evaluate(model: try TrainableGPT(config: config, weights: weights, maxPositions: s.seqLen),
                                            threads: request.threads)
            let model = try TrainableGPT(config: config, weights: weights, maxPositions: s.seqLen)
            start = Date()
            result = try adapted.evaluate(model: model, threads: request.threads)
        }
        var described = describe(s)
        described[TTTSettingsResolver.lateQATKey] = ttt.lateQAT.rawValue
        return TTTReevaluationResult(
            procedure: .chunkedSGD, resolved: resolved, score: result.total, before: before.total,
            stream: cumulative(result.chunks), steps: result.steps, settings: described, sources: ttt.sources,
            seqLen: s.seqLen, seconds: Date().timeIntervalSince(start))
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

    /// 2026-03-17's per-document `eval_val_ttt_lora` on the baseline ``TrainableGPT``.
    static func runLoRA(
        _ request: ReevaluationRequest, weights: Weights, resolved: ResolvedModelConfig, tttOverrides: [String: String]
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
        let model = try TrainableGPT(config: resolved.config, weights: weights, maxPositions: s.evalSeqLen)
        let before = try LoRATTTEvaluator(settings: frozen, accounting: accounting, tokens: tokens,
                                          vocabulary: resolved.config.vocabSize).evaluate(model: model)
        let start = Date()
        let result = try LoRATTTEvaluator(settings: s, accounting: accounting, tokens: tokens,
                                          vocabulary: resolved.config.vocabSize).evaluate(model: model)
        return TTTReevaluationResult(
            procedure: .perDocumentLoRA, resolved: resolved, score: result.total, before: before.total,
            stream: cumulative(result.documents), steps: result.steps, settings: describe(s), sources: lora.sources,
            seqLen: s.evalSeqLen, seconds: Date().timeIntervalSince(start))
    }

    /// `eval_val_ttt_phased` on ``DifferentiableFamilyGPT``, as one rank runs it (see
    /// ``PhasedTTTEvaluator`` for what differs from an 8-GPU run); with `procedure`
    /// ``TTTProcedure/perDocumentLoRA``, the batched `eval_val_ttt_lora` of 2026-04-16 (the same loop
    /// without global phases, ``PhasedTTTSettings/withoutGlobalPhases``).
    static func runPhased(
        _ request: ReevaluationRequest, weights: Weights, resolved: ResolvedModelConfig,
        settings: [String: String], tttOverrides: [String: String], procedure: TTTProcedure = .phased
    ) throws -> TTTReevaluationResult {
        var phased = try PhasedTTTSettingsResolver.resolve(code: request.code, logs: request.logs,
                                                          overrides: settings.merging(tttOverrides) { _, ttt in ttt })
        if procedure == .perDocumentLoRA {
            phased.settings = phased.settings.withoutGlobalPhases
            for name in ["phased_ttt_prefix_docs", "phased_ttt_num_phases", "ttt_doc_limit"] {
                phased.sources[name] = "eval_val_ttt_lora: no global phases (the phased loop with no prefix documents)"
            }
        }
        let s = phased.settings, config = resolved.config
        let inputs = try PhasedTTTInputs.prepare(request, phased: phased, vocabulary: config.vocabSize)
        let evaluator = try PhasedTTTEvaluator(settings: s, byteCounts: inputs.byteCounts, tokens: inputs.tokens,
                                               vocabulary: config.vocabSize)
        let unadapted = try DifferentiableFamilyGPT(config: config, weights: weights, loraAlpha: s.loraAlpha)
        unadapted.threads = request.threads
        let before = try evaluator.evaluate(model: unadapted, adapt: false)
        let model = try DifferentiableFamilyGPT(config: config, weights: weights, loraAlpha: s.loraAlpha)
        model.threads = request.threads
        let start = Date()
        let result = try evaluator.evaluate(model: model)
        var sources = phased.sources
        switch inputs.byteSource {
        case .sidecarEnabled: sources["byte_counts"] = "the CaseOps byte sidecar (CASEOPS_ENABLED)"
        case .sidecarPresent: sources["byte_counts"] = "the CaseOps byte sidecar (present; the code reads it whenever it is)"
        case .tokenizer: sources["byte_counts"] = "the tokenizer's tables"
        }
        return TTTReevaluationResult(
            procedure: procedure, resolved: resolved, score: result.total, before: before.total,
            stream: cumulative(result.batches.map(\.partial)), steps: result.adapterSteps + result.globalSteps,
            settings: describe(s), sources: sources, seqLen: s.evalSeqLen, seconds: Date().timeIntervalSince(start))
    }

    /// Running totals after each part.
    static func cumulative(_ parts: [EvalPartial]) -> [(tokens: Int, bitsPerByte: Double)] {
        var total = EvalPartial()
        return parts.map { part in
            total += part
            return (total.tokens, total.bitsPerByte)
        }
    }

    /// Settings as `name: value` text, through their JSON encoding.
    static func describe<S: Encodable>(_ settings: S) -> [String: String] {
        guard let data = try? JSONEncoder().encode(settings),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.mapValues { "\($0)" }
    }
}
