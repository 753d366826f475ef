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
/// all are stated on. Behind a test of a text setting for one value (`if h.eval_mode == "slot":`)
/// whose default, worked out from the settings it reads, is another value: the evidence decides
/// (stated that value: error; another: note; nothing: warning). A fit on one window's positions
/// before the span it scores (`y[0, :s]`, then `nll[0, s:wlen]`) is context-only SLOT: a
/// warning. A file whose validation-named values are all random (a smoke test) is not flagged.
/// A branch the logs show skipped (a later message such as `RUN_COMPLETE` logged, the branch's
/// own unconditional message not) did not run: a note. So does a script nothing beside the code
/// names while the folder's run commands run another script.
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
        // A file whose validation-named data are all random (a CPU smoke test) fits nothing on
        // the validation set.
        if RandomValidationData.onlyRandom(in: source.tree, aliases: source.analysis.index.aliases) { return [] }
        let leftOut = scriptLeftOut(source)
        return source.validationUpdates.compactMap { update in
            guard let variable = update.slotVariable else { return nil }
            if case .beforeSerialization = update.timing { return nil }
            let name = source.analysis.index.functions[update.function].qualifiedName
            if let leftOut {
                return finding(source, line: update.event.line,
                    "\(name) optimises `\(variable)` on validation data in a script the submitted runs do not run: \(leftOut)",
                    severity: .note)
            }
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
            if let skipped = branchSkippedInLogs(update, in: source) {
                return finding(source, line: update.event.line,
                    "\(name) optimises `\(variable)` on validation data in a branch that did not run in this submission: \(skipped)",
                    severity: .note)
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
            if update.disabledBy == nil, let gate = textGate(update, in: source) {
                return finding(source, line: update.event.line,
                    "\(name) optimises `\(variable)` on validation targets before scoring them (SLOT)" + gate.note,
                    severity: gate.severity(descriptor.severity))
            }
            if let bound = contextOnlyBound(update, in: source) {
                return finding(source, line: update.event.line,
                    "\(name) optimises `\(variable)` only on the positions of one window before `\(bound)`, where the span it " +
                    "scores starts, each scored by an earlier window (context-only SLOT, disputed in Issue #1336)" +
                    source.featureGate(update.disabledBy).note,
                    severity: source.featureGate(update.disabledBy).severity(.warning))
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
        source.environmentVariable(assignedTo: identifier) { arguments in
            arguments.count >= 2 && EnvironmentDefault.literalText(arguments[1]).map(onTexts.contains) == true
        }
    }

    private static let onTexts: Set<String> = ["1", "true", "True", "yes", "on"]

    /// Why a script of the folder does not run in the submitted runs: the README's run commands
    /// or the folder's shell scripts run another script of the folder, and nothing beside the code
    /// names this one (no other source file, the README, a shell script or a log). A module
    /// without an entry point may be imported, and is not judged here.
    private static func scriptLeftOut(_ source: AnalyzedSource) -> String? {
        guard ValidationUpdate.hasEntryPoint(source.tree) else { return nil }
        let folder = (source.file as NSString).deletingLastPathComponent
        let fileName = (source.file as NSString).lastPathComponent
        let stem = (fileName as NSString).deletingPathExtension
        var commandTexts: [(name: String, text: String, everyLine: Bool)] = []
        if let readme = source.documents.readme { commandTexts.append(("README.md", readme, false)) }
        for script in source.documents.shellScripts {
            let path = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(script)
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            let data = (try? handle.read(upToCount: 1 << 20)) ?? Data()
            try? handle.close()
            commandTexts.append((script, String(decoding: data, as: UTF8.self), true))
        }
        let mentions = commandTexts.map(\.text) + source.documents.logs.map(\.text)
        guard !mentions.contains(where: { FolderNameSearch.containsWord(stem, in: Substring($0)) }),
              !FolderNameSearch.isNamed(stem, inFolder: folder, except: (source.file, 0), otherFilesOnly: true) else { return nil }
        for command in commandTexts {
            var inFence = false
            for (number, rawLine) in command.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") { inFence.toggle(); continue }
                guard !line.hasPrefix("#"),
                      command.everyLine || inFence || line.contains("torchrun") || line.contains("python") else { continue }
                for token in line.split(whereSeparator: { " \t`;\"'=".contains($0) }) where token.hasSuffix(".py") {
                    let other = (String(token) as NSString).lastPathComponent
                    let path = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(other)
                    guard other != fileName, FileManager.default.fileExists(atPath: path) else { continue }
                    return "\(command.name):\(number + 1) runs \(other) (`\(line)`), and nothing beside the code names \(fileName)"
                }
            }
        }
        return nil
    }

    /// Where the logs show that an `if` branch holding the update did not run: the branch writes
    /// a message whenever it runs (a logging call with a literal text, under no further test or
    /// loop, before the update), the function writes a message of its own after the branch
    /// (`log0("RUN_COMPLETE")`), some log shows that later message, and no log shows any of the
    /// branch's messages. Texts another logging call of the module also starts with prove nothing.
    private static func branchSkippedInLogs(_ update: ValidationUpdate, in source: AnalyzedSource) -> String? {
        let logs = source.documents.logs
        guard !logs.isEmpty else { return nil }
        var outer = update.function
        while let parent = source.analysis.index.functions[outer].enclosingFunction { outer = parent }
        let body = source.analysis.index.functions[outer].node
        let line = update.event.line
        var everyText: [String] = []
        source.tree.walk { node in if let text = loggedText(node) { everyText.append(text) } }
        func distinctive(_ text: String) -> Bool {
            text.count >= 8 && everyText.filter { $0.contains(text) }.count == 1
        }
        var branches: [PyNode] = []
        body.walk { node in
            guard node.type == "If", let first = node.children("body").first, let last = node.children("body").last,
                  first.line <= line, last.endLine >= line else { return }
            branches.append(node)
        }
        for branch in branches {
            let written = unconditional(branch.children("body")).filter { $0.line < line }.compactMap(loggedText)
            let later = unconditional(body.children("body")).filter { $0.line > branch.endLine }.compactMap(loggedText)
                .filter(distinctive)
            guard !written.isEmpty, !later.isEmpty,
                  !logs.contains(where: { log in written.contains { log.text.contains($0) } }),
                  let witness = logs.first(where: { log in later.contains { log.text.contains($0) } }),
                  let reached = later.first(where: { witness.text.contains($0) }) else { continue }
            let others = logs.count > 1 ? " (nor do the other \(logs.count - 1) logs)" : ""
            return "\(witness.name) shows `\(reached)`, written after the branch at line \(branch.line), but not " +
                "`\(written[0])`, which the branch writes whenever it runs\(others)"
        }
        return nil
    }

    /// The statements of `block` that run whenever the block does: its own, and those of the
    /// `try` and `with` blocks in it.
    private static func unconditional(_ block: [PyNode]) -> [PyNode] {
        block.flatMap { statement -> [PyNode] in
            ["Try", "TryStar", "With", "AsyncWith"].contains(statement.type)
                ? [statement] + unconditional(statement.children("body")) : [statement]
        }
    }

    /// The literal start of the message a logging statement writes (`log0(f"slot:starting
    /// mode={m}")` writes `slot:starting mode=`), for an expression statement calling a function
    /// named for logging or printing.
    private static func loggedText(_ statement: PyNode) -> String? {
        guard statement.type == "Expr", let call = statement.child("value"), call.type == "Call",
              let callee = call.terminalName?.lowercased(),
              callee.contains("log") || callee.contains("print") || callee == "info",
              var message = call.children("args").first else { return nil }
        while message.type == "BinOp", let left = message.child("left") { message = left }
        if let text = message.stringLiteral { return text }
        guard message.type == "JoinedStr" else { return nil }
        var text = ""
        for part in message.children("values") {
            guard let literal = part.stringLiteral else { break }
            text += literal
        }
        return text.isEmpty ? nil : text
    }

    /// The bound `s` when the update's loss reads its targets only through a slice of one window
    /// that ends at `s` (`y[0, :s]`, `y.squeeze(0)[:s]`, through names assigned in the function)
    /// and the function then scores a slice starting at `s` (`nll[0, s:wlen]`) in the same loop:
    /// the fit sees only the context before the span the window scores, positions an earlier
    /// window of the sliding evaluation scored. A batch of windows (`y[:, :s]`, `y[i, :s]`, a
    /// mask) is not one window: a delta shared by consecutive windows is fitted on contexts that
    /// hold the previous windows' scored spans.
    private static func contextOnlyBound(_ update: ValidationUpdate, in source: AnalyzedSource) -> String? {
        let body = source.analysis.index.functions[update.function].node
        let line = update.event.line
        func resolved(_ node: PyNode) -> PyNode {
            var current = node
            for _ in 0..<4 {
                guard current.type == "Name", let name = current.string("id"),
                      let value = lastAssignment(to: name, in: body, atOrBefore: line) else { break }
                current = value
            }
            return current
        }
        var losses: [PyNode] = []
        func collectLosses(_ expression: PyNode, depth: Int) {
            expression.walk { node in
                if node.type == "Call", let name = node.terminalName, lossFunctions.contains(name) { losses.append(node) }
                if depth > 0, node.type == "Name", let name = node.string("id"),
                   let value = lastAssignment(to: name, in: body, atOrBefore: line) {
                    collectLosses(value, depth: depth - 1)
                }
            }
        }
        body.walk { node in
            guard node.type == "Call", node.line == line, let function = node.child("func"), function.type == "Attribute",
                  function.string("attr") == "backward", let receiver = function.child("value") else { return }
            collectLosses(receiver, depth: 3)
        }
        guard !losses.isEmpty else { return nil }
        var bound: PyNode?
        for loss in losses {
            let arguments = loss.children("args")
            guard let target = arguments.count >= 2 ? arguments[1]
                    : loss.children("keywords").first(where: { $0.string("arg") == "target" })?.child("value"),
                  let upper = windowContextEnd(resolved(target), resolve: resolved) else { return nil }
            if let bound, !sameExpression(bound, upper) { return nil }
            bound = upper
        }
        guard let bound else { return nil }
        let end = update.event.loops.first?.endLine ?? body.endLine
        let scores = source.analysis.events[update.function].filter { $0.kind == .score && $0.line > line && $0.line <= end }
        var scoredFromBound = false
        body.walk { node in
            guard !scoredFromBound, node.type == "Subscript", node.line > line, node.line <= end,
                  let slice = node.child("slice") else { return }
            let last = slice.type == "Tuple" ? slice.children("elts").last : slice
            guard let last, last.type == "Slice", let lower = last.child("lower"), sameExpression(lower, bound),
                  scores.contains(where: { $0.line >= node.line }) else { return }
            scoredFromBound = true
        }
        guard scoredFromBound else { return nil }
        return bound.dottedName ?? EnvironmentDefault.literalText(bound) ?? "the same bound"
    }

    private static let lossFunctions: Set<String> = ["cross_entropy", "nll_loss"]

    /// The end of a slice of one window's positions: `t[0, a:s]`, or `t[a:s]` of one window taken
    /// out of a batch (`y.squeeze(0)`, `y[0]`).
    private static func windowContextEnd(_ target: PyNode, resolve: (PyNode) -> PyNode) -> PyNode? {
        guard target.type == "Subscript", let slice = target.child("slice"), let base = target.child("value") else { return nil }
        let positions: PyNode
        if slice.type == "Tuple" {
            let elements = slice.children("elts")
            guard elements.count == 2, elements[0].constant == .int("0") else { return nil }
            positions = elements[1]
        } else {
            let window = resolve(base)
            let squeezed = window.type == "Call" && window.child("func")?.string("attr") == "squeeze"
            let indexed = window.type == "Subscript" && window.child("slice")?.constant == .int("0")
            guard squeezed || indexed else { return nil }
            positions = slice
        }
        guard positions.type == "Slice", positions.child("step") == nil else { return nil }
        return positions.child("upper")
    }

    /// The value last assigned to the plain name `name` in `body` at or before `line`.
    private static func lastAssignment(to name: String, in body: PyNode, atOrBefore line: Int) -> PyNode? {
        var value: PyNode?
        body.walk { node in
            guard node.type == "Assign", node.line <= line,
                  node.children("targets").contains(where: { $0.type == "Name" && $0.string("id") == name }) else { return }
            value = node.child("value")
        }
        return value
    }

    /// Whether two expressions are written alike (names, attributes, literals and operators).
    private static func sameExpression(_ left: PyNode, _ right: PyNode) -> Bool {
        guard left.type == right.type, left.string("id") == right.string("id"), left.string("attr") == right.string("attr"),
              left.constant == right.constant else { return false }
        let leftChildren = left.childNodes, rightChildren = right.childNodes
        return leftChildren.count == rightChildren.count && zip(leftChildren, rightChildren).allSatisfy(sameExpression)
    }

    /// The gate of a text setting the update's branch tests for one value (`if h.eval_mode ==
    /// "slot":` with `eval_mode = os.environ.get("EVAL_MODE", ...)`) when the setting's default,
    /// worked out with the settings it reads at their stated values or else their code defaults
    /// (`"slot" if os.environ.get("SLOT_ENABLED", "0") == "1" else "sliding"`), is another
    /// value: on when the submission states that value, off when it states another, the code
    /// default otherwise. Nil when the default is that value or cannot be worked out.
    private static func textGate(_ update: ValidationUpdate, in source: AnalyzedSource) -> FeatureGate? {
        var tests: [PyNode] = []
        for condition in update.event.conditions {
            if condition.type == "BoolOp", condition.child("op")?.type == "And" {
                tests += condition.children("values")
            } else {
                tests.append(condition)
            }
        }
        let settings = TextSettings(source: source)
        for test in tests {
            guard test.type == "Compare", test.children("ops").map(\.type) == ["Eq"],
                  let left = test.child("left"), let right = test.children("comparators").first else { continue }
            let (setting, literal) = left.stringLiteral == nil ? (left, right.stringLiteral) : (right, left.stringLiteral)
            guard let literal, setting.type == "Name" || setting.type == "Attribute", let identifier = setting.terminalName,
                  let read = source.environmentRead(assignedTo: identifier) else { continue }
            let gate = "\(read.variable)=\(literal)"
            if let stated = settings.stated(read.variable, identifier: identifier) {
                return FeatureGate(variable: gate, setting: stated.value == literal.lowercased() ? .on(evidence: stated.evidence) : .off(evidence: stated.evidence))
            }
            guard let value = settings.evaluate(read.value), value != literal else { continue }
            return FeatureGate(variable: gate, setting: .codeDefault)
        }
        return nil
    }
}
