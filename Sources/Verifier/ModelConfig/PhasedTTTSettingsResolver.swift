import Foundation
import Reference

/// The phased TTT settings of a submission, with where each value came from.
public struct ResolvedPhasedTTTSettings: Sendable, Equatable {
    public var settings: PhasedTTTSettings
    /// Provenance by hyperparameter name (`ttt_batch_size`, …, `ttt_lora_alpha`, `ttt_warm_start_a`).
    public var sources: [String: String]
    /// `caseops_enabled`: the records then count bytes from the CaseOps byte sidecar.
    public var caseOps: Bool
    /// The code reads a byte sidecar whenever one lies beside the val shards
    /// (`load_validation_token_bytes`, 2026-04-18), whatever `caseops_enabled` says.
    public var readsSidecarWhenPresent = false
}

/// Resolves ``PhasedTTTSettings`` like ``TTTSettingsResolver``: overrides, then logs, then the code's
/// `class Hyperparameters` defaults, else the defaults of
/// 2026-04-14_MultiPhaseGlobalSGD_PhasedTTT (labelled). `TTT_LORA_ALPHA` and `TTT_WARM_START_A`
/// are read by the code's `BatchedLinearLoRA` class itself, not by `Hyperparameters`: their defaults
/// come from that `os.environ.get` in the code; code without them has neither (no scale, fresh `A`).
public enum PhasedTTTSettingsResolver {
    public static let referenceRecord = "2026-04-14_MultiPhaseGlobalSGD_PhasedTTT"

    static let keys: [TTTSettingsResolver.Key] = [
        ("ttt_batch_size", "TTT_BATCH_SIZE", .integer, "64"), ("ttt_chunk_size", "TTT_CHUNK_SIZE", .integer, "48"),
        ("ttt_eval_seq_len", "TTT_EVAL_SEQ_LEN", .integer, "2048"), ("ttt_lora_rank", "TTT_LORA_RANK", .integer, "96"),
        ("ttt_lora_lr", "TTT_LORA_LR", .real, "0.0001"), ("ttt_beta1", "TTT_BETA1", .real, "0"),
        ("ttt_beta2", "TTT_BETA2", .real, "0.999"), ("ttt_weight_decay", "TTT_WEIGHT_DECAY", .real, "0.5"),
        ("ttt_optimizer", "TTT_OPTIMIZER", .text, "adam"), ("ttt_grad_steps", "TTT_GRAD_STEPS", .integer, "1"),
        ("ttt_k_lora", "TTT_K_LORA", .boolean, "1"), ("ttt_mlp_lora", "TTT_MLP_LORA", .boolean, "1"),
        ("ttt_o_lora", "TTT_O_LORA", .boolean, "1"),
        ("phased_ttt_prefix_docs", "PHASED_TTT_PREFIX_DOCS", .integer, "2000"),
        ("phased_ttt_num_phases", "PHASED_TTT_NUM_PHASES", .integer, "1"),
        ("global_ttt_lr", "GLOBAL_TTT_LR", .real, "0.001"), ("global_ttt_momentum", "GLOBAL_TTT_MOMENTUM", .real, "0.9"),
        ("global_ttt_epochs", "GLOBAL_TTT_EPOCHS", .integer, "1"),
        ("global_ttt_chunk_tokens", "GLOBAL_TTT_CHUNK_TOKENS", .integer, "32768"),
        ("global_ttt_batch_seqs", "GLOBAL_TTT_BATCH_SEQS", .integer, "32"),
        ("global_ttt_warmup_start_lr", "GLOBAL_TTT_WARMUP_START_LR", .real, "0.0"),
        ("global_ttt_warmup_chunks", "GLOBAL_TTT_WARMUP_CHUNKS", .integer, "0"),
        ("global_ttt_grad_clip", "GLOBAL_TTT_GRAD_CLIP", .real, "1.0"),
        ("global_ttt_respect_doc_boundaries", "GLOBAL_TTT_RESPECT_DOC_BOUNDARIES", .boolean, "1"),
        ("val_doc_fraction", "VAL_DOC_FRACTION", .real, "1.0"), ("ttt_doc_limit", "TTT_DOC_LIMIT", .integer, "0"),
        ("ttt_eval_batches", "TTT_EVAL_BATCHES", .text, ""),
        ("eval_seq_len", "EVAL_SEQ_LEN", .integer, "2048"), ("caseops_enabled", "CASEOPS_ENABLED", .boolean, "0"),
    ]

    /// The class-level knobs of 2026-04-23's `BatchedLinearLoRA`: name, environment variable, kind.
    static let loraClassKeys: [(name: String, environmentVariable: String, kind: ValueKind)] = [
        ("ttt_lora_alpha", "TTT_LORA_ALPHA", .real), ("ttt_warm_start_a", "TTT_WARM_START_A", .boolean),
    ]

    /// Whether `key` (attribute name or environment variable, any case) is a setting only this
    /// resolver reads (the model's own keys such as `eval_seq_len` stay with the model).
    public static func handles(_ key: String) -> Bool {
        let matches = { (name: String, variable: String) in name == key.lowercased() || variable == key.uppercased() }
        if loraClassKeys.contains(where: { matches($0.name, $0.environmentVariable) }) { return true }
        return keys.contains { matches($0.name, $0.environmentVariable) }
            && key.lowercased() != "eval_seq_len"
    }

    public static func resolve(code: URL?, logs: [URL], overrides: [String: String]) throws(ModelConfigError) -> ResolvedPhasedTTTSettings {
        let codeText = try code.map { url throws(ModelConfigError) in try ModelConfigResolver.read(url) }
        let defaults = code.flatMap { url in codeText.map { HyperparameterDefaults.parse(source: $0, file: url.path) } }
            ?? HyperparameterDefaults()
        var logged: [LoggedHyperparameter] = []
        let names = Set(keys.map(\.name) + loraClassKeys.flatMap { [$0.name, $0.environmentVariable] })
        for url in logs {
            logged += LogHyperparameters.scan(try ModelConfigResolver.read(url), file: url.path, keys: names)
        }
        // The CLI's `seq_len` (from --seq-len or a raw weights index) is the model's evaluation length:
        // it stands for EVAL_SEQ_LEN here, never for TTT_EVAL_SEQ_LEN (the LoRA windows).
        var own = overrides.filter { $0.key.lowercased() != ModelConfigResolver.seqLenOverrideKey }
        if let (_, seqLen) = overrides.first(where: { $0.key.lowercased() == ModelConfigResolver.seqLenOverrideKey }),
           !own.keys.contains(where: { $0.lowercased() == "eval_seq_len" }) {
            own["EVAL_SEQ_LEN"] = seqLen
        }
        var (values, sources) = try TTTSettingsResolver.resolveValues(
            keys, defaults: defaults, logged: logged, overrides: own, fallbackRecord: referenceRecord)
        for key in loraClassKeys {
            let (value, source) = try resolveClassKey(key, code: code.flatMap { url in codeText.map { (url, $0) } },
                                                      logged: logged, overrides: overrides)
            values[key.name] = value
            sources[key.name] = source
        }
        func int(_ name: String) -> Int { values[name]?.pythonInt() ?? 0 }
        func real(_ name: String) -> Double { values[name]?.pythonFloat() ?? .nan }
        func bool(_ name: String) -> Bool { values[name]?.pythonBool() ?? false }
        var s = PhasedTTTSettings()
        s.batchSize = int("ttt_batch_size")
        s.chunkSize = int("ttt_chunk_size")
        s.evalSeqLen = int("ttt_eval_seq_len")
        s.loraRank = int("ttt_lora_rank")
        s.loraLearningRate = real("ttt_lora_lr")
        s.beta1 = real("ttt_beta1")
        s.beta2 = real("ttt_beta2")
        s.weightDecay = real("ttt_weight_decay")
        let optimizerText: String
        if case .string(let text) = values["ttt_optimizer"] { optimizerText = text } else { optimizerText = "adam" }
        // The records build SGD for "sgd" and AdamW for anything else.
        s.optimizer = optimizerText == "sgd" ? .sgd : .adam
        s.gradSteps = int("ttt_grad_steps")
        s.targets = LoRATargets(key: bool("ttt_k_lora"), mlp: bool("ttt_mlp_lora"), output: bool("ttt_o_lora"))
        s.prefixDocs = int("phased_ttt_prefix_docs")
        s.phases = int("phased_ttt_num_phases")
        s.globalLearningRate = real("global_ttt_lr")
        s.globalMomentum = real("global_ttt_momentum")
        s.globalEpochs = int("global_ttt_epochs")
        s.globalChunkTokens = int("global_ttt_chunk_tokens")
        s.globalBatchSeqs = int("global_ttt_batch_seqs")
        s.globalWarmupStartLearningRate = real("global_ttt_warmup_start_lr")
        s.globalWarmupChunks = int("global_ttt_warmup_chunks")
        s.globalGradClip = real("global_ttt_grad_clip")
        s.globalRespectDocBoundaries = bool("global_ttt_respect_doc_boundaries")
        s.globalSeqLen = int("eval_seq_len")
        s.valDocFraction = real("val_doc_fraction")
        s.docLimit = int("ttt_doc_limit")
        // `if h.ttt_eval_batches:` (any text) makes the records claim batches in ascending order.
        if case .string(let text) = values["ttt_eval_batches"] {
            s.ascendingBatchOrder = !text.isEmpty
        }
        s.loraAlpha = values["ttt_lora_alpha"].flatMap { $0.pythonFloat() }
        s.warmStartA = values["ttt_warm_start_a"]?.pythonBool() ?? false
        // 2026-04-13 has one phase and no PHASED_TTT_NUM_PHASES: the code's own count is then 1.
        if let codeText, !codeText.contains("phased_ttt_num_phases"), overrides.keys.allSatisfy({ !$0.lowercased().contains("num_phases") }) {
            s.phases = 1
            sources["phased_ttt_num_phases"] = "the code has no phased_ttt_num_phases: one phase (as 2026-04-13)"
        }
        return ResolvedPhasedTTTSettings(settings: s, sources: sources, caseOps: bool("caseops_enabled"),
                                         readsSidecarWhenPresent: codeText?.contains("load_validation_token_bytes") ?? false)
    }

    /// A `BatchedLinearLoRA` class knob: override, else logs, else the code's
    /// `os.environ.get("NAME", "default")`, else absent (`nil`: the code has no such knob).
    static func resolveClassKey(
        _ key: (name: String, environmentVariable: String, kind: ValueKind), code: (url: URL, text: String)?,
        logged: [LoggedHyperparameter], overrides: [String: String]
    ) throws(ModelConfigError) -> (HyperparameterValue?, String) {
        if let (k, text) = overrides.first(where: { $0.key.lowercased() == key.name || $0.key.uppercased() == key.environmentVariable }) {
            let source = ValueSource.override(key: k, value: text)
            guard let value = key.kind.parse(text) else {
                throw .invalidValue(key: key.name, value: text, source: source, reason: "not \(key.kind.noun)")
            }
            try SettingBounds.check(key.name, value, text: text, source: source)
            return (value, source.description)
        }
        if let entry = logged.first(where: { $0.key == key.name || $0.key == key.environmentVariable }) {
            let source = ValueSource.log(file: entry.file, line: entry.line, text: entry.lineText)
            guard let value = key.kind.parse(entry.text) else {
                throw .invalidValue(key: key.name, value: entry.text, source: source, reason: "not \(key.kind.noun)")
            }
            try SettingBounds.check(key.name, value, text: entry.text, source: source)
            return (value, source.description)
        }
        guard let (url, text) = code else { return (nil, "no code: not used (as \(referenceRecord))") }
        // `os.environ.get("TTT_LORA_ALPHA", "144")`, then int(...)/float(...)/bool(int(...)) around it.
        let compact = text.filter { !$0.isWhitespace }
        for quote in ["\"", "'"] {
            let head = "os.environ.get(\(quote)\(key.environmentVariable)\(quote),"
            guard let range = compact.range(of: head) else { continue }
            let rest = compact[range.upperBound...].prefix { $0 != ")" }
            let literal = rest.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            // The line that names the variable, for the error's citation.
            let line = (text.split(separator: "\n", omittingEmptySubsequences: false)
                .firstIndex { $0.contains("\(quote)\(key.environmentVariable)\(quote)") } ?? 0) + 1
            let source = ValueSource.codeDefault(
                name: key.name, environmentVariable: key.environmentVariable,
                expression: "os.environ.get(\"\(key.environmentVariable)\", \(rest))", file: url.path, line: line)
            guard let value = key.kind.parse(literal) else {
                throw .invalidValue(key: key.name, value: String(rest), source: source, reason: "the code's default is not \(key.kind.noun)")
            }
            try SettingBounds.check(key.name, value, text: String(rest), source: source)
            return (value, "code \(url.path): os.environ.get(\"\(key.environmentVariable)\", \(rest)) in BatchedLinearLoRA")
        }
        return (nil, "not in the code: not used (as \(referenceRecord))")
    }
}
