import ArgumentParser
import Foundation
import Reference
import Verifier

// `verify eval --mode ttt`, `--mode ttt-lora` and `--mode ttt-phased`: kept apart from
// EvalCommand.swift, which only dispatches here. The JSON has the other modes' keys plus `ttt` (or
// `ttt_lora`, `ttt_phased`).

extension Eval {
    /// Loads the weights, splits `--set` into model and TTT settings, and runs the TTT mode.
    func runTestTimeTraining() throws {
        let (weights, loaded) = try Reevaluation.loadWeights(URL(fileURLWithPath: artifact), code: code.map { URL(fileURLWithPath: $0) })
        var settings = loaded
        var tttOverrides: [String: String] = [:]
        for item in overrides {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("--set expects KEY=VALUE, got \(item)")
            }
            let key = String(item[..<equals]), value = String(item[item.index(after: equals)...])
            if TTTSettingsResolver.handles(key) || LoRATTTSettingsResolver.handles(key)
                || ((mode == .tttPhased || mode == .tttLoRA) && PhasedTTTSettingsResolver.handles(key)) {
                tttOverrides[key] = value
            } else {
                settings[key] = value
            }
        }
        if let seqLen { settings[ModelConfigResolver.seqLenOverrideKey] = String(seqLen) }
        if mode == .tttLoRA {
            try runLoRATTT(weights: weights, settings: settings, tttOverrides: tttOverrides)
        } else if mode == .tttPhased {
            try runPhasedTTT(weights: weights, settings: settings, tttOverrides: tttOverrides)
        } else {
            if let stride { tttOverrides["EVAL_STRIDE"] = String(stride) }
            try runTTT(weights: weights, settings: settings, tttOverrides: tttOverrides)
        }
    }

    /// The text mode's provenance: each model configuration value and TTT setting with its source.
    func printSources(model: [String: some CustomStringConvertible], ttt: [String: String], title: String) {
        print("model configuration:")
        for (name, source) in model.sorted(by: { $0.key < $1.key }) { print("  \(name): \(source)") }
        print(title + ":")
        for (name, source) in ttt.sorted(by: { $0.key < $1.key }) { print("  \(name): \(source)") }
    }

    /// Prints `report` as JSON (sorted keys) or text.
    func printTTTReport(_ report: EvalReport) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(String(format: "val_loss: %.8f  val_bpb: %.8f", report.val_loss, report.val_bpb))
        print("tokens: \(report.tokens)  bytes: \(report.bytes)  mode: \(report.mode)"
              + (report.stride.map { "  stride: \($0)" } ?? "") + "  seq_len: \(report.seq_len)")
        print(String(format: "%.2f s, %.0f tokens/s, %d threads", report.seconds, report.tokens_per_second, threads))
        if let ttt = report.ttt {
            print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d SGD steps)",
                         ttt.val_loss_before, ttt.val_bpb_before, ttt.bpb_gain, ttt.steps))
        }
        if let lora = report.ttt_lora {
            print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d documents, %d Adam steps)",
                         lora.val_loss_before, lora.val_bpb_before, lora.bpb_gain, lora.documents, lora.steps))
        }
        report.ttt_phased?.printText()
    }
}

/// Progress of a TTT run on stderr (chunks or documents), once it has run a few seconds.
final class TTTProgress {
    private let unit: String
    private let start = Date()
    private var lastPrint: Date?

    init(unit: String) { self.unit = unit }

    func update(_ done: Int, of total: Int) {
        let now = Date()
        guard now.timeIntervalSince(start) >= 3 else { return }
        if let lastPrint, now.timeIntervalSince(lastPrint) < 2, done < total { return }
        lastPrint = now
        FileHandle.standardError.write(Data(String(
            format: "\rttt: %d/%d %@, %.0f s elapsed ", done, total, unit, now.timeIntervalSince(start)).utf8))
    }

    func finish() { if lastPrint != nil { FileHandle.standardError.write(Data("\n".utf8)) } }
}

/// The `ttt` object of `verify eval --mode ttt --json`.
struct TTTReport: Encodable {
    var settings: ChunkedTTTSettings
    /// Where each TTT setting came from.
    var sources: [String: String]
    var val_loss_before: Double
    var val_bpb_before: Double
    /// `val_bpb_before − val_bpb`: what adaptation gained.
    var bpb_gain: Double
    var steps: Int
    var chunks: Int
    /// Mean loss of each chunk, scored before training on it.
    var chunk_losses: [Double]
}

extension Eval {
    /// `--mode ttt`: resolves the model and the TTT settings, scores once without adaptation, then
    /// runs the chunked score-first TTT on a fresh copy of the weights.
    func runTTT(weights: Weights, settings: [String: String], tttOverrides: [String: String]) throws {
        let codeURL = code.map { URL(fileURLWithPath: $0) }, logURLs = logs.map { URL(fileURLWithPath: $0) }
        var resolved = try ModelConfigResolver.resolve(weights: weights, code: codeURL, logs: logURLs, overrides: settings)
        try Reevaluation.confirmArchitecture(&resolved, code: codeURL, logs: logURLs, overrides: settings, weights: weights)
        if !json, let architecture = resolved.architecture { print("architecture: \(architecture)") }
        // The TTT resolver reads the sequence lengths too (and ignores the model's other keys).
        let tttInputs = settings.merging(tttOverrides) { _, ttt in ttt }
        let ttt = try TTTSettingsResolver.resolve(code: codeURL, logs: logURLs, overrides: tttInputs)
        let config = resolved.config, s = ttt.settings
        BLAS.threads = 1  // OpenBLAS single-threaded: its threaded sgemm rounds differently, and a score must not depend on --threads

        let accounting = try SentencePieceModel(contentsOf: URL(fileURLWithPath: tokenizer))
            .byteAccounting(modelVocabularySize: config.vocabSize)
        let tokens = try EvalTokens.prepare(try ValidationShard.readAll(pattern: val), seqLen: s.seqLen, maxTokens: maxTokens)
        var frozen = s
        frozen.epochs = 0
        let baseline = try ChunkedTTTEvaluator(settings: frozen, accounting: accounting, tokens: tokens, vocabulary: config.vocabSize)
        let adapted = try ChunkedTTTEvaluator(settings: s, accounting: accounting, tokens: tokens, vocabulary: config.vocabSize)
        if !json {
            printSources(model: resolved.sources, ttt: ttt.sources, title: "TTT settings")
        }

        // Record-family weights train on the differentiable family model, as the audit runs them.
        func run<Model: ChunkedTTTModel>(_ fresh: () throws -> Model) throws -> (before: ChunkedTTTResult, result: ChunkedTTTResult, seconds: Double) {
            let before = try baseline.evaluate(model: try fresh(), threads: threads)
            let model = try fresh()
            let progress = TTTProgress(unit: "chunks")
            let start = Date()
            let result = try adapted.evaluate(model: model, threads: threads) { done, total in progress.update(done, of: total) }
            progress.finish()
            return (before, result, Date().timeIntervalSince(start))
        }
        let (before, result, seconds): (ChunkedTTTResult, ChunkedTTTResult, Double)
        if !config.features.runsOnBaselineModel {
            try TTTReevaluation.refuseUnsupportedFamilyTraining(ttt, artifact: URL(fileURLWithPath: artifact),
                                                                features: config.features)
            (before, result, seconds) = try run { () throws -> DifferentiableFamilyGPT in
                let model = try DifferentiableFamilyGPT(forBaseGradients: config, weights: weights)
                model.lateQATInTraining = ttt.lateQAT == .int6StraightThrough
                return model
            }
        } else {
            (before, result, seconds) = try run { try TrainableGPT(config: config, weights: weights, maxPositions: s.seqLen) }
        }

        let total = result.total
        try NonFiniteScore.check(total, tokenizer: tokenizer, validation: val, byteSidecar: valBytes)
        let report = EvalReport(
            val_loss: total.meanLoss, val_bpb: total.bitsPerByte, tokens: total.tokens, bytes: total.bytes,
            mode: "ttt", stride: s.stride, seq_len: s.seqLen, threads: threads, seconds: seconds,
            tokens_per_second: Double(total.tokens) / seconds,
            config: Dictionary(uniqueKeysWithValues: resolved.sources.map { ($0.key, $0.value.description) }),
            ttt: TTTReport(settings: s, sources: ttt.sources, val_loss_before: before.total.meanLoss,
                           val_bpb_before: before.total.bitsPerByte, bpb_gain: before.total.bitsPerByte - total.bitsPerByte,
                           steps: result.steps, chunks: result.chunks.count, chunk_losses: result.chunks.map(\.meanLoss)))
        try printTTTReport(report)
    }
}

/// The `ttt` object of `verify eval --mode ttt-lora --json`.
struct LoRATTTReport: Encodable {
    var settings: LoRATTTSettings
    var sources: [String: String]
    var val_loss_before: Double
    var val_bpb_before: Double
    var bpb_gain: Double
    var steps: Int
    var documents: Int
}

extension Eval {
    /// `--mode ttt-lora`: per-document LoRA TTT over the stream (cut to `--max-tokens` targets), and
    /// the same with a learning rate of 0 (adapters stay zero: the model's own score on those windows).
    func runLoRATTT(weights: Weights, settings: [String: String], tttOverrides: [String: String]) throws {
        let codeURL = code.map { URL(fileURLWithPath: $0) }, logURLs = logs.map { URL(fileURLWithPath: $0) }
        var resolved = try ModelConfigResolver.resolve(weights: weights, code: codeURL, logs: logURLs, overrides: settings)
        try Reevaluation.confirmArchitecture(&resolved, code: codeURL, logs: logURLs, overrides: settings, weights: weights)
        if !json, let architecture = resolved.architecture { print("architecture: \(architecture)") }
        if !resolved.config.features.runsOnBaselineModel {
            return try runFamilyLoRATTT(settings: settings, tttOverrides: tttOverrides)
        }
        let lora = try LoRATTTSettingsResolver.resolve(code: codeURL, logs: logURLs, overrides: tttOverrides)
        let config = resolved.config, s = lora.settings
        BLAS.threads = 1  // OpenBLAS single-threaded: its threaded sgemm rounds differently, and a score must not depend on --threads
        let accounting = try SentencePieceModel(contentsOf: URL(fileURLWithPath: tokenizer))
            .byteAccounting(modelVocabularySize: config.vocabSize)
        var tokens = try ValidationShard.readAll(pattern: val)
        if let maxTokens, tokens.count > maxTokens + 1 { tokens = Array(tokens[...maxTokens]) }
        var frozen = s
        frozen.learningRate = 0
        let baseline = try LoRATTTEvaluator(settings: frozen, accounting: accounting, tokens: tokens, vocabulary: config.vocabSize)
        let adapted = try LoRATTTEvaluator(settings: s, accounting: accounting, tokens: tokens, vocabulary: config.vocabSize)
        if !json {
            printSources(model: resolved.sources, ttt: lora.sources, title: "LoRA TTT settings")
        }
        let model = try TrainableGPT(config: config, weights: weights, maxPositions: s.evalSeqLen)
        let before = try baseline.evaluate(model: model)
        let progress = TTTProgress(unit: "documents")
        let start = Date()
        let result = try adapted.evaluate(model: model) { done, total in progress.update(done, of: total) }
        let seconds = Date().timeIntervalSince(start)
        progress.finish()
        let total = result.total
        try NonFiniteScore.check(total, tokenizer: tokenizer, validation: val, byteSidecar: valBytes)
        var report = EvalReport(
            val_loss: total.meanLoss, val_bpb: total.bitsPerByte, tokens: total.tokens, bytes: total.bytes,
            mode: "ttt-lora", stride: nil, seq_len: s.evalSeqLen, threads: threads, seconds: seconds,
            tokens_per_second: Double(total.tokens) / seconds,
            config: Dictionary(uniqueKeysWithValues: resolved.sources.map { ($0.key, $0.value.description) }))
        report.ttt_lora = LoRATTTReport(
            settings: s, sources: lora.sources, val_loss_before: before.total.meanLoss,
            val_bpb_before: before.total.bitsPerByte, bpb_gain: before.total.bitsPerByte - total.bitsPerByte,
            steps: result.steps, documents: result.documents.count)
        try printTTTReport(report)
    }
}

/// The `ttt_family` object of `verify eval --mode ttt-lora --json` on record-family weights.
struct FamilyTTTReport: Encodable {
    /// The code's function that was reproduced.
    var procedure: String
    var settings: [String: String]
    var sources: [String: String]
    var val_loss_before: Double
    var val_bpb_before: Double
    var bpb_gain: Double
    var steps: Int
}

extension Eval {
    /// `--mode ttt-lora` on record-family weights: 2026-04-16's batched `eval_val_ttt_lora` (the phased
    /// loop without global phases) on the differentiable family model, through the audit's
    /// ``TTTReevaluation``.
    func runFamilyLoRATTT(settings: [String: String], tttOverrides: [String: String]) throws {
        var request = ReevaluationRequest(
            artifact: URL(fileURLWithPath: artifact), code: code.map { URL(fileURLWithPath: $0) },
            logs: logs.map { URL(fileURLWithPath: $0) }, overrides: settings.merging(tttOverrides) { _, ttt in ttt },
            tokenizer: URL(fileURLWithPath: tokenizer), validationPattern: val, maxTokens: maxTokens, threads: threads)
        request.byteSidecarPattern = valBytes
        let result = try TTTReevaluation.run(request, procedure: .perDocumentLoRA)
        if !json {
            printSources(model: result.resolved.sources, ttt: result.sources, title: "LoRA TTT settings (\(result.procedure.functionName), batched, without global phases)")
        }
        let total = result.score
        try NonFiniteScore.check(total, tokenizer: tokenizer, validation: val, byteSidecar: valBytes)
        var report = EvalReport(
            val_loss: total.meanLoss, val_bpb: total.bitsPerByte, tokens: total.tokens, bytes: total.bytes,
            mode: "ttt-lora", stride: nil, seq_len: result.seqLen, threads: threads, seconds: result.seconds,
            tokens_per_second: Double(total.tokens) / max(result.seconds, 1e-9),
            config: Dictionary(uniqueKeysWithValues: result.resolved.sources.map { ($0.key, $0.value.description) }))
        report.ttt_family = FamilyTTTReport(
            procedure: result.procedure.functionName, settings: result.settings, sources: result.sources,
            val_loss_before: result.before.meanLoss, val_bpb_before: result.before.bitsPerByte,
            bpb_gain: result.before.bitsPerByte - total.bitsPerByte, steps: result.steps)
        try printTTTReport(report)
        if !json, let family = report.ttt_family {
            print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d optimizer steps)",
                         family.val_loss_before, family.val_bpb_before, family.bpb_gain, family.steps))
        }
    }
}
