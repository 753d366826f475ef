import Foundation
import Reference

/// Which `eval_val` a record-family submission runs, decided by reading (never running) its code.
///
/// The record families score their model in one of two ways (`records/track_10min_16mb/`):
/// - ``windows``: the March records (2026-03-19 … 2026-04-01) cut the stream into windows of
///   `seq_len` (`x = local[:-1].reshape(-1, seq_len)`, scored by `model(x, y)`) and score each as an
///   independent sequence;
/// - ``documentSegmented(_:)``: the 2026-04-10_VarLenAttn records and later find the BOS tokens of
///   each eval batch (`bos_pos`) and confine attention to documents and `seq_len` pieces of them
///   (`_build_cu_seqlens(bos_pos, …)`), so the score depends on how batches are cut per rank.
public enum FamilyEvaluation: Sendable, Equatable {
    case windows
    case documentSegmented(DocumentSegmentedSettings)
    /// Sliding mode of the 2026-04-10 … 2026-04-18 records: their `eval_val_sliding`
    /// (``FamilySlidingResolver``, ``DocumentSlidingPlan``).
    case documentSliding(DocumentSlidingSettings)

    /// The records' `eval_val_sliding(…, batch_seqs=N)`: windows advanced by `stride`, split over
    /// `worldSize` ranks, `batchSequences` windows per flat batch, attention split at BOS.
    public struct DocumentSlidingSettings: Sendable, Equatable {
        public var stride: Int
        public var batchSequences: Int
        public var worldSize: Int
    }

    /// How the 2026-04 records cut the stream into eval batches: `local_batch_tokens =
    /// val_batch_tokens // (world_size · grad_accum_steps)` tokens per batch, each rank scoring its
    /// share of the windows in whole batches.
    public struct DocumentSegmentedSettings: Sendable, Equatable {
        public var valBatchTokens: Int
        public var worldSize: Int
        public var gradAccumSteps: Int
        /// `local_batch_tokens`.
        public var batchTokens: Int { valBatchTokens / (worldSize * gradAccumSteps) }
    }

    /// A sentence for reports.
    public var description: String {
        switch self {
        case .windows: return "the submission's eval_val: independent windows of seq_len"
        case .documentSegmented(let s):
            return "the submission's document-segmented eval_val (attention split at BOS and every seq_len): "
                + "batches of \(s.batchTokens) tokens per rank = VAL_BATCH_TOKENS \(s.valBatchTokens) // "
                + "(WORLD_SIZE \(s.worldSize) × GRAD_ACCUM_STEPS \(s.gradAccumSteps))"
        case .documentSliding(let s):
            return "the submission's eval_val_sliding (stride \(s.stride); windows split at BOS, \(s.batchSequences) "
                + "windows per flat batch on each of WORLD_SIZE \(s.worldSize) ranks)"
        }
    }
}

/// The family evaluation with where each of its settings came from.
public struct ResolvedFamilyEvaluation: Sendable, Equatable {
    public var evaluation: FamilyEvaluation
    /// Provenance by name: `eval_val` (the code signal), `val_batch_tokens`, `world_size`,
    /// `grad_accum_steps`, `caseops_enabled`, `byte_sidecar`.
    public var sources: [String: String]
    /// Whether the submission's `eval_val` counts bytes from a CaseOps byte sidecar
    /// (`fineweb_val_bytes_*.bin`) instead of the tokenizer's tables.
    public var usesByteSidecar: Bool = false
}

/// Reads the submission's `def eval_val` to decide its evaluation, and resolves the batch settings
/// the document-segmented one needs: `--set`/overrides, then logs (`world_size: 8` …), then the
/// code's `class Hyperparameters` defaults — except `world_size`, whose code default (1, a
/// single-process run) is not the challenge's: unstated, it is the 8×H100 run's 8.
public enum FamilyEvaluationResolver {
    /// The world size of the challenge's scored runs (8×H100).
    public static let challengeWorldSize = 8

    static let keys: [TTTSettingsResolver.Key] = [
        ("val_batch_tokens", "VAL_BATCH_TOKENS", .integer, "524288"),
        ("world_size", "WORLD_SIZE", .integer, "\(challengeWorldSize)"),
        ("grad_accum_steps", "GRAD_ACCUM_STEPS", .integer, "0"),
        ("caseops_enabled", "CASEOPS_ENABLED", .boolean, "0"),
    ]

    /// Whether `key` (attribute or environment name, any case) is one of these settings.
    public static func handles(_ key: String) -> Bool {
        keys.contains { $0.name == key.lowercased() || $0.environmentVariable == key.uppercased() }
    }

    /// Decides the evaluation; throws ``UnsupportedArtifact`` (naming what is missing) where the code
    /// does not tell, and ``ModelConfigError`` for unreadable files or invalid values.
    public static func resolve(code: URL?, logs: [URL], overrides: [String: String]) throws -> ResolvedFamilyEvaluation {
        guard let code else {
            throw UnsupportedArtifact(path: "(no --code)", reason: "record-family weights are scored the way the "
                + "submission's own eval_val scores them (plain windows, or document-segmented batches), "
                + "and no code was given to read it from")
        }
        let text = try SubmissionCodeText.read(code)
        guard let body = evalValBody(text) else {
            throw UnsupportedArtifact(path: code.path, reason: "no top-level `def eval_val(` to read the evaluation from "
                + "(the code may be compressed or generated); which evaluation the family's records use cannot be decided")
        }
        // Compared without whitespace: the records' code comes formatted, minified (tabs, `;`) or wrapped.
        let compact = String(body.text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
        var sources: [String: String] = [:]
        if compact.contains("_build_cu_seqlens(bos_pos,") {
            sources["eval_val"] = "\(code.path):\(body.line): eval_val splits attention at BOS (_build_cu_seqlens(bos_pos, …))"
        } else if compact.contains("[:-1].reshape(-1,") && compact.contains("model(x,y)") {
            sources["eval_val"] = "\(code.path):\(body.line): eval_val scores windows of seq_len "
                + "(local[:-1].reshape(-1, seq_len) through model(x, y))"
            return ResolvedFamilyEvaluation(evaluation: .windows, sources: sources)
        } else {
            throw UnsupportedArtifact(path: code.path, reason: "its eval_val (line \(body.line)) neither splits documents "
                + "at BOS (_build_cu_seqlens(bos_pos, …)) nor scores windows of seq_len (x = local[:-1].reshape(-1, …) "
                + "through model(x, y)); pgverify implements only those two")
        }

        var defaults = HyperparameterDefaults.parse(source: text, file: code.path)
        defaults.declarations["world_size"] = nil  // a single-process default, not the scored run's
        // The records derive it from the world size (`grad_accum_steps = 8 // world_size`): evaluated
        // below at the scored run's world size, not at the single-process default.
        let gradAccumDeclaration = defaults.declarations["grad_accum_steps"]
        defaults.declarations["grad_accum_steps"] = nil
        var logged: [LoggedHyperparameter] = []
        for url in logs {
            logged += LogHyperparameters.scan(try ModelConfigResolver.read(url), file: url.path, keys: Set(keys.map(\.name)))
        }
        let (values, found) = try TTTSettingsResolver.resolveValues(
            keys, defaults: defaults, logged: logged, overrides: overrides, fallbackRecord: "")
        sources.merge(found) { a, _ in a }
        let unstated = "not stated by the submission: default of "
        if sources["world_size"]?.hasPrefix(unstated) == true {
            sources["world_size"] = "not stated by logs or --set: the challenge's 8×H100 run (WORLD_SIZE=8)"
        }
        if sources["caseops_enabled"]?.hasPrefix(unstated) == true {
            sources["caseops_enabled"] = "not stated by the code, logs or --set: off"
        }
        if sources["val_batch_tokens"]?.hasPrefix(unstated) == true {
            throw UnsupportedArtifact(path: code.path, reason: "its document-segmented eval_val depends on VAL_BATCH_TOKENS, "
                + "which neither its class Hyperparameters, a log nor --set states")
        }
        let worldSize = values["world_size"]?.pythonInt() ?? 0
        var gradAccum = values["grad_accum_steps"]?.pythonInt() ?? 0
        if sources["grad_accum_steps"]?.hasPrefix(unstated) == true {
            guard let declaration = gradAccumDeclaration, worldSize > 0,
                  let value = declaration.value(others: ["WORLD_SIZE": String(worldSize)])?.pythonInt() else {
                let why = defaults.unreadableDetail("grad_accum_steps").map { " (\($0))" } ?? ""
                throw UnsupportedArtifact(path: code.path, reason: "its document-segmented eval_val depends on "
                    + "grad_accum_steps, which pgverify cannot read from the code\(why); state it with --set GRAD_ACCUM_STEPS=N")
            }
            gradAccum = value
            sources["grad_accum_steps"] = "\(declaration.file):\(declaration.line): grad_accum_steps = \(declaration.expression) "
                + "at WORLD_SIZE=\(worldSize)"
        }
        let caseOps = values["caseops_enabled"]?.pythonBool() ?? false
        let usesSidecar = compact.contains("val_bytes") && (caseOps || !compact.contains("caseops_enabled"))
        if usesSidecar {
            sources["byte_sidecar"] = "\(code.path): its eval_val counts bytes from the CaseOps byte sidecar (val_bytes"
                + (caseOps ? ", CASEOPS_ENABLED on)" : ", unconditionally)")
        }
        let settings = FamilyEvaluation.DocumentSegmentedSettings(
            valBatchTokens: values["val_batch_tokens"]?.pythonInt() ?? 0, worldSize: worldSize, gradAccumSteps: gradAccum)
        guard settings.worldSize > 0, settings.gradAccumSteps > 0, settings.valBatchTokens > 0 else {
            throw UnsupportedArtifact(path: code.path, reason: "VAL_BATCH_TOKENS \(settings.valBatchTokens), WORLD_SIZE "
                + "\(settings.worldSize) and GRAD_ACCUM_STEPS \(settings.gradAccumSteps) must all be positive")
        }
        return ResolvedFamilyEvaluation(evaluation: .documentSegmented(settings), sources: sources,
                                        usesByteSidecar: usesSidecar)
    }

    /// The text of the top-level `def eval_val(` up to the next top-level statement, and its line.
    static func evalValBody(_ text: String) -> (text: String, line: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("def eval_val(") }) else { return nil }
        var end = start + 1
        while end < lines.count {
            let line = lines[end]
            if line.hasPrefix("def ") || line.hasPrefix("class ") || line.hasPrefix("@")
                || line.hasPrefix("if __name__") { break }
            end += 1
        }
        return (lines[start..<end].joined(separator: "\n"), start + 1)
    }
}
