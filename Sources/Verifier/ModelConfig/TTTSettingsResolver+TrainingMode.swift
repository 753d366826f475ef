import Foundation
import Reference

/// What the code's `CastedLinear.forward` does in training mode once `_qat_enabled` is on: the records
/// switch it on in late training (`late_qat:enabled` in their logs) and never off, so their chunked
/// TTT (which trains in `train()` mode) runs it too.
public enum CastedLinearQAT: String, Sendable, Equatable {
    /// Not on during TTT (or the code has no QAT).
    case off
    /// 2026-03-23: int6 per-row rounding with a straight-through gradient
    /// (`w = w + (w_q - w).detach()`); ``DifferentiableFamilyGPT/lateQATInTraining``.
    case int6StraightThrough = "int6-ste"
    /// 2026-03-31: sigmoid soft rounding (`soft_rounded`, `_qat_alpha`) with its own gradient; not
    /// reproduced (its `_qat_alpha` at TTT time is not logged).
    case softRound = "soft-round"
}

extension TTTSettingsResolver {
    /// pgverify's override of ``TTTFreezeScope`` (`blocks` or `block-scalars`).
    public static let freezeScopeKey = "ttt_freeze_scope"
    /// pgverify's override of whether late QAT is on during TTT (`0` or `1`).
    public static let lateQATKey = "ttt_late_qat"

    /// Banked code (`qo_bank`: 2026-03-23, 2026-03-31) freezes only a block's own scalars; other code
    /// every tensor of the block. Without code: the latter (the baseline's layout).
    static func resolveFreezeScope(
        _ resolved: inout ResolvedTTTSettings, code: (url: URL, text: String)?, overrides: [String: String]
    ) throws(ModelConfigError) {
        if let (key, text) = overrides.first(where: { $0.key.lowercased() == freezeScopeKey }) {
            guard let scope = TTTFreezeScope(rawValue: text.lowercased()) else {
                throw .invalidValue(key: freezeScopeKey, value: text, source: .override(key: key, value: text),
                                    reason: "must be blocks or block-scalars")
            }
            resolved.settings.freezeScope = scope
            resolved.sources[freezeScopeKey] = ValueSource.override(key: key, value: text).description
            return
        }
        if let (url, text) = code, text.contains("qo_bank") {
            resolved.settings.freezeScope = .blockScalars
            resolved.sources[freezeScopeKey] = "code \(url.path): parameter banks (qo_bank, …) hold the blocks' matrices "
                + "outside `blocks.{i}.`, so a frozen block keeps only its scalars fixed"
        } else {
            resolved.settings.freezeScope = .wholeBlocks
            resolved.sources[freezeScopeKey] = code == nil
                ? "no code: every tensor of a frozen block (the baseline's layout)"
                : "code \(code!.url.path): no parameter banks, every `blocks.{i}.` tensor of a frozen block"
        }
    }

    /// The code's QAT form, on when an override says so or a log says `late_qat:enabled`.
    static func resolveLateQAT(
        _ resolved: inout ResolvedTTTSettings, code: (url: URL, text: String)?, logs: [URL], overrides: [String: String]
    ) throws(ModelConfigError) {
        let compact = code?.text.filter { !$0.isWhitespace } ?? ""
        let form: CastedLinearQAT = compact.contains("soft_rounded") && compact.contains("_qat_enabled") ? .softRound
            : compact.contains("w=w+(w_q-w).detach()") && compact.contains("_qat_enabled") ? .int6StraightThrough : .off
        if let (key, text) = overrides.first(where: { $0.key.lowercased() == lateQATKey }) {
            guard text == "0" || text == "1" else {
                throw .invalidValue(key: lateQATKey, value: text, source: .override(key: key, value: text), reason: "must be 0 or 1")
            }
            resolved.lateQAT = text == "1" ? (form == .off ? .int6StraightThrough : form) : .off
            resolved.sources[lateQATKey] = ValueSource.override(key: key, value: text).description
            return
        }
        guard form != .off else {
            resolved.sources[lateQATKey] = "off: the code's CastedLinear has no fake quantisation"
            return
        }
        for url in logs {
            let text = try ModelConfigResolver.read(url)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.hasPrefix("late_qat:enabled") {
                resolved.lateQAT = form
                resolved.sources[lateQATKey] = ValueSource.log(file: url.path, line: index + 1, text: String(line)).description
                    + " (never switched off: TTT trains with it)"
                return
            }
        }
        resolved.sources[lateQATKey] = logs.isEmpty
            ? "off: no logs say late QAT switched on (set \(lateQATKey)=1 if it did)"
            : "off: no `late_qat:enabled` line in the logs"
    }
}
