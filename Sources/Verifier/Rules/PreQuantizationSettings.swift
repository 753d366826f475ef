/// A condition a PG-PREQUANT-TTT update runs under, with what the submission's evidence says of
/// it: `rank` 2 when on (the rule's severity), 1 when nothing states it (a warning), 0 when it is
/// stated off (a note). `note` is appended to the finding's message.
struct Requirement: Equatable {
    var rank: Int
    var note: String

    init(rank: Int, note: String) {
        self.rank = rank
        self.note = note
    }

    init(_ gate: FeatureGate) {
        switch gate.setting {
        case .on: rank = 2
        case .codeDefault: rank = 1
        case .off: rank = 0
        }
        note = gate.note
    }

    func severity(_ normal: Severity) -> Severity {
        switch rank {
        case 2...: return normal
        case 1: return min(normal, .warning)
        default: return .note
        }
    }
}

/// The settings the `if` tests around a PG-PREQUANT-TTT update read, in the caller and inside
/// every function the call reaches, and what the evidence beside the code says of each:
/// - a flag off by default tested positively (as ``FeatureFlags`` reads it);
/// - a flag on by default (`use_lora_ttt = bool(int(os.environ.get("USE_LORA_TTT", "1")))`):
///   under `if args.use_lora_ttt:` the update does not run when the submission states it off; in
///   the `else` arm (or under `not`) it runs only when the submission sets it off;
/// - a number compared with a bound its default does not pass (`if k > 1:` with
///   `k = args.soup_k` and `SOUP_K` default 1; `not (args.phase2_seconds <= 0)`): the update runs
///   only when the submission states a value that passes;
/// - a local name bound once to such a test and otherwise only to the constant that fails it
///   (`switched = args.val_only or args.phase2_seconds <= 0`, later `switched = True`;
///   `if not switched:`) is that test. `and`/`or`/`not` combine them: every operand of `a and b`
///   must hold, every operand of `a or b` must fail.
struct SettingTests {
    let source: AnalyzedSource

    /// The requirements of the tests around `update`, through every call on its way, and of
    /// the tests under which validation data reaches it.
    func requirements(of update: ValidationUpdate) -> [Requirement] {
        var result = requirements(at: update.event, in: update.function, path: [update.function])
        if let entry = entryRequirement(of: update), !result.contains(entry) { result.append(entry) }
        return result
    }

    /// Validation data that reaches the update only through the body of `if` statements testing
    /// settings (`if not switched: ... loader = Loader(args.val_files)`, the training loop's
    /// `backward` after it): the update trains on it only when one of those tests passes, so the
    /// most open of them decides. Found by reading the function again without those bodies.
    private func entryRequirement(of update: ValidationUpdate) -> Requirement? {
        let analysis = source.analysis
        let function = update.function
        guard update.event.via == nil, analysis.effective(update.event.labels, in: function).contains(.validation) else { return nil }
        let body = analysis.index.functions[function].node
        var candidates: [(line: Int, requirement: Requirement)] = []
        body.walk { node in
            guard node.type == "If", let test = node.child("test"),
                  !(node.line <= update.event.line && node.endLine >= update.event.line),
                  let decisive = requirements(test, holds: true, in: body, depth: 0).min(by: { $0.rank < $1.rank }),
                  decisive.rank < 2 else { return }
            candidates.append((node.line, decisive))
        }
        guard !candidates.isEmpty else { return nil }
        func reaches(skipping lines: Set<Int>) -> DataLabels? {
            analysis.events(of: function, skippingBodiesAt: lines)
                .first { $0.kind == .update && $0.line == update.event.line && $0.detail == update.event.detail }
                .map { analysis.effective($0.labels, in: function) }
        }
        let remaining = reaches(skipping: Set(candidates.map(\.line))) ?? []
        guard !remaining.contains(.validation) else { return nil }
        var routes = candidates.filter { candidate in !(reaches(skipping: [candidate.line]) ?? []).contains(.validation) }
            .map(\.requirement)
        if routes.isEmpty { routes = candidates.map(\.requirement) }
        // What is left is validation data only a default-off setting's conditional value chooses.
        if remaining.mayHoldValidation {
            guard let gate = source.featureGate(analysis.flags.valueGates.first) else { return nil }
            routes.append(Requirement(gate))
        }
        return routes.max { $0.rank < $1.rank }
    }

    private func requirements(at event: FlowEvent, in function: Int, path: Set<Int>) -> [Requirement] {
        let body = source.analysis.index.functions[function].node
        var result: [Requirement] = []
        for arm in Self.arms(around: event.line, in: body) {
            result += requirements(arm.test, holds: arm.positive, in: body, depth: 0)
        }
        // A called function adds what every one of its validation updates sits under.
        if let callee = event.via, !path.contains(callee), path.count < 8 {
            let inner = source.analysis.events[callee]
                .filter { $0.kind == .update && source.analysis.effective($0.labels, in: callee).mayHoldValidation }
                .map { requirements(at: $0, in: callee, path: path.union([callee])) }
            if let first = inner.first {
                for requirement in first where inner.allSatisfy({ $0.contains(requirement) }) && !result.contains(requirement) {
                    result.append(requirement)
                }
            }
        }
        return result
    }

    /// The `if` statements whose body (`positive`) or `else` arm holds `line`, outermost first.
    static func arms(around line: Int, in body: PyNode) -> [(test: PyNode, positive: Bool)] {
        var arms: [(test: PyNode, positive: Bool)] = []
        body.walk { node in
            guard node.type == "If", let test = node.child("test") else { return }
            for (branch, positive) in [(node.children("body"), true), (node.children("orelse"), false)] {
                if let first = branch.first, let last = branch.last, first.line <= line, last.endLine >= line {
                    arms.append((test, positive))
                }
            }
        }
        return arms
    }

    /// What must be true of the settings for `test` to come out `holds`.
    func requirements(_ test: PyNode, holds: Bool, in body: PyNode, depth: Int) -> [Requirement] {
        guard depth < 6 else { return [] }
        if test.type == "UnaryOp", test.child("op")?.type == "Not", let operand = test.child("operand") {
            return requirements(operand, holds: !holds, in: body, depth: depth + 1)
        }
        if test.type == "BoolOp" {
            // `a and b` holds only when both do; `a or b` fails only when both do.
            guard (test.child("op")?.type == "And") == holds else { return [] }
            return test.children("values").flatMap { requirements($0, holds: holds, in: body, depth: depth + 1) }
        }
        if test.type == "Name", let name = test.string("id"), let value = Self.soleTest(bound: name, in: body, holds: holds) {
            return requirements(value, holds: holds, in: body, depth: depth + 1)
        }
        if holds, let variable = source.analysis.flags.disablingVariable([test]), let gate = source.featureGate(variable) {
            return [Requirement(gate)]
        }
        if test.type == "Compare" { return countRequirement(test, holds: holds, in: body).map { [$0] } ?? [] }
        if test.type == "Name" || test.type == "Attribute" { return onByDefaultRequirement(test, holds: holds, in: body).map { [$0] } ?? [] }
        return []
    }

    /// The one non-constant value a local name is bound to, when its other bindings are
    /// constants that make `holds` impossible (`switched = True` under `if not switched:`).
    static func soleTest(bound name: String, in body: PyNode, holds: Bool) -> PyNode? {
        var values: [PyNode] = []
        var other = false
        body.walk { node in
            switch node.type {
            case "Assign":
                let targets = node.children("targets")
                if targets.contains(where: { $0.type == "Name" && $0.string("id") == name }), let value = node.child("value") {
                    if targets.count == 1 { values.append(value) } else { other = true }
                }
                if targets.contains(where: { $0.type != "Name" && Self.binds($0, name) }) { other = true }
            case "AugAssign", "AnnAssign", "For", "NamedExpr":
                if let target = node.child("target"), Self.binds(target, name) { other = true }
            default:
                break
            }
        }
        guard !other, !values.isEmpty else { return nil }
        var tests: [PyNode] = []
        for value in values {
            if value.type == "Constant" {
                guard case .bool(let flag)? = value.constant, flag != holds else { return nil }
            } else {
                tests.append(value)
            }
        }
        return tests.count == 1 ? tests[0] : nil
    }

    private static func binds(_ target: PyNode, _ name: String) -> Bool {
        var found = false
        target.walk { node in if node.type == "Name", node.string("id") == name { found = true } }
        return found
    }

    /// The identifier a setting is read into: `args.soup_k`, or a local bound once to it (`k = args.soup_k`).
    private func identifier(of node: PyNode, in body: PyNode) -> String? {
        if node.type == "Attribute" { return node.terminalName }
        guard node.type == "Name", let name = node.string("id") else { return nil }
        var values: [PyNode] = []
        body.walk { inner in
            if inner.type == "Assign", inner.children("targets").contains(where: { $0.type == "Name" && $0.string("id") == name }),
               let value = inner.child("value") {
                values.append(value)
            }
        }
        if values.count == 1, ["Name", "Attribute"].contains(values[0].type) { return values[0].terminalName }
        return values.isEmpty ? name : nil
    }

    /// The environment variable read into `identifier` anywhere in the module, with its default,
    /// when every such read names the same variable and the same default.
    func environmentSetting(of identifier: String) -> (variable: String, defaultText: String)? {
        var found: [(variable: String, defaultText: String)] = []
        var unreadable = false
        source.tree.walk { node in
            guard node.type == "Assign" || node.type == "AnnAssign", let value = node.child("value") else { return }
            let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
            guard targets.contains(where: { $0.terminalName == identifier }) else { return }
            var read: (variable: String, defaultText: String)?
            value.walk { inner in
                guard read == nil, inner.type == "Call", let callee = source.analysis.index.aliases.resolve(inner.child("func")),
                      callee == "os.environ.get" || callee == "os.getenv" else { return }
                let arguments = inner.children("args")
                guard arguments.count >= 2, let name = arguments[0].stringLiteral,
                      let text = EnvironmentDefault.literalText(arguments[1]) else { return }
                read = (name, text)
            }
            if let read { found.append(read) } else { unreadable = true }
        }
        guard !unreadable, let first = found.first,
              found.allSatisfy({ $0.variable == first.variable && $0.defaultText == first.defaultText }),
              !FeatureFlags.launcherVariables.contains(first.variable) else { return nil }
        return first
    }

    private static let onDefaults: Set<String> = ["1", "true", "True", "yes", "on"]

    /// A flag on by default: stated off, the positive arm does not run; its `else` arm runs only
    /// when the submission sets it off.
    private func onByDefaultRequirement(_ test: PyNode, holds: Bool, in body: PyNode) -> Requirement? {
        guard let identifier = identifier(of: test, in: body), let setting = environmentSetting(of: identifier),
              Self.onDefaults.contains(setting.defaultText) else { return nil }
        let variable = setting.variable
        switch source.documents.setting(of: variable, aliases: [identifier]) {
        case .off(let evidence):
            return holds
                ? Requirement(rank: 0, note: " (only when \(variable) is on; on by default in the code, but off in this submission: \(evidence))")
                : Requirement(rank: 2, note: " (only when \(variable) is off; on by default in the code, and off in this submission: \(evidence))")
        case .on(let evidence):
            return holds ? nil : Requirement(rank: 0, note: " (only when \(variable) is off; on by default, and on in this submission: \(evidence))")
        case .codeDefault:
            return holds ? nil : Requirement(rank: 1, note: " (only when \(variable) is off; on by default; no log, README command or submission.json beside the code states it, so only the code default is known)")
        }
    }

    /// A setting compared with a number its default does not pass (`k > 1`, default 1): the
    /// update runs only when the submission states a value that does.
    private func countRequirement(_ test: PyNode, holds: Bool, in body: PyNode) -> Requirement? {
        guard let left = test.child("left"), test.children("ops").count == 1, var operation = test.children("ops").first?.type,
              let right = test.children("comparators").first else { return nil }
        func number(_ node: PyNode) -> Double? { EnvironmentDefault.literalText(node).flatMap { Double($0) } }
        var settingNode = left
        var bound = number(right)
        if bound == nil, let value = number(left) {
            bound = value
            settingNode = right
            operation = Self.mirrored[operation] ?? ""
        }
        if !holds { operation = Self.negated[operation] ?? "" }
        guard let bound, let symbol = Self.symbols[operation], let identifier = identifier(of: settingNode, in: body),
              let setting = environmentSetting(of: identifier), let initial = Double(setting.defaultText),
              let passesAtDefault = Self.compare(initial, operation, bound), !passesAtDefault else { return nil }
        let shown = bound == bound.rounded() ? String(Int(bound)) : String(bound)
        let condition = "\(setting.variable) \(symbol) \(shown)"
        guard let stated = source.documents.statedCount(of: setting.variable, identifier: identifier) else {
            return Requirement(rank: 1, note: " (only when \(condition); default \(setting.defaultText); no log, README command or submission.json beside the code states it, so only the code default is known)")
        }
        if Self.compare(Double(stated.value), operation, bound) == true {
            return Requirement(rank: 2, note: " (only when \(condition); \(stated.value) in this submission: \(stated.evidence))")
        }
        return Requirement(rank: 0, note: " (only when \(condition); default \(setting.defaultText), and \(stated.value) in this submission: \(stated.evidence))")
    }

    private static let symbols = ["Gt": ">", "GtE": ">=", "Lt": "<", "LtE": "<=", "Eq": "==", "NotEq": "!="]
    private static let mirrored = ["Gt": "Lt", "GtE": "LtE", "Lt": "Gt", "LtE": "GtE", "Eq": "Eq", "NotEq": "NotEq"]
    private static let negated = ["Gt": "LtE", "GtE": "Lt", "Lt": "GtE", "LtE": "Gt", "Eq": "NotEq", "NotEq": "Eq"]

    private static func compare(_ value: Double, _ operation: String, _ bound: Double) -> Bool? {
        switch operation {
        case "Gt": return value > bound
        case "GtE": return value >= bound
        case "Lt": return value < bound
        case "LtE": return value <= bound
        case "Eq": return value == bound
        case "NotEq": return value != bound
        default: return nil
        }
    }
}
