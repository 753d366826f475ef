import Foundation

/// PG-SLOT — per-window parameters optimised against the window's own targets at evaluation.
///
/// ## What it flags
/// A function that creates a fresh tensor with `requires_grad=True` (a hidden-state delta, a
/// logit bias), hands it to an optimizer and updates it from validation data before scoring
/// that data (error); when the window is scored first, a warning (context-only SLOT, disputed).
/// In a script, a function never called or named elsewhere in its file or folder does not run:
/// a note. A fitting loop counted by a setting (`for _ in range(SLOT_STEPS)`) that the logs, a
/// README command or submission.json state as 0 never fits anything: a note. In the `else` arm
/// of a test of settings that all default on (`use_lbfgs = args.slot_lbfgs and args.slot_causal`),
/// the update runs only when one is set off: a warning when nothing states them, a note when
/// all are stated on.
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
            if runsNowhere(update, in: source) {
                return finding(source, line: update.event.line,
                    "\(name) optimises `\(variable)` on validation data; \(name) is never called or named elsewhere " +
                    "in this file or its folder, so it does not run", severity: .note)
            }
            if let zero = stepsStatedZero(update, in: source) {
                return finding(source, line: update.event.line,
                    "\(name) optimises `\(variable)` on validation data in a loop of \(zero.variable) steps, " +
                    "0 in this submission (\(zero.evidence)), so it is never fitted", severity: .note)
            }
            if let alternative = elseOfDefaultOn(update, in: source) {
                let settings = alternative.map { source.documents.setting(of: $0.variable, aliases: [$0.identifier]) }
                if !settings.contains(where: { if case .off = $0 { return true }; return false }) {
                    let names = alternative.map(\.variable).joined(separator: " or ")
                    let allOn = settings.allSatisfy { if case .on = $0 { return true }; return false }
                    let evidence = settings.compactMap { setting -> String? in
                        if case .on(let evidence) = setting { return evidence }; return nil
                    }.joined(separator: "; ")
                    return finding(source, line: update.event.line,
                        "\(name) optimises `\(variable)` on validation data only when \(names) is set to 0 " +
                        (allOn ? "(on in this submission: \(evidence)), so it does not run"
                               : "(on by default; no log, README command or submission.json states it, so only the code default is known)"),
                        severity: allOn ? .note : .warning)
                }
            }
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

    /// The update sits in a top-level function of a script that is named nowhere outside its own
    /// body, and no other source file of the folder names it (it may be imported and called there).
    private static func runsNowhere(_ update: ValidationUpdate, in source: AnalyzedSource) -> Bool {
        guard update.neverUsed else { return false }
        let function = source.analysis.index.functions[update.function]
        return !FolderNameSearch.isNamed(function.name, inFolder: (source.file as NSString).deletingLastPathComponent,
                                         except: (source.file, function.node.line), otherFilesOnly: true)
    }

    /// The setting that counts the steps of a loop around the update (`for _ in range(SLOT_STEPS)`,
    /// `range(args.slot_steps)` with `slot_steps = int(os.environ.get("SLOT_STEPS", 8))`), when
    /// the submission states it 0.
    private static func stepsStatedZero(_ update: ValidationUpdate, in source: AnalyzedSource) -> (variable: String, evidence: String)? {
        let body = source.analysis.index.functions[update.function].node
        for loop in update.event.loops {
            var count: PyNode?
            body.walk { node in
                guard count == nil, node.type == "For" || node.type == "AsyncFor", node.line == loop.line,
                      let iterable = node.child("iter"), iterable.type == "Call",
                      iterable.child("func")?.dottedName == "range", iterable.children("args").count == 1 else { return }
                count = iterable.children("args")[0]
            }
            guard let count, count.type != "Call", let identifier = count.terminalName,
                  let variable = source.environmentVariable(assignedTo: identifier),
                  let stated = source.documents.statedCount(of: variable, identifier: identifier),
                  stated.value == 0 else { continue }
            return (variable, stated.evidence)
        }
        return nil
    }

    /// The settings, each on by default, whose test the update sits in the `else` arm of
    /// (`if use_lbfgs: ... else: <update>` with `use_lbfgs = args.slot_lbfgs and args.slot_causal`
    /// and `slot_lbfgs = bool(int(os.environ.get("SLOT_LBFGS", "1")))`): that arm runs only when
    /// one of them is set off.
    private static func elseOfDefaultOn(_ update: ValidationUpdate, in source: AnalyzedSource) -> [(variable: String, identifier: String)]? {
        let body = source.analysis.index.functions[update.function].node
        let line = update.event.line
        var tests: [PyNode] = []
        body.walk { node in
            guard node.type == "If", let test = node.child("test"),
                  let first = node.children("orelse").first, let last = node.children("orelse").last,
                  first.line <= line, last.endLine >= line else { return }
            tests.append(test)
        }
        for test in tests {
            var operands = [test]
            if test.type == "Name", let value = assignedValue(of: test.string("id") ?? "", in: body) { operands = [value] }
            if operands[0].type == "BoolOp", operands[0].child("op")?.type == "And" { operands = operands[0].children("values") }
            var settings: [(variable: String, identifier: String)] = []
            for operand in operands {
                guard operand.type == "Name" || operand.type == "Attribute", let identifier = operand.terminalName,
                      let variable = onByDefaultVariable(assignedTo: identifier, in: source) else { settings = []; break }
                settings.append((variable, identifier))
            }
            if !settings.isEmpty { return settings }
        }
        return nil
    }

    /// The value last assigned to the plain name `name` in `body`.
    private static func assignedValue(of name: String, in body: PyNode) -> PyNode? {
        var value: PyNode?
        body.walk { node in
            guard node.type == "Assign", node.children("targets").contains(where: { $0.type == "Name" && $0.string("id") == name }) else { return }
            value = node.child("value")
        }
        return value
    }

    /// The environment variable read into `identifier` with a default that is on (`"1"`, `True`).
    private static func onByDefaultVariable(assignedTo identifier: String, in source: AnalyzedSource) -> String? {
        var variable: String?
        source.tree.walk { node in
            guard variable == nil, node.type == "Assign" || node.type == "AnnAssign", let value = node.child("value") else { return }
            let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
            guard targets.contains(where: { $0.terminalName == identifier }) else { return }
            value.walk { inner in
                guard variable == nil, inner.type == "Call",
                      let callee = source.analysis.index.aliases.resolve(inner.child("func")),
                      callee == "os.environ.get" || callee == "os.getenv",
                      inner.children("args").count >= 2, let name = inner.children("args")[0].stringLiteral,
                      let text = EnvironmentDefault.literalText(inner.children("args")[1]),
                      ["1", "true", "True", "yes", "on"].contains(text) else { return }
                variable = name
            }
        }
        return variable
    }
}
