import Foundation
import Reference

/// Why the code could not be read as a forward pass, or where it stops matching: a line and what
/// is there.
struct ConformanceFailure: Error {
    var line: Int
    var function: String
    var message: String
}

/// Reads a model's code (its `__init__`s and `forward`s and every helper they call) the way Python
/// would run it for one configuration, but over symbols: tensors are nodes of a ``ForwardGraph``,
/// sizes only the input fixes stay symbolic, numbers from the configuration are folded. Nothing is
/// executed; what it cannot follow (a `while` loop, an unknown library call, a branch on data) is a
/// ``ConformanceFailure`` naming the line.
final class ForwardInterpreter {
    let graph = ForwardGraph()
    let aliases: ImportAliases
    let hyperparameters: [String: SymbolicValue]
    let parameterShapes: [String: [Int]]
    /// Rows of parameter banks and the per-layer names they are saved under (``ParameterBanks``).
    let banks: [String: [Int: String]]
    /// Module globals that start as `None` and that functions declaring them `global` set, all to one
    /// constant (`BOS_ID = None`; `global BOS_ID; BOS_ID = 1` in a loader): read at that constant.
    private(set) var runtimeGlobals: [String: SymbolicValue] = [:]
    /// Module globals that functions declaring them `global` set, by the first line that does: unless
    /// they start as `None` and are set to one constant (`runtimeGlobals`), their value at evaluation
    /// depends on the run (`_QAT_ENABLED = False`; `global _QAT_ENABLED; _QAT_ENABLED = True` in a hook).
    private(set) var globalsSetByTheRun: [String: Int] = [:]
    /// Attribute names the code sets outside every `__init__` on a receiver other than `self`
    /// (`CastedLinear._qat_enabled = True` in the training loop, `module._qat = True` over
    /// `model.modules()`, `setattr(m, "_qat", True)`), by the first line that does: what a module reads
    /// under such a name at evaluation depends on how the run went (`runDependent`).
    private(set) var attributesSetByTheRun: [String: Int] = [:]
    /// Attributes the check sets to their evaluation state itself (`looping_active`): read as set.
    var pinnedAttributes: Set<String> = []
    /// The attribute the artifact saves the blocks under when not `blocks` (``BlockListNaming``): parameters the
    /// code registers there are read as `blocks.N.…`, the names the reference loads.
    var blockList: String?
    /// Names of `main` that hold the hyperparameters (`args`), for switches `main` sets from them.
    var hyperparameterReceivers: Set<String> = []
    /// Switches the run sets whose value at the final evaluation the code determines (``determinedGlobal(_:)``), by name; nil: not.
    var determinedSwitches: [String: SymbolicValue?] = [:]
    let moduleNode: PyNode
    private(set) var classes: [String: ClassInfo] = [:]
    private(set) var functions: [String: PyNode] = [:]
    private var moduleAssignments: [String: PyNode] = [:]
    private var steps = 0
    private var depth = 0
    /// While reading `__init__`: a statement that cannot be read leaves its targets unknown instead of
    /// failing (the weights come from the artifact, not from initialisation code).
    private var lenient = false

    /// Bounds the work a hostile source can cause.
    static let maxSteps = 2_000_000
    static let maxDepth = 64

    struct ClassInfo {
        let name: String
        let node: PyNode
        /// Resolved base names: `torch.nn.Module`, `torch.nn.Linear`, or another class of the code.
        let bases: [String]
        let methods: [String: PyNode]
        /// Class-level assignments (`_qat = False`): what an instance reads when its `__init__` sets nothing.
        let variables: [String: PyNode]
    }

    struct Frame {
        var locals: [String: SymbolicValue] = [:]
        let function: String
        let className: String?
        let receiver: ModuleInstance?
        /// The tensors the function was given as arguments (its caller may hold them too).
        var borrowed: Set<Int> = []
    }

    enum Flow {
        case normal
        case returned(SymbolicValue)
        case breakLoop
        case continueLoop
    }

    init(module: PyNode, hyperparameters: [String: SymbolicValue], parameterShapes: [String: [Int]]) {
        self.aliases = ImportAliases(module: module)
        self.moduleNode = module
        self.hyperparameters = hyperparameters
        self.parameterShapes = parameterShapes
        if case .int(let layers)? = hyperparameters["num_layers"] {
            self.banks = ParameterBanks.read(module: module, layers: layers)
        } else {
            self.banks = [:]
        }
        collect(module.children("body"))
        runtimeGlobals = Self.globalsSetOnce(module)
        globalsSetByTheRun = Self.globalsSetInFunctions(module)
        attributesSetByTheRun = Self.attributesSetOutsideConstruction(module)
    }

    /// The first line where a function declaring a name `global` assigns it, for every such name.
    private static func globalsSetInFunctions(_ module: PyNode) -> [String: Int] {
        var lines: [String: Int] = [:]
        module.walk { function in
            guard function.type == "FunctionDef" || function.type == "AsyncFunctionDef" else { return }
            var declared: Set<String> = []
            function.walk { node in
                if node.type == "Global", case .strings(let names) = node[field: "names"] { declared.formUnion(names) }
            }
            guard !declared.isEmpty else { return }
            function.walk { node in
                for target in assignmentTargets(node) where target.type == "Name" {
                    guard let name = target.string("id"), declared.contains(name) else { continue }
                    lines[name] = min(lines[name] ?? .max, node.line)
                }
            }
        }
        return lines
    }

    private static func assignmentTargets(_ node: PyNode) -> [PyNode] {
        var targets: [PyNode]
        switch node.type {
        case "Assign": targets = node.children("targets")
        case "AugAssign", "AnnAssign": targets = node.child("target").map { [$0] } ?? []
        default: return []
        }
        var flat: [PyNode] = []
        while let target = targets.popLast() {
            if target.type == "Tuple" || target.type == "List" { targets += target.children("elts") } else { flat.append(target) }
        }
        return flat
    }

    /// See `attributesSetByTheRun`. Everything an `__init__` does is construction, which the check
    /// follows; `self.name = …` in a method is too, where the forward runs it. A name some method both
    /// reads and sets on `self` (a rotary cache: `if self._cos_cached is None …: self._cos_cached = …`)
    /// is state the module refills itself, so resetting it from outside (`rotary._cos_cached = None`
    /// before a TTT pass) does not make it depend on the run.
    private static func attributesSetOutsideConstruction(_ module: PyNode) -> [String: Int] {
        var lines: [String: Int] = [:]
        var refilled: Set<String> = []
        func note(_ name: String, _ line: Int) { lines[name] = min(lines[name] ?? .max, line) }
        func isSelfAttribute(_ node: PyNode) -> Bool {
            guard node.type == "Attribute", let receiver = node.child("value") else { return false }
            return receiver.type == "Name" && receiver.string("id") == "self"
        }
        func noteRefilledState(_ method: PyNode) {
            var written: Set<String> = [], writes: [String: Int] = [:], mentions: [String: Int] = [:]
            method.walk { node in
                for target in assignmentTargets(node) where isSelfAttribute(target) {
                    if let name = target.string("attr") { written.insert(name); writes[name, default: 0] += 1 }
                }
                if isSelfAttribute(node), let name = node.string("attr") { mentions[name, default: 0] += 1 }
            }
            for name in written where mentions[name, default: 0] > writes[name, default: 0] { refilled.insert(name) }
        }
        func visit(_ node: PyNode, inInitialiser: Bool) {
            var inInitialiser = inInitialiser
            if node.type == "FunctionDef" || node.type == "AsyncFunctionDef" {
                inInitialiser = node.string("name") == "__init__"
                if !inInitialiser { noteRefilledState(node) }
            }
            if !inInitialiser {
                for target in assignmentTargets(node) {
                    // `CastedLinear._qat_state[0] = True` sets the list the class holds.
                    let attribute = target.type == "Subscript" ? target.child("value") : target
                    guard let attribute, attribute.type == "Attribute", !isSelfAttribute(attribute),
                          let name = attribute.string("attr") else { continue }
                    note(name, node.line)
                }
                if node.type == "Call", let callee = node.child("func"), callee.type == "Name", callee.string("id") == "setattr" {
                    if let name = node.children("args").dropFirst().first?.stringLiteral { note(name, node.line) }
                }
            }
            for child in node.childNodes { visit(child, inInitialiser: inInitialiser) }
        }
        visit(module, inInitialiser: false)
        return lines.filter { !refilled.contains($0.key) }
    }

    /// Marks a value read under a name the run sets (``attributesSetByTheRun``): a plain setting
    /// (a flag, a number, a string, None, a list of numbers) becomes undecidable; modules and tensors
    /// are read as built.
    func runDependent(attribute name: String, owner: String, _ value: SymbolicValue) -> SymbolicValue {
        guard let line = attributesSetByTheRun[name], !pinnedAttributes.contains(name) else { return value }
        let isSetting: Bool
        switch value {
        case .bool, .int, .real, .string, .none: isSetting = true
        case .list(let list): isSetting = list.items.allSatisfy { Self.number($0) != nil || $0.isNone }
        case .tuple(let items): isSetting = items.allSatisfy { Self.number($0) != nil || $0.isNone }
        default: isSetting = false
        }
        guard isSetting else { return value }
        return .opaque(Self.runDependentPrefix + "\(owner).\(name), which the code sets outside the model's construction "
            + "at line \(line), so its value at evaluation depends on the run")
    }

    /// How values that depend on the run begin (``SymbolicValue/opaque(_:)``).
    static let runDependentPrefix = "run-dependent "

    static func isRunDependent(_ value: SymbolicValue) -> Bool {
        if case .opaque(let text) = value { return text.hasPrefix(runDependentPrefix) }
        return false
    }

    /// What a run-dependent value is (`CastedLinear._qat_enabled, which the code sets … at line 1388 …`).
    static func runDependentName(_ value: SymbolicValue) -> Substring {
        guard case .opaque(let text) = value else { return "" }
        return text.dropFirst(runDependentPrefix.count)
    }

    private static func globalsSetOnce(_ module: PyNode) -> [String: SymbolicValue] {
        var values: [String: [SymbolicValue?]] = [:]
        module.walk { function in
            guard function.type == "FunctionDef" else { return }
            var declared: Set<String> = []
            function.walk { node in
                if node.type == "Global", case .strings(let names) = node[field: "names"] { declared.formUnion(names) }
            }
            guard !declared.isEmpty else { return }
            function.walk { node in
                let targets: [PyNode]
                switch node.type {
                case "Assign": targets = node.children("targets")
                case "AugAssign", "AnnAssign": targets = node.child("target").map { [$0] } ?? []
                default: return
                }
                for target in targets where target.type == "Name" {
                    guard let name = target.string("id"), declared.contains(name) else { continue }
                    var constant: SymbolicValue?
                    if node.type == "Assign", let value = node.child("value"), value.type == "Constant", let literal = value.constant {
                        if let n = literal.intValue { constant = .int(n) } else if let text = value.stringLiteral { constant = .string(text) }
                    }
                    values[name, default: []].append(constant)
                }
            }
        }
        var result: [String: SymbolicValue] = [:]
        for (name, assigned) in values {
            guard let first = assigned.first ?? nil, assigned.allSatisfy({ $0.map { Self.sameConstant($0, first) } ?? false }) else { continue }
            result[name] = first
        }
        return result
    }

    private static func sameConstant(_ a: SymbolicValue, _ b: SymbolicValue) -> Bool {
        switch (a, b) {
        case let (.int(x), .int(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        default: return false
        }
    }

    private func collect(_ statements: [PyNode]) {
        for statement in statements {
            switch statement.type {
            case "ClassDef":
                guard let name = statement.string("name") else { continue }
                var methods: [String: PyNode] = [:]
                var variables: [String: PyNode] = [:]
                for item in statement.children("body") {
                    if item.type == "FunctionDef", let method = item.string("name") { methods[method] = item }
                    if item.type == "Assign", let value = item.child("value") {
                        for target in item.children("targets") where target.type == "Name" {
                            if let variable = target.string("id") { variables[variable] = value }
                        }
                    }
                    if item.type == "AnnAssign", let target = item.child("target"), target.type == "Name",
                       let variable = target.string("id"), let value = item.child("value") {
                        variables[variable] = value
                    }
                }
                let bases = statement.children("bases").compactMap { aliases.resolve($0) }
                classes[name] = ClassInfo(name: name, node: statement, bases: bases, methods: methods, variables: variables)
            case "FunctionDef":
                if let name = statement.string("name") { functions[name] = statement }
            case "Assign":
                for target in statement.children("targets") where target.type == "Name" {
                    if let name = target.string("id") { moduleAssignments[name] = statement.child("value") }
                }
            case "AnnAssign":
                if let target = statement.child("target"), target.type == "Name", let name = target.string("id"),
                   let value = statement.child("value") {
                    moduleAssignments[name] = value
                }
            case "If", "Try":
                collect(statement.children("body"))
                collect(statement.children("orelse"))
            default:
                break
            }
        }
    }

    /// Reads strictly (a statement that cannot be read fails) until ``restoreLenience(_:)``.
    func suspendLenience() -> Bool {
        let was = lenient
        lenient = false
        return was
    }

    func restoreLenience(_ was: Bool) { lenient = was }

    // MARK: Failures

    func fail(_ node: PyNode?, _ frame: Frame, _ message: String) -> ConformanceFailure {
        ConformanceFailure(line: node?.line ?? 0, function: frame.function, message: message)
    }

    private func tick(_ node: PyNode, _ frame: Frame) throws(ConformanceFailure) {
        steps += 1
        if steps > Self.maxSteps { throw fail(node, frame, "the model code takes more than \(Self.maxSteps) steps to read") }
        if graph.isFull { throw fail(node, frame, "the forward pass builds more than \(ForwardGraph.maxNodes) operations") }
    }

    // MARK: Calls of the code's own functions and classes

    /// Runs `function` with `arguments` bound to its parameters (`self` first for a method).
    func call(_ function: PyNode, qualifiedName: String, className: String?, receiver: ModuleInstance?,
              positional: [SymbolicValue], keywords: [String: SymbolicValue], at site: PyNode, _ caller: Frame)
        throws(ConformanceFailure) -> SymbolicValue
    {
        guard depth < Self.maxDepth else { throw fail(site, caller, "calls nest deeper than \(Self.maxDepth)") }
        depth += 1
        let callerOrigin = graph.currentOrigin
        defer {
            depth -= 1
            graph.currentOrigin = callerOrigin
        }
        var frame = Frame(function: qualifiedName, className: className, receiver: receiver)
        let arguments = function.child("args")
        var parameters = (arguments?.children("posonlyargs") ?? []) + (arguments?.children("args") ?? [])
        var given = positional
        if receiver != nil || className != nil, !parameters.isEmpty {
            frame.locals[parameters.removeFirst().string("arg") ?? "self"] = receiver.map { .module($0) } ?? .none
        }
        let defaults = arguments?.children("defaults") ?? []
        let firstDefault = parameters.count - defaults.count
        var remainingKeywords = keywords
        for (index, parameter) in parameters.enumerated() {
            let name = parameter.string("arg") ?? ""
            if !given.isEmpty {
                frame.locals[name] = given.removeFirst()
            } else if let value = remainingKeywords.removeValue(forKey: name) {
                frame.locals[name] = value
            } else if index >= firstDefault {
                frame.locals[name] = try evaluate(defaults[index - firstDefault], &frame)
            } else {
                throw fail(site, caller, "\(qualifiedName) is called without its argument '\(name)'")
            }
        }
        let keywordOnly = arguments?.children("kwonlyargs") ?? []
        let keywordDefaults = arguments?.children("kw_defaults") ?? []
        for (index, parameter) in keywordOnly.enumerated() {
            let name = parameter.string("arg") ?? ""
            if let value = remainingKeywords.removeValue(forKey: name) {
                frame.locals[name] = value
            } else if index < keywordDefaults.count {
                frame.locals[name] = try evaluate(keywordDefaults[index], &frame)
            } else {
                throw fail(site, caller, "\(qualifiedName) is called without its argument '\(name)'")
            }
        }
        if let rest = arguments?.child("vararg")?.string("arg") { frame.locals[rest] = .tuple(given); given = [] }
        if let rest = arguments?.child("kwarg")?.string("arg") {
            frame.locals[rest] = .opaque("**\(rest)"); remainingKeywords = [:]
        }
        guard given.isEmpty, remainingKeywords.isEmpty else {
            throw fail(site, caller, "\(qualifiedName) is called with arguments it does not take")
        }
        frame.borrowed = Set(Self.tensorIDs(in: .tuple(positional + Array(keywords.values))))
        switch try run(function.children("body"), &frame) {
        case .returned(let value): return value
        default: return .none
        }
    }

    /// A method of `className` or of the first of its bases (in the code) that defines it.
    func method(_ name: String, of className: String) -> (node: PyNode, owner: String)? {
        var visited: Set<String> = []
        var queue = [className]
        while let current = queue.first {
            queue.removeFirst()
            guard visited.insert(current).inserted, let info = classes[current] else { continue }
            if let node = info.methods[name] { return (node, current) }
            queue += info.bases.map { $0.split(separator: ".").last.map(String.init) ?? $0 }.filter { classes[$0] != nil }
        }
        return nil
    }

    /// A class-level assignment of `className` or of its bases in the code.
    func classVariable(_ name: String, of className: String) -> (PyNode, String)? {
        var visited: Set<String> = []
        var queue = [className]
        while let current = queue.first {
            queue.removeFirst()
            guard visited.insert(current).inserted, let info = classes[current] else { continue }
            if let node = info.variables[name] { return (node, current) }
            queue += info.bases.map { $0.split(separator: ".").last.map(String.init) ?? $0 }.filter { classes[$0] != nil }
        }
        return nil
    }

    /// A class-level assignment's value as an instance or the class reads it (``runDependent``), or the
    /// value `main` determines for it (``determinedClassAttribute(_:owner:)``).
    func classVariableValue(_ name: String, of className: String) throws(ConformanceFailure) -> SymbolicValue? {
        guard let (value, owner) = classVariable(name, of: className) else { return nil }
        if attributesSetByTheRun[name] != nil, !pinnedAttributes.contains(name), let set = determinedClassAttribute(name, owner: owner) {
            return set
        }
        var classFrame = Frame(function: owner, className: owner, receiver: nil)
        return runDependent(attribute: name, owner: owner, try evaluate(value, &classFrame))
    }

    /// The torch module class (`torch.nn.Linear`) a class of the code derives from, if any.
    func torchBase(of className: String) -> String? {
        var visited: Set<String> = []
        var queue = [className]
        while let current = queue.first {
            queue.removeFirst()
            guard visited.insert(current).inserted, let info = classes[current] else { continue }
            for base in info.bases {
                let short = base.split(separator: ".").last.map(String.init) ?? base
                if classes[short] != nil { queue.append(short) } else if base.hasPrefix("torch.nn.") { return base }
            }
        }
        return nil
    }

    /// `ClassName(...)`: a new module, built by its `__init__` (or its torch base's).
    func instantiate(_ className: String, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                     at site: PyNode, _ caller: Frame) throws(ConformanceFailure) -> SymbolicValue {
        let instance = ModuleInstance(className: className)
        try initialise(instance, as: className, positional: positional, keywords: keywords, at: site, caller)
        return .module(instance)
    }

    func initialise(_ instance: ModuleInstance, as className: String, positional: [SymbolicValue],
                    keywords: [String: SymbolicValue], at site: PyNode, _ caller: Frame) throws(ConformanceFailure) {
        if let (initialiser, owner) = method("__init__", of: className) {
            let wasLenient = lenient
            lenient = true
            defer { lenient = wasLenient }
            _ = try call(initialiser, qualifiedName: owner + ".__init__", className: owner, receiver: instance,
                         positional: positional, keywords: keywords, at: site, caller)
        } else if let base = torchBase(of: className) {
            try TorchModules.initialise(instance, as: base, positional: positional, keywords: keywords, self, at: site, caller)
        }
    }

    // MARK: Statements

    func run(_ statements: [PyNode], _ frame: inout Frame) throws(ConformanceFailure) -> Flow {
        for statement in statements {
            try tick(statement, frame)
            let flow: Flow
            if lenient {
                do {
                    flow = try execute(statement, &frame)
                } catch {
                    try forget(statement, &frame, because: error)
                    continue
                }
            } else {
                flow = try execute(statement, &frame)
            }
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    /// In `__init__`: an unreadable statement makes its targets unknown (using them later fails).
    private func forget(_ statement: PyNode, _ frame: inout Frame, because error: ConformanceFailure) throws(ConformanceFailure) {
        let reason = "unknown: \(frame.function) line \(error.line): \(error.message)"
        var targets: [PyNode] = []
        switch statement.type {
        case "Assign": targets = statement.children("targets")
        case "AnnAssign", "AugAssign": targets = statement.child("target").map { [$0] } ?? []
        case "If", "For", "With":
            // A block that cannot be followed may set anything.
            statement.walk { node in
                if node.type == "Assign" { targets += node.children("targets") }
                if node.type == "AugAssign" || node.type == "AnnAssign", let target = node.child("target") { targets.append(target) }
            }
        default: return
        }
        let unreadable = error
        for target in targets {
            // A target that cannot be named (`block.attn.rope_dims` in a loop whose `block` was never bound)
            // is refused for what made the statement unreadable, not for the name.
            do { try assign(.opaque(reason), to: target, &frame, lenientTarget: true) } catch { throw unreadable }
        }
    }

    private func execute(_ statement: PyNode, _ frame: inout Frame) throws(ConformanceFailure) -> Flow {
        graph.currentOrigin = ForwardOrigin(line: statement.line, function: frame.function)
        switch statement.type {
        case "Expr":
            guard let value = statement.child("value") else { return .normal }
            if value.type == "Constant" { return .normal }
            _ = try evaluate(value, &frame)
        case "Assign":
            guard let valueNode = statement.child("value") else { return .normal }
            let value = try evaluate(valueNode, &frame)
            for target in statement.children("targets") { try assign(value, to: target, &frame) }
        case "AnnAssign":
            guard let valueNode = statement.child("value"), let target = statement.child("target") else { return .normal }
            try assign(try evaluate(valueNode, &frame), to: target, &frame)
        case "AugAssign":
            guard let target = statement.child("target"), let valueNode = statement.child("value"),
                  let op = statement.child("op")?.type else { return .normal }
            let current = try evaluate(target, &frame)
            let value = try evaluate(valueNode, &frame)
            let result = try binary(op, current, value, at: statement, frame)
            if target.type == "Name", case .tensor = current, let name = target.string("id") {
                // On a tensor, `x += y` is torch's in-place operator: it writes into x's storage, as `x.add_(y)` does.
                let symbol = ["Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "Pow": "**", "MatMult": "@"][op] ?? op
                try applyInPlace("\(name) \(symbol)= …", receiver: target, receiverValue: current, result: result, at: statement, &frame)
            }
            try assign(result, to: target, &frame)
        case "Return":
            guard let value = statement.child("value") else { return .returned(.none) }
            return .returned(try evaluate(value, &frame))
        case "If":
            guard let test = statement.child("test") else { return .normal }
            let branch = try truth(try evaluate(test, &frame), at: test, frame) ? statement.children("body") : statement.children("orelse")
            return try run(branch, &frame)
        case "For":
            return try loop(statement, &frame)
        case "With":
            // Context managers of a forward (autocast, no_grad) change dtypes or autograd, not the function.
            return try run(statement.children("body"), &frame)
        case "Assert", "Pass", "Import", "ImportFrom", "Global", "Nonlocal":
            return .normal
        case "Break": return .breakLoop
        case "Continue": return .continueLoop
        case "Raise":
            throw fail(statement, frame, "the code raises here for the configuration pgverify runs")
        default:
            throw fail(statement, frame, "a \(statement.type) statement, which pgverify does not follow in model code")
        }
        return .normal
    }

    private func loop(_ statement: PyNode, _ frame: inout Frame) throws(ConformanceFailure) -> Flow {
        guard let target = statement.child("target"), let iterNode = statement.child("iter") else { return .normal }
        let items = try iterate(try evaluate(iterNode, &frame), at: iterNode, frame)
        for item in items {
            try assign(item, to: target, &frame)
            switch try run(statement.children("body"), &frame) {
            case .returned(let value): return .returned(value)
            case .breakLoop: return .normal
            default: continue
            }
        }
        if !statement.children("orelse").isEmpty { return try run(statement.children("orelse"), &frame) }
        return .normal
    }

    func iterate(_ value: SymbolicValue, at node: PyNode, _ frame: Frame) throws(ConformanceFailure) -> [SymbolicValue] {
        switch value {
        case .tuple(let items): return items
        case .list(let list): return list.items
        default: throw fail(node, frame, "iterates over a \(value.kind), whose length pgverify cannot know")
        }
    }

    func assign(_ value: SymbolicValue, to target: PyNode, _ frame: inout Frame, lenientTarget: Bool = false)
        throws(ConformanceFailure)
    {
        switch target.type {
        case "Name":
            if let name = target.string("id") { frame.locals[name] = value }
        case "Tuple", "List":
            let targets = target.children("elts")
            if lenientTarget { for element in targets { try assign(value, to: element, &frame, lenientTarget: true) }; return }
            let items: [SymbolicValue]
            if case .tensor = value {
                throw fail(target, frame, "unpacks a tensor (`a, b = t`), which pgverify does not follow")
            }
            items = try iterate(value, at: target, frame)
            guard items.count == targets.count else {
                throw fail(target, frame, "unpacks \(items.count) values into \(targets.count) names")
            }
            for (element, item) in zip(targets, items) { try assign(item, to: element, &frame) }
        case "Attribute":
            guard let name = target.string("attr"), let receiverNode = target.child("value") else { return }
            let receiver = try evaluate(receiverNode, &frame)
            guard case .module(let module) = receiver else {
                if lenientTarget { return }
                throw fail(target, frame, "sets attribute \(name) of a \(receiver.kind)")
            }
            try setAttribute(name, of: module, to: value)
        case "Subscript", "Starred":
            if lenientTarget || lenient { return }
            throw fail(target, frame, "assigns into a subscript, which pgverify does not follow in a forward pass")
        default:
            throw fail(target, frame, "assigns to a \(target.type)")
        }
    }

    func setAttribute(_ name: String, of module: ModuleInstance, to value: SymbolicValue) throws(ConformanceFailure) {
        module.attributes[name] = value
        module.parameters.remove(name)
        switch value {
        case .module(let child): child.setPath(ModuleInstance.join(module.path, name))
        case .list(let list):
            for (index, item) in list.items.enumerated() {
                if case .module(let child) = item { child.setPath(ModuleInstance.join(module.path, name) + ".\(index)") }
            }
        case .opaque(let text) where text == TorchModules.parameterMarker:
            module.parameters.insert(name)
        default: break
        }
    }

    /// `module.name`: an attribute, a parameter (a leaf named by the module's path), a method.
    func attribute(_ name: String, of module: ModuleInstance, at node: PyNode, _ frame: Frame) throws(ConformanceFailure) -> SymbolicValue {
        if module.parameters.contains(name) {
            var path = ModuleInstance.join(module.path, name)
            if let list = blockList {
                if path.hasPrefix(list + ".") {
                    path = "blocks." + path.dropFirst(list.count + 1)
                } else if path.hasPrefix("blocks.") {
                    throw fail(node, frame, "reads the parameter \(path), but the artifact's blocks are the code's \(list).N, "
                        + "which the reference loads as blocks.N: two modules in one place")
                }
            }
            if !parameterShapes.isEmpty, parameterShapes[path] == nil, banks[path] == nil {
                throw fail(node, frame, "reads the parameter \(path), which the artifact does not hold (the code was read with "
                    + "settings under which it builds a module the weights do not have)")
            }
            return .tensor(graph.parameter(path), parameterShapes[path].map { $0.map { .n($0) } })
        }
        if let value = module.attributes[name] { return runDependent(attribute: name, owner: "self", value) }
        if method(name, of: module.className) != nil { return .method(.module(module), name) }
        if name == "training" { return .bool(false) }
        if let value = try classVariableValue(name, of: module.className) { return value }
        if ["register_buffer", "register_parameter", "__init__"].contains(name) { return .method(.module(module), name) }
        if let value = TorchModules.attribute(name, of: module) { return value }
        throw fail(node, frame, "reads \(name) of \(module.className), which its __init__ does not set")
    }

    // MARK: Truth values

    func truth(_ value: SymbolicValue, at node: PyNode, _ frame: Frame) throws(ConformanceFailure) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .int(let number): return number != 0
        case .real(let number): return number != 0
        case .none: return false
        case .string(let text): return !text.isEmpty
        case .tuple(let items): return !items.isEmpty
        case .list(let list): return !list.items.isEmpty
        case .module, .function, .classRef, .library, .builtin, .method: return true
        case .dim: return true
        case .opaque(let text) where text.hasPrefix(Self.runDependentPrefix):
            throw fail(node, frame, "branches on the " + Self.runDependentName(.opaque(text))
                + " (a fake-quantization or other switch the training loop flips): pgverify cannot tell which branch the evaluation took")
        default:
            throw fail(node, frame, "branches on a \(value.kind), which pgverify cannot decide for the configuration it runs")
        }
    }

    // MARK: Names

    func lookup(_ name: String, at node: PyNode, _ frame: inout Frame) throws(ConformanceFailure) -> SymbolicValue {
        if let value = frame.locals[name] { return value }
        if classes[name] != nil { return .classRef(name) }
        if functions[name] != nil { return .function(name) }
        let resolved = aliases.resolve(name)
        if resolved != name || ["torch", "math", "F", "nn"].contains(name) {
            if resolved.hasPrefix("torch") || resolved.hasPrefix("math") { return .library(resolved) }
            if resolved == "F" { return .library("torch.nn.functional") }
            return .library(resolved)
        }
        if Builtins.names.contains(name) { return .builtin(name) }
        if let value = moduleAssignments[name] {
            var moduleFrame = Frame(function: "<module>", className: nil, receiver: nil)
            let wasLenient = lenient
            lenient = false
            defer { lenient = wasLenient }
            let initial = try evaluate(value, &moduleFrame)
            if initial.isNone, let set = runtimeGlobals[name] { return set }
            if globalsSetByTheRun[name] != nil, let set = determinedGlobal(name) { return set }
            if let line = globalsSetByTheRun[name] {
                return .opaque(Self.runDependentPrefix + "global \(name), which a function declaring it `global` sets at line \(line), "
                    + "so its value at evaluation depends on the run")
            }
            return initial
        }
        throw fail(node, frame, "uses '\(name)', which is not defined where pgverify can read it")
    }
}
