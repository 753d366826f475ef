import ArgumentParser
import Foundation
import Reference
import Verifier

/// `verify eval`: re-evaluates an artifact with our own reference model and prints val_loss/val_bpb.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Re-run the challenge's validation on an artifact with pgverify's reference model.",
        discussion: """
            The weights come from the artifact (never from running submission code); the model shape \
            from the tensor shapes plus the hyperparameters the code declares and the logs state \
            (each value's source is printed). val_loss is in nats per token; val_bpb uses the \
            challenge's byte accounting of the tokenizer. Standard mode scores non-overlapping \
            windows of seq_len (the baseline's eval_val); sliding mode advances windows by --stride \
            and scores each token once with the longest context (the records' eval_val_sliding). \
            TTT mode runs the records' chunked score-first test-time training (eval_val_sliding_ttt of \
            2026-03-23_LeakyReLU_LegalTTT_ParallelMuon): each chunk of TTT_CHUNK_TOKENS targets is \
            scored with sliding windows, then trained on with SGD, on the baseline or a record-family \
            model (banked code freezes only block scalars; TTT_FREEZE_SCOPE=blocks|block-scalars and \
            TTT_LATE_QAT=0|1 override what is read from the code and logs); its settings come from the code's \
            TTT_* defaults, the logs and --set (each value's source is printed), and it also reports \
            the score without adaptation. ttt-lora runs 2026-03-17_LoRA_TTT's per-document LoRA TTT \
            (documents from BOS; TTT_LORA_RANK, TTT_LORA_LR, TTT_CHUNK_SIZE, TTT_EVAL_SEQ_LEN, BETA1, BETA2) \
            on the whole stream (or its first --max-tokens targets). ttt-phased runs the phased TTT of \
            2026-04-14_MultiPhaseGlobalSGD_PhasedTTT and later records (batched per-document LoRA plus \
            global SGD phases over the scored prefix; TTT_*, PHASED_TTT_*, GLOBAL_TTT_* settings) on a \
            record-family model, as one rank runs it; in parts, the prefix and its global phases run once \
            (--prefix-state-out) and the suffix batches in --shard K/N parts from that state (--prefix-state).
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case standard, sliding, ttt
        case tttLoRA = "ttt-lora"
        case tttPhased = "ttt-phased"
    }

    @Argument(help: "The artifact (e.g. final_model.int8.ptz), or a pgverify-raw-f32 weights index (.json).")
    var artifact: String
    @Option(help: "The submission's train_gpt.py (read, never run) for its Hyperparameters defaults.")
    var code: String?
    @Option(name: .customLong("log"), help: "A training log or run-command file stating hyperparameters (repeatable).")
    var logs: [String] = []
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a hyperparameter (repeatable), by attribute or environment name, e.g. NUM_HEADS=8.",
        valueName: "KEY=VALUE"))
    var overrides: [String] = []
    @Option(help: "SentencePiece .model of the tokenizer (for the byte accounting).") var tokenizer: String
    @Option(help: "Validation shard glob, e.g. 'data/fineweb_val_*.bin'.") var val: String
    @Option(help: "CaseOps byte sidecar glob (default: fineweb_val_bytes_*.bin beside --val); read when the code's eval_val counts bytes from it.")
    var valBytes: String?
    @Option(help: "standard, sliding, ttt (chunked SGD), ttt-lora (per-document LoRA) or ttt-phased (LoRA + global SGD phases).") var mode: Mode = .standard
    @Option(help: "Sliding-window stride in tokens (default 64; in ttt mode the submission's EVAL_STRIDE).")
    var stride: Int?
    @Option(help: "Evaluation sequence length (default: the submission's EVAL_SEQ_LEN or TRAIN_SEQ_LEN).")
    var seqLen: Int?
    @Option(help: "Evaluate only the first N target tokens (whole windows of seq_len).") var maxTokens: Int?
    @Option(help: "Threads; the default is this machine's core count.") var threads: Int = min(ProcessInfo.processInfo.activeProcessorCount, InputLimits.threads)
    @Option(help: ArgumentHelp(
        "Evaluate only part K of N (counted from 0) of the windows or batches (ttt-phased: of the suffix batches, with --prefix-state). Write it with --partial-out and add the parts with `verify merge`.",
        valueName: "K/N"))
    var shard: String?
    @Option(help: "Write this run's exact sums and input digests as a partial result for `verify merge`.")
    var partialOut: String?
    @Option(help: "ttt-phased: score only the prefix (the batches up to the last global phase) and write the weights after its phases here, for the suffix parts' --prefix-state. Needs --partial-out.")
    var prefixStateOut: String?
    @Option(help: "ttt-phased: the state --prefix-state-out wrote; with --shard K/N, score part K of N of the suffix batches from it.")
    var prefixState: String?
    @Option(help: ArgumentHelp(
        "Score only a seeded random sample of N of the evaluation's independent units (documents of a document-segmented eval_val, else windows), stratified by length, and report val_loss and val_bpb as estimates with 99% confidence intervals; standard and sliding modes. Needs --seed.",
        valueName: "N"))
    var sampleDocs: Int?
    @Option(help: "The seed of --sample-docs (0 ≤ S < 2^64): the same seed draws the same sample.")
    var seed: UInt64?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        try FlagBounds.check("--threads", threads, maximum: InputLimits.threads)
        if let stride { try FlagBounds.check("--stride", stride, maximum: InputLimits.sequenceLength) }
        if let seqLen { try FlagBounds.check("--seq-len", seqLen, maximum: InputLimits.sequenceLength) }
        if let maxTokens { try FlagBounds.check("--max-tokens", maxTokens, maximum: InputLimits.tokenCount) }
        if shard != nil || partialOut != nil {
            guard mode == .standard || mode == .sliding || mode == .tttPhased else {
                throw ValidationError("--shard and --partial-out work in standard, sliding and ttt-phased modes; \(mode.rawValue) is not sharded")
            }
            guard partialOut != nil else { throw ValidationError("--shard needs --partial-out FILE to keep the part for `verify merge`") }
        }
        try validatePhasedSharding()  // EvalCommand+TTT.swift
        if sampleDocs != nil || seed != nil {
            guard let sampleDocs, seed != nil else { throw ValidationError("--sample-docs N and --seed S go together") }
            try FlagBounds.check("--sample-docs", sampleDocs, maximum: InputLimits.tokenCount)
            guard mode == .standard || mode == .sliding else {
                throw ValidationError("--sample-docs works in standard and sliding modes; \(mode.rawValue) is not sampled")
            }
            guard shard == nil, partialOut == nil else {
                throw ValidationError("--sample-docs estimates; --shard and --partial-out split an exact evaluation: use one or the other")
            }
        }
    }

    func run() throws {
        do {
            try evaluate()
        } catch {
            // Refusals whose message names no file get the one at fault (the shards, the artifact).
            throw AttributedInputError.attributing(error, inputs: .init(
                artifact: artifact, code: code, logs: logs, validation: val, tokenizer: tokenizer, byteSidecar: valBytes))
        }
    }

    private func evaluate() throws {
        try BLAS.requireLibrary()
        if mode == .ttt || mode == .tttLoRA || mode == .tttPhased { return try runTestTimeTraining() }  // EvalCommand+TTT.swift
        let stride = self.stride ?? 64
        var settings: [String: String] = [:]
        for item in overrides {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("--set expects KEY=VALUE, got \(item)")
            }
            settings[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        let evalMode: EvalMode = mode == .standard ? .standard : .sliding(stride: stride)
        var request = ReevaluationRequest(
            artifact: URL(fileURLWithPath: artifact), code: code.map { URL(fileURLWithPath: $0) },
            logs: logs.map { URL(fileURLWithPath: $0) }, overrides: settings,
            tokenizer: URL(fileURLWithPath: tokenizer), validationPattern: val, mode: evalMode,
            seqLen: seqLen, maxTokens: maxTokens, threads: threads)
        request.byteSidecarPattern = valBytes
        request.shard = try shard.map { text throws in try EvalShard(parsing: text) }
        request.digestsInputs = partialOut != nil
        request.sample = sampleDocs.flatMap { size in seed.map { EvaluationSample(size: size, seed: $0) } }

        let progress = ProgressLine(threads: threads, shard: request.shard)
        let outcome = try Reevaluation.run(request, onResolved: { resolved in
            if !json { printConfiguration(resolved) }
        }, onSampleDrawn: { plan in
            progress.plan = SampledEvalReport.planLine(plan, threads: threads)
        }, progress: { done, total in progress.update(done, of: total) })
        progress.finish()
        if let sampled = outcome.sample {
            return try printSampled(sampled, outcome: outcome, evalMode: evalMode, stride: stride)
        }
        let result = outcome.score
        let resolved = outcome.resolved
        let seconds = outcome.seconds

        let config = Dictionary(uniqueKeysWithValues: resolved.sources.map { ($0.key, $0.value.description) })
            .merging(outcome.familyEvaluation?.sources ?? [:]) { model, _ in model }
        if let partialOut, let inputs = outcome.inputs {
            let identity = PartialEvaluation.Identity(
                inputs: inputs, mode: evalMode.name, stride: mode == .sliding ? stride : nil, seqLen: resolved.seqLen,
                maxTokens: maxTokens, overrides: settings,
                evaluation: outcome.familyEvaluation?.evaluation.description,
                itemKind: outcome.scored.kind, totalItems: outcome.scored.total)
            var part = PartialEvaluation(identity: identity, config: config, shard: request.shard, scored: outcome.scored,
                                         score: result, seconds: seconds)
            part.architecture = resolved.architecture
            try part.write(to: URL(fileURLWithPath: partialOut))
        }
        let report = EvalReport(
            val_loss: result.meanLoss, val_bpb: result.bitsPerByte, tokens: result.tokens, bytes: result.bytes,
            mode: evalMode.name, stride: mode == .sliding ? stride : nil, seq_len: resolved.seqLen,
            threads: threads, seconds: seconds, tokens_per_second: Double(result.tokens) / seconds,
            config: config, evaluation: outcome.familyEvaluation?.evaluation.description, architecture: resolved.architecture)
        if json {
            print(try report.jsonText())
        } else {
            if let shard = request.shard {
                let items = outcome.scored
                print("shard \(shard.index)/\(shard.count): \(items.kind) \(items.lower)..<\(items.upper) of \(items.total)"
                      + (partialOut.map { ", written to \($0); add the parts with `verify merge`" } ?? ""))
            }
            report.printText(familySources: outcome.familyEvaluation?.sources)
            print(String(format: "%.2f s, %.0f tokens/s, %d threads", seconds, report.tokens_per_second, threads))
        }
    }

    private func printSampled(_ sampled: SampledEvaluation, outcome: ReevaluationResult, evalMode: EvalMode, stride: Int) throws {
        let config = Dictionary(uniqueKeysWithValues: outcome.resolved.sources.map { ($0.key, $0.value.description) })
            .merging(outcome.familyEvaluation?.sources ?? [:]) { model, _ in model }
        let report = SampledEvalReport(
            sampled, mode: evalMode.name, stride: mode == .sliding ? stride : nil, seqLen: outcome.resolved.seqLen,
            threads: threads, seconds: outcome.seconds, config: config,
            evaluation: outcome.familyEvaluation?.evaluation.description, architecture: outcome.resolved.architecture)
        if json {
            print(try report.jsonText())
        } else {
            report.printText(familySources: outcome.familyEvaluation?.sources)
        }
    }

    private func printConfiguration(_ resolved: ResolvedModelConfig) {
        let c = resolved.config
        let values: [(String, String)] = [
            ("vocab_size", "\(c.vocabSize)"), ("num_layers", "\(c.numLayers)"), ("model_dim", "\(c.modelDim)"),
            ("num_heads", "\(c.numHeads)"), ("num_kv_heads", "\(c.numKVHeads)"), ("mlp_hidden", "\(c.mlpHidden)"),
            ("tie_embeddings", "\(c.tieEmbeddings)"), ("rope_base", "\(c.ropeBase)"),
            ("logit_softcap", c.logitSoftcap.map { "\($0)" } ?? "off"), ("seq_len", "\(resolved.seqLen)"),
        ]
        print("model configuration:")
        for (name, value) in values {
            let source = resolved.sources[name].map { " (\($0))" } ?? ""
            print("  \(name) = \(value)\(source)")
        }
        for note in resolved.notes { print("  note: \(note)") }
        if let architecture = resolved.architecture { print("architecture: \(architecture)") }
    }
}

/// The range check of a numeric flag against ``InputLimits``.
enum FlagBounds {
    static func check(_ flag: String, _ value: Int, maximum: Int) throws {
        guard (1...maximum).contains(value) else {
            throw ValidationError("\(flag) must be in 1...\(maximum) (pgverify's input limits), got \(value)")
        }
    }
}

/// The `--json` output; key names are the CLI's documented schema.
struct EvalReport: Encodable {
    var val_loss: Double
    var val_bpb: Double
    var tokens: Int
    var bytes: Int
    var mode: String
    var stride: Int?
    var seq_len: Int
    /// `nil` for merged parts (each part ran with its own).
    var threads: Int?
    var seconds: Double
    var tokens_per_second: Double
    /// Where each configuration value came from.
    var config: [String: String]
    /// Record-family architectures: the submission's own evaluation that was reproduced.
    var evaluation: String? = nil
    /// The architecture the code was matched to before evaluating, or why it was not checked.
    var architecture: String? = nil
    /// `--mode ttt`: the settings used, the score before adaptation and the gain.
    var ttt: TTTReport? = nil
    /// `--mode ttt-lora`: the same for per-document LoRA TTT.
    var ttt_lora: LoRATTTReport? = nil
    /// `--mode ttt-phased`: the same for phased TTT, with per-batch and per-phase detail.
    var ttt_phased: PhasedTTTReport? = nil
    /// `--mode ttt-lora` on record-family weights (the batched loop of 2026-04-16's eval_val_ttt_lora).
    var ttt_family: FamilyTTTReport? = nil

    private enum CodingKeys: String, CodingKey {
        case val_loss, val_bpb, tokens, bytes, mode, stride, seq_len, threads, seconds, tokens_per_second, config, evaluation, architecture
        case ttt, ttt_lora, ttt_phased, ttt_family
    }

    /// Writes every key, `stride` as null in standard mode (synthesised coding would drop it).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(val_loss, forKey: .val_loss)
        try container.encode(val_bpb, forKey: .val_bpb)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(mode, forKey: .mode)
        if let stride { try container.encode(stride, forKey: .stride) } else { try container.encodeNil(forKey: .stride) }
        try container.encode(seq_len, forKey: .seq_len)
        if let threads { try container.encode(threads, forKey: .threads) } else { try container.encodeNil(forKey: .threads) }
        try container.encode(seconds, forKey: .seconds)
        try container.encode(tokens_per_second, forKey: .tokens_per_second)
        try container.encode(config, forKey: .config)
        try container.encodeIfPresent(evaluation, forKey: .evaluation)
        try container.encodeIfPresent(architecture, forKey: .architecture)
        try container.encodeIfPresent(ttt, forKey: .ttt)
        try container.encodeIfPresent(ttt_lora, forKey: .ttt_lora)
        try container.encodeIfPresent(ttt_phased, forKey: .ttt_phased)
        try container.encodeIfPresent(ttt_family, forKey: .ttt_family)
    }
}

extension EvalReport {
    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The score lines `verify eval` and `verify merge` print alike.
    func printText(familySources: [String: String]?) {
        print(String(format: "val_loss: %.8f  val_bpb: %.8f", val_loss, val_bpb))
        print("tokens: \(tokens)  bytes: \(bytes)  mode: \(mode)" + (stride.map { "  stride: \($0)" } ?? "") + "  seq_len: \(seq_len)")
        if let evaluation {
            print("evaluation: \(evaluation)")
            for (name, source) in (familySources ?? [:]).sorted(by: { $0.key < $1.key }) { print("  \(name): \(source)") }
        }
    }
}

/// The plan and progress on stderr: what will be scored before the first item, an estimate of the
/// whole once the first items have run (the calibration), then progress with the time left at most
/// every two seconds once the evaluation has run for a few seconds.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let start = Date()
    private var lastPrint: Date?
    private var estimated = false
    private var planText: String?
    private let threads: Int
    private let shard: EvalShard?

    init(threads: Int, shard: EvalShard?) {
        self.threads = threads
        self.shard = shard
    }

    /// The plan line in place of the default one (a sampled run says what it samples).
    var plan: String? {
        get { lock.lock(); defer { lock.unlock() }; return planText }
        set { lock.lock(); planText = newValue; lock.unlock() }
    }

    func update(_ done: Int, of total: Int) {
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        if done == 0, let planText {
            FileHandle.standardError.write(Data("eval: plan: \(planText)\n".utf8))
            return
        }
        if done == 0 {
            FileHandle.standardError.write(Data((
                "eval: plan: \(total) independent windows or batches to score"
                + (shard.map { " (shard \($0.index)/\($0.count))" } ?? "") + " on \(threads) threads\n").utf8))
            return
        }
        // The calibration: once a thread's worth of items (or a second) is done, the rate so far
        // gives the whole run's time.
        if !estimated, done >= min(threads, total) || elapsed >= 1 {
            estimated = true
            FileHandle.standardError.write(Data(String(
                format: "eval: estimate: ~%@ for all %d (the first %d took %.1f s)\n",
                Self.duration(elapsed / Double(done) * Double(total)), total, done, elapsed).utf8))
        }
        guard elapsed >= 3 else { return }
        if let lastPrint, now.timeIntervalSince(lastPrint) < 2, done < total { return }
        lastPrint = now
        let eta = elapsed / Double(done) * Double(total - done)
        FileHandle.standardError.write(Data(String(
            format: "\reval: %d/%d (%.0f%%), %@ elapsed, ~%@ left ", done, total,
            100 * Double(done) / Double(total), Self.duration(elapsed), Self.duration(eta)).utf8))
    }

    /// `42 s`, `12 min`, `3.5 h`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return String(format: "%.0f s", seconds) }
        if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if lastPrint != nil { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
