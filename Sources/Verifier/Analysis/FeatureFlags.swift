/// Features a module turns off by default through the environment:
/// `ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "0")))`, and names copied from them
/// (`use_slot = getattr(args, "slot_enabled", False)`). Code behind them is present but not run
/// unless the launch command sets the variable (the PR #1232 lesson: code present is not code
/// enabled).
public struct FeatureFlags: Sendable {
    /// Identifiers (variables or attributes) whose default is off, with the variable behind them.
    public private(set) var disabled: [String: String] = [:]
    /// Identifiers whose environment default is on (`GLOBAL_TTT_ENABLED` read as "1", a count
    /// read as 3), with the variable behind them: code behind them runs unless the launch turns
    /// the variable off.
    public private(set) var enabled: [String: String] = [:]
    /// Identifiers bound to any environment read, whatever its default (`ttt_mode =
    /// os.environ.get("TTT_MODE", "standard")`): a branch testing one is a branch on a setting.
    public private(set) var settings: Set<String> = []
    /// The variables of default-off features that choose a value in a conditional expression
    /// (`args.val_files if args.train_on_val else args.train_files`), in source order.
    public private(set) var valueGates: [String] = []
    /// The variables whose default is chosen between an on and an off literal by a test
    /// (`"1" if world_size > 1 else "0"`): gates too, but on by default where the test holds.
    public private(set) var conditionalDefaults: [String: ConditionalDefault] = [:]
    /// Settings choosing a mode by text, and the comparisons testing them.
    public let textModes: TextModeSettings
    private let aliases: ImportAliases

    public init(module: PyNode, aliases: ImportAliases) {
        self.aliases = aliases
        self.textModes = TextModeSettings(module: module, aliases: aliases)
        // Bindings: assignments, and keyword arguments (`Cache(blend=os.environ.get("BLEND", "0") == "1")`
        // binds the parameter, and so the attribute `__init__` stores it in, to the setting).
        let readers = Self.environmentReaders(in: module, aliases: aliases)
        var assignments: [(targets: [String], value: PyNode)] = []
        module.walk { node in
            if node.type == "Call" {
                for keyword in node.children("keywords") {
                    if let name = keyword.string("arg"), let value = keyword.child("value") { assignments.append(([name], value)) }
                }
            }
            guard node.type == "Assign" || node.type == "AnnAssign", let value = node.child("value") else { return }
            let targets = (node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 })
                .compactMap { $0.terminalName }
            assignments.append((targets, value))
        }
        let literals = Self.literalNames(assignments)
        let choices = ConditionalDefault.choiceNames(assignments)
        var classes: Set<String> = []
        module.walk { node in
            if node.type == "ClassDef", let name = node.string("name") { classes.insert(name) }
        }
        for assignment in assignments {
            if let variable = Self.offByDefaultVariable(in: assignment.value, aliases: aliases, literals: literals,
                                                        classes: classes)
                ?? Self.offByDefaultVariable(in: assignment.value, readers: readers) {
                for target in assignment.targets { disabled[target] = variable }
            } else if let conditional = ConditionalDefault.find(in: assignment.value, aliases: aliases, choices: choices) {
                for target in assignment.targets { disabled[target] = conditional.variable }
                if conditionalDefaults[conditional.variable] == nil { conditionalDefaults[conditional.variable] = conditional }
            }
        }
        for assignment in assignments where Self.offByDefaultVariable(in: assignment.value, aliases: aliases, literals: literals,
                                                                       classes: classes, defaultIs: { _ in true }) != nil {
            settings.formUnion(assignment.targets)
        }
        let offTargets = Set(disabled.keys)
        for assignment in assignments where offTargets.isDisjoint(with: assignment.targets) {
            if let variable = Self.offByDefaultVariable(in: assignment.value, aliases: aliases, literals: literals,
                                                        classes: classes, defaultIs: Self.isOnDefault)
                ?? Self.offByDefaultVariable(in: assignment.value, readers: readers, defaultIs: Self.isOnDefault) {
                for target in assignment.targets { enabled[target] = variable }
            }
        }
        // One level of copies: `use_slot = args.slot_enabled` or `getattr(args, "slot_enabled", ...)`,
        // `bool(args.flag)`, and a conjunction with an off flag (`use_phrase = args.phrase_cache and use_ngram`).
        for assignment in assignments {
            let value = assignment.value
            var source: String?
            if let name = value.terminalName, value.type != "Call", disabled[name] != nil || enabled[name] != nil {
                source = name
            } else if value.type == "BoolOp", value.child("op")?.type == "And",
                      let name = value.children("values").lazy.compactMap({ $0.type == "Call" ? nil : $0.terminalName })
                        .first(where: { disabled[$0] != nil }) {
                // `use_phrase = args.phrase_cache and use_ngram`: true only when the flag is on.
                source = name
            } else if value.type == "Call", ["bool", "int"].contains(value.child("func")?.dottedName ?? ""),
                      value.children("args").count == 1, let argument = value.children("args").first,
                      argument.type != "Call", let name = argument.terminalName, disabled[name] != nil {
                // `use_ngram = bool(args.ngram_eval_enabled)`.
                source = name
            } else if value.type == "Call", value.child("func")?.dottedName == "getattr",
                      let name = value.children("args").dropFirst().first?.stringLiteral, disabled[name] != nil || enabled[name] != nil {
                source = name
            }
            if let source, let variable = disabled[source] {
                for target in assignment.targets where disabled[target] == nil { disabled[target] = variable }
            } else if let source, let variable = enabled[source] {
                for target in assignment.targets where disabled[target] == nil && enabled[target] == nil { enabled[target] = variable }
            }
        }
        // An object made only when a feature is on (`cache = Cache(...) if use_cache else None`) is
        // that feature: `if cache is not None:` runs only when it is set.
        for assignment in assignments where assignment.value.type == "IfExp" {
            guard let test = assignment.value.child("test"), let otherwise = assignment.value.child("orelse"),
                  Self.isNoneLiteral(otherwise), let variable = disablingVariable([test]) else { continue }
            for target in assignment.targets where disabled[target] == nil { disabled[target] = variable }
        }
        var gates: [String] = []
        module.walk { node in
            guard node.type == "IfExp", let test = node.child("test") else { return }
            if let variable = disablingVariable([test]), !gates.contains(variable) { gates.append(variable) }
        }
        valueGates = gates
    }

    /// The environment variable `expression` reads with an off default
    /// (`os.environ.get("TTT_ENABLED", "0")`), if any.
    /// The default may be a name bound only to literals (`_F = '0'`, a minifier's constant). A
    /// choice between literals (`"1" if world_size > 1 else "0"`) is not off by default: it is on
    /// where its test holds (a `ConditionalDefault`, which the evidence resolves).
    /// An object the module's own class builds with such a setting (`Cache(geometric=...)`) is
    /// not the setting: the arguments of calls to `classes` are not searched.
    /// With `defaultIs`, the variable read with a default that passes it instead.
    static func offByDefaultVariable(in expression: PyNode, aliases: ImportAliases,
                                     literals: [String: [String]] = [:], classes: Set<String> = [],
                                     defaultIs: (String) -> Bool = { FeatureFlags.offDefaults.contains($0) }) -> String? {
        var variable: String?
        func visit(_ node: PyNode) {
            guard variable == nil else { return }
            if node.type == "Call", let callee = node.child("func"), callee.type == "Name",
               let name = callee.string("id"), classes.contains(name) {
                return
            }
            check(node)
            for child in node.childNodes { visit(child) }
        }
        func check(_ node: PyNode) {
            guard node.type == "Call",
                  let callee = aliases.resolve(node.child("func")),
                  callee == "os.environ.get" || callee == "os.getenv" else { return }
            let arguments = node.children("args")
            guard arguments.count >= 2, let name = arguments[0].stringLiteral else { return }
            let defaults: [String]
            if let text = EnvironmentDefault.literalText(arguments[1]) {
                defaults = [text]
            } else if arguments[1].type == "Name", let id = arguments[1].string("id"), let values = literals[id] {
                defaults = values
            } else {
                return
            }
            guard defaults.contains(where: defaultIs) else { return }
            variable = name
        }
        visit(expression)
        return variable
    }

    static let offDefaults: Set<String> = ["0", "", "false", "False", "no", "0.0"]

    /// A default that turns a feature on: a true word or a non-zero number (`"1"`, `True`, `3`).
    static func isOnDefault(_ text: String) -> Bool {
        SubmissionDocuments.isOn(text.lowercased()) == true
    }

    /// Names every binding of which is a literal, with the texts they hold.
    static func literalNames(_ assignments: [(targets: [String], value: PyNode)]) -> [String: [String]] {
        func texts(_ value: PyNode) -> [String]? {
            EnvironmentDefault.literalText(value).map { [$0] }
        }
        var names: [String: [String]] = [:]
        var opaque: Set<String> = []
        for assignment in assignments {
            for target in assignment.targets {
                if let values = texts(assignment.value) { names[target, default: []] += values } else { opaque.insert(target) }
            }
        }
        for name in opaque { names[name] = nil }
        return names
    }

    /// `None` (the front end leaves a `Constant`'s value empty for it).
    static func isNoneLiteral(_ node: PyNode) -> Bool {
        guard node.type == "Constant" else { return false }
        switch node.constant {
        case nil, .none?: return true
        default: return false
        }
    }

    /// A function that reads the environment variable its caller names
    /// (`def _eb(k, d="0"): return bool(int(os.environ.get(k, d)))`): the position of the name
    /// parameter, and of the default parameter with its own default when it has one.
    struct EnvironmentReader: Sendable {
        var nameParameter: Int
        var defaultParameter: Int?
        var defaultValue: PyNode?
    }

    /// The functions of `module` that read an environment variable named by a parameter.
    static func environmentReaders(in module: PyNode, aliases: ImportAliases) -> [String: EnvironmentReader] {
        var readers: [String: EnvironmentReader] = [:]
        module.walk { node in
            guard node.type == "FunctionDef", let name = node.string("name"), let arguments = node.child("args") else { return }
            let parameters = arguments.children("args").compactMap { $0.string("arg") }
            let defaults = arguments.children("defaults")
            node.walk { inner in
                guard readers[name] == nil, inner.type == "Call",
                      let callee = aliases.resolve(inner.child("func")),
                      callee == "os.environ.get" || callee == "os.getenv" else { return }
                let callArguments = inner.children("args")
                guard callArguments.count >= 2, let key = callArguments[0].string("id"),
                      let keyPosition = parameters.firstIndex(of: key) else { return }
                if let defaultName = callArguments[1].string("id"), callArguments[1].type == "Name",
                   let position = parameters.firstIndex(of: defaultName) {
                    let firstDefaulted = parameters.count - defaults.count
                    let value = position >= firstDefaulted ? defaults[position - firstDefaulted] : nil
                    readers[name] = EnvironmentReader(nameParameter: keyPosition, defaultParameter: position, defaultValue: value)
                } else if EnvironmentDefault.literalText(callArguments[1]) != nil {
                    readers[name] = EnvironmentReader(nameParameter: keyPosition, defaultParameter: nil, defaultValue: callArguments[1])
                }
            }
        }
        return readers
    }

    /// The environment variable `expression` reads through one of `readers` with an off default
    /// (`_eb("SGD_TTT")` with `def _eb(k, d="0")`), if any.
    static func offByDefaultVariable(in expression: PyNode, readers: [String: EnvironmentReader],
                                     defaultIs: (String) -> Bool = { FeatureFlags.offDefaults.contains($0) }) -> String? {
        guard !readers.isEmpty else { return nil }
        var variable: String?
        expression.walk { node in
            guard variable == nil, node.type == "Call", let callee = node.child("func"), callee.type == "Name",
                  let name = callee.string("id"), let reader = readers[name] else { return }
            let arguments = node.children("args")
            guard reader.nameParameter < arguments.count, let key = arguments[reader.nameParameter].stringLiteral else { return }
            var value = reader.defaultValue
            if let position = reader.defaultParameter, position < arguments.count { value = arguments[position] }
            guard let value, let text = EnvironmentDefault.literalText(value),
                  defaultIs(text) else { return }
            variable = key
        }
        return variable
    }

    /// The environment variable that must be set for code under `conditions` to run, when one
    /// of them is a positive test of a feature that is off by default: a flag name, the flag
    /// read with `getattr(args, "slot_enabled", False)`, or the environment read inline
    /// (`if bool(int(os.environ.get("TTT_ENABLED", "0"))):`, `if os.environ.get("X", "0") == "1":`). A test of several such flags
    /// joined by `or` needs any one of them: their variables joined by `anyOf`.
    public func disablingVariable(_ conditions: [PyNode], negated: [PyNode] = []) -> String? {
        disablingVariables(conditions, negated: negated).first
    }

    /// Every such variable of `conditions`, outermost first; a count tested above its default of
    /// zero (`if ttt_epochs > 0:`) is one too. `negated` are tests known false where the code runs
    /// (the `if` whose `else` holds it, an earlier `if` of its block that always leaves): each adds
    /// the variables of what its falsehood requires (``requiredWhenFalse(_:)``).
    func disablingVariables(_ conditions: [PyNode], negated: [PyNode] = []) -> [String] {
        var variables: [String] = []
        for condition in conditions {
            var tests = [condition]
            if condition.type == "BoolOp", condition.child("op")?.type == "And" { tests = condition.children("values") }
            for test in tests {
                if let variable = flagVariable(test) { variables.append(variable); continue }
                if let name = Self.positiveCountTest(test), let variable = disabled[name] { variables.append(variable); continue }
                if test.type == "BoolOp", test.child("op")?.type == "Or" {
                    let alternatives = test.children("values").map(flagVariable)
                    guard !alternatives.isEmpty, alternatives.allSatisfy({ $0 != nil }) else { continue }
                    var distinct: [String] = []
                    for case let variable? in alternatives where !distinct.contains(variable) { distinct.append(variable) }
                    variables.append(distinct.joined(separator: Self.anyOf))
                }
            }
        }
        for test in negated { variables += requiredWhenFalse(test) }
        return variables.filter { !Self.launcherVariables.contains($0) }
    }

    /// The variables of default-off features that must be on for `test` to be false: `not flag`,
    /// a text mode compared with its default (`mode == "off"`), a count tested for zero (`n <= 0`);
    /// `cache is None` for an object made only when a feature is on; for `a or b`, those of every
    /// alternative (all are false).
    func requiredWhenFalse(_ test: PyNode) -> [String] {
        if test.type == "BoolOp", test.child("op")?.type == "Or" { return test.children("values").flatMap(requiredWhenFalse) }
        if test.type == "UnaryOp", test.child("op")?.type == "Not", let operand = test.child("operand") {
            return disablingVariables([operand])
        }
        if let mode = textModes.test(test) { return mode.trueAtDefault ? [mode.variable] : [] }
        if let name = Self.zeroCountTest(test), let variable = disabled[name] { return [variable] }
        // `cache is None`, for an object made only when the feature is on.
        if test.type == "Compare", test.children("ops").map(\.type) == ["Is"],
           let compared = test.children("comparators").first, Self.isNoneLiteral(compared),
           let left = test.child("left"), left.type != "Call", let name = left.terminalName, let variable = disabled[name] {
            return [variable]
        }
        return []
    }

    /// The name a comparison tests for being zero or below (`n <= 0`, `n == 0`, `n < 1`, `0 >= n`):
    /// false only when the setting is raised above its default of zero.
    static func zeroCountTest(_ test: PyNode) -> String? {
        guard test.type == "Compare", let left = test.child("left"),
              let operation = test.children("ops").first?.type, test.children("ops").count == 1,
              let right = test.children("comparators").first else { return nil }
        func number(_ node: PyNode) -> Double? {
            EnvironmentDefault.literalText(node).flatMap { Double($0) }
        }
        if let bound = number(right), let name = left.terminalName, left.type != "Call" {
            switch (operation, bound) {
            case ("LtE", 0), ("Lt", 1), ("Eq", 0): return name
            default: return nil
            }
        }
        if let bound = number(left), let name = right.terminalName, right.type != "Call" {
            switch (operation, bound) {
            case ("GtE", 0), ("Gt", 1), ("Eq", 0): return name
            default: return nil
            }
        }
        return nil
    }

    /// A test that lets code run by default, which the launch can close: a flag whose default is
    /// on (`if h.global_ttt_enabled:`, `if ttt_epochs > 0:` with a default of 3), or the negation
    /// of a default-off flag (`if not legal_ttt:`).
    public struct DefaultOnGate: Sendable, Equatable {
        public var variable: String
        /// The code stops running when the variable is set on (`not legal_ttt`); otherwise when
        /// it is set off.
        public var closedWhenOn: Bool
    }

    /// Every such gate of `conditions` (each test of an `and` by itself), outermost first.
    func defaultOnGates(_ conditions: [PyNode]) -> [DefaultOnGate] {
        var gates: [DefaultOnGate] = []
        for condition in conditions {
            var tests = [condition]
            if condition.type == "BoolOp", condition.child("op")?.type == "And" { tests = condition.children("values") }
            for test in tests {
                if test.type == "UnaryOp", test.child("op")?.type == "Not", let operand = test.child("operand"),
                   let variable = flagVariable(operand) {
                    gates.append(DefaultOnGate(variable: variable, closedWhenOn: true))
                } else if let name = test.terminalName, test.type != "Call", let variable = enabled[name] {
                    gates.append(DefaultOnGate(variable: variable, closedWhenOn: false))
                } else if let name = Self.positiveCountTest(test), let variable = enabled[name] {
                    gates.append(DefaultOnGate(variable: variable, closedWhenOn: false))
                }
            }
        }
        return gates.filter { !Self.launcherVariables.contains($0.variable) }
    }

    /// Variables the launcher sets for every process (`torchrun`): `if rank > 0:` tests which
    /// process runs, not whether a feature is on, although `RANK` reads "0" by default.
    static let launcherVariables: Set<String> = [
        "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "NODE_RANK", "GROUP_RANK",
        "MASTER_ADDR", "MASTER_PORT",
    ]

    /// The usual names of the launcher's variables in code (`rank`, `world_size`): branches on
    /// them select a process, not a feature.
    static let launcherSettingNames: Set<String> = Set(launcherVariables.map { $0.lowercased() })

    /// Joins the variables of a gate that any one of several default-off features opens
    /// (environment variable names hold no spaces).
    public static let anyOf = " or "

    /// The variable of a default-off feature that `test` tests positively by itself.
    private func flagVariable(_ test: PyNode) -> String? {
        // `args.ngram_mode == "two_pass"` with `NGRAM_MODE` defaulting to another mode.
        if let mode = textModes.test(test) { return mode.trueAtDefault ? nil : mode.variable }
        // `cache is not None`, for an object made only when the feature is on.
        if test.type == "Compare", test.children("ops").map(\.type) == ["IsNot"],
           let compared = test.children("comparators").first, Self.isNoneLiteral(compared),
           let left = test.child("left"), left.type != "Call", let name = left.terminalName {
            return disabled[name]
        }
        if let name = test.terminalName, test.type != "Call" { return disabled[name] }
        // The environment read inline and compared with an on literal (`os.environ.get("X", "0") == "1"`).
        if test.type == "Compare", test.children("ops").map(\.type) == ["Eq"], let left = test.child("left"),
           left.type == "Call", let compared = test.children("comparators").first,
           let text = EnvironmentDefault.literalText(compared), !Self.offDefaults.contains(text) {
            return Self.offByDefaultVariable(in: left, aliases: aliases)
        }
        guard test.type == "Call" else { return nil }
        if test.child("func")?.dottedName == "getattr" {
            let arguments = test.children("args")
            guard arguments.count >= 2, let name = arguments[1].stringLiteral, let variable = disabled[name] else { return nil }
            // The fallback applies only where the attribute is missing; an on fallback could run the code.
            if arguments.count > 2 {
                switch arguments[2].constant {
                case .bool(false)?, .none?: break
                case .int(let text)? where text == "0": break
                default: return nil
                }
            }
            return variable
        }
        return Self.offByDefaultVariable(in: test, aliases: aliases)
    }

    /// The name a comparison tests for being above zero or a higher threshold (`n > 0`, `n >= 1`,
    /// `n >= 2`, `n != 0`, `0 < n`): with a default of zero, false unless the setting is raised.
    static func positiveCountTest(_ test: PyNode) -> String? {
        guard test.type == "Compare", let left = test.child("left"),
              let operation = test.children("ops").first?.type, test.children("ops").count == 1,
              let right = test.children("comparators").first else { return nil }
        func number(_ node: PyNode) -> Double? {
            EnvironmentDefault.literalText(node).flatMap { Double($0) }
        }
        if let bound = number(right), let name = left.terminalName, left.type != "Call" {
            switch operation {
            case "Gt" where bound >= 0, "GtE" where bound > 0, "NotEq" where bound == 0: return name
            default: return nil
            }
        }
        if let bound = number(left), let name = right.terminalName, right.type != "Call" {
            switch operation {
            case "Lt" where bound >= 0, "LtE" where bound > 0, "NotEq" where bound == 0: return name
            default: return nil
            }
        }
        return nil
    }
}

extension ModuleAnalysis {
    /// The environment variable of a default-off feature guarding `event` in `function`, or
    /// guarding every use of `function` (calls, or mentions when it is passed as a value).
    public func disablingVariable(for event: FlowEvent, in function: Int) -> String? {
        if let variable = flags.disablingVariable(event.conditions, negated: event.negatedConditions) ?? event.inheritedGate {
            return variable
        }
        return gateOfEveryUse(of: function, visited: [function])
    }

    /// The default-on gates around `event` in `function`, and those guarding every call of
    /// `function` (at the call or further up).
    public func defaultOnGates(for event: FlowEvent, in function: Int) -> [FeatureFlags.DefaultOnGate] {
        let direct = flags.defaultOnGates(event.conditions)
        var known: [Int: [FeatureFlags.DefaultOnGate]] = [:]
        return direct + defaultOnGatesOfEveryCall(of: function, visited: [function], known: &known).filter { !direct.contains($0) }
    }

    /// `known` holds each function's answer once found (call chains stay linear in the calls).
    private func defaultOnGatesOfEveryCall(of function: Int, visited: Set<Int>,
                                           known: inout [Int: [FeatureFlags.DefaultOnGate]]) -> [FeatureFlags.DefaultOnGate] {
        if let answer = known[function] { return answer }
        var perCall: [[FeatureFlags.DefaultOnGate]] = []
        for caller in index.functions.indices {
            for call in events[caller] where call.via == function {
                var gates = flags.defaultOnGates(call.conditions)
                if caller != 0, !visited.contains(caller) {
                    let further = defaultOnGatesOfEveryCall(of: caller, visited: visited.union([caller]), known: &known)
                    gates += further.filter { !gates.contains($0) }
                }
                perCall.append(gates)
            }
        }
        let common = perCall.first.map { first in first.filter { gate in perCall.allSatisfy { $0.contains(gate) } } } ?? []
        known[function] = common
        return common
    }

    /// The variable of a default-off feature guarding every use of `function`: each call is
    /// behind the feature itself, or sits in a function whose every use is (through any chain
    /// of calls: `main` → `if args.ttt_enabled: ttt_adapt()` → `run_phase()`). When every call is
    /// behind a feature but no one feature guards them all (`if TTT_ONLY: f()` and
    /// `if ttt_enabled: f()`), any of them: their variables joined by `anyOf`.
    private func gateOfEveryUse(of function: Int, visited: Set<Int>) -> String? {
        var variables: [String?] = []
        // Each call's gates; the variable reported is one that guards every call when there is one.
        var gatesPerCall: [[String]] = []
        for caller in index.functions.indices {
            for call in events[caller] where call.via == function {
                var gates = flags.disablingVariables(call.conditions, negated: call.negatedConditions)
                if gates.isEmpty, caller != 0, !visited.contains(caller),
                   let variable = gateOfEveryUse(of: caller, visited: visited.union([caller])) {
                    gates = [variable]
                }
                gatesPerCall.append(gates)
                variables.append(gates.first)
            }
        }
        if let first = gatesPerCall.first, !first.isEmpty, gatesPerCall.allSatisfy({ !$0.isEmpty }) {
            if let common = first.first(where: { variable in gatesPerCall.allSatisfy { $0.contains(variable) } }) {
                return common
            }
            // Each call behind a different feature: the function runs when any one of them is on.
            var distinct: [String] = []
            for gates in gatesPerCall {
                for variable in gates[0].components(separatedBy: FeatureFlags.anyOf) where !distinct.contains(variable) {
                    distinct.append(variable)
                }
            }
            return distinct.joined(separator: FeatureFlags.anyOf)
        }
        if variables.isEmpty {
            let name = index.functions[function].name
            for other in index.functions.indices where other != function {
                let body = index.functions[other].node
                body.walk { node in
                    guard node.type == "Name", node.string("id") == name else { return }
                    variables.append(flags.disablingVariable(Self.conditions(around: node.line, in: body)))
                }
            }
        }
        guard !variables.isEmpty, variables.allSatisfy({ $0 != nil }) else { return nil }
        return variables[0]
    }

    /// Tests of the `if` statements whose body holds `line`, outermost first.
    static func conditions(around line: Int, in function: PyNode) -> [PyNode] {
        var tests: [PyNode] = []
        function.walk { node in
            guard node.type == "If", let test = node.child("test"),
                  let first = node.children("body").first, let last = node.children("body").last,
                  first.line <= line, last.endLine >= line else { return }
            tests.append(test)
        }
        return tests
    }
}
