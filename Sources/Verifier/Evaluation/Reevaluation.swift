import Foundation
import Reference

/// What to re-evaluate and how: the artifact and what pgverify reads to configure its own model.
public struct ReevaluationRequest: Sendable {
    /// The artifact, or a `pgverify-raw-f32` weights index (`.json`).
    public var artifact: URL
    /// The submission's script, read (never run) for its `Hyperparameters` defaults.
    public var code: URL?
    /// Logs or run-command files stating hyperparameters.
    public var logs: [URL]
    /// Hyperparameter overrides by attribute or environment name (`NUM_HEADS` → `8`); for record
    /// families also the evaluation's `VAL_BATCH_TOKENS`, `WORLD_SIZE`, `GRAD_ACCUM_STEPS`,
    /// `CASEOPS_ENABLED` (``FamilyEvaluationResolver``).
    public var overrides: [String: String]
    /// SentencePiece model for the byte accounting.
    public var tokenizer: URL
    /// Validation shard glob.
    public var validationPattern: String
    /// Glob of the CaseOps byte sidecar (`fineweb_val_bytes_*.bin`), for submissions whose
    /// `eval_val` counts bytes from it; `nil` looks beside the validation shards.
    public var byteSidecarPattern: String? = nil
    /// Standard or sliding.
    public var mode: EvalMode
    /// Evaluation sequence length; `nil` takes the submission's.
    public var seqLen: Int?
    /// Evaluate only a prefix of this many target tokens.
    public var maxTokens: Int?
    /// Worker threads.
    public var threads: Int
    /// Evaluate only this part of the windows or batches (``EvalShard``); `nil` evaluates them all.
    public var shard: EvalShard? = nil
    /// Score only a seeded, length-stratified sample of the evaluation's independent units
    /// (``StratifiedSample``) and estimate the whole (``SampledEstimate``); `nil` scores them all.
    public var sample: EvaluationSample? = nil
    /// Record the SHA-256 of every input (``ReevaluationResult/inputs``), for partial results that
    /// must prove they belong together.
    public var digestsInputs = false

    public init(
        artifact: URL, code: URL? = nil, logs: [URL] = [], overrides: [String: String] = [:],
        tokenizer: URL, validationPattern: String, mode: EvalMode = .standard, seqLen: Int? = nil,
        maxTokens: Int? = nil, threads: Int = 1, byteSidecarPattern: String? = nil
    ) {
        self.byteSidecarPattern = byteSidecarPattern
        self.artifact = artifact
        self.code = code
        self.logs = logs
        self.overrides = overrides
        self.tokenizer = tokenizer
        self.validationPattern = validationPattern
        self.mode = mode
        self.seqLen = seqLen
        self.maxTokens = maxTokens
        self.threads = threads
    }
}

/// The outcome of a re-evaluation: the score and everything needed to say how it was obtained.
public struct ReevaluationResult: Sendable {
    /// The model configuration and where each value came from.
    public var resolved: ResolvedModelConfig
    /// Loss sum, token and byte counts; `meanLoss` and `bitsPerByte` derive from it.
    public var score: EvalPartial
    /// The plan that was scored (mode, seq_len, windows).
    public var plan: EvalPlan
    /// Wall-clock seconds of the evaluation itself (not of loading).
    public var seconds: Double
    /// Cumulative (tokens scored, val_bpb so far) after each segment of windows, in stream order.
    public var stream: [(tokens: Int, bitsPerByte: Double)]
    /// For record-family architectures: the submission's own evaluation that was reproduced, and
    /// where its settings came from; `nil` for the baseline architecture (``plan`` says it all).
    /// With a document-segmented evaluation, ``plan`` holds the windows of seq_len the stream is
    /// cut into, and the batches scored are ``documentPlan``'s.
    public var familyEvaluation: ResolvedFamilyEvaluation? = nil
    /// The batches of a document-segmented evaluation.
    public var documentPlan: DocumentSegmentedPlan? = nil
    /// The items (windows or batches) of the whole evaluation that this run scored: all of them,
    /// or the request's shard.
    public var scored: ScoredItems
    /// The inputs' digests, when the request asked for them.
    public var inputs: EvaluationInputDigests? = nil
    /// With ``ReevaluationRequest/sample``: the sampled units and the estimate; ``score`` then holds
    /// the sampled units' sums, not the evaluation's.
    public var sample: SampledEvaluation? = nil
}

/// Which of an evaluation's independent items (windows, or batches of them) a run scored.
public struct ScoredItems: Sendable, Equatable, Codable {
    /// `windows` or `batches`.
    public var kind: String
    /// Items in the whole evaluation.
    public var total: Int
    public var lower: Int
    public var upper: Int

    public init(kind: String, total: Int, range: Range<Int>) {
        self.kind = kind
        self.total = total
        lower = range.lowerBound
        upper = range.upperBound
    }

    public var range: Range<Int> { lower ..< upper }
}

/// SHA-256 of what an evaluation read: files as stored, and the token stream and byte counts as
/// evaluated (so two runs over different shard files with the same tokens agree).
public struct EvaluationInputDigests: Sendable, Equatable, Codable {
    public var artifact: String
    public var code: String?
    public var logs: [String]
    public var tokenizer: String
    /// The prepared validation stream (uint16, little-endian).
    public var validationTokens: String
    /// The CaseOps byte counts used in place of the tokenizer's tables, if any.
    public var byteCounts: String?

    static func of(_ request: ReevaluationRequest, tokens: [UInt16], byteCounts: [UInt16]?) throws -> Self {
        Self(artifact: try SHA256.hex(file: request.artifact), code: try request.code.map { url throws in try SHA256.hex(file: url) },
             logs: try request.logs.map { url throws in try SHA256.hex(file: url) },
             tokenizer: try SHA256.hex(file: request.tokenizer), validationTokens: SHA256.hex(littleEndian: tokens),
             byteCounts: byteCounts.map { SHA256.hex(littleEndian: $0) })
    }
}

/// artifact → weights → model configuration → reference model → evaluation, with pgverify's own code
/// only. Shared by `verify eval` and the audit's reproduced-val_bpb check. The baseline architecture
/// runs ``GPTModel`` on ``EvalPlan`` windows; record-family architectures run ``FamilyGPTModel`` the
/// way the submission's own `eval_val` does (see ``FamilyEvaluationResolver``).
public enum Reevaluation {
    /// Loads the weights of an artifact (or a `pgverify-raw-f32` index) together with the settings
    /// its format records (raw weights record what their shapes cannot tell: rope base, softcap,
    /// seq_len), which count as overrides below the caller's. Formats that cast to the model's dtypes
    /// without storing them (the records' `{'w','m'}` and `PGRP`) get them from `code`'s `deserialize`
    /// (``DeserializedDTypes``); without code, float32.
    public static func loadWeights(_ artifact: URL, code: URL? = nil) throws -> (weights: Weights, settings: [String: String]) {
        guard artifact.pathExtension == "json" else {
            let contents = try ArtifactReader.read(url: artifact)
            var dtypes: [String: TorchDType] = [:]
            if contents.format.needsOriginalDTypes, let code {
                dtypes = try DeserializedDTypes.resolve(code: code, tensors: contents.format.tensors.map { ($0.name, $0.shape) }).dtypes
            }
            return (try ArtifactReader.weights(of: contents, originalDTypes: dtypes), [:])
        }
        let raw = try RawFloatWeights(contentsOf: artifact)
        var settings: [String: String] = [:]
        if let config = raw.config {
            settings["rope_base"] = String(config.ropeBase)
            settings["logit_softcap"] = String(config.logitSoftcap ?? 0)
        }
        if let seqLen = raw.seqLen { settings[ModelConfigResolver.seqLenOverrideKey] = String(seqLen) }
        return (raw.weights, settings)
    }

    /// Resolves the configuration without evaluating: cheap, and what a caller shows first.
    public static func prepare(_ request: ReevaluationRequest) throws -> (Weights, ResolvedModelConfig) {
        var (weights, settings) = try loadWeights(request.artifact, code: request.code)
        // Blocks saved under another attribute than `blocks` are the code's to name: read as blocks only with code.
        let blockList = request.code == nil ? nil : BlockListNaming.attribute(of: weights.keys)
        if let blockList { weights = BlockListNaming.renamed(weights, from: blockList) }
        // The family evaluation's batch settings are resolved by FamilyEvaluationResolver, not the model's.
        settings.merge(request.overrides.filter { !FamilyEvaluationResolver.handles($0.key) }) { _, caller in caller }
        if let seqLen = request.seqLen { settings[ModelConfigResolver.seqLenOverrideKey] = String(seqLen) }
        var resolved = try ModelConfigResolver.resolve(
            weights: weights, code: request.code, logs: request.logs, overrides: settings, acceptsStatedDepth: true)
        try confirmArchitecture(&resolved, code: request.code, logs: request.logs, overrides: settings, weights: weights,
                                blockList: blockList, acceptsWeightFakeQuantization: true)
        return (weights, resolved)
    }

    /// Conformance before evaluation: the code's forward must be the reference model's
    /// (``ArchitectureConformance``): ``FamilyGPTModel`` with the baseline's features or with the
    /// record family's; else this throws and nothing is evaluated. Records
    /// ``ResolvedModelConfig/architecture``: what was matched (or, for the baseline without code, that
    /// it is assumed). The MLP activation is the one the code's forward computes (relu², leaky-ReLU(α)²,
    /// relu^p), which the configuration then takes, and so are weights the forward fake-quantizes at
    /// evaluation, where the caller's model applies them (`acceptsWeightFakeQuantization`: the standard
    /// and sliding evaluation's ``FamilyGPTModel``; the TTT models do not, so there they are refused).
    /// `scoresThroughForwardTTT`: the run is a record family's LoRA TTT (phased or batched), which scores through the
    /// code's `forward_ttt`; it must be matched too (``TestTimeTrainingPathCheck``).
    /// `blockList`: the attribute the artifact saved the blocks under (``BlockListNaming``), `weights` already
    /// renamed to `blocks.N.…`; the code must register its blocks there.
    public static func confirmArchitecture(_ resolved: inout ResolvedModelConfig, code: URL?, logs: [URL],
                                           overrides: [String: String], weights: Weights, blockList: String? = nil,
                                           acceptsWeightFakeQuantization: Bool = false, scoresThroughForwardTTT: Bool = false)
        throws(ModelConfigError)
    {
        let family = !resolved.config.features.runsOnBaselineModel
        // A stated depth above the tensors' blocks stands only as the depth of the code's block schedule.
        if let stated = resolved.statedDepth, code == nil || family { throw stated.refusal }
        guard let code else {
            if family {
                throw .architectureNotMatched(
                    file: "(no code)", line: 0,
                    detail: "record-family weights (\(featureNames(resolved.config.features))) and no code to match their architecture against",
                    reference: "record-family GPT (FamilyGPTModel)")
            }
            resolved.architecture = "baseline GPT (FamilyGPTModel, baseline features), assumed: no code was given to match it against"
            return
        }
        let settings = try ModelConfigResolver.statedSettings(code: code, logs: logs, overrides: overrides)
        let shapes = weights.mapValues(\.shape)
        let match = family
            ? try ArchitectureConformance.checkFamily(code: code, config: resolved.config, parameterShapes: shapes, settings: settings,
                                                      readsActivation: true)
            : try ArchitectureConformance.checkBaseline(code: code, config: resolved.config, parameterShapes: shapes, settings: settings,
                                                        readsActivation: true, blockList: blockList)
        if match.mlpActivation != resolved.config.features.mlpActivation {
            resolved.config.features.mlpActivation = match.mlpActivation
            resolved.sources["mlp_activation"] = .derived(
                rule: "\(match.mlpActivation.formula): what the forward computes at \(match.activationRead ?? match.file)", from: [])
        }
        if let stated = resolved.statedDepth {
            guard match.blockSchedule?.count == stated.depth else { throw stated.refusal }
            resolved.statedDepth = nil
        }
        if let schedule = match.blockSchedule {
            resolved.config.features.blockSchedule = schedule
            resolved.config.features.scheduleVectors = match.scheduleVectors
            if let vectors = match.scheduleVectors {
                let tensors = Set(vectors.flatMap(\.all).map(\.tensor)).sorted().joined(separator: ", ")
                resolved.sources["schedule_vectors"] = .derived(
                    rule: "learned vectors around the shared blocks' applications, rows of \(tensors): what the forward of \(match.file) computes",
                    from: [])
            }
            resolved.sources["block_schedule"] = .derived(
                rule: "\(resolved.config.numLayers) unique blocks run over a depth of \(schedule.count) in the order "
                    + schedule.map(String.init).joined(separator: ",") + ": what the forward of \(match.file) computes", from: [])
            // The code's NUM_LAYERS is that depth, not a value the run changed.
            resolved.notes.removeAll { $0.contains(": num_layers = \(resolved.config.numLayers) (the run set it") }
        }
        if let blockList {
            resolved.sources["block_list"] = .derived(
                rule: "the artifact's \(blockList).N.… are the blocks \(match.file) registers as self.\(blockList) (loaded as blocks.N.…)", from: [])
        }
        if let quantization = match.weightFakeQuantization {
            guard acceptsWeightFakeQuantization else {
                let line = match.fakeQuantizationRead.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } } ?? 0
                throw .architectureNotMatched(
                    file: match.file, line: line,
                    detail: "the forward fake-quantizes its weights at evaluation (\(quantization.summary), read at "
                        + "\(match.fakeQuantizationRead ?? match.file)); test-time training on fake-quantized weights is not reproduced",
                    reference: "the TTT model (DifferentiableFamilyGPT)")
            }
            resolved.config.features.weightFakeQuantization = quantization
            resolved.sources["weight_fake_quantization"] = .derived(
                rule: quantization.summary + ": what the forward computes at \(match.fakeQuantizationRead ?? match.file)", from: [])
        }
        if family, scoresThroughForwardTTT {
            switch match.testTimeTrainingPath {
            case .matched:
                resolved.sources["forward_ttt"] = .derived(
                    rule: "the LoRA TTT scores through \(match.file)'s forward_ttt: the matched forward with its adapters where "
                        + "pgverify's act (q, k, v, o, MLP, head)", from: [])
            case .absent:
                throw .architectureNotMatched(
                    file: match.file, line: 0,
                    detail: "the code defines no forward_ttt (the forward the records' LoRA TTT scores and trains through), so the "
                        + "TTT's forward is not matched", reference: "the TTT model (DifferentiableFamilyGPT)")
            case .refused(let line, let detail):
                throw .architectureNotMatched(file: match.file, line: line, detail: detail, reference: "the TTT model (DifferentiableFamilyGPT)")
            }
        }
        resolved.architecture = "matched to the forward of \(match.file): \(match.architecture)"
    }

    /// Runs the whole pipeline. `progress` receives the number of windows done; `segments` sets how
    /// many points ``ReevaluationResult/stream`` gets (the total does not depend on it: partial sums
    /// add up exactly).
    /// `onSampleDrawn` receives a sampled run's plan before its first unit is scored.
    public static func run(
        _ request: ReevaluationRequest, segments: Int = 1,
        onResolved: (ResolvedModelConfig) -> Void = { _ in },
        onSampleDrawn: (SamplePlan) -> Void = { _ in },
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> ReevaluationResult {
        try BLAS.requireLibrary()
        let (weights, resolved) = try prepare(request)
        onResolved(resolved)
        guard resolved.config.features.runsOnBaselineModel else {
            return try runFamily(request, weights: weights, resolved: resolved, segments: segments,
                                 onSampleDrawn: onSampleDrawn, progress: progress)
        }
        let accounting = try SentencePieceModel(contentsOf: request.tokenizer)
            .byteAccounting(modelVocabularySize: resolved.config.vocabSize)
        let validation = try ValidationShard.readAll(pattern: request.validationPattern)
        let tokens = try EvalTokens.prepare(validation, seqLen: resolved.seqLen, maxTokens: request.maxTokens)
        let plan = try EvalPlan(mode: request.mode, seqLen: resolved.seqLen, streamLength: tokens.count)
        // Built once the stream is known to hold a window of seq_len: its tables never exceed the tokens.
        let model = try FamilyGPTModel(config: resolved.config, weights: weights, maxPositions: resolved.seqLen)
        let evaluator = try Evaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)
        let inputs = request.digestsInputs ? try EvaluationInputDigests.of(request, tokens: tokens, byteCounts: nil) : nil
        if let sample = request.sample {
            let start = Date()
            let sampled = try sampled(sample, units: "windows", description: windowUnits(plan),
                                      lengths: plan.windows.map { $0.length - $0.scoredFrom },
                                      onSampleDrawn: onSampleDrawn) { units in
                var perWindow: (@Sendable (Int) -> Void)?
                if let progress {
                    progress(0, units.count)
                    perWindow = { done in progress(done, units.count) }
                }
                return try evaluator.evaluate(eachOf: units, threads: request.threads, progress: perWindow)
            }
            return try sampledResult(sampled, resolved: resolved, plan: plan, start: start, request: request, inputs: inputs)
        }
        let items = request.shard?.range(of: plan.windows.count) ?? 0 ..< plan.windows.count
        progress?(0, items.count)
        let start = Date()
        let parts = max(1, min(segments, items.count))
        var score = EvalPartial()
        var stream: [(tokens: Int, bitsPerByte: Double)] = []
        for part in 0..<parts {
            let range = (items.lowerBound + part * items.count / parts) ..< (items.lowerBound + (part + 1) * items.count / parts)
            let before = range.lowerBound - items.lowerBound
            var perWindow: (@Sendable (Int) -> Void)?
            if let progress { perWindow = { done in progress(before + done, items.count) } }
            score += try evaluator.evaluate(windows: range, threads: request.threads, progress: perWindow)
            stream.append((score.tokens, score.bitsPerByte))
        }
        // A shard may hold no item (more shards than items); its empty sums are a valid part.
        if !(request.shard != nil && score.tokens == 0) { try NonFiniteScore.check(score, request: request) }
        return ReevaluationResult(resolved: resolved, score: score, plan: plan,
                                  seconds: Date().timeIntervalSince(start), stream: stream,
                                  scored: ScoredItems(kind: "windows", total: plan.windows.count, range: items),
                                  inputs: inputs)
    }

    /// What makes windows independent units, for a sampled run's report.
    static func windowUnits(_ plan: EvalPlan) -> String {
        "windows: each window of the \(plan.mode.name) evaluation is one independent sequence of \(plan.seqLen) tokens"
            + (plan.mode == .standard ? "" : " (its context tokens are read, only its own targets scored)")
    }

    /// The record-family features present, by name, for messages.
    static func featureNames(_ f: ArchitectureFeatures) -> String {
        var names: [String] = []
        if f.bigramHash != nil { names.append("BigramHash") }
        if f.valueEmbeddings != nil { names.append("value embeddings") }
        if f.channelSmearGate || f.smearGate != nil { names.append("SmearGate") }
        if f.ropeNTKTrainSeqLen != nil { names.append("NTK RoPE") }
        if f.mlpActivation != .reluSquared { names.append("\(f.mlpActivation.formula) MLP") }
        if f.ropeDims != nil { names.append("partial RoPE") }
        if f.xsaLastN > 0 { names.append("XSA") }
        if f.layerNormScale { names.append("layer-norm scaling") }
        if f.skipGates { names.append("gated skips") }
        if f.loop != nil { names.append("looped layers") }
        if f.stackLoops != nil { names.append("whole-stack passes") }
        if f.blockSchedule != nil { names.append(f.scheduleVectors == nil ? "weight-shared blocks" : "weight-shared blocks with learned per-position vectors") }
        if f.parallelResiduals != nil { names.append("parallel residuals") }
        if f.attentionGate != .none { names.append("attention gate") }
        if f.mlpOutputGateWindow != nil { names.append("MLP output gate") }
        if f.weightFakeQuantization != nil { names.append("fake-quantized weights") }
        return names.isEmpty ? "other" : names.joined(separator: ", ")
    }
}
