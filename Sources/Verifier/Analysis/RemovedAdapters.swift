/// Parameters attached to a model for an update and taken off it again afterwards (test-time
/// adapters), recognised by what the code does with them, not by what it calls them.
///
/// A function trains only such parameters when
/// 1. every optimizer it builds is given a *selection* of a model's parameters: module attributes
///    a helper yields or returns (`yield m.lora_A`), or `named_parameters()` filtered by a string
///    (`[p for n, p in model.named_parameters() if "delta" in n]`), and
/// 2. after its last update it (or a module function it calls then) removes parameters of that
///    selection from their modules (`del m._parameters["lora_A"]`, `delattr(m, "lora_A")`,
///    `del m.lora_A`, `m.lora_a = None`) without writing them into other weights first (no matrix
///    product, in-place arithmetic on a tensor or `copy_`/`add_` there: that is a merge).
/// The weights such a function leaves are then the ones it was given.
enum RemovedAdapters {
    static func trainsOnly(function: Int, in index: ModuleIndex, optimizers: Set<String>) -> Bool {
        let body = index.functions[function].node
        let enclosingClass = index.functions[function].className
        var optimizerArguments: [(argument: PyNode?, line: Int)] = []
        var lastUpdate = 0
        body.walk { node in
            guard node.type == "Call", let name = node.terminalName else { return }
            if optimizers.contains(name) { optimizerArguments.append((node.children("args").first, node.line)) }
            if name == "backward" || name == "step" { lastUpdate = max(lastUpdate, node.line) }
        }
        guard !optimizerArguments.isEmpty else { return false }
        var selection = Selection()
        for (argument, line) in optimizerArguments {
            guard let argument else { return false }
            let chosen = selected(by: argument, before: line, in: body, index: index, enclosingClass: enclosingClass)
            guard !chosen.isEmpty else { return false }
            selection.formUnion(chosen)
        }
        let removal = removals(after: lastUpdate, in: body, index: index, enclosingClass: enclosingClass)
        return !removal.merges && removal.keys.contains(where: selection.covers)
    }

    /// Parameter names a selection picks: exact attribute names and substrings of parameter names.
    struct Selection {
        var attributes: Set<String> = []
        var substrings: Set<String> = []
        var isEmpty: Bool { attributes.isEmpty && substrings.isEmpty }
        mutating func formUnion(_ other: Selection) {
            attributes.formUnion(other.attributes)
            substrings.formUnion(other.substrings)
        }
        func covers(_ key: String) -> Bool {
            attributes.contains(key) || substrings.contains { !$0.isEmpty && key.contains($0) }
        }
    }

    /// What an optimizer argument selects: followed through names bound in the function (the last
    /// binding before the optimizer) and into module functions it calls, three levels deep.
    private static func selected(by expression: PyNode, before line: Int, in body: PyNode, index: ModuleIndex,
                                 enclosingClass: String?, depth: Int = 0) -> Selection {
        guard depth < 3 else { return Selection() }
        if expression.type == "Name", let id = expression.string("id") {
            var bound: PyNode?
            body.walk { node in
                guard node.type == "Assign", node.line < line, let value = node.child("value"),
                      node.children("targets").contains(where: { $0.type == "Name" && $0.string("id") == id }) else { return }
                bound = value
            }
            guard let bound else { return Selection() }
            return selected(by: bound, before: line, in: body, index: index, enclosingClass: enclosingClass, depth: depth + 1)
        }
        var selection = filteredParameters(in: expression)
        expression.walk { node in
            // `[block.extra for block in model.layers]`: the attribute each element reads.
            if ["ListComp", "GeneratorExp"].contains(node.type), let element = node.child("elt"),
               element.type == "Attribute", let attribute = element.string("attr") {
                selection.attributes.insert(attribute)
            }
            guard node.type == "Call", let callee = node.child("func"),
                  let helper = index.resolve(callee: callee, enclosingClass: enclosingClass) else { return }
            selection.formUnion(selectedByHelper(index.functions[helper].node))
        }
        return selection
    }

    /// A helper's selection: module attributes it yields or returns, and string filters on names.
    private static func selectedByHelper(_ helper: PyNode) -> Selection {
        var selection = filteredParameters(in: helper)
        helper.walk { node in
            guard node.type == "Yield" || node.type == "Return", let value = node.child("value") else { return }
            for element in value.type == "List" || value.type == "Tuple" ? value.children("elts") : [value]
            where element.type == "Attribute" {
                if let attribute = element.string("attr") { selection.attributes.insert(attribute) }
            }
        }
        return selection
    }

    /// String filters on parameter names inside a comprehension over `named_parameters()`:
    /// `"lora" in n`, `n.startswith("adapter")`, `n.endswith("_delta")`.
    private static func filteredParameters(in expression: PyNode) -> Selection {
        var selection = Selection()
        expression.walk { node in
            guard ["ListComp", "GeneratorExp", "SetComp", "DictComp"].contains(node.type) else { return }
            for generator in node.children("generators") {
                guard let iterable = generator.child("iter"), iterable.type == "Call",
                      iterable.terminalName == "named_parameters" else { continue }
                for condition in generator.children("ifs") {
                    condition.walk { test in
                        if test.type == "Compare", test.children("ops").contains(where: { $0.type == "In" }),
                           case .string(let literal)? = test.child("left")?.constant {
                            selection.substrings.insert(literal)
                        }
                        if test.type == "Call", ["startswith", "endswith"].contains(test.terminalName ?? ""),
                           case .string(let literal)? = test.children("args").first?.constant {
                            selection.substrings.insert(literal)
                        }
                    }
                }
            }
        }
        return selection
    }

    /// Parameter names removed after `line`, in the function's own statements and in the module
    /// functions it calls there, and whether any of that code merges tensors into others.
    private static func removals(after line: Int, in body: PyNode, index: ModuleIndex,
                                 enclosingClass: String?) -> (keys: [String], merges: Bool) {
        var scopes: [PyNode] = []
        for statement in statements(of: body) where statement.line > line {
            scopes.append(statement)
            statement.walk { node in
                guard node.type == "Call", let callee = node.child("func"),
                      let helper = index.resolve(callee: callee, enclosingClass: enclosingClass) else { return }
                scopes.append(index.functions[helper].node)
            }
        }
        var keys: [String] = []
        var merges = false
        for scope in scopes {
            scope.walk { node in
                switch node.type {
                case "Delete":
                    for target in node.children("targets") {
                        if let key = removedKey(target) { keys.append(key) }
                    }
                case "Assign":
                    if let value = node.child("value"), value.type == "Constant",
                       value.constant == nil || value.constant == PyConstant.none {
                        for target in node.children("targets") where target.type == "Attribute" {
                            if let attribute = target.string("attr") { keys.append(attribute) }
                        }
                    }
                case "Call":
                    let name = node.terminalName ?? ""
                    if name == "delattr", node.children("args").count >= 2,
                       case .string(let attribute)? = node.children("args")[1].constant {
                        keys.append(attribute)
                    }
                    if mergingCalls.contains(name) { merges = true }
                case "AugAssign":
                    if let target = node.child("target"), target.type != "Name" { merges = true }
                case "BinOp":
                    if node.child("op")?.type == "MatMult" { merges = true }
                default:
                    break
                }
            }
        }
        return (keys, merges)
    }

    /// `m._parameters["lora_A"]` → `lora_A`; `m.lora_A` → `lora_A`.
    private static func removedKey(_ target: PyNode) -> String? {
        switch target.type {
        case "Subscript":
            if case .string(let key)? = target.child("slice")?.constant { return key }
            return nil
        case "Attribute":
            return target.string("attr")
        default:
            return nil
        }
    }

    /// The simple statements of a function body, those inside nested blocks included; a nested
    /// function or class definition is one statement.
    private static func statements(of function: PyNode) -> [PyNode] {
        var result: [PyNode] = []
        func collect(_ block: [PyNode]) {
            for statement in block {
                switch statement.type {
                case "For", "While", "If", "With", "Try", "AsyncFor", "AsyncWith":
                    for field in ["body", "orelse", "finalbody"] { collect(statement.children(field)) }
                    for handler in statement.children("handlers") { collect(handler.children("body")) }
                default:
                    result.append(statement)
                }
            }
        }
        collect(function.children("body"))
        return result
    }

    /// Calls that write one tensor into another: a merge of adapters into the weights.
    private static let mergingCalls: Set<String> = ["copy_", "add_", "sub_", "addmm_", "addmm", "matmul", "mm", "bmm", "einsum", "lerp_"]
}
