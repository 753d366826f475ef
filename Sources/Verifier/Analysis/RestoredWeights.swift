/// Weights copied before the updates and written back after them.
extension ValidationUpdate {
    /// Whether the function leaves the weights it was given: before its first update it copies a
    /// model's state (`orig = {k: v.clone() for k, v in model.state_dict().items()}`,
    /// `copy.deepcopy(model.state_dict())`, `{n: p.data.clone() for n, p in model.named_parameters()}`),
    /// and after its last update it writes that copy back into the same model
    /// (`model.load_state_dict(orig)`, or `p.data.copy_(orig[n])` over its parameters) wherever the
    /// updates ran: under no test the updates are not under (other than that the copy exists or
    /// holds the entry written back), not in an `except` or `else` branch, with no `return`,
    /// `raise`, `break` or `continue` between that can skip it (a `finally` always runs), and the
    /// copy not rebound or changed in between.
    static func restoresWeights(_ function: PyNode) -> Bool {
        var updates: [Int] = []
        function.walk { node in
            if node.type == "Call", let name = node.terminalName, name == "backward" || name == "step" { updates.append(node.line) }
        }
        guard let firstUpdate = updates.min(), let lastUpdate = updates.max() else { return false }
        let aliases = ModelAliases(function)
        var copies: [String: Set<String>] = [:]
        function.walk { node in
            guard node.type == "Assign", node.line < firstUpdate, node.children("targets").count == 1,
                  let target = node.children("targets").first, target.type == "Name", let name = target.string("id"),
                  let value = node.child("value"), let owners = copiedModel(value) else { return }
            copies[name] = owners
        }
        guard !copies.isEmpty else { return false }
        var restored = false
        function.walk { node in
            guard !restored, node.line > lastUpdate, let (copy, receiver) = writeBack(node, copies: Set(copies.keys)),
                  let owners = copies[copy], !aliases.names(receiver).isDisjoint(with: aliases.names(owners)) else { return }
            restored = runsAfterEveryUpdate(node.line, updates: updates, copy: copy, in: function)
        }
        return restored
    }

    /// The names of the model whose state `value` copies: a call of `clone`, `deepcopy` or `copy`
    /// around or inside a read of `state_dict()`, `named_parameters()` or `parameters()`.
    private static func copiedModel(_ value: PyNode) -> Set<String>? {
        var copies = false
        var owners: Set<String> = []
        value.walk { node in
            guard node.type == "Call", let name = node.terminalName else { return }
            if ["clone", "deepcopy", "copy"].contains(name) { copies = true }
            if ["state_dict", "named_parameters", "parameters"].contains(name), let receiver = node.child("func")?.child("value") {
                owners.formUnion(valueNames(receiver))
            }
        }
        return copies && !owners.isEmpty ? owners : nil
    }

    /// `model.load_state_dict(orig)` or `p.data.copy_(orig[n])`: the copy written back and the
    /// names of what receives it.
    private static func writeBack(_ node: PyNode, copies: Set<String>) -> (copy: String, receiver: Set<String>)? {
        guard node.type == "Call", let name = node.terminalName, name == "load_state_dict" || name == "copy_",
              let receiver = node.child("func")?.child("value") else { return nil }
        var read: String?
        for argument in node.children("args") {
            argument.walk { inner in
                if read == nil, inner.type == "Name", let id = inner.string("id"), copies.contains(id) { read = id }
            }
        }
        guard let read else { return nil }
        return (read, valueNames(receiver))
    }

    /// Names read by an expression, not counting the functions it calls (`model` in `unwrap(model).x`).
    static func valueNames(_ expression: PyNode) -> Set<String> {
        var callees: Set<ObjectIdentifier> = []
        var names: Set<String> = []
        expression.walk { node in
            if node.type == "Call", let callee = node.child("func"), callee.type == "Name" { callees.insert(ObjectIdentifier(callee)) }
            if node.type == "Name", !callees.contains(ObjectIdentifier(node)), let id = node.string("id") { names.insert(id) }
        }
        return names
    }

    /// Whether a write-back at `line` runs whenever the updates did (see ``restoresWeights(_:)``).
    private static func runsAfterEveryUpdate(_ line: Int, updates: [Int], copy: String, in function: PyNode) -> Bool {
        let first = updates.min() ?? line
        var updateTests: [[PyNode]] = updates.map { _ in [] }
        var extraTests: [PyNode] = []
        var blocked = false
        function.walk { node in
            guard !blocked else { return }
            switch node.type {
            case "If":
                let branches = [node.children("body"), node.children("orelse")]
                for (position, update) in updates.enumerated() where encloses(branches[0], update) {
                    updateTests[position] += conjuncts(node.child("test"))
                }
                if encloses(branches[1], line) { blocked = true }
                if encloses(branches[0], line), !updates.allSatisfy({ encloses(branches[0], $0) }) {
                    extraTests += conjuncts(node.child("test"))
                }
            case "Try", "TryStar":
                for handler in node.children("handlers") where encloses(handler.children("body"), line) { blocked = true }
                if encloses(node.children("orelse"), line) { blocked = true }
            case "Return", "Raise":
                if node.line > first, node.line < line, !inFinally(line, after: node, in: function) { blocked = true }
            case "Break", "Continue":
                if node.line > first, node.line < line, let loop = innermostLoop(node.line, in: function),
                   loop.line <= line, loop.endLine >= line { blocked = true }
            case "Assign", "AugAssign", "AnnAssign":
                let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
                if node.line > first, node.line < line, targets.contains(where: { valueNames($0).contains(copy) }) { blocked = true }
            case "Call":
                if node.line > first, node.line < line, let callee = node.child("func"), callee.type == "Attribute",
                   let method = callee.string("attr"), changesContainer(method),
                   let owner = callee.child("value"), valueNames(owner).contains(copy) { blocked = true }
            default:
                break
            }
        }
        guard !blocked else { return false }
        return extraTests.allSatisfy { test in
            if checksExistence(test, of: copy) { return true }
            return updateTests.allSatisfy { tests in tests.contains { sameTree($0, test) } }
        }
    }

    /// `copy.update(...)`, `copy[k].copy_(...)`: a method that changes what it is called on.
    private static func changesContainer(_ method: String) -> Bool {
        ["update", "pop", "popitem", "clear", "setdefault", "__setitem__"].contains(method) || method.hasSuffix("_")
    }

    private static func encloses(_ body: [PyNode], _ line: Int) -> Bool {
        guard let first = body.first, let last = body.last else { return false }
        return first.line <= line && last.endLine >= line
    }

    /// The terms of an `and` test, or the test itself.
    private static func conjuncts(_ test: PyNode?) -> [PyNode] {
        guard let test else { return [] }
        if test.type == "BoolOp", test.child("op")?.type == "And" { return test.children("values") }
        return [test]
    }

    /// `orig`, `orig is not None` or `name in orig`: a test that the copy was taken, or holds the
    /// entry written back.
    private static func checksExistence(_ test: PyNode, of copy: String) -> Bool {
        if test.type == "Name" { return test.string("id") == copy }
        if test.type == "Compare", test.children("ops").map(\.type) == ["In"],
           test.children("comparators").first?.string("id") == copy { return true }
        guard test.type == "Compare", test.child("left")?.string("id") == copy,
              test.children("ops").map(\.type) == ["IsNot"],
              let other = test.children("comparators").first, other.type == "Constant" else { return false }
        // The front end sends `None` as an absent value.
        return other.constant == nil || other.constant == PyConstant.none
    }

    /// Whether `line` lies in the `finally` of a `try` holding `exit`.
    private static func inFinally(_ line: Int, after exit: PyNode, in function: PyNode) -> Bool {
        var found = false
        function.walk { node in
            guard !found, node.type == "Try" || node.type == "TryStar", encloses(node.children("body"), exit.line)
                    || node.children("handlers").contains(where: { encloses($0.children("body"), exit.line) }) else { return }
            if encloses(node.children("finalbody"), line) { found = true }
        }
        return found
    }

    private static func innermostLoop(_ line: Int, in function: PyNode) -> PyNode? {
        var innermost: PyNode?
        function.walk { node in
            guard ["For", "AsyncFor", "While"].contains(node.type), node.line < line, node.endLine >= line else { return }
            if innermost == nil || node.line >= innermost!.line { innermost = node }
        }
        return innermost
    }

    /// Two syntax trees with the same node types, names and literals.
    static func sameTree(_ left: PyNode, _ right: PyNode) -> Bool {
        guard left.type == right.type, left.values.count == right.values.count else { return false }
        for (a, b) in zip(left.values, right.values) {
            switch (a, b) {
            case (.node(let x), .node(let y)):
                if !sameTree(x, y) { return false }
            case (.nodes(let xs), .nodes(let ys)):
                if xs.count != ys.count || zip(xs, ys).contains(where: { !sameTree($0, $1) }) { return false }
            case (.sparseNodes(let xs), .sparseNodes(let ys)):
                if xs.count != ys.count { return false }
                for (x, y) in zip(xs, ys) {
                    switch (x, y) {
                    case (nil, nil): continue
                    case (let x?, let y?): if !sameTree(x, y) { return false }
                    default: return false
                    }
                }
            case (.string(let x), .string(let y)): if x != y { return false }
            case (.strings(let x), .strings(let y)): if x != y { return false }
            case (.int(let x), .int(let y)): if x != y { return false }
            case (.constant(let x), .constant(let y)): if x != y { return false }
            case (.none, .none): continue
            default: return false
            }
        }
        return true
    }
}

/// The names one model goes by in a function: a name, what it was assigned from
/// (`base = unwrap(model)`), and the collection a loop takes it from (`for n, p in
/// core.named_parameters()`), one step each way.
struct ModelAliases {
    private var sources: [String: Set<String>] = [:]

    init(_ function: PyNode) {
        function.walk { node in
            switch node.type {
            case "Assign":
                guard let value = node.child("value") else { return }
                for target in node.children("targets") where target.type == "Name" {
                    if let id = target.string("id") { sources[id, default: []].formUnion(ValidationUpdate.valueNames(value)) }
                }
            case "For", "AsyncFor":
                guard let target = node.child("target"), let iterated = node.child("iter") else { return }
                for name in ValidationUpdate.valueNames(target) { sources[name, default: []].formUnion(ValidationUpdate.valueNames(iterated)) }
            default:
                break
            }
        }
    }

    /// The names themselves and those they were assigned or iterated from.
    func names(_ names: Set<String>) -> Set<String> {
        var result = names
        for name in names { result.formUnion(sources[name] ?? []) }
        return result
    }
}
