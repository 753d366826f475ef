import Foundation
import Reference

extension TTTReevaluation {
    /// `eval_val_ttt_phased` on ``DifferentiableFamilyGPT``, as one rank runs it (see
    /// ``PhasedTTTEvaluator`` for what differs from an 8-GPU run), whole or as one part
    /// (``TTTRunOptions/phasedPart``); with `procedure` ``TTTProcedure/perDocumentLoRA``, the batched
    /// `eval_val_ttt_lora` of 2026-04-16 (the same loop without global phases,
    /// ``PhasedTTTSettings/withoutGlobalPhases``). The score without adaptation covers the same batches,
    /// on the artifact's weights.
    static func runPhased(
        _ request: ReevaluationRequest, weights: Weights, resolved: ResolvedModelConfig,
        settings: [String: String], tttOverrides: [String: String], procedure: TTTProcedure = .phased,
        options: TTTRunOptions
    ) throws -> TTTReevaluationResult {
        var phased = try PhasedTTTSettingsResolver.resolve(code: request.code, logs: request.logs,
                                                          overrides: settings.merging(tttOverrides) { _, ttt in ttt })
        // (``phasedSettings(artifact:code:logs:overrides:)`` resolves the same for the audit's check of a sharded run's parts.)
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
        let total = evaluator.batchCount, prefixBatches = evaluator.prefixBatchCount
        if case .suffix(_, let shard) = options.phasedPart, s.warmStartA, shard.count > 1 {
            throw UnshardableEvaluation(reason: "--shard \(shard.index)/\(shard.count): TTT_WARM_START_A is on, so every full suffix "
                                        + "batch trains the LoRA A the next one starts from (one sequential chain); only --shard 0/1 is exact")
        }
        options.onSettings(TTTSettingsProvenance(procedure: procedure, phasedLoop: true, sources: phased.sources))

        // A part proves what it belongs to: the inputs' digests and the resolved settings.
        var identity: PartialEvaluation.Identity?
        if procedure == .phased, request.digestsInputs || options.phasedPart != .whole {
            identity = PartialEvaluation.Identity(
                inputs: try inputs.digests(of: request), mode: "ttt-phased", stride: nil, seqLen: s.evalSeqLen,
                maxTokens: request.maxTokens, overrides: request.overrides, evaluation: nil, itemKind: "batches",
                totalItems: total, phasedSettings: s)
        }
        let model = try DifferentiableFamilyGPT(config: config, weights: weights, loraAlpha: s.loraAlpha)
        model.threads = request.threads
        var positions = 0..<total
        var stateDigest: String?
        switch options.phasedPart {
        case .whole: break
        case .prefix: positions = 0..<prefixBatches
        case .suffix(let stateFile, let shard):
            let (state, digest) = try PhasedTTTPrefixState.read(stateFile, parameterCount: model.baseParameters.count)
            if let identity { try state.check(against: identity, prefixBatches: prefixBatches, file: stateFile.path) }
            _ = model.baseParameters.update(from: state.parameters)
            model.baseParametersDidChange()
            stateDigest = digest
            let part = shard.range(of: total - prefixBatches)
            positions = (prefixBatches + part.lowerBound)..<(prefixBatches + part.upperBound)
        }

        let unadapted = try DifferentiableFamilyGPT(config: config, weights: weights, loraAlpha: s.loraAlpha)
        unadapted.threads = request.threads
        let before = try evaluator.evaluate(model: unadapted, batches: positions, adapt: false)
        let start = Date(), cpuStart = processCPUSeconds()
        let result: PhasedTTTResult
        switch options.phasedPart {
        case .whole: result = try evaluator.evaluate(model: model, progress: options.progress)
        case .prefix: result = try evaluator.evaluatePrefix(model: model, progress: options.progress)
        case .suffix: result = try evaluator.evaluate(model: model, batches: positions, progress: options.progress)
        }
        let seconds = Date().timeIntervalSince(start), cpuSeconds = processCPUSeconds() - cpuStart
        if case .prefix(let stateOut) = options.phasedPart, let identity {
            stateDigest = try PhasedTTTPrefixState(identity: identity, prefixBatches: prefixBatches, totalBatches: total,
                                                   parameters: Array(model.baseParameters)).write(to: stateOut)
        }

        let detail = PhasedTTTPartDetail(result: result, before: before, evaluator: evaluator, sources: phased.sources,
                                         bytesFrom: inputs.byteSource.reportName)
        var partial: PartialEvaluation?
        if var identity {
            identity.prefixState = stateDigest
            let shard: EvalShard? = if case .suffix(_, let shard) = options.phasedPart { shard } else { nil }
            var part = PartialEvaluation(
                identity: identity, config: resolved.sources.mapValues(\.description), shard: shard,
                scored: ScoredItems(kind: "batches", total: total, range: positions), score: result.total, seconds: seconds)
            part.architecture = resolved.architecture
            part.phased = detail
            partial = part
        }
        var sources = phased.sources
        sources["byte_counts"] = inputs.byteSource.provenance
        return TTTReevaluationResult(
            procedure: procedure, resolved: resolved, score: result.total, before: before.total,
            stream: cumulative(result.batches.map(\.partial)), steps: result.adapterSteps + result.globalSteps,
            settings: describe(s), sources: sources, seqLen: s.evalSeqLen, seconds: seconds,
            detail: .phased(settings: s, detail: detail,
                            part: PhasedTTTPartScope(part: options.phasedPart, batches: positions, totalBatches: total,
                                                     prefixBatches: prefixBatches)),
            partial: partial, cpuSeconds: cpuSeconds)
    }
}

extension PhasedTTTInputs.ByteSource {
    /// As `verify eval --mode ttt-phased` reports it (`bytes_from`).
    public var reportName: String {
        switch self {
        case .sidecarEnabled: "sidecar (CASEOPS_ENABLED)"
        case .sidecarPresent: "sidecar (present beside the val shards; the code's load_validation_token_bytes reads it)"
        case .tokenizer: "tokenizer"
        }
    }

    /// As the provenance of the byte counts (the audit's `ttt byte_counts from …`).
    public var provenance: String {
        switch self {
        case .sidecarEnabled: "the CaseOps byte sidecar (CASEOPS_ENABLED)"
        case .sidecarPresent: "the CaseOps byte sidecar (present; the code reads it whenever it is)"
        case .tokenizer: "the tokenizer's tables"
        }
    }
}

/// CPU time of this process so far (every thread), in seconds.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
