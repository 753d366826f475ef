import Foundation

/// Switches the run sets that are nevertheless known at evaluation: a module global `main` declares `global`
/// or a class attribute (`global QAT; QAT = args.qat`, `CastedLinear._qat_enabled = False`) every assignment
/// of which is a statement of `main`'s own body — run once, in order, on every run, under no condition or loop — with
/// the final evaluation after the last of them and no evaluation outside a loop before it (periodic
/// validation inside the training loop is not the score). An evaluation is a statement of `main` that calls
/// one of the module's functions that evaluates (``evaluatingFunctions(outsideLoops:)``), decided by what
/// the function does, not by its name, or that hands such a function to another call
/// (`timed_eval("final", eval_val, …)`). The final evaluation sees the last one's value, computed from the run's settings
/// and constants (`args.qat`, a local of `main` assigned once before it from them). Anything else (an
/// assignment under a condition on the run's progress, in a loop, in another function, through an
/// instance, by `setattr`) stays run-dependent.
extension ForwardInterpreter {
    /// The value a global has at the final evaluation, when its assignments determine it. `main` must declare
    /// it `global` (else its assignments there are locals).
    func determinedGlobal(_ name: String) -> SymbolicValue? {
        func assignsName(_ node: PyNode) -> Bool {
            var found = false
            Self.walkOutsideNestedFunctions(node) { inner in
                if Self.targets(of: inner).contains(where: { $0.type == "Name" && $0.string("id") == name }) { found = true }
            }
            return found
        }
        return determined("global " + name) { main in
            var declares = false
            Self.walkOutsideNestedFunctions(main) { node in
                if node.type == "Global", case .strings(let names) = node[field: "names"], names.contains(name) { declares = true }
            }
            return declares
        } isSite: { statement in
            guard statement.type == "Assign" || statement.type == "AnnAssign" else { return false }
            return Self.targets(of: statement).contains { $0.type == "Name" && $0.string("id") == name }
        } assignsIn: { statement in
            assignsName(statement)
        } otherFunctionAssigns: { function in
            // Another function assigns the global only where it declares it so.
            var declares = false
            Self.walkOutsideNestedFunctions(function) { node in
                if node.type == "Global", case .strings(let names) = node[field: "names"], names.contains(name) { declares = true }
            }
            return declares && assignsName(function)
        }
    }

    /// The value a class attribute (read through the class `owner` that defines it) has at the final
    /// evaluation, when its assignments determine it: every one must set it on `owner` itself.
    func determinedClassAttribute(_ name: String, owner: String) -> SymbolicValue? {
        func setsAttribute(_ node: PyNode) -> Bool {
            var found = false
            node.walk { inner in
                for target in Self.targets(of: inner) {
                    let attribute = target.type == "Subscript" ? target.child("value") : target
                    if let attribute, attribute.type == "Attribute", attribute.string("attr") == name { found = true }
                }
                if inner.type == "Call", let callee = inner.child("func"), callee.type == "Name", callee.string("id") == "setattr" { found = true }
            }
            return found
        }
        return determined(owner + "." + name) { _ in true } isSite: { statement in
            guard statement.type == "Assign" || statement.type == "AnnAssign" else { return false }
            return Self.targets(of: statement).contains { Self.isAttribute($0, name, of: owner) }
        } assignsIn: { statement in
            setsAttribute(statement)
        } otherFunctionAssigns: { function in
            setsAttribute(function)
        }
    }

    /// Visits `node` and what it holds, but not the bodies of functions defined inside it (their own scopes).
    static func walkOutsideNestedFunctions(_ node: PyNode, _ visit: (PyNode) -> Void) {
        visit(node)
        for child in node.childNodes where child.type != "FunctionDef" && child.type != "AsyncFunctionDef" && child.type != "Lambda" {
            walkOutsideNestedFunctions(child, visit)
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

    /// `applies`: whether `main`'s assignments set the switch at all; `isSite`: whether a statement of `main`'s
    /// body assigns it; `assignsIn`: whether another statement of `main`'s body does, anywhere inside;
    /// `otherFunctionAssigns`: whether another function (a method, a nested function) does.
    private func determined(_ key: String, applies: (PyNode) -> Bool, isSite: (PyNode) -> Bool, assignsIn: (PyNode) -> Bool,
                            otherFunctionAssigns: (PyNode) -> Bool) -> SymbolicValue? {
        if let known = determinedSwitches[key] { return known }
        determinedSwitches[key] = .some(nil)  // a switch whose value reads itself is not determined
        let value = determine(applies: applies, isSite: isSite, assignsIn: assignsIn, otherFunctionAssigns: otherFunctionAssigns)
        determinedSwitches[key] = .some(value)
        return value
    }

    private func determine(applies: (PyNode) -> Bool, isSite: (PyNode) -> Bool, assignsIn: (PyNode) -> Bool,
                           otherFunctionAssigns: (PyNode) -> Bool) -> SymbolicValue? {
        guard let main = functions["main"], applies(main) else { return nil }
        let body = main.children("body")
        let sites = body.indices.filter { isSite(body[$0]) }
        guard let last = sites.last else { return nil }
        // No other assignment: in `main` outside its sites, or in any other function anywhere (methods and
        // nested functions included).
        for (index, statement) in body.enumerated() where !sites.contains(index) {
            if statement.type != "FunctionDef", statement.type != "AsyncFunctionDef", assignsIn(statement) { return nil }
        }
        var elsewhere = false
        moduleNode.walk { node in
            guard node.type == "FunctionDef" || node.type == "AsyncFunctionDef", node !== main, !elsewhere else { return }
            if otherFunctionAssigns(node) { elsewhere = true }
        }
        if elsewhere { return nil }
        // The final evaluation comes after the last assignment, and no evaluation outside a loop before it.
        let anywhere = evaluatingFunctions(outsideLoops: false), final = evaluatingFunctions(outsideLoops: true)
        guard body[(last + 1)...].contains(where: { Self.callsAnEvaluation($0, anywhere, insideLoops: true) }),
              !body[..<last].contains(where: { Self.callsAnEvaluation($0, final, insideLoops: false) }) else { return nil }
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

    /// The module's top-level functions that evaluate a model, by what they do: each scores (computes and
    /// accumulates a per-token loss, ``EvaluationProcedureReader``), puts a model in evaluation mode
    /// (`model.eval()`) or accumulates under `torch.no_grad()` / `torch.inference_mode()`; or calls such a
    /// function of the module, anywhere in its body, or with `outsideLoops` only outside its loops (a training
    /// function whose loop validates now and then does not itself compute the score).
    func evaluatingFunctions(outsideLoops: Bool) -> Set<String> {
        let functions = moduleNode.children("body").filter { $0.type == "FunctionDef" || $0.type == "AsyncFunctionDef" }
        var found = Set(functions.filter { Self.evaluates($0, aliases: aliases) }.compactMap { $0.string("name") })
        // Callers of evaluating functions, a few levels up.
        for _ in 0..<4 {
            let callers = functions.filter { function in
                guard let name = function.string("name"), !found.contains(name) else { return false }
                return function.children("body").contains { Self.callsAnEvaluation($0, found, insideLoops: !outsideLoops) }
            }
            if callers.isEmpty { break }
            found.formUnion(callers.compactMap { $0.string("name") })
        }
        return found
    }

    /// Whether `function` itself scores, calls `.eval()`, or accumulates under `no_grad` / `inference_mode`.
    private static func evaluates(_ function: PyNode, aliases: ImportAliases) -> Bool {
        if EvaluationProcedureReader.read(function, aliases: aliases, helpers: [:]).scores { return true }
        var evaluates = false
        function.walk { node in
            if node.type == "Call", let callee = node.child("func"), callee.type == "Attribute", callee.string("attr") == "eval",
               node.children("args").isEmpty { evaluates = true }
            if node.type == "With" || node.type == "AsyncWith",
               node.children("items").contains(where: { item in
                   ["no_grad", "inference_mode"].contains(item.child("context_expr")?.terminalName ?? "")
               }) {
                var accumulates = false
                node.walk { if $0.type == "AugAssign" { accumulates = true } }
                if accumulates { evaluates = true }
            }
        }
        // `@torch.no_grad()` / `@torch.inference_mode()` on the function with an accumulation in its body.
        let decorated = function.children("decorator_list").contains { ["no_grad", "inference_mode"].contains($0.terminalName ?? "") }
        if decorated { function.walk { if $0.type == "AugAssign" { evaluates = true } } }
        return evaluates
    }

    /// Whether `statement` calls one of `evaluations`, or hands one to a call as an argument.
    private static func callsAnEvaluation(_ statement: PyNode, _ evaluations: Set<String>, insideLoops: Bool) -> Bool {
        if !insideLoops, ["For", "While", "AsyncFor", "FunctionDef", "AsyncFunctionDef"].contains(statement.type) { return false }
        if statement.type == "Call" {
            let named = [statement.child("func")] + statement.children("args") + statement.children("keywords").map { $0.child("value") }
            if named.contains(where: { node in node?.type == "Name" && node?.string("id").map(evaluations.contains) == true }) {
                return true
            }
        }
        return statement.childNodes.contains { callsAnEvaluation($0, evaluations, insideLoops: insideLoops) }
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
