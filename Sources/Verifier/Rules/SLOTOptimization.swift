/// PG-SLOT — per-window parameters optimised against the window's own targets at evaluation.
///
/// ## What it flags
/// A function that creates a fresh tensor with `requires_grad=True` (a hidden-state delta, a
/// logit bias), hands it to an optimizer and updates it from validation data before scoring
/// that data (error); when the window is scored first, a warning (context-only SLOT, disputed).
///
/// ## Why
/// The parameters are fitted to the very targets they then help predict (Issue #1017 C1/C3);
/// PR #1240's flip-a-target harness showed 100% of tested positions change their score.
///
/// ## Source
/// Issue #1336; PR #1240 (empirical proof); closures of #1229 and #1329.
///
/// ## Legal example
/// No eval-time optimisation, or score-first TTT of the model's own weights.
///
/// ## Illegal example
/// `delta = torch.zeros(1, 1, d, requires_grad=True)`; `opt = torch.optim.AdamW([delta])`;
/// optimise `loss(model(x) + delta, y)`; then score `y` with the optimised delta.
public enum SLOTOptimization: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-SLOT", name: "slot-eval-optimization", severity: .error,
        summary: "Eval-time parameters (delta/logit bias) are optimised on the targets they then score.",
        source: "Issue #1336; PR #1240")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        source.validationUpdates.compactMap { update in
            guard let variable = update.slotVariable else { return nil }
            if case .beforeSerialization = update.timing { return nil }
            let name = source.analysis.index.functions[update.function].qualifiedName
            if case .scoreFirst = update.timing {
                return finding(source, line: update.event.line,
                    "\(name) optimises `\(variable)` on validation data after scoring it (context-only SLOT, disputed in Issue #1336)" + source.featureGate(update.disabledBy).note,
                    severity: source.featureGate(update.disabledBy).severity(.warning))
            }
            return finding(source, line: update.event.line,
                "\(name) optimises `\(variable)` on validation targets before scoring them (SLOT)" + source.featureGate(update.disabledBy).note,
                severity: source.featureGate(update.disabledBy).severity(descriptor.severity))
        }
    }
}
