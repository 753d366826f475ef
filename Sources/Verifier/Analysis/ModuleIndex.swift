/// The functions of one module: every `def` (methods and nested functions included) plus the
/// module body itself, and how call expressions resolve to them.
public struct ModuleIndex: Sendable {
    /// One analysable body.
    public struct Function: Sendable {
        /// `main`, `GPT.forward`, `eval_val.inner`; `<module>` for the module body.
        public var qualifiedName: String
        public var name: String
        public var className: String?
        public var node: PyNode
        /// Positional-or-keyword parameter names in order (`self` included).
        public var parameters: [String]
        /// Whether a decorator disables autograd for the whole body (`@torch.no_grad()`).
        public var gradientFree: Bool
        /// The function whose body defines this one (a closure's scope), nil at module level.
        public var enclosingFunction: Int? = nil
    }

    public private(set) var functions: [Function] = []
    public let aliases: ImportAliases
    private var byName: [String: [Int]] = [:]
    private var byClassMethod: [String: Int] = [:]
    /// Names (or attributes) bound only to instances of one class of the module (`cache =
    /// PhraseCache(...)`, also `... if use_cache else None`), with that class.
    private var instanceClasses: [String: String] = [:]
    /// `Class.attribute` pairs whose value the object holds by itself, whatever data it was built
    /// from (``ownAttributes(in:)``).
    private var ownAttributes: Set<String> = []
    /// ``DataSourceNames`` labels of every identifier in the module, computed once.
    private var identifierLabels: [String: DataLabels] = [:]
    private var identifierTraits: [String: CallTraits] = [:]

    /// Index 0 is always the module body.
    public init(module: PyNode) {
        aliases = ImportAliases(module: module)
        functions.append(Function(
            qualifiedName: "<module>", name: "<module>", className: nil, node: module,
            parameters: [], gradientFree: false))
        collect(module.children("body"), prefix: "", className: nil, enclosing: nil)
        var labels: [String: DataLabels] = [:]
        var traits: [String: CallTraits] = [:]
        module.walk { node in
            let identifier: String?
            switch node.type {
            case "Name": identifier = node.string("id")
            case "Attribute": identifier = node.string("attr")
            case "arg": identifier = node.string("arg")
            default: identifier = nil
            }
            if let identifier, labels[identifier] == nil {
                labels[identifier] = DataSourceNames.labels(forIdentifier: identifier)
                traits[identifier] = CallTraits.of(identifier)
            }
        }
        identifierLabels = labels
        identifierTraits = traits
        instanceClasses = Self.instanceClasses(in: module, classes: Set(functions.compactMap(\.className)))
        ownAttributes = Self.ownAttributes(in: functions)
    }

    /// The class of the instances `name` is bound to, when it is bound only to instances of one class.
    public func instanceClass(of name: String) -> String? { instanceClasses[name] }

    /// Whether `attribute` of an instance of `className` holds only what the class made for it.
    public func isOwnAttribute(_ attribute: String, of className: String) -> Bool {
        ownAttributes.contains(className + "." + attribute)
    }

    /// The own attributes (``isOwnAttribute(_:of:)``) through which function
    /// `function` reads its parameter `parameter`, when the parameter names instances of one class and
    /// every mention of it in the body is such a read (`val_data.sp`); nil otherwise.
    public func ownAttributesRead(through parameter: String, in function: Int) -> [String]? {
        guard let owner = instanceClasses[parameter] else { return nil }
        var read: [String] = []
        var bases: Set<ObjectIdentifier> = []
        var other = false
        let body = functions[function].node.children("body")
        for statement in body {
            statement.walk { node in
                if node.type == "Attribute", let base = node.child("value"), base.type == "Name", base.string("id") == parameter {
                    bases.insert(ObjectIdentifier(base))
                    guard let attribute = node.string("attr"), isOwnAttribute(attribute, of: owner) else { other = true; return }
                    if !read.contains(attribute) { read.append(attribute) }
                } else if node.type == "Name", node.string("id") == parameter, !bases.contains(ObjectIdentifier(node)) {
                    other = true
                } else if node.type == "arg", node.string("arg") == parameter {
                    other = true
                }
            }
        }
        return other ? nil : read
    }

    /// Attributes set only in their class's `__init__`, each by a whole assignment whose value takes
    /// none of `__init__`'s parameters bare (`self.sp = spm.SentencePieceProcessor(model_file=h.tokenizer_path)`:
    /// `h` only as the base of an attribute), and changed in place by no method (`self.a[k] = v`,
    /// `self.a.append(v)`). What such an attribute holds does not come from the data the object
    /// was built from or is named for.
    private static func ownAttributes(in functions: [Function]) -> Set<String> {
        var candidates: Set<String> = []
        var changed: Set<String> = []
        func root(_ node: PyNode) -> String? {
            var current = node
            while true {
                guard let base = current.child("value") else { return nil }
                if current.type == "Attribute", base.type == "Name", base.string("id") == "self" { return current.string("attr") }
                guard ["Attribute", "Subscript"].contains(current.type) else { return nil }
                current = base
            }
        }
        for function in functions {
            guard let className = function.className else { continue }
            let parameters = Set(function.parameters.dropFirst())
            function.node.walk { node in
                var targets: [PyNode] = []
                switch node.type {
                case "Assign": targets = node.children("targets")
                case "AnnAssign", "AugAssign": targets = [node.child("target")].compactMap { $0 }
                case "Call":
                    if let callee = node.child("func"), callee.type == "Attribute", let method = callee.string("attr"),
                       containerMethods.contains(method), let receiver = callee.child("value"), let attribute = root(receiver) {
                        changed.insert(className + "." + attribute)
                    }
                default: break
                }
                var flat: [PyNode] = []
                func flatten(_ target: PyNode) {
                    if ["Tuple", "List"].contains(target.type) { target.children("elts").forEach(flatten) } else { flat.append(target) }
                }
                targets.forEach(flatten)
                for target in flat {
                    guard let attribute = root(target) else { continue }
                    let key = className + "." + attribute
                    let whole = target.type == "Attribute" && target.child("value")?.string("id") == "self"
                    if whole, node.type == "Assign", function.name == "__init__", targets.count == 1, targets[0] === target,
                       let value = node.child("value"), !takesBare(value, parameters) {
                        candidates.insert(key)
                    } else {
                        changed.insert(key)
                    }
                }
            }
        }
        return candidates.subtracting(changed)
    }

    private static let containerMethods: Set<String> = [
        "append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft", "put", "copy_", "__setitem__",
    ]

    /// Whether `value` mentions one of `parameters` other than as the base of an attribute (`h.path`).
    private static func takesBare(_ value: PyNode, _ parameters: Set<String>) -> Bool {
        var bases: Set<ObjectIdentifier> = []
        var bare = false
        value.walk { node in
            if node.type == "Attribute", let base = node.child("value"), base.type == "Name" { bases.insert(ObjectIdentifier(base)) }
            if node.type == "Name", let name = node.string("id"), parameters.contains(name), !bases.contains(ObjectIdentifier(node)) {
                bare = true
            }
        }
        return bare
    }

    /// See ``instanceClasses``: a name bound to anything else, or to two classes, has none.
    private static func instanceClasses(in module: PyNode, classes: Set<String>) -> [String: String] {
        func constructed(_ value: PyNode) -> String? {
            if value.type == "Call", let callee = value.child("func"), callee.type == "Name",
               let name = callee.string("id"), classes.contains(name) {
                return name
            }
            if value.type == "IfExp", let body = value.child("body"), let otherwise = value.child("orelse"),
               FeatureFlags.isNoneLiteral(otherwise) {
                return constructed(body)
            }
            return nil
        }
        var bound: [String: String] = [:]
        var ambiguous: Set<String> = []
        module.walk { node in
            guard node.type == "Assign" || node.type == "AnnAssign", let value = node.child("value") else { return }
            let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
            for target in targets {
                guard let name = target.terminalName, target.type == "Name" || target.type == "Attribute" else { continue }
                guard let instance = constructed(value) else { ambiguous.insert(name); continue }
                if let previous = bound[name], previous != instance { ambiguous.insert(name) } else { bound[name] = instance }
            }
        }
        return bound.filter { !ambiguous.contains($0.key) }
    }

    /// What a call's last name says about it, computed once per identifier.
    public struct CallTraits: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `quantize*` (not `dequantize*`): produces the artifact.
        public static let quantizes = CallTraits(rawValue: 1)
        /// `*hessian*`, `*calib*`, `*gptq*`: calibration or statistics.
        public static let calibrates = CallTraits(rawValue: 2)

        static func of(_ name: String) -> CallTraits {
            let lower = name.lowercased()
            var traits: CallTraits = []
            if lower.contains("quantize") && !lower.contains("dequantize") { traits.insert(.quantizes) }
            if lower.contains("hessian") || lower.contains("calib") || lower.contains("gptq") { traits.insert(.calibrates) }
            return traits
        }
    }

    /// ``CallTraits`` of the identifier `name`.
    public func callTraits(_ name: String) -> CallTraits {
        identifierTraits[name] ?? CallTraits.of(name)
    }

    /// The labels the identifier `name` carries by itself (see ``DataSourceNames``).
    public func sourceLabels(_ name: String) -> DataLabels {
        identifierLabels[name] ?? DataSourceNames.labels(forIdentifier: name)
    }

    private mutating func collect(_ statements: [PyNode], prefix: String, className: String?, enclosing: Int?) {
        for statement in statements {
            switch statement.type {
            case "FunctionDef", "AsyncFunctionDef":
                guard let name = statement.string("name") else { continue }
                let arguments = statement.child("args")
                let parameters = (arguments?.children("posonlyargs") ?? []) + (arguments?.children("args") ?? [])
                    + (arguments?.children("kwonlyargs") ?? [])
                let gradientFree = statement.children("decorator_list").contains { decorator in
                    let callee = decorator.type == "Call" ? decorator.child("func") : decorator
                    let terminal = callee?.terminalName ?? ""
                    return terminal == "no_grad" || terminal == "inference_mode"
                }
                let index = functions.count
                functions.append(Function(
                    qualifiedName: prefix + name, name: name, className: className, node: statement,
                    parameters: parameters.compactMap { $0.string("arg") }, gradientFree: gradientFree,
                    enclosingFunction: enclosing))
                byName[name, default: []].append(index)
                if let className { byClassMethod[className + "." + name] = index }
                collect(statement.children("body"), prefix: prefix + name + ".", className: nil, enclosing: index)
            case "ClassDef":
                guard let name = statement.string("name") else { continue }
                collect(statement.children("body"), prefix: prefix + name + ".", className: name, enclosing: enclosing)
            default:
                // Definitions inside if/try/with at module level (`if HAVE_X: def f(...)`).
                for field in ["body", "orelse", "finalbody", "handlers"] {
                    let nested = statement.children(field)
                    if !nested.isEmpty { collect(nested.flatMap { $0.type == "ExceptHandler" ? $0.children("body") : [$0] },
                                                 prefix: prefix, className: className, enclosing: enclosing) }
                }
            }
        }
    }

    /// Method names too common to resolve by name alone (tensor and library methods).
    static let unresolvableMethods: Set<String> = [
        "step", "backward", "to", "float", "sum", "mean", "save", "load", "compress", "decompress",
        "forward", "__call__", "__init__", "reset", "update", "zero_grad", "item", "view", "reshape",
        "apply", "train", "eval", "get", "append", "extend", "copy", "clone", "state_dict",
    ]

    /// The function a call's callee refers to, when it is defined in this module. `self.m(...)`
    /// resolves within the enclosing class; `obj.m(...)` when `obj` is bound only to instances of
    /// one class that defines `m` (whatever the name), or else when a single class defines `m`
    /// and `m` is not a name too common to resolve.
    public func resolve(callee: PyNode, enclosingClass: String?) -> Int? {
        switch callee.type {
        case "Name":
            guard let name = callee.string("id"), let candidates = byName[name] else { return nil }
            return candidates.first { functions[$0].className == nil } ?? nil
        case "Attribute":
            guard let method = callee.string("attr"), let receiver = callee.child("value") else { return nil }
            if receiver.type == "Name", receiver.string("id") == "self", let enclosingClass,
               let index = byClassMethod[enclosingClass + "." + method] {
                return index
            }
            // `cache.update(...)` with `cache` bound only to instances of a class defining
            // `update`: even a common method name is that class's.
            if let receiverName = receiver.terminalName, receiver.type == "Name" || receiver.type == "Attribute",
               let instanceClass = instanceClasses[receiverName], let index = byClassMethod[instanceClass + "." + method] {
                return index
            }
            if Self.unresolvableMethods.contains(method) { return nil }
            let methods = (byName[method] ?? []).filter { functions[$0].className != nil }
            if methods.count > 1, let receiverName = receiver.terminalName, receiver.type != "Call",
               let instanceClass = instanceClasses[receiverName] {
                return byClassMethod[instanceClass + "." + method]
            }
            return methods.count == 1 ? methods[0] : nil
        default:
            return nil
        }
    }
}
