import Foundation
import Reference

/// The per-document LoRA TTT settings of a submission, with where each value came from.
public struct ResolvedLoRATTTSettings: Sendable, Equatable {
    public var settings: LoRATTTSettings
    public var sources: [String: String]
}

/// Resolves ``LoRATTTSettings`` like ``TTTSettingsResolver``: overrides, logs, the code's
/// `class Hyperparameters` defaults, else the defaults of 2026-03-17_LoRA_TTT (labelled).
public enum LoRATTTSettingsResolver {
    public static let referenceRecord = "2026-03-17_LoRA_TTT"

    static let keys: [TTTSettingsResolver.Key] = [
        ("ttt_lora_rank", "TTT_LORA_RANK", .integer, "8"), ("ttt_lora_lr", "TTT_LORA_LR", .real, "0.01"),
        ("ttt_chunk_size", "TTT_CHUNK_SIZE", .integer, "256"), ("ttt_eval_seq_len", "TTT_EVAL_SEQ_LEN", .integer, "1024"),
        ("beta1", "BETA1", .real, "0.9"), ("beta2", "BETA2", .real, "0.95"),
    ]

    /// Whether `key` is one of these settings.
    public static func handles(_ key: String) -> Bool {
        keys.contains { $0.name == key.lowercased() || $0.environmentVariable == key.uppercased() }
    }

    public static func resolve(code: URL?, logs: [URL], overrides: [String: String]) throws(ModelConfigError) -> ResolvedLoRATTTSettings {
        let defaults = try code.map { url throws(ModelConfigError) in
            HyperparameterDefaults.parse(source: try SubmissionCodeText.read(url), file: SubmissionCodeText.sourceName(url))
        } ?? HyperparameterDefaults()
        var logged: [LoggedHyperparameter] = []
        for url in logs {
            logged += LogHyperparameters.scan(try ModelConfigResolver.read(url), file: url.path, keys: Set(keys.map(\.name)))
        }
        let (values, sources) = try TTTSettingsResolver.resolveValues(
            keys, defaults: defaults, logged: logged, overrides: overrides, fallbackRecord: referenceRecord)
        func int(_ name: String) -> Int { values[name]?.pythonInt() ?? 0 }
        func real(_ name: String) -> Double { values[name]?.pythonFloat() ?? .nan }
        let settings = LoRATTTSettings(rank: int("ttt_lora_rank"), learningRate: real("ttt_lora_lr"),
                                       chunkSize: int("ttt_chunk_size"), evalSeqLen: int("ttt_eval_seq_len"),
                                       beta1: real("beta1"), beta2: real("beta2"))
        return ResolvedLoRATTTSettings(settings: settings, sources: sources)
    }
}
