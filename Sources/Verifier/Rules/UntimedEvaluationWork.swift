import Foundation

/// PG-EVAL-UNTIMED — evaluation work on validation data done before the evaluation timer starts.
///
/// ## What it flags
/// In one function: a clock read (`t = time.perf_counter()`, `time.time()`, `time.monotonic()`) whose
/// elapsed time (`time.perf_counter() - t`) is an evaluation time (the statement that takes it, or a
/// statement reading the name it binds, mentions `eval`), and a value computed from validation data
/// before that clock read (`hints = precompute(h, val_data)`) which a call between the clock read and
/// the elapsed time passes to a function of the module that scores with it (the value's content, not
/// only its extent, reaches that function's scoring). Loading the validation tokens themselves
/// (a value named as validation data) and positions or sizes (document spans, token counts) are not
/// flagged: they reach scoring only as extents.
///
/// ## Why
/// "Evaluation (including TTT, n-gram precompute, SLOT) must take ≤ 600 s on 8×H100". Work the
/// score depends on, done before the timer starts, is evaluation time the logged `eval_time` leaves
/// out, so the log does not show the evaluation within its limit.
///
/// ## Source
/// README FAQ (evaluation time restrictions); compliance guide §9 (PR #2135 discloses precompute done
/// outside the eval timer, `NGRAM_HINT_PRECOMPUTE_OUTSIDE`).
///
/// ## Legal example
/// `t = time.perf_counter(); hints = precompute(h, val_data); loss = eval_ttt(model, val_data, hints)`;
/// `log(f"eval_time:{time.perf_counter() - t}")`: the precompute is timed.
///
/// ## Illegal example
/// `hints = precompute(h, val_data)`; then `t = time.perf_counter(); loss = eval_ttt(model, val_data,
/// hints)`; `log(f"eval_time:{time.perf_counter() - t}")`.
public enum UntimedEvaluationWork: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-EVAL-UNTIMED", name: "untimed-evaluation-work", severity: .error,
        summary: "Work on validation data that the timed evaluation scores with is done before its timer starts.",
        source: "README FAQ (evaluation time); compliance guide §9 (PR #2135)", recordTrackOnly: true)

    static let clocks: Set<String> = [
        "time.perf_counter", "time.time", "time.monotonic", "time.perf_counter_ns", "time.monotonic_ns",
    ]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        let analysis = source.analysis
        var findings: [Finding] = []
        var reported: Set<Int> = []
        for function in analysis.index.functions.indices {
            let body = analysis.index.functions[function].node
            let statements = Self.statements(of: body)
            let topLevel = Set(body.children("body").map(\.line))
            for timer in evaluationTimers(statements, aliases: analysis.index.aliases) {
                for use in scoredNames(in: statements, between: timer.start, and: timer.end, function: function, analysis: analysis) {
                    for definition in definitions(of: use.name, before: timer.start, in: statements, topLevel: topLevel) {
                    guard computesFromValidation(definition, function: function, analysis: analysis),
                          reported.insert(definition.line).inserted else { continue }
                    let gate = Self.gate(of: definition, in: function, source: source)
                    findings.append(finding(source, line: definition.line,
                        "`\(use.name)` is computed from validation data here, before the evaluation timer `\(timer.name)` starts at line \(timer.start), "
                        + "and \(use.callee) scores with it at line \(use.line) inside the timed span (to line \(timer.end)): evaluation work the logged time leaves out"
                        + gate.note,
                        severity: gate.severity))
                    }
                }
            }
        }
        return findings
    }

    /// A timed span: the clock read bound to `name` at `start`, the elapsed time taken at `end`.
    struct Timer {
        var name: String
        var start: Int
        var end: Int
    }

    /// The function's statements in source order, compound statements' bodies included, nested
    /// definitions left out (their bodies are not run where they are written).
    static func statements(of function: PyNode) -> [PyNode] {
        var result: [PyNode] = []
        func visit(_ body: [PyNode]) {
            for statement in body {
                if ["FunctionDef", "AsyncFunctionDef", "ClassDef", "Lambda"].contains(statement.type) { continue }
                result.append(statement)
                for field in ["body", "orelse", "finalbody"] { visit(statement.children(field)) }
                for handler in statement.children("handlers") { visit(handler.children("body")) }
                for match in statement.children("cases") { visit(match.children("body")) }
            }
        }
        visit(function.children("body"))
        return result
    }

    static let compound: Set<String> = ["If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match"]

    /// Clock reads whose elapsed time is an evaluation time.
    static func evaluationTimers(_ statements: [PyNode], aliases: ImportAliases) -> [Timer] {
        func isClock(_ node: PyNode?) -> Bool {
            guard let node, node.type == "Call", let callee = aliases.resolve(node.child("func")) else { return false }
            return clocks.contains(callee)
        }
        var timers: [Timer] = []
        for (position, statement) in statements.enumerated() {
            guard statement.type == "Assign", statement.children("targets").count == 1,
                  let target = statement.children("targets").first, target.type == "Name",
                  let name = target.string("id"), isClock(statement.child("value")) else { continue }
            // The first statement after it that takes the elapsed time against it.
            var elapsed: PyNode?
            for later in statements[(position + 1)...] where !compound.contains(later.type) {
                var found = false
                later.walk { node in
                    guard !found, node.type == "BinOp", node.child("op")?.type == "Sub",
                          isClock(node.child("left")), node.child("right")?.type == "Name",
                          node.child("right")?.string("id") == name else { return }
                    found = true
                }
                if found { elapsed = later; break }
                // Rebinding the clock name starts another span.
                if later.type == "Assign", later.children("targets").contains(where: { $0.type == "Name" && $0.string("id") == name }) { break }
            }
            guard let elapsed else { continue }
            var texts = [elapsed]
            if elapsed.type == "Assign", let bound = elapsed.children("targets").first, bound.type == "Name",
               let boundName = bound.string("id") {
                texts += statements.filter { $0.line > elapsed.line && !compound.contains($0.type) && mentions($0, name: boundName) }
            }
            let evaluation = name.lowercased().contains("eval") || texts.contains { mentionsEvaluation($0) }
            if evaluation { timers.append(Timer(name: name, start: statement.line, end: elapsed.endLine)) }
        }
        return timers
    }

    static func mentions(_ statement: PyNode, name: String) -> Bool {
        var found = false
        statement.walk { node in if node.type == "Name", node.string("id") == name { found = true } }
        return found
    }

    /// An identifier or string in the statement says `eval` (`eval_time:`, `total_eval_ms`).
    static func mentionsEvaluation(_ statement: PyNode) -> Bool {
        var found = false
        statement.walk { node in
            guard !found else { return }
            let text: String? = switch node.type {
            case "Name": node.string("id")
            case "Attribute": node.string("attr")
            case "Constant": node.stringLiteral
            default: nil
            }
            if let text, text.lowercased().contains("eval") { found = true }
        }
        return found
    }

    /// A name passed, inside the timed span, to a module function that scores its content.
    struct ScoredUse {
        var name: String
        var line: Int
        var callee: String
    }

    static func scoredNames(in statements: [PyNode], between start: Int, and end: Int, function: Int,
                            analysis: ModuleAnalysis) -> [ScoredUse] {
        let index = analysis.index
        let className = index.functions[function].className
        var uses: [ScoredUse] = []
        for statement in statements where statement.line > start && statement.line <= end {
            var calls: [PyNode] = []
            if compound.contains(statement.type) {
                for field in ["test", "iter", "items"] {
                    for part in [statement.child(field)].compactMap({ $0 }) + statement.children(field) { part.walk { if $0.type == "Call" { calls.append($0) } } }
                }
            } else {
                statement.walk { if $0.type == "Call" { calls.append($0) } }
            }
            for call in calls {
                guard let callee = call.child("func"), let target = index.resolve(callee: callee, enclosingClass: className),
                      let scored = analysis.summaries[target].events[.score]?.parameters, !scored.isEmpty else { continue }
                let parameters = index.functions[target].parameters
                let offset = index.functions[target].className != nil && callee.type == "Attribute" && parameters.first == "self" ? 1 : 0
                var passed: [(position: Int, argument: PyNode)] = call.children("args").enumerated()
                    .filter { $0.element.type != "Starred" }.map { ($0.offset + offset, $0.element) }
                for keyword in call.children("keywords") {
                    if let name = keyword.string("arg"), let position = parameters.firstIndex(of: name), let value = keyword.child("value") {
                        passed.append((position, value))
                    }
                }
                for (position, argument) in passed where scored.contains(position) {
                    // Names inside the argument too (`torch.log(counts + 1)`), not the callee of a call.
                    var names: [String] = []
                    argument.walk { node in
                        if node.type == "Name", let name = node.string("id") { names.append(name) }
                    }
                    var callees: Set<String> = []
                    argument.walk { node in
                        if node.type == "Call", let function = node.child("func"), function.type == "Name",
                           let name = function.string("id") { callees.insert(name) }
                    }
                    for name in names where !callees.contains(name) && !DataSourceNames.labels(forIdentifier: name).contains(.validation) {
                        uses.append(ScoredUse(name: name, line: call.line, callee: index.functions[target].qualifiedName))
                    }
                }
            }
        }
        return uses
    }

    /// The assignments from a call that may bind `name` when `line` is reached: walking back from
    /// `line`, each one, until one in the function's own body (not inside a branch or loop), which
    /// every path passes. A copy (`b = a`) stands for the assignments of what it copies.
    static func definitions(of name: String, before line: Int, in statements: [PyNode], topLevel: Set<Int>,
                            depth: Int = 0) -> [PyNode] {
        var found: [PyNode] = []
        for statement in statements.reversed() where statement.line < line && statement.type == "Assign" {
            let binds = statement.children("targets").contains { target in
                (target.type == "Name" && target.string("id") == name)
                    || (target.type == "Tuple" && target.children("elts").contains { $0.type == "Name" && $0.string("id") == name })
            }
            guard binds, let value = statement.child("value") else { continue }
            if value.type == "Call" {
                found.append(statement)
            } else if value.type == "Name", let copied = value.string("id"), copied != name, depth < 4 {
                found += definitions(of: copied, before: statement.line, in: statements, topLevel: topLevel, depth: depth + 1)
            }
            if topLevel.contains(statement.line) { break }
        }
        return found
    }

    /// Whether the call assigned by `definition` returns something computed from the content of
    /// validation data it is given: a validation argument whose content the module function
    /// returns, or any validation argument of a call the module does not define.
    static func computesFromValidation(_ definition: PyNode, function: Int, analysis: ModuleAnalysis) -> Bool {
        guard let call = definition.child("value"), let callee = call.child("func") else { return false }
        let index = analysis.index
        let parameters = index.functions[function].parameters
        func isValidation(_ argument: PyNode) -> Bool {
            var found = false
            argument.walk { node in
                let name: String? = switch node.type {
                case "Name": node.string("id")
                case "Attribute": node.string("attr")
                default: nil
                }
                guard let name else { return }
                if DataSourceNames.labels(forIdentifier: name).contains(.validation) { found = true }
                if node.type == "Name", let position = parameters.firstIndex(of: name),
                   position < analysis.incoming[function].count,
                   analysis.incoming[function][position].intrinsic.contains(.validation) { found = true }
            }
            return found
        }
        // File names and patterns are how validation data is loaded, not computed from.
        func isContent(_ argument: PyNode) -> Bool {
            var names: [String] = []
            argument.walk { node in
                if node.type == "Name", let id = node.string("id") { names.append(id.lowercased()) }
                if node.type == "Attribute", let attr = node.string("attr") { names.append(attr.lowercased()) }
            }
            return !names.contains { $0.hasPrefix("val_file") || $0.hasSuffix("_pattern") || $0.hasSuffix("_path") }
        }
        let className = index.functions[function].className
        guard let target = index.resolve(callee: callee, enclosingClass: className) else {
            return (call.children("args") + call.children("keywords").compactMap { $0.child("value") })
                .contains { isValidation($0) && isContent($0) }
        }
        let returned = Set(analysis.summaries[target].returns.parameters)
        let targetParameters = index.functions[target].parameters
        let offset = index.functions[target].className != nil && callee.type == "Attribute" && targetParameters.first == "self" ? 1 : 0
        for (position, argument) in call.children("args").enumerated() where argument.type != "Starred" {
            if returned.contains(position + offset), isValidation(argument), isContent(argument) { return true }
        }
        for keyword in call.children("keywords") {
            guard let name = keyword.string("arg"), let position = targetParameters.firstIndex(of: name),
                  let value = keyword.child("value") else { continue }
            if returned.contains(position), isValidation(value), isContent(value) { return true }
        }
        return false
    }

    /// How the settings guarding the definition change the finding. Any flag of the guarding
    /// tests (`if h.ngram_tilt_enabled and h.ngram_hint_precompute_outside:`) that the submission's
    /// logs, README or submission.json state off, whatever its code default: a note. Otherwise a
    /// default-off feature by its evidence (``FeatureGate``).
    static func gate(of definition: PyNode, in function: Int, source: AnalyzedSource) -> (severity: Severity, note: String) {
        let analysis = source.analysis
        let conditions = ModuleAnalysis.conditions(around: definition.line, in: analysis.index.functions[function].node)
        let onByDefault = Self.onByDefaultFlags(source)
        let guards = requiredFlags(of: definition, in: function, analysis: analysis)
        for condition in conditions + guards {
            var tests = [condition]
            if condition.type == "BoolOp", condition.child("op")?.type == "And" { tests = condition.children("values") }
            for test in tests {
                guard let name = flagName(test) else { continue }
                let offByDefault = analysis.flags.disabled[name]
                guard let variable = offByDefault ?? onByDefault[name],
                      case .off(let evidence) = source.documents.setting(of: variable, aliases: [name]) else { continue }
                let codeDefault = offByDefault == nil ? "on" : "off"
                return (.note, " (only when \(variable) is set; \(codeDefault) by default in the code, and off in this submission: \(evidence))")
            }
        }
        if let off = source.featureGate(analysis.flags.disablingVariable(conditions + guards)) {
            return (off.severity(descriptor.severity), off.note)
        }
        return (descriptor.severity, "")
    }

    /// Flags the called function requires: its body opens with `if not flag: return ...`, so it
    /// computes nothing unless the flag is set (`if not args.paid_prefix_file: return None`).
    static func requiredFlags(of definition: PyNode, in function: Int, analysis: ModuleAnalysis) -> [PyNode] {
        guard let callee = definition.child("value")?.child("func"),
              let target = analysis.index.resolve(callee: callee, enclosingClass: analysis.index.functions[function].className)
        else { return [] }
        var flags: [PyNode] = []
        for statement in analysis.index.functions[target].node.children("body") {
            if statement.type == "Expr", statement.child("value")?.stringLiteral != nil { continue }  // docstring
            guard statement.type == "If", let test = statement.child("test"), test.type == "UnaryOp",
                  test.child("op")?.type == "Not", let flag = test.child("operand"),
                  statement.children("body").last?.type == "Return" else { break }
            flags.append(flag)
        }
        return flags
    }

    /// The flag a test reads: `flag`, `h.flag`, `getattr(h, "flag", default)`.
    static func flagName(_ test: PyNode) -> String? {
        if test.type == "Name" || test.type == "Attribute" { return test.terminalName }
        if test.type == "Call", test.child("func")?.dottedName == "getattr" {
            return test.children("args").dropFirst().first?.stringLiteral
        }
        return nil
    }

    /// Identifiers assigned from an environment read with a non-off default (`bool(int(os.environ.get("X", "1")))`).
    static func onByDefaultFlags(_ source: AnalyzedSource) -> [String: String] {
        var flags: [String: String] = [:]
        let aliases = source.analysis.index.aliases
        for node in source.nodes where node.type == "Assign" {
            guard let value = node.child("value"), FeatureFlags.offByDefaultVariable(in: value, aliases: aliases) == nil else { continue }
            var variable: String?
            value.walk { inner in
                guard variable == nil, inner.type == "Call", let callee = aliases.resolve(inner.child("func")),
                      callee == "os.environ.get" || callee == "os.getenv",
                      let name = inner.children("args").first?.stringLiteral, inner.children("args").count >= 2 else { return }
                variable = name
            }
            guard let variable else { continue }
            for target in node.children("targets") { if let name = target.terminalName { flags[name] = variable } }
        }
        return flags
    }
}
