/// PG-PREQUANT-TTT — gradient updates on validation data before the artifact is serialized.
///
/// ## What it flags
/// A weight update (`loss.backward()`, an in-place update of `param.data`, or a call to a
/// function doing one) whose loss derives from validation data, placed before a
/// `torch.save`/compression/`quantize*` call of the same function and after no quantization or
/// compression there (an update after the artifact is produced adapts the exported model: the
/// TTT rules judge it). Updates of a scratch module the updating function builds itself
/// (`probe = nn.Linear(...)`) and never returns are not updates of the submitted model, nor are
/// adapters the updating functions attach and remove again (`lora_parameters(model)` trained,
/// then `detach_lora_adapters(model)`), nor are updates of weights the function copied before
/// updating and loads back after (`orig = {k: v.clone() for k, v in model.state_dict().items()}`
/// ... `model.load_state_dict(orig)`) wherever the updates ran. A quantization reached only through
/// a straight-through estimator (`return w + (dequantize(quantize(w)) - w).detach()`, fake
/// quantization in a forward pass) produces no artifact.
///
/// Severity follows the settings of the tests around the update, in the caller and in every
/// function the call reaches (``SettingTests``): behind several default-off flags
/// (`if args.ttt_enabled and args.ttt_causal:`) the flag with the least evidence decides; under a
/// flag on by default that the submission states off, a note; in the `else` arm of such a flag
/// (or under `not`), the update runs only when it is set off (set off: error; nothing stated:
/// warning; stated on: note); under a number compared with a bound its default does not pass
/// (`if k > 1:` with default 1, `not (args.phase2_seconds <= 0)`), it runs only with a stated
/// value that passes (error), else a note, or a warning when nothing states it; a local bound
/// once to such a test and otherwise only to the constant that fails it
/// (`switched = args.val_only or args.phase2_seconds <= 0`, `switched = True`) is that test.
/// Validation data that reaches a training step only inside the bodies of such tests (the loader
/// switched to the validation files under `if not switched:`) takes the most open of them.
///
/// ## Why
/// The artifact then carries information from the validation tokens it is scored on ("You
/// CANNOT access validation data during training"), and every token is adapted on before it is
/// scored (Issue #1017 C3).
///
/// ## Source
/// README FAQ; Issues #402 and #677 (@valerio-oai); Issue #677's list of the pre-quant TTT
/// cluster (#1376, #1485, #1487, #1488, #1489, #1517, #1539).
///
/// ## Legal example
/// Quantize and save first, then run score-first TTT on the dequantized model at evaluation.
///
/// ## Illegal example
/// `ttt_adapt(model, val_tokens, epochs=3)` followed by `quantize(model)` and `torch.save(...)`.
public enum PreQuantizationTTT: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-PREQUANT-TTT", name: "pre-quantization-ttt", severity: .error,
        summary: "Weights are updated on validation data before the artifact is quantized/serialized.",
        source: "README FAQ; Issues #402, #677 (@valerio-oai)")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        source.validationUpdates.compactMap { update in
            guard case .beforeSerialization(let serializationLine) = update.timing else { return nil }
            let name = source.analysis.index.functions[update.function].qualifiedName
            let what = update.event.via.map { "calls \(source.analysis.index.functions[$0].qualifiedName), which updates weights" }
                ?? "updates weights (\(update.event.detail))"
            var requirements = Self.gate(of: update, in: source).map { [Requirement($0)] } ?? []
            requirements += SettingTests(source: source).requirements(of: update)
            let decisive = requirements.min { $0.rank < $1.rank }
            return finding(source, line: update.event.line,
                "\(name) \(what) on validation data before the artifact is serialized/quantized at line \(serializationLine)"
                    + (decisive?.note ?? ""),
                severity: decisive?.severity(descriptor.severity) ?? descriptor.severity)
        }
    }

    /// The update runs only when every default-off flag of the tests around it is on
    /// (`if args.ttt_enabled and args.ttt_causal:`): the flag with the least evidence decides
    /// (one stated off: a note; one nothing states: a warning; all on: the rule's severity).
    static func gate(of update: ValidationUpdate, in source: AnalyzedSource) -> FeatureGate? {
        var variables = update.disabledBy.map { [$0] } ?? []
        for condition in update.event.conditions {
            let tests = condition.type == "BoolOp" && condition.child("op")?.type == "And" ? condition.children("values") : [condition]
            for test in tests {
                if let variable = source.analysis.flags.disablingVariable([test]), !variables.contains(variable) { variables.append(variable) }
            }
        }
        func strength(_ setting: FeatureSetting) -> Int {
            switch setting {
            case .off: 0
            case .codeDefault: 1
            case .on: 2
            }
        }
        return variables.compactMap { source.featureGate($0) }.min { strength($0.setting) < strength($1.setting) }
    }
}
