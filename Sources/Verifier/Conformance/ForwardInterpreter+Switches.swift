import Foundation

/// Switches the run sets that are nevertheless known at evaluation: a module global or a class attribute
/// (`global QAT; QAT = args.qat`, `CastedLinear._qat_enabled = False`) every assignment of which is a
/// statement of `main`'s own body — run once, in order, on every run, under no condition or loop — with
/// the final evaluation (a statement of `main` calling a function whose name begins with `eval`) after the
/// last of them and no evaluation outside a loop before it (periodic validation inside the training loop
/// is not the score). The final evaluation sees the last one's value, computed from the run's settings
/// and constants (`args.qat`, a local of `main` assigned once before it from them). Anything else (an
/// assignment under a condition on the run's progress, in a loop, in another function, through an
/// instance, by `setattr`) stays run-dependent.
extension ForwardInterpreter {
    /// The value a global has at the final evaluation, when its assignments determine it.
    func determinedGlobal(_ name: String) -> SymbolicValue? {
        determined("global " + name) { statement in
            guard statement.type == "Assign" || statement.type == "AnnAssign" || statement.type == "AugAssign" else { return false }
            return Self.targets(of: statement).contains { $0.type == "Name" && $0.string("id") == name }
        } sitesElsewhere: { function in
            // Assignments of the name in another function declaring it global.
            var declares = false
            function.walk { node in
                if node.type == "Global", case .strings(let names) = node[field: "names"], names.contains(name) { declares = true }
            }
            guard declares else { return false }
            var assigns = false
            function.walk { node in
                if Self.targets(of: node).contains(where: { $0.type == "Name" && $0.string("id") == name }) { assigns = true }
            }
            return assigns
        }
    }

    /// The value a class attribute (read through the class `owner` that defines it) has at the final
    /// evaluation, when its assignments determine it: every one must set it on `owner` itself.
    func determinedClassAttribute(_ name: String, owner: String) -> SymbolicValue? {
        determined(owner + "." + name) { statement in
            guard statement.type == "Assign" || statement.type == "AnnAssign" || statement.type == "AugAssign" else { return false }
            return Self.targets(of: statement).contains { Self.isAttribute($0, name, of: owner) }
        } sitesElsewhere: { function in
            var found = false
            function.walk { node in
                for target in Self.targets(of: node) {
                    let attribute = target.type == "Subscript" ? target.child("value") : target
                    if let attribute, attribute.type == "Attribute", attribute.string("attr") == name { found = true }
                }
                if node.type == "Call", let callee = node.child("func"), callee.type == "Name", callee.string("id") == "setattr" { found = true }
            }
            return found
        }
    }

    private static func isAttribute(_ target: PyNode, _ name: String, of owner: String) -> Bool {
        guard target.type == "Attribute", target.string("attr") == name, let receiver = target.child("value") else { return false }
        return receiver.type == "Name" && receiver.string("id") == owner
    }

    static func targets(of node: PyNode) -> [PyNode] {
        var targets: [PyNode]
        switch node.type {
        case "Assign": targets = node.children("targets")
        case "AugAssign", "AnnAssign": targets = node.child("target").map { [$0] } ?? []
        case "For", "AsyncFor": targets = node.child("target").map { [$0] } ?? []
        default: return []
        }
        var flat: [PyNode] = []
        while let target = targets.popLast() {
            if target.type == "Tuple" || target.type == "List" { targets += target.children("elts") } else { flat.append(target) }
        }
        return flat
    }

    /// `isSite`: whether a top-level statement of `main` assigns the switch; `sitesElsewhere`: whether a
    /// function or a statement nested anywhere else (in `main` too) does.
    private func determined(_ key: String, isSite: (PyNode) -> Bool, sitesElsewhere: (PyNode) -> Bool) -> SymbolicValue? {
        if let known = determinedSwitches[key] { return known }
        determinedSwitches[key] = .some(nil)  // a switch whose value reads itself is not determined
        let value = determine(isSite: isSite, sitesElsewhere: sitesElsewhere)
        determinedSwitches[key] = .some(value)
        return value
    }

    private func determine(isSite: (PyNode) -> Bool, sitesElsewhere: (PyNode) -> Bool) -> SymbolicValue? {
        guard let main = functions["main"] else { return nil }
        let body = main.children("body")
        let sites = body.indices.filter { isSite(body[$0]) }
        guard let last = sites.last else { return nil }
        // No other assignment: every other function, every class (its methods), and `main` with its own
        // sites removed.
        for statement in moduleNode.children("body") where statement.type == "FunctionDef" || statement.type == "ClassDef"
            || statement.type == "AsyncFunctionDef" {
            if statement.type == "FunctionDef", statement.string("name") == "main" {
                for (index, inner) in body.enumerated() where !sites.contains(index) && sitesElsewhere(inner) { return nil }
                continue
            }
            if sitesElsewhere(statement) { return nil }
        }
        // The final evaluation comes after the last assignment, and no evaluation outside a loop before it.
        guard body[(last + 1)...].contains(where: { Self.callsAnEvaluation($0, insideLoops: true) }),
              !body[..<last].contains(where: { Self.callsAnEvaluation($0, insideLoops: false) }) else { return nil }
        guard let valueNode = body[last].child("value"), body[last].type != "AugAssign" else { return nil }
        var frame = Frame(function: "main", className: nil, receiver: nil)
        for name in hyperparameterReceivers { frame.locals[name] = .hyperparameters }
        guard bindLocals(of: valueNode, in: body[..<last], &frame, depth: 0) else { return nil }
        let wasLenient = suspendLenience()
        defer { restoreLenience(wasLenient) }
        guard let value = try? evaluate(valueNode, &frame) else { return nil }
        switch value {
        case .bool, .int, .real, .string, .none: return value
        default: return nil
        }
    }

    private static func callsAnEvaluation(_ statement: PyNode, insideLoops: Bool) -> Bool {
        if !insideLoops, ["For", "While", "AsyncFor", "FunctionDef", "AsyncFunctionDef"].contains(statement.type) { return false }
        if statement.type == "Call", let callee = statement.child("func"), callee.type == "Name",
           callee.string("id")?.hasPrefix("eval") == true { return true }
        return statement.childNodes.contains { callsAnEvaluation($0, insideLoops: insideLoops) }
    }

    /// Binds the names `node` reads that `main` assigns: each assigned once in `main`, by a statement of its
    /// own body before the switch, to a value computed the same way.
    private func bindLocals(of node: PyNode, in before: ArraySlice<PyNode>, _ frame: inout Frame, depth: Int) -> Bool {
        guard depth < 8, let main = functions["main"] else { return false }
        var names: Set<String> = []
        node.walk { if $0.type == "Name", let id = $0.string("id") { names.insert(id) } }
        for name in names.sorted() where frame.locals[name] == nil {
            var count = 0
            main.walk { inner in
                if Self.targets(of: inner).contains(where: { $0.type == "Name" && $0.string("id") == name }) { count += 1 }
            }
            guard count > 0 else { continue }  // a module name, class or builtin: looked up as usual
            guard count == 1, let index = before.lastIndex(where: { statement in
                statement.type == "Assign" && Self.targets(of: statement).contains { $0.type == "Name" && $0.string("id") == name }
            }), let value = before[index].child("value"), bindLocals(of: value, in: before[..<index], &frame, depth: depth + 1)
            else { return false }
            let wasLenient = suspendLenience()
            defer { restoreLenience(wasLenient) }
            guard let bound = try? evaluate(value, &frame) else { return false }
            frame.locals[name] = bound
        }
        return true
    }
}
