import Foundation
import Reference

/// The chunked TTT settings of a submission, with where each value came from.
public struct ResolvedTTTSettings: Sendable, Equatable {
    public var settings: ChunkedTTTSettings
    /// Provenance of each value by hyperparameter name (`ttt_lr`, …, `eval_stride`, `ttt_seq_len`,
    /// `ttt_window_rule`, `ttt_freeze_scope`, `ttt_late_qat`).
    public var sources: [String: String]
    /// Whether the code's `CastedLinear` fake-quantises in training mode during TTT, and in which form
    /// (see ``CastedLinearQAT``).
    public var lateQAT: CastedLinearQAT = .off
}

/// Resolves the settings of the chunked score-first TTT like ``ModelConfigResolver`` resolves the
/// model: overrides, then values stated in logs, then the defaults of the code's
/// `class Hyperparameters`; without code, the defaults of the record that defines the procedure
/// (2026-03-23_LeakyReLU_LegalTTT_ParallelMuon), labelled as such.
public enum TTTSettingsResolver {
    /// The record whose defaults apply when a submission states nothing.
    public static let referenceRecord = "2026-03-23_LeakyReLU_LegalTTT_ParallelMuon"

    /// pgverify's own override for the scoring windows (`tail` or `once`, see ``TTTWindowRule``).
    public static let windowRuleKey = "ttt_window_rule"

    /// Hyperparameters read, their environment variables, kinds and the reference record's defaults.
    static let keys: [Key] = [
        ("ttt_lr", "TTT_LR", .real, "0.002"), ("ttt_epochs", "TTT_EPOCHS", .integer, "3"),
        ("ttt_chunk_tokens", "TTT_CHUNK_TOKENS", .integer, "32768"),
        ("ttt_freeze_blocks", "TTT_FREEZE_BLOCKS", .integer, "2"), ("ttt_momentum", "TTT_MOMENTUM", .real, "0.9"),
        ("ttt_batch_seqs", "TTT_BATCH_SEQS", .integer, "32"), ("ttt_grad_clip", "TTT_GRAD_CLIP", .real, "1.0"),
        ("eval_stride", "EVAL_STRIDE", .integer, "64"), ("train_seq_len", "TRAIN_SEQ_LEN", .integer, "2048"),
        ("eval_seq_len", "EVAL_SEQ_LEN", .integer, "2048"),
    ]

    /// Whether `key` (attribute name or environment variable, any case) is a TTT setting this resolver reads.
    public static func handles(_ key: String) -> Bool {
        if [windowRuleKey, freezeScopeKey, lateQATKey].contains(key.lowercased()) { return true }
        return keys.contains { $0.name == key.lowercased() || $0.environmentVariable == key.uppercased() }
            && !["train_seq_len", "eval_seq_len"].contains(key.lowercased())
    }

    /// The `ttt_sliding:start … chunk_tokens=N … stride=N ttt_lr=X ttt_epochs=N freeze_blocks=N` line
    /// that `eval_val_sliding_ttt` logs, read as the values the run used.
    static func scanStartLines(_ text: String, file: String) -> [LoggedHyperparameter] {
        let names = ["chunk_tokens": "ttt_chunk_tokens", "stride": "eval_stride", "ttt_lr": "ttt_lr",
                     "ttt_epochs": "ttt_epochs", "freeze_blocks": "ttt_freeze_blocks"]
        var found: [LoggedHyperparameter] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.hasPrefix("ttt_sliding:start "), trimmed.count < 1000 else { continue }
            for token in trimmed.split(separator: " ") {
                guard let equals = token.firstIndex(of: "="), let name = names[String(token[..<equals])] else { continue }
                found.append(LoggedHyperparameter(key: name, text: String(token[token.index(after: equals)...]),
                                                  isEnvironmentAssignment: false, file: file, line: index + 1,
                                                  lineText: trimmed))
            }
        }
        return found
    }

    typealias Key = (name: String, environmentVariable: String, kind: ValueKind, fallback: String)

    /// Each key's value and provenance: override, else logs (which must agree), else the code's
    /// default, else `fallback` labelled with the record it comes from.
    static func resolveValues(
        _ keys: [Key], defaults: HyperparameterDefaults, logged: [LoggedHyperparameter], overrides: [String: String],
        fallbackRecord: String
    ) throws(ModelConfigError) -> (values: [String: HyperparameterValue], sources: [String: String]) {
        var values: [String: HyperparameterValue] = [:]
        var sources: [String: String] = [:]
        for key in keys {
            let overrideEntry = overrides.first { entry in
                entry.key.lowercased() == key.name || entry.key.uppercased() == key.environmentVariable
                    || (key.name.hasSuffix("_seq_len") && entry.key.lowercased() == ModelConfigResolver.seqLenOverrideKey)
            }
            if let (k, text) = overrideEntry {
                let source = ValueSource.override(key: k, value: text)
                guard let value = key.kind.parse(text) else {
                    throw .invalidValue(key: key.name, value: text, source: source, reason: "not \(key.kind.noun)")
                }
                try SettingBounds.check(key.name, value, text: text, source: source)
                values[key.name] = value
                sources[key.name] = source.description
                continue
            }
            let statements = logged.filter { $0.key == key.name || $0.key == key.environmentVariable }
            if let entry = statements.first {
                let firstValue = key.kind.parse(entry.text)
                let disagreeing = statements.first { statement in
                    guard let a = firstValue, let b = key.kind.parse(statement.text) else { return false }
                    return !key.kind.same(a, b)
                }
                if let other = disagreeing {
                    throw .conflictingLogValues(
                        key: key.name, first: entry.text, firstSource: .log(file: entry.file, line: entry.line, text: entry.lineText),
                        second: other.text, secondSource: .log(file: other.file, line: other.line, text: other.lineText))
                }
                let source = ValueSource.log(file: entry.file, line: entry.line, text: entry.lineText)
                let value = entry.isEnvironmentAssignment
                    ? defaults.declarations[key.name]?.value(environment: entry.text) ?? key.kind.parse(entry.text)
                    : key.kind.parse(entry.text)
                guard let value else {
                    throw .invalidValue(key: key.name, value: entry.text, source: source, reason: "not \(key.kind.noun)")
                }
                try SettingBounds.check(key.name, value, text: entry.text, source: source)
                values[key.name] = value
                sources[key.name] = source.description
                continue
            }
            if let declaration = defaults.declarations[key.name] {
                let source = ValueSource.codeDefault(name: key.name, environmentVariable: declaration.environmentVariable ?? key.name,
                                                     expression: declaration.expression, file: declaration.file,
                                                     line: declaration.line)
                let others = defaults.statedEnvironment(of: declaration, overrides: overrides, logged: logged)
                guard let value = declaration.value(others: others) else {
                    throw .invalidValue(key: key.name, value: declaration.expression, source: source,
                                        reason: "Python would raise evaluating the default")
                }
                try SettingBounds.check(key.name, value, text: value.description, source: source)
                values[key.name] = value
                sources[key.name] = source.description
                continue
            }
            // The code assigns it in a form pgverify cannot evaluate: its value is not the reference record's.
            if let detail = defaults.unreadableDetail(key.name) {
                throw .missingValue(key: key.name, environmentVariable: key.environmentVariable, detail: detail)
            }
            values[key.name] = key.kind.parse(key.fallback)
            sources[key.name] = "not stated by the submission: default of \(fallbackRecord)"
        }
        return (values, sources)
    }

    /// Resolves the settings; `overrides` by attribute name or environment variable (plus `seq_len`,
    /// which sets `train_seq_len`).
    public static func resolve(code: URL?, logs: [URL], overrides: [String: String]) throws(ModelConfigError) -> ResolvedTTTSettings {
        let defaults = try code.map { url throws(ModelConfigError) in
            HyperparameterDefaults.parse(source: try SubmissionCodeText.read(url), file: SubmissionCodeText.sourceName(url))
        } ?? HyperparameterDefaults()
        var logged: [LoggedHyperparameter] = []
        for url in logs {
            let text = try ModelConfigResolver.read(url)
            logged += LogHyperparameters.scan(text, file: url.path, keys: Set(keys.map(\.name)))
            logged += scanStartLines(text, file: url.path)
        }
        let (values, sources) = try resolveValues(keys, defaults: defaults, logged: logged, overrides: overrides,
                                                  fallbackRecord: referenceRecord)
        func int(_ name: String) -> Int { values[name]?.pythonInt() ?? 0 }
        func real(_ name: String) -> Double { values[name]?.pythonFloat() ?? .nan }
        let settings = ChunkedTTTSettings(
            seqLen: int("train_seq_len"), stride: int("eval_stride"), chunkTokens: int("ttt_chunk_tokens"),
            epochs: int("ttt_epochs"), learningRate: real("ttt_lr"), momentum: real("ttt_momentum"),
            freezeBlocks: int("ttt_freeze_blocks"), batchSequences: int("ttt_batch_seqs"),
            gradientClip: real("ttt_grad_clip"))
        var resolved = ResolvedTTTSettings(settings: settings, sources: sources)
        let codeText = try code.map { url throws(ModelConfigError) in (url, try SubmissionCodeText.read(url)) }
        try resolveWindowRule(&resolved, code: codeText, overrides: overrides)
        try resolveFreezeScope(&resolved, code: codeText, overrides: overrides)
        try resolveLateQAT(&resolved, code: codeText, logs: logs, overrides: overrides)
        // 2026-03-23's TTT windows are train_seq_len long; 2026-04-04's and 2026-04-08's eval_seq_len.
        let usesEvalLength = try code.map { url throws(ModelConfigError) in
            try EvaluationProcedureReader.procedures(code: url).contains { $0.isTestTimeTraining && $0.usesEvalSeqLen }
        } ?? false
        if usesEvalLength, int("eval_seq_len") > 0 {
            resolved.settings.seqLen = int("eval_seq_len")
            resolved.sources["ttt_seq_len"] = "eval_seq_len (the code's TTT function uses it): " + (sources["eval_seq_len"] ?? "")
        } else {
            resolved.sources["ttt_seq_len"] = "train_seq_len (as 2026-03-23's TTT function): " + (sources["train_seq_len"] ?? "")
        }
        resolved.sources["train_seq_len"] = nil
        resolved.sources["eval_seq_len"] = nil
        return resolved
    }

    /// The window rule: an override, else the one the code's TTT loop spells out, else the
    /// reference record's (labelled as such).
    static func resolveWindowRule(
        _ resolved: inout ResolvedTTTSettings, code: (url: URL, text: String)?, overrides: [String: String]
    ) throws(ModelConfigError) {
        if let (key, text) = overrides.first(where: { $0.key.lowercased() == windowRuleKey }) {
            guard let rule = TTTWindowRule(rawValue: text.lowercased()) else {
                throw .invalidValue(key: windowRuleKey, value: text, source: .override(key: key, value: text),
                                    reason: "must be tail or once")
            }
            resolved.settings.windowRule = rule
            resolved.sources[windowRuleKey] = ValueSource.override(key: key, value: text).description
            return
        }
        if let (url, _) = code {
            // The TTT procedure is the function that scores windows and trains on the stream, whatever its
            // name; plain sliding evaluators use the same window idioms without training.
            let procedures = try EvaluationProcedureReader.procedures(code: url).filter(\.isTestTimeTraining)
            if let procedure = procedures.first(where: { $0.windowRule != nil }), let rule = procedure.windowRule {
                guard procedure.updateOrder == .scoreBeforeUpdate else {
                    throw .unreadCodeFact(key: windowRuleKey, detail: "\(url.path): \(procedure.summary): pgverify reproduces "
                        + "only TTT that scores each chunk before updating on it")
                }
                let meaning = rule == .rescoreTail ? "windows kept while they have ≥ stride targets"
                    : "windows kept while ws + context_size < total_tokens"
                resolved.settings.windowRule = rule
                resolved.sources[windowRuleKey] = "code \(url.path), \(procedure.function) (line \(procedure.line)): \(meaning)"
                return
            }
            if let procedure = procedures.first(where: { $0.unknownWindows != nil }) {
                throw .unreadCodeFact(key: windowRuleKey, detail: "\(url.path): \(procedure.summary); state the rule with "
                    + "\(windowRuleKey)=tail or once if it is one of them")
            }
        }
        resolved.settings.windowRule = .rescoreTail
        resolved.sources[windowRuleKey] = "not found in the code: the rule of \(referenceRecord)"
    }
}
