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
            record-family model, as one rank runs it.
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
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        try FlagBounds.check("--threads", threads, maximum: InputLimits.threads)
        if let stride { try FlagBounds.check("--stride", stride, maximum: InputLimits.sequenceLength) }
        if let seqLen { try FlagBounds.check("--seq-len", seqLen, maximum: InputLimits.sequenceLength) }
        if let maxTokens { try FlagBounds.check("--max-tokens", maxTokens, maximum: InputLimits.tokenCount) }
    }

    func run() throws {
        do {
            try evaluate()
        } catch {
            // Refusals whose message names no file get the one at fault (the shards, the artifact).
            throw AttributedInputError.attributing(error, artifact: artifact, validation: val,
                                                   otherFiles: [tokenizer] + (code.map { [$0] } ?? []) + logs + (valBytes.map { [$0] } ?? []))
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

        let progress = ProgressLine()
        let outcome = try Reevaluation.run(request, onResolved: { resolved in
            if !json { printConfiguration(resolved) }
        }, progress: { done, total in progress.update(done, of: total) })
        progress.finish()
        let result = outcome.score
        let resolved = outcome.resolved
        let seconds = outcome.seconds

        let report = EvalReport(
            val_loss: result.meanLoss, val_bpb: result.bitsPerByte, tokens: result.tokens, bytes: result.bytes,
            mode: evalMode.name, stride: mode == .sliding ? stride : nil, seq_len: resolved.seqLen,
            threads: threads, seconds: seconds, tokens_per_second: Double(result.tokens) / seconds,
            config: Dictionary(uniqueKeysWithValues: resolved.sources.map { ($0.key, $0.value.description) })
                .merging(outcome.familyEvaluation?.sources ?? [:]) { model, _ in model },
            evaluation: outcome.familyEvaluation?.evaluation.description)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(String(format: "val_loss: %.8f  val_bpb: %.8f", report.val_loss, report.val_bpb))
            print("tokens: \(report.tokens)  bytes: \(report.bytes)  mode: \(report.mode)"
                  + (report.stride.map { "  stride: \($0)" } ?? "") + "  seq_len: \(report.seq_len)")
            if let family = outcome.familyEvaluation {
                print("evaluation: \(family.evaluation.description)")
                for (name, source) in family.sources.sorted(by: { $0.key < $1.key }) { print("  \(name): \(source)") }
            }
            print(String(format: "%.2f s, %.0f tokens/s, %d threads", seconds, report.tokens_per_second, threads))
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
    var threads: Int
    var seconds: Double
    var tokens_per_second: Double
    /// Where each configuration value came from.
    var config: [String: String]
    /// Record-family architectures: the submission's own evaluation that was reproduced.
    var evaluation: String? = nil
    /// `--mode ttt`: the settings used, the score before adaptation and the gain.
    var ttt: TTTReport? = nil
    /// `--mode ttt-lora`: the same for per-document LoRA TTT.
    var ttt_lora: LoRATTTReport? = nil
    /// `--mode ttt-phased`: the same for phased TTT, with per-batch and per-phase detail.
    var ttt_phased: PhasedTTTReport? = nil
    /// `--mode ttt-lora` on record-family weights (the batched loop of 2026-04-16's eval_val_ttt_lora).
    var ttt_family: FamilyTTTReport? = nil

    private enum CodingKeys: String, CodingKey {
        case val_loss, val_bpb, tokens, bytes, mode, stride, seq_len, threads, seconds, tokens_per_second, config, evaluation
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
        try container.encode(threads, forKey: .threads)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(tokens_per_second, forKey: .tokens_per_second)
        try container.encode(config, forKey: .config)
        try container.encodeIfPresent(evaluation, forKey: .evaluation)
        try container.encodeIfPresent(ttt, forKey: .ttt)
        try container.encodeIfPresent(ttt_lora, forKey: .ttt_lora)
        try container.encodeIfPresent(ttt_phased, forKey: .ttt_phased)
        try container.encodeIfPresent(ttt_family, forKey: .ttt_family)
    }
}

/// Progress on stderr, only once an evaluation has run for a few seconds, at most every two seconds.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let start = Date()
    private var lastPrint: Date?

    func update(_ done: Int, of total: Int) {
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(start) >= 3 else { return }
        if let lastPrint, now.timeIntervalSince(lastPrint) < 2, done < total { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        FileHandle.standardError.write(Data(String(
            format: "\reval: %d/%d windows (%.0f%%), %.0f s elapsed, ~%.0f s left ", done, total,
            100 * Double(done) / Double(total), elapsed, eta).utf8))
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if lastPrint != nil { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
