/// A module whose validation-named values are all made up (a CPU smoke test): every binding of
/// an identifier that names validation data (`val_tokens`, `val_data`) is a random generator's
/// output (`torch.randint(...)`, `np.random.randint(...)`, with any calls chained on it) or an
/// object of a class the module defines, at least one binding is random, no parameter or import
/// binds such a name, and no string names validation shards. Its code runs on random tokens,
/// not on the validation set, whatever the names say.
enum RandomValidationData {
    static func onlyRandom(in module: PyNode, aliases: ImportAliases) -> Bool {
        var classes: Set<String> = []
        module.walk { node in
            if node.type == "ClassDef", let name = node.string("name") { classes.insert(name) }
        }
        func namesValidation(_ identifier: String?) -> Bool {
            identifier.map { DataSourceNames.labels(forIdentifier: $0).contains(.validation) } ?? false
        }
        var randomBindings = 0
        var otherBinding = false
        module.walk { node in
            guard !otherBinding else { return }
            switch node.type {
            case "Assign", "AnnAssign":
                let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
                for target in targets {
                    if target.type == "Name" || target.type == "Attribute" {
                        guard namesValidation(target.terminalName) else { continue }
                        switch node.child("value").map({ madeUp($0, classes: classes, aliases: aliases) }) {
                        case .random?: randomBindings += 1
                        case .moduleObject?: break
                        default: otherBinding = true
                        }
                    } else {
                        // Unpacked (`train, val_tokens = load()`), subscripted or starred: not read here.
                        target.walk { inner in
                            if ["Name", "Attribute"].contains(inner.type), namesValidation(inner.terminalName) { otherBinding = true }
                        }
                    }
                }
            case "AugAssign", "For", "AsyncFor", "comprehension", "NamedExpr", "withitem":
                let target = node.child("target") ?? node.child("optional_vars")
                target?.walk { inner in
                    if ["Name", "Attribute"].contains(inner.type), namesValidation(inner.terminalName) { otherBinding = true }
                }
            case "arg":
                if namesValidation(node.string("arg")) { otherBinding = true }
            case "alias":
                if namesValidation(node.string("asname") ?? node.string("name")?.split(separator: ".").last.map(String.init)) {
                    otherBinding = true
                }
            case "Constant":
                if let text = node.stringLiteral, DataSourceNames.labels(forLiteral: text).contains(.validation) { otherBinding = true }
            default:
                break
            }
        }
        return randomBindings > 0 && !otherBinding
    }

    private enum Source { case random, moduleObject, other }

    /// What a bound value is: a random generator's output (through a chain of calls on it:
    /// `torch.randint(...).to(device)`), an object of a class the module defines, or anything else.
    private static func madeUp(_ value: PyNode, classes: Set<String>, aliases: ImportAliases) -> Source {
        var node = value
        while node.type == "Call", let function = node.child("func") {
            if function.type == "Attribute", let receiver = function.child("value"), receiver.type == "Call" {
                node = receiver
                continue
            }
            if function.type == "Name", let name = function.string("id"), classes.contains(name) { return .moduleObject }
            guard let callee = aliases.resolve(function) else { return .other }
            return randomGenerators.contains { callee.hasPrefix($0) } ? .random : .other
        }
        return .other
    }

    private static let randomGenerators = ["torch.rand", "numpy.random.", "random."]
}
