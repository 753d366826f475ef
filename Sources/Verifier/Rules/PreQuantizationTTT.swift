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
/// then `detach_lora_adapters(model)`).
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
            return finding(source, line: update.event.line,
                "\(name) \(what) on validation data before the artifact is serialized/quantized at line \(serializationLine)" + source.featureGate(update.disabledBy).note,
                severity: source.featureGate(update.disabledBy).severity(descriptor.severity))
        }
    }
}
