/// Features a module turns off by default through the environment:
/// `ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "0")))`, and names copied from them
/// (`use_slot = getattr(args, "slot_enabled", False)`). Code behind them is present but not run
/// unless the launch command sets the variable (the PR #1232 lesson: code present is not code
/// enabled).
public struct FeatureFlags: Sendable {
    /// Identifiers (variables or attributes) whose default is off, with the variable behind them.
    public private(set) var disabled: [String: String] = [:]
    /// The variables of default-off features that choose a value in a conditional expression
    /// (`args.val_files if args.train_on_val else args.train_files`), in source order.
    public private(set) var valueGates: [String] = []
    private let aliases: ImportAliases

    public init(module: PyNode, aliases: ImportAliases) {
        self.aliases = aliases
        let readers = Self.environmentReaders(in: module, aliases: aliases)
        var assignments: [(targets: [String], value: PyNode)] = []
        module.walk { node in
            guard node.type == "Assign" || node.type == "AnnAssign", let value = node.child("value") else { return }
            let targets = (node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 })
                .compactMap { $0.terminalName }
            assignments.append((targets, value))
        }
        for assignment in assignments {
            if let variable = Self.offByDefaultVariable(in: assignment.value, aliases: aliases)
                ?? Self.offByDefaultVariable(in: assignment.value, readers: readers) {
                for target in assignment.targets { disabled[target] = variable }
            }
        }
        // One level of copies: `use_slot = args.slot_enabled` or `getattr(args, "slot_enabled", ...)`.
        for assignment in assignments {
            let value = assignment.value
            var source: String?
            if let name = value.terminalName, value.type != "Call", disabled[name] != nil {
                source = name
            } else if value.type == "Call", value.child("func")?.dottedName == "getattr",
                      let name = value.children("args").dropFirst().first?.stringLiteral, disabled[name] != nil {
                source = name
            }
            if let source, let variable = disabled[source] {
                for target in assignment.targets where disabled[target] == nil { disabled[target] = variable }
            }
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
    static func offByDefaultVariable(in expression: PyNode, aliases: ImportAliases) -> String? {
        var variable: String?
        expression.walk { node in
            guard variable == nil, node.type == "Call",
                  let callee = aliases.resolve(node.child("func")),
                  callee == "os.environ.get" || callee == "os.getenv" else { return }
            let arguments = node.children("args")
            guard arguments.count >= 2, let name = arguments[0].stringLiteral,
                  let text = EnvironmentDefault.literalText(arguments[1]),
                  ["0", "", "false", "False", "no", "0.0"].contains(text) else { return }
            variable = name
        }
        return variable
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
    static func offByDefaultVariable(in expression: PyNode, readers: [String: EnvironmentReader]) -> String? {
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
                  ["0", "", "false", "False", "no", "0.0"].contains(text) else { return }
            variable = key
        }
        return variable
    }

    /// The environment variable that must be set for code under `conditions` to run, when one
    /// of them is a positive test of a feature that is off by default: a flag name, a count
    /// above its default of zero (`if ttt_epochs > 0:`), or the environment read inline
    /// (`if bool(int(os.environ.get("TTT_ENABLED", "0"))):`).
    public func disablingVariable(_ conditions: [PyNode]) -> String? {
        disablingVariables(conditions).first
    }

    /// Every such variable of `conditions`, outermost first.
    func disablingVariables(_ conditions: [PyNode]) -> [String] {
        var variables: [String] = []
        for condition in conditions {
            var tests = [condition]
            if condition.type == "BoolOp", condition.child("op")?.type == "And" { tests = condition.children("values") }
            for test in tests {
                if let name = test.terminalName, test.type != "Call", let variable = disabled[name] { variables.append(variable) }
                if test.type == "Call", let variable = Self.offByDefaultVariable(in: test, aliases: aliases) { variables.append(variable) }
                if let name = Self.positiveCountTest(test), let variable = disabled[name] { variables.append(variable) }
            }
        }
        return variables
    }

    /// The name a comparison tests for being above zero (`n > 0`, `n >= 1`, `n != 0`, `0 < n`):
    /// with a default of zero, false unless the setting is raised.
    static func positiveCountTest(_ test: PyNode) -> String? {
        guard test.type == "Compare", let left = test.child("left"),
              let operation = test.children("ops").first?.type, test.children("ops").count == 1,
              let right = test.children("comparators").first else { return nil }
        func number(_ node: PyNode) -> Double? {
            EnvironmentDefault.literalText(node).flatMap { Double($0) }
        }
        if let bound = number(right), let name = left.terminalName, left.type != "Call" {
            switch (operation, bound) {
            case ("Gt", 0), ("GtE", 1), ("NotEq", 0): return name
            default: return nil
            }
        }
        if let bound = number(left), let name = right.terminalName, right.type != "Call" {
            switch (operation, bound) {
            case ("Lt", 0), ("LtE", 1), ("NotEq", 0): return name
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
        if let variable = flags.disablingVariable(event.conditions) ?? event.inheritedGate { return variable }
        return gateOfEveryUse(of: function, visited: [function])
    }

    /// The variable of a default-off feature guarding every use of `function`: each call is
    /// behind the feature itself, or sits in a function whose every use is (through any chain
    /// of calls: `main` → `if args.ttt_enabled: ttt_adapt()` → `run_phase()`).
    private func gateOfEveryUse(of function: Int, visited: Set<Int>) -> String? {
        var variables: [String?] = []
        // Each call's gates; the variable reported is one that guards every call when there is one.
        var gatesPerCall: [[String]] = []
        for caller in index.functions.indices {
            for call in events[caller] where call.via == function {
                var gates = flags.disablingVariables(call.conditions)
                if gates.isEmpty, caller != 0, !visited.contains(caller),
                   let variable = gateOfEveryUse(of: caller, visited: visited.union([caller])) {
                    gates = [variable]
                }
                gatesPerCall.append(gates)
                variables.append(gates.first)
            }
        }
        if let first = gatesPerCall.first, !first.isEmpty, gatesPerCall.allSatisfy({ !$0.isEmpty }),
           let common = first.first(where: { variable in gatesPerCall.allSatisfy { $0.contains(variable) } }) {
            return common
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
