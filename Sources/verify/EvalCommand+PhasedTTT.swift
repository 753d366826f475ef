import ArgumentParser
import Foundation
import Reference
import Verifier

// `verify eval --mode ttt-phased`, whole or in parts: the prefix (batches up to the last global
// phase, and the phases) once with --prefix-state-out, then the suffix batches in --shard K/N parts
// from that state (docs/sharded-evaluation.md).

/// The `ttt_phased` object of `verify eval --mode ttt-phased --json` (and of `verify merge` on its parts).
struct PhasedTTTReport: Encodable {
    struct Batch: Encodable {
        /// `orig_batch_idx` (the records' log prints it + 1), in scoring order.
        var batch: Int
        var documents: Int
        var min_doc_length, max_doc_length: Int
        var tokens, bytes: Int
        /// The batch's mean loss and bits per byte (the records' `ttp:` `bl`, `bb`).
        var bl, bb: Double
        /// Whether every global phase had run before it (`gd:`).
        var gd: Bool
    }

    struct Phase: Encodable {
        var phase, after_batches, prefix_done, tokens, chunks: Int
        /// Ordinals of the documents it trained on.
        var documents: [Int]
        /// Learning rate of each trained chunk, and its mean step loss.
        var learning_rates: [Double]
        var mean_losses: [Double]
    }

    var settings: PhasedTTTSettings
    var sources: [String: String]
    /// `tokenizer` (the byte tables) or `sidecar (why)` (the CaseOps per-token byte sidecar).
    var bytes_from: String
    var val_loss_before: Double
    var val_bpb_before: Double
    var bpb_gain: Double
    var documents: Int
    var adapter_steps: Int
    var global_steps: Int
    var boundaries: [Int]
    var batches: [Batch]
    var phases: [Phase]
    /// What the single-rank reproduction cannot match exactly.
    var limits: [String]
    /// CPU seconds of the adapted run, all threads (`seconds` is its wall time); absent with `--partial-out`
    /// and for merged parts.
    var cpu_seconds: Double?

    static let limits = [
        "single rank: the records' 8 GPUs claim batches from a shared counter in a timing-dependent order "
            + "and pause for each phase wherever they are; one rank's order is deterministic and is what this reproduces",
        "LoRA A draws: pgverify's LoRAInit (document = ordinal in the stream) instead of torch's RNG",
    ]

    /// The report of `detail` (one run's, or merged parts') whose adapted score is `total`.
    init(_ detail: PhasedTTTPartDetail, settings: PhasedTTTSettings, total: EvalPartial) {
        self.settings = settings
        sources = detail.sources
        bytes_from = detail.bytesFrom
        val_loss_before = detail.before.meanLoss
        val_bpb_before = detail.before.bitsPerByte
        bpb_gain = detail.before.bitsPerByte - total.bitsPerByte
        documents = detail.documents
        adapter_steps = detail.adapterSteps
        global_steps = detail.globalSteps
        boundaries = detail.boundaries
        batches = detail.batches.map { batch in
            Batch(batch: batch.batch, documents: batch.documents, min_doc_length: batch.minDocLength, max_doc_length: batch.maxDocLength,
                  tokens: batch.partial.tokens, bytes: batch.partial.bytes, bl: batch.partial.meanLoss, bb: batch.partial.bitsPerByte,
                  gd: batch.globalDone)
        }
        phases = detail.phases.map { phase in
            Phase(phase: phase.phase, after_batches: phase.afterBatches, prefix_done: phase.prefixDone, tokens: phase.tokens,
                  chunks: phase.chunks, documents: phase.documents, learning_rates: phase.learningRates, mean_losses: phase.meanLosses)
        }
        limits = Self.limits
    }

    /// The records' `ttp:` and `ttpp:` lines and the gain, as text.
    func printText() {
        for batch in batches {
            print(String(format: "ttp: b%d/%d bl:%.4f bb:%.4f dl:%d-%d gd:%d", batch.batch + 1, batches.count,
                         batch.bl, batch.bb, batch.min_doc_length, batch.max_doc_length, batch.gd ? 1 : 0))
        }
        for phase in phases {
            print("ttpp: phase:\(phase.phase)/\(boundaries.count) pd:\(phase.prefix_done) gd:\(phase.documents.count) "
                  + "tokens:\(phase.tokens) trained chunks:\(phase.learning_rates.count)/\(phase.chunks)")
        }
        print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d documents, %d LoRA steps, %d global SGD steps)",
                     val_loss_before, val_bpb_before, bpb_gain, documents, adapter_steps, global_steps))
    }
}

extension Eval {
    /// The flags of a phased run in parts go together (called from `validate()`).
    func validatePhasedSharding() throws {
        if prefixStateOut != nil || prefixState != nil {
            guard mode == .tttPhased else { throw ValidationError("--prefix-state and --prefix-state-out are for --mode ttt-phased") }
            guard partialOut != nil else { throw ValidationError("--prefix-state-out and --prefix-state need --partial-out FILE for `verify merge`") }
        }
        if prefixStateOut != nil {
            guard shard == nil, prefixState == nil else {
                throw ValidationError("--prefix-state-out runs the prefix on its own; the suffix parts take --prefix-state with --shard K/N")
            }
        }
        if mode == .tttPhased, shard != nil, prefixState == nil {
            throw ValidationError("--shard in ttt-phased mode splits the suffix: run the prefix once with --prefix-state-out STATE, "
                                  + "then each part with --prefix-state STATE --shard K/N")
        }
        if prefixState != nil, shard == nil { throw ValidationError("--prefix-state needs --shard K/N (use 0/1 for the whole suffix)") }
    }

    /// `--mode ttt-phased`: the records' phased TTT (LoRA per batch of documents plus global SGD phases
    /// over the scored prefix) with DifferentiableFamilyGPT, and the same batches without any
    /// adaptation on a fresh copy of the weights; whole, or the prefix, or a part of the suffix.
    func runPhasedTTT(weights: Weights, settings: [String: String], tttOverrides: [String: String]) throws {
        let codeURL = code.map { URL(fileURLWithPath: $0) }, logURLs = logs.map { URL(fileURLWithPath: $0) }
        var resolved = try ModelConfigResolver.resolve(weights: weights, code: codeURL, logs: logURLs, overrides: settings)
        try Reevaluation.confirmArchitecture(&resolved, code: codeURL, logs: logURLs, overrides: settings, weights: weights)
        if !json, let architecture = resolved.architecture { print("architecture: \(architecture)") }
        let phased = try PhasedTTTSettingsResolver.resolve(code: codeURL, logs: logURLs,
                                                          overrides: settings.merging(tttOverrides) { _, ttt in ttt })
        let config = resolved.config, s = phased.settings
        BLAS.threads = 1  // OpenBLAS single-threaded: its threaded sgemm rounds differently, and a score must not depend on --threads

        var request = ReevaluationRequest(
            artifact: URL(fileURLWithPath: artifact), code: codeURL, logs: logURLs, tokenizer: URL(fileURLWithPath: tokenizer),
            validationPattern: val, maxTokens: maxTokens, threads: threads)
        request.byteSidecarPattern = valBytes
        let inputs = try PhasedTTTInputs.prepare(request, phased: phased, vocabulary: config.vocabSize)
        let bytesFrom: String
        switch inputs.byteSource {
        case .sidecarEnabled: bytesFrom = "sidecar (CASEOPS_ENABLED)"
        case .sidecarPresent: bytesFrom = "sidecar (present beside the val shards; the code's load_validation_token_bytes reads it)"
        case .tokenizer: bytesFrom = "tokenizer"
        }
        let evaluator = try PhasedTTTEvaluator(settings: s, byteCounts: inputs.byteCounts, tokens: inputs.tokens,
                                               vocabulary: config.vocabSize)
        let shard = try self.shard.map { text throws in try EvalShard(parsing: text) }
        if s.warmStartA, let shard, shard.count > 1 {
            throw ValidationError("--shard \(shard.index)/\(shard.count): TTT_WARM_START_A is on, so every full suffix batch trains the "
                                  + "LoRA A the next one starts from (one sequential chain); only --shard 0/1 is exact")
        }
        if !json {
            printSources(model: resolved.sources, ttt: phased.sources, title: "phased TTT settings")
        }
        let total = evaluator.batchCount, prefixBatches = evaluator.prefixBatchCount
        var identity: PartialEvaluation.Identity?
        if partialOut != nil {
            var named: [String: String] = [:]
            for item in overrides {
                if let equals = item.firstIndex(of: "=") { named[String(item[..<equals])] = String(item[item.index(after: equals)...]) }
            }
            identity = PartialEvaluation.Identity(
                inputs: try inputs.digests(of: request), mode: "ttt-phased", stride: nil, seqLen: s.evalSeqLen, maxTokens: maxTokens,
                overrides: named, evaluation: nil, itemKind: "batches", totalItems: total, phasedSettings: s)
        }

        let model = try DifferentiableFamilyGPT(config: config, weights: weights, loraAlpha: s.loraAlpha)
        model.threads = threads
        var positions = 0..<total
        var stateDigest: String?
        if let prefixState, let shard, let identity {
            let (state, digest) = try PhasedTTTPrefixState.read(URL(fileURLWithPath: prefixState), parameterCount: model.baseParameters.count)
            try state.check(against: identity, prefixBatches: prefixBatches, file: prefixState)
            _ = model.baseParameters.update(from: state.parameters)
            model.baseParametersDidChange()
            stateDigest = digest
            let part = shard.range(of: total - prefixBatches)
            positions = (prefixBatches + part.lowerBound)..<(prefixBatches + part.upperBound)
        } else if prefixStateOut != nil {
            positions = 0..<prefixBatches
        }

        let unadapted = try DifferentiableFamilyGPT(config: config, weights: weights, loraAlpha: s.loraAlpha)
        unadapted.threads = threads
        let before = try evaluator.evaluate(model: unadapted, batches: positions, adapt: false)
        let progress = TTTProgress(unit: "batches")
        let start = Date(), cpuStart = processCPUSeconds()
        let result: PhasedTTTResult
        if prefixState != nil {
            result = try evaluator.evaluate(model: model, batches: positions, progress: { done, all in progress.update(done, of: all) })
        } else if prefixStateOut != nil {
            result = try evaluator.evaluatePrefix(model: model, progress: { done, all in progress.update(done, of: all) })
        } else {
            result = try evaluator.evaluate(model: model, progress: { done, all in progress.update(done, of: all) })
        }
        let seconds = Date().timeIntervalSince(start), cpuSeconds = processCPUSeconds() - cpuStart
        progress.finish()
        if let prefixStateOut, let identity {
            let state = PhasedTTTPrefixState(identity: identity, prefixBatches: prefixBatches, totalBatches: total,
                                             parameters: Array(model.baseParameters))
            stateDigest = try state.write(to: URL(fileURLWithPath: prefixStateOut))
        }

        let score = result.total
        if !(partialOut != nil && score.tokens == 0) {
            try NonFiniteScore.check(score, tokenizer: tokenizer, validation: val, byteSidecar: valBytes)
        }
        let detail = PhasedTTTPartDetail(result: result, before: before, evaluator: evaluator, sources: phased.sources, bytesFrom: bytesFrom)
        let sources = Dictionary(uniqueKeysWithValues: resolved.sources.map { ($0.key, $0.value.description) })
        if let partialOut, var identity {
            identity.prefixState = stateDigest
            var part = PartialEvaluation(identity: identity, config: sources, shard: shard,
                                         scored: ScoredItems(kind: "batches", total: total, range: positions),
                                         score: score, seconds: seconds)
            part.architecture = resolved.architecture
            part.phased = detail
            try part.write(to: URL(fileURLWithPath: partialOut))
            if !json {
                let what = prefixStateOut != nil ? "prefix" : shard.map { "suffix part \($0.index)/\($0.count)" } ?? "whole evaluation"
                print("\(what): batches \(positions.lowerBound)..<\(positions.upperBound) of \(total) (prefix: 0..<\(prefixBatches)), "
                      + "written to \(partialOut)" + (prefixStateOut.map { "; weights after the global phases written to \($0)" } ?? "")
                      + "; add the parts with `verify merge`")
            }
        }
        var report = EvalReport(
            val_loss: score.meanLoss, val_bpb: score.bitsPerByte, tokens: score.tokens, bytes: score.bytes,
            mode: "ttt-phased", stride: nil, seq_len: s.evalSeqLen, threads: threads, seconds: seconds,
            tokens_per_second: Double(score.tokens) / seconds, config: sources)
        report.ttt_phased = PhasedTTTReport(detail, settings: s, total: score)
        // Timing of this process only: a whole run written as a part must print what its merge prints.
        if partialOut == nil { report.ttt_phased?.cpu_seconds = cpuSeconds }
        try printTTTReport(report)
    }
}

/// CPU time of this process so far (every thread), in seconds.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
