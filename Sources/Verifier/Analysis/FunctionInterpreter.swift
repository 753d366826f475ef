/// Follows labels through one function body, statement by statement: assignments bind labels to
/// names, calls combine their arguments' labels (or apply the callee's summary), and the events
/// the rules look at are recorded with their context.
///
/// Pragmatic by design: names are not versioned (an assignment replaces, a subscript or attribute
/// store adds), loop bodies run twice so values carried around a loop are seen, and both branches
/// of an `if` are taken.
struct FunctionInterpreter {
    let index: ModuleIndex
    let functionIndex: Int
    let summaries: [FunctionSummary]
    let globals: [String: DataLabels]
    /// Labels of the enclosing function's variables, for a nested function's free variables.
    let enclosing: [String: DataLabels]
    /// Labels stored on `self.<attribute>` by any method of a class, keyed `Class.attribute`.
    let fields: [String: DataLabels]
    /// Default-off features: a conditional expression under one only may choose its first value.
    let flags: FeatureFlags?

    private(set) var environment: [String: DataLabels] = [:]
    private(set) var events: [FlowEvent] = []
    private(set) var returns: DataLabels = []
    /// Per element, when every `return` with a value returns a tuple of the same length.
    private(set) var returnElements: [DataLabels]?
    private var returnsOtherValue = false
    /// The element labels of the last call evaluated, when its callee returns a tuple.
    private var lastCallElements: [DataLabels]?
    /// Arguments passed at each call to a function of this module: (callee, labels per parameter).
    private(set) var callSites: [(callee: Int, arguments: [DataLabels])] = []
    /// What this method stores on `self.<attribute>` (data kinds only), keyed `Class.attribute`.
    private(set) var fieldStores: [String: DataLabels] = [:]
    /// Lambdas bound to a name in this body (`key_of = lambda h, t: ...`), applied at their calls.
    private var lambdas: [String: PyNode] = [:]
    private var appliedLambdas: Set<String> = []
    /// While a lambda's body is applied: the line of its call, where its events are recorded.
    private var callLine: Int?

    /// The boolean masks of this function's body, collected on first use.
    private var booleanMasks: BooleanMasks {
        mutating get {
            if let known = masksOfBody { return known }
            let masks = BooleanMasks(scope: index.functions[functionIndex].node)
            masksOfBody = masks
            return masks
        }
    }
    private var masksOfBody: BooleanMasks?

    private var loops: [FlowEvent.Loop] = []
    /// Loops nested deeper than this run their body once, so the cost stays linear in practice.
    private static let iteratedLoopDepth = 2
    private var conditions: [PyNode] = []
    /// Lines of `if` statements whose body is not run (their `else` arm still is): what an event
    /// receives only through those bodies, it then does not.
    var skippedBodies: Set<Int> = []
    private var negatedConditions: [PyNode] = []
    private var gradientFree: Bool
    private let className: String?

    init(index: ModuleIndex, functionIndex: Int, summaries: [FunctionSummary], globals: [String: DataLabels],
         enclosing: [String: DataLabels] = [:], fields: [String: DataLabels] = [:], flags: FeatureFlags? = nil) {
        self.index = index
        self.functionIndex = functionIndex
        self.summaries = summaries
        self.globals = globals
        self.enclosing = enclosing
        self.fields = fields
        self.flags = flags
        let function = index.functions[functionIndex]
        self.gradientFree = function.gradientFree
        self.className = function.className
        for (position, name) in function.parameters.enumerated() {
            environment[name] = DataLabels.parameter(position).union(index.sourceLabels(name))
        }
    }

    /// Interprets the whole body; events are merged per (kind, line, callee).
    mutating func run() {
        let node = index.functions[functionIndex].node
        if functionIndex != 0, let arguments = node.child("args") {
            for value in arguments.children("defaults") + arguments.children("kw_defaults") { _ = evaluate(value) }
        }
        execute(node.children("body"))
        if returnsOtherValue { returnElements = nil }
        var merged: [EventKey: Int] = [:]
        var unique: [FlowEvent] = []
        for event in events {
            let key = EventKey(kind: event.kind, line: event.line, via: event.via ?? -1, detail: event.detail)
            if let position = merged[key] {
                unique[position].labels.formUnion(event.labels)
                for (offset, labels) in event.operands.enumerated() where offset < unique[position].operands.count {
                    unique[position].operands[offset].formUnion(labels)
                }
            } else {
                merged[key] = unique.count
                unique.append(event)
            }
        }
        events = unique
    }

    private struct EventKey: Hashable {
        var kind: FlowEvent.Kind
        var line: Int
        var via: Int
        var detail: String
    }

    // MARK: Statements

    private mutating func execute(_ statements: [PyNode]) {
        let depth = negatedConditions.count
        for statement in statements {
            execute(statement)
            // What follows `if test: return` in the same list runs only where `test` is false.
            if statement.type == "If", let test = statement.child("test"), Self.alwaysLeaves(statement.children("body")) {
                negatedConditions.append(test)
            }
        }
        negatedConditions.removeLast(negatedConditions.count - depth)
    }

    /// Whether a block ends by leaving it (`return`, `raise`, `continue`, `break`).
    private static func alwaysLeaves(_ block: [PyNode]) -> Bool {
        guard let last = block.last else { return false }
        return ["Return", "Raise", "Continue", "Break"].contains(last.type)
    }

    private mutating func execute(_ statement: PyNode) {
        switch statement.type {
        case "Assign":
            // `x, y = chunk[:-1], chunk[1:]`: each name gets its own element.
            if let value = statement.child("value"), let pairs = Self.elementPairs(statement.children("targets"), value) {
                let labels = pairs.map { evaluate($0.value) }
                for (pair, element) in zip(pairs, labels) { bind(pair.target, element) }
                return
            }
            lastCallElements = nil
            let labels = evaluate(statement.child("value"))
            // `train, val = load_data()` with `return train_seq, val_seq`: element-wise.
            let targets = statement.children("targets")
            if statement.child("value")?.type == "Call", let elements = lastCallElements, targets.count == 1,
               let target = targets.first, ["Tuple", "List"].contains(target.type),
               target.children("elts").count == elements.count,
               !target.children("elts").contains(where: { $0.type == "Starred" }) {
                for (element, labels) in zip(target.children("elts"), elements) { bind(element, labels) }
                return
            }
            if let value = statement.child("value"), value.type == "Dict" {
                for target in statement.children("targets") { bindKeys(target, value) }
            }
            if let value = statement.child("value"), value.type == "Lambda" {
                for target in statement.children("targets") {
                    if let name = target.string("id") { lambdas[name] = value }
                }
            }
            for target in statement.children("targets") { bind(target, labels) }
        case "AnnAssign":
            if let value = statement.child("value"), let target = statement.child("target") {
                bind(target, evaluate(value))
            }
        case "AugAssign":
            guard let target = statement.child("target") else { return }
            let labels = evaluate(statement.child("value")).union(evaluate(target))
            bind(target, labels, replacing: false)
            let name = (target.dottedName ?? target.child("value")?.dottedName ?? "").lowercased()
            // An accumulation named as a loss, or of anything computed from validation targets.
            if (["loss", "nll", "bits", "score"].contains(where: { name.contains($0) }) && !labels.isEmpty)
                || labels.intrinsic.isSuperset(of: [.validation, .target]) {
                record(.score, labels, line: statement.line, detail: name,
                       accumulator: target.dottedName ?? target.child("value")?.dottedName)
            }
        case "Expr":
            _ = evaluate(statement.child("value"))
        case "Return":
            guard let value = statement.child("value") else { return }
            if value.type == "Tuple", !value.children("elts").contains(where: { $0.type == "Starred" }) {
                let elements = value.children("elts").map { evaluate($0) }
                returns.formUnion(elements.reduce(into: DataLabels()) { $0.formUnion($1) })
                if let known = returnElements {
                    if known.count == elements.count {
                        returnElements = zip(known, elements).map { $0.union($1) }
                    } else {
                        returnsOtherValue = true
                    }
                } else {
                    returnElements = elements
                }
            } else {
                returnsOtherValue = true
                returns.formUnion(evaluate(value))
            }
        case "For", "AsyncFor":
            let iterable = evaluate(statement.child("iter"))
            let target = statement.child("target")
            loops.append(FlowEvent.Loop(
                line: statement.line, endLine: statement.endLine, targets: target.map(Self.boundNames) ?? [],
                iterable: iterable))
            iterate {
                if let target { $0.bindLoopTarget(target, iterable, iterator: statement.child("iter")) }
                $0.execute(statement.children("body"))
            }
            loops.removeLast()
            execute(statement.children("orelse"))
        case "While":
            loops.append(FlowEvent.Loop(line: statement.line, endLine: statement.endLine, targets: []))
            if let test = statement.child("test") { conditions.append(test) }
            iterate {
                _ = $0.evaluate(statement.child("test"))
                $0.execute(statement.children("body"))
            }
            if statement.child("test") != nil { conditions.removeLast() }
            loops.removeLast()
            execute(statement.children("orelse"))
        case "If":
            let testLabels = evaluate(statement.child("test"))
            if !testLabels.isEmpty { record(.decision, testLabels, line: statement.line, detail: "if") }
            if let test = statement.child("test") { conditions.append(test) }
            // Either branch may have run: afterwards a name holds what either left in it.
            let entry = environment
            if !skippedBodies.contains(statement.line) { execute(statement.children("body")) }
            if statement.child("test") != nil { conditions.removeLast() }
            let afterBody = environment
            environment = entry
            if let test = statement.child("test") { negatedConditions.append(test) }
            execute(statement.children("orelse"))
            if statement.child("test") != nil { negatedConditions.removeLast() }
            environment.merge(afterBody) { $0.union($1) }
        case "With", "AsyncWith":
            let wasGradientFree = gradientFree
            for item in statement.children("items") {
                let context = item.child("context_expr")
                let labels = evaluate(context)
                let callee = context?.type == "Call" ? context?.child("func") : context
                switch callee?.terminalName {
                case "no_grad", "inference_mode": gradientFree = true
                case "enable_grad": gradientFree = false
                default: break
                }
                if let variable = item.child("optional_vars") { bind(variable, labels) }
            }
            execute(statement.children("body"))
            gradientFree = wasGradientFree
        case "Try", "TryStar":
            execute(statement.children("body"))
            for handler in statement.children("handlers") { execute(handler.children("body")) }
            execute(statement.children("orelse"))
            execute(statement.children("finalbody"))
        case "Match":
            _ = evaluate(statement.child("subject"))
            for matchCase in statement.children("cases") { execute(matchCase.children("body")) }
        case "Assert", "Raise", "Delete":
            for child in statement.childNodes { _ = evaluate(child) }
        case "FunctionDef", "AsyncFunctionDef", "ClassDef":
            // Analysed as functions of their own; a nested def only binds its name here.
            for decorator in statement.children("decorator_list") { _ = evaluate(decorator) }
        default:
            break
        }
    }

    /// The (target, value) pairs of a tuple assignment whose sides have the same length and no
    /// starred element; nil for any other assignment.
    private static func elementPairs(_ targets: [PyNode], _ value: PyNode) -> [(target: PyNode, value: PyNode)]? {
        guard targets.count == 1, let target = targets.first, ["Tuple", "List"].contains(target.type),
              ["Tuple", "List"].contains(value.type) else { return nil }
        let names = target.children("elts")
        let values = value.children("elts")
        guard names.count == values.count, !(names + values).contains(where: { $0.type == "Starred" }) else { return nil }
        return Array(zip(names, values)).map { (target: $0.0, value: $0.1) }
    }

    /// Runs a loop body; at shallow depth a second time from the union of the entry and exit
    /// states, so values assigned late in the body reach its earlier statements.
    private mutating func iterate(_ body: (inout FunctionInterpreter) -> Void) {
        let entry = environment
        body(&self)
        guard loops.count <= Self.iteratedLoopDepth, environment != entry else { return }
        environment.merge(entry) { $0.union($1) }
        body(&self)
    }

    /// `for i, batch in enumerate(data)`: the counter `i` is a position (the extent of the data),
    /// the element its content.
    private mutating func bindLoopTarget(_ target: PyNode, _ labels: DataLabels, iterator: PyNode?) {
        let elements = target.children("elts")
        if target.type == "Tuple", elements.count == 2, iterator?.type == "Call",
           iterator?.child("func")?.dottedName == "enumerate" {
            bind(elements[0], labels.extent)
            bind(elements[1], labels)
        } else {
            bind(target, labels)
        }
    }

    private static func boundNames(_ target: PyNode) -> [String] {
        switch target.type {
        case "Name": return target.string("id").map { [$0] } ?? []
        case "Tuple", "List": return target.children("elts").flatMap(boundNames)
        case "Starred": return target.child("value").map(boundNames) ?? []
        default: return []
        }
    }

    private mutating func bind(_ target: PyNode, _ labels: DataLabels, replacing: Bool = true) {
        switch target.type {
        case "Name":
            guard let name = target.string("id") else { return }
            let own = index.sourceLabels(name)
            environment[name] = replacing ? labels.union(own) : (environment[name] ?? []).union(labels).union(own)
        case "Tuple", "List":
            for element in target.children("elts") { bind(element, labels, replacing: replacing) }
        case "Starred":
            if let value = target.child("value") { bind(value, labels, replacing: replacing) }
        case "Attribute":
            if let name = target.dottedName {
                environment[name] = replacing ? labels : (environment[name] ?? []).union(labels)
            }
            if let field = fieldKey(target), !labels.intrinsic.isEmpty {
                fieldStores[field, default: []].formUnion(labels.intrinsic)
            }
        case "Subscript":
            // A store into part of a container taints the container; a constant key
            // (`batch["labels"] = ...`) also keeps its own labels.
            if let container = target.child("value") {
                if let key = Self.keyedName(target) {
                    environment[key] = replacing ? labels : (environment[key] ?? []).union(labels)
                }
                _ = evaluate(target.child("slice"))
                bind(container, labels.union(evaluate(container)), replacing: false)
            }
        default:
            break
        }
    }

    // MARK: Expressions

    private mutating func evaluate(_ node: PyNode?) -> DataLabels {
        guard let node else { return [] }
        switch node.type {
        case "Name":
            guard let name = node.string("id") else { return [] }
            return (environment[name] ?? enclosing[name] ?? globals[name] ?? []).union(index.sourceLabels(name))
        case "Attribute":
            var labels = evaluate(node.child("value"))
            // `val_data.sp` of `val_data = ValidationData(...)`: an attribute the class made itself
            // holding no data (a tokenizer) is not the data the object is named for. One that holds
            // data (`val_data.val_tokens`) keeps the object's labels, its dependence on it included.
            if let base = node.child("value"), base.type == "Name", let receiver = base.string("id"),
               let attribute = node.string("attr"), let owner = index.instanceClass(of: receiver),
               holdsNoData(attribute, of: owner) {
                labels = []
            }
            if let dotted = node.dottedName, let bound = environment[dotted] { labels.formUnion(bound) }
            if let field = fieldKey(node), let stored = fields[field] { labels.formUnion(stored) }
            if let attribute = node.string("attr") {
                if Self.extentAttributes.contains(attribute) { return labels.extent }
                labels.formUnion(index.sourceLabels(attribute))
            }
            return labels
        case "Constant":
            if let text = node.stringLiteral { return DataSourceNames.labels(forLiteral: text) }
            return []
        case "Call":
            return call(node)
        case "BinOp":
            let left = evaluate(node.child("left"))
            let right = evaluate(node.child("right"))
            if node.child("op")?.type == "BitXor" {
                record(.hashMix, left.union(right), line: node.line, detail: "^", operands: [left, right])
            }
            // `max(val_tokens) + 1`: one past the largest id is the size of the id range (a
            // vocabulary size), an extent.
            if Self.isLargestPlusOne(node) { return left.union(right).extent }
            return left.union(right)
        case "IfExp":
            return conditionalValue(node)
        case "NamedExpr":
            let labels = evaluate(node.child("value"))
            if let target = node.child("target") { bind(target, labels) }
            return labels
        case "Lambda":
            return evaluate(node.child("body"))
        case "Subscript":
            var base = evaluate(node.child("value"))
            if let key = Self.keyedName(node), let stored = environment[key] { base = stored }
            // Slice bounds are positions: they select, so only their extent reaches the result
            // (`val_tokens[doc_start:doc_end]` holds validation tokens, whatever the bounds came from).
            let slice = node.child("slice")
            let bounds = evaluate(slice)
            // A boolean mask selects like a slice: its values never become element values.
            let selects = Self.isRange(slice) || booleanMasks.indexIsMask(slice)
            var labels = base.union(selects ? bounds.extent : bounds)
            if Self.selectsFollowingPositions(slice) {
                labels.formUnion(withoutSelf(base).followingTokens)
            } else if Self.dropsEnd(slice) {
                labels.insert(.inputWindow)
            }
            return labels
        case "ListComp", "SetComp", "GeneratorExp", "DictComp":
            for generator in node.children("generators") {
                let iterable = evaluate(generator.child("iter"))
                if let target = generator.child("target") { bind(target, iterable) }
                for condition in generator.children("ifs") { _ = evaluate(condition) }
            }
            return evaluate(node.child("elt")).union(evaluate(node.child("key"))).union(evaluate(node.child("value")))
        default:
            var labels: DataLabels = []
            for child in node.childNodes { labels.formUnion(evaluate(child)) }
            return labels
        }
    }

    /// `a if test else b`. Events in either branch happen under the test (for the first branch);
    /// under a default-off feature (`args.val_files if args.train_on_val else args.train_files`)
    /// validation data the first value adds is only gated validation: used when the feature is on.
    private mutating func conditionalValue(_ node: PyNode) -> DataLabels {
        let test = node.child("test")
        let testLabels = evaluate(test)
        if let test { conditions.append(test) }
        var chosen = evaluate(node.child("body"))
        if test != nil { conditions.removeLast() }
        let otherwise = evaluate(node.child("orelse"))
        if let test, flags?.disablingVariable([test]) != nil, chosen.contains(.validation), !otherwise.contains(.validation) {
            chosen.remove(.validation)
            chosen.insert(.gatedValidation)
        }
        return chosen.union(otherwise).union(testLabels)
    }

    /// Whether a call passes the parameter at `parameter` of `target` (by keyword or position)
    /// a value other than an off literal (`False`, `None`, `0`).
    private static func passes(_ call: PyNode, parameter: Int, of target: ModuleIndex.Function, offset: Int) -> Bool {
        let name = target.parameters[parameter]
        if let keyword = call.children("keywords").first(where: { $0.string("arg") == name }) {
            return !(keyword.child("value").map(isOffLiteral) ?? false)
        }
        let positional = call.children("args")
        let position = parameter - offset
        guard position >= 0, position < positional.count else { return false }
        return !isOffLiteral(positional[position])
    }

    /// The parameter with an off default (`ttt_enabled=False`, `=None`, `=0`) that one of
    /// `conditions` tests positively, directly or through a name assigned from it
    /// (`ttt_active = bool(ttt_enabled) and lr > 0`).
    func gatingParameter(_ conditions: [PyNode]) -> Int? {
        guard !conditions.isEmpty else { return nil }
        let function = index.functions[functionIndex]
        guard functionIndex != 0, let arguments = function.node.child("args") else { return nil }
        let positional = arguments.children("posonlyargs") + arguments.children("args")
        let defaults = arguments.children("defaults")
        var off: [String: Int] = [:]
        for (position, value) in defaults.enumerated() {
            let parameterPosition = positional.count - defaults.count + position
            guard parameterPosition >= 0, Self.isOffLiteral(value),
                  let name = positional[parameterPosition].string("arg"),
                  let index = function.parameters.firstIndex(of: name) else { continue }
            off[name] = index
        }
        for (argument, value) in zip(arguments.children("kwonlyargs"), arguments.children("kw_defaults")) {
            guard Self.isOffLiteral(value), let name = argument.string("arg"),
                  let index = function.parameters.firstIndex(of: name) else { continue }
            off[name] = index
        }
        guard !off.isEmpty else { return nil }
        // Names that are true only when the parameter is: `x = p`, `x = bool(p) and ...`.
        var implied = off
        function.node.walk { node in
            guard node.type == "Assign", let value = node.child("value"),
                  let parameter = Self.positiveTest(value, of: implied) else { return }
            for target in node.children("targets") { if let id = target.string("id") { implied[id] = parameter } }
        }
        for condition in conditions {
            if let parameter = Self.positiveTest(condition, of: implied) { return parameter }
        }
        return nil
    }

    private static func isOffLiteral(_ node: PyNode) -> Bool {
        switch node.constant {
        case .bool(false)?, .none?: return true
        case .int(let text)?: return text == "0"
        default: return false
        }
    }

    /// `p`, `bool(p)`, `p and q`: a test true only when the name `p` is.
    private static func positiveTest(_ test: PyNode, of names: [String: Int]) -> Int? {
        switch test.type {
        case "Name": return test.string("id").flatMap { names[$0] }
        case "Call":
            guard test.child("func")?.dottedName == "bool", let argument = test.children("args").first else { return nil }
            return positiveTest(argument, of: names)
        case "BoolOp":
            guard test.child("op")?.type == "And" else { return nil }
            return test.children("values").lazy.compactMap { positiveTest($0, of: names) }.first
        default: return nil
        }
    }

    /// `max(x) + 1`, `x.max() + 1`, `int(x.max().item()) + 1`.
    private static func isLargestPlusOne(_ node: PyNode) -> Bool {
        guard node.child("op")?.type == "Add", node.child("right")?.constant?.intValue == 1,
              var operand = node.child("left") else { return false }
        while operand.type == "Call", let function = operand.child("func") {
            let name = function.terminalName ?? ""
            if name == "max" { return true }
            if ["int", "item", "long"].contains(name) {
                if function.type == "Attribute", let receiver = function.child("value") {
                    operand = receiver
                } else if let argument = operand.children("args").first {
                    operand = argument
                } else {
                    return false
                }
            } else {
                return false
            }
        }
        return false
    }

    /// Attributes that describe a value's size or placement, not its content (`val_tokens.shape`,
    /// a numpy array's element count `val_tokens.size`).
    private static let extentAttributes: Set<String> = ["shape", "size", "ndim", "dtype", "device", "nbytes", "itemsize"]
    /// Methods whose result is a size (`val_tokens.numel()`, `x.size(0)`).
    private static let extentMethods: Set<String> = ["numel", "nelement", "size", "dim", "__len__"]
    /// Methods and functions whose result lists the positions where a test holds.
    private static let positionMethods: Set<String> = ["nonzero", "argwhere"]
    private static let positionFunctions: Set<String> = [
        "torch.nonzero", "torch.argwhere", "numpy.nonzero", "numpy.flatnonzero", "numpy.argwhere",
    ]
    /// Builtins whose result is a size or a run of positions (`len(val_tokens)`, `range(n)`).
    private static let extentBuiltins: Set<String> = ["len", "range"]

    /// Methods that put their arguments into the container they are called on.
    private static let containerStores: Set<String> = [
        "append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft", "put",
    ]

    private static let inPlaceUpdates: Set<String> = ["add_", "sub_", "copy_", "mul_", "addcmul_", "addcdiv_", "lerp_"]
    private static let compressors: Set<String> = ["compress", "save", "savez", "savez_compressed", "tofile"]
    private static let compressorModules = ["lzma", "zlib", "brotli", "zstd", "bz2", "compressor", "cctx", "np", "numpy"]

    private static func isCompressorReceiver(_ receiver: String, _ resolved: String) -> Bool {
        compressorModules.contains { receiver.contains($0) || resolved.hasPrefix($0) }
    }

    private mutating func call(_ node: PyNode) -> DataLabels {
        lastCallElements = nil
        guard let function = node.child("func") else { return [] }
        var positional: [DataLabels] = []
        var starred: DataLabels = []
        for argument in node.children("args") {
            let labels = evaluate(argument)
            if argument.type == "Starred" { starred.formUnion(labels) } else { positional.append(labels) }
        }
        var keywords: [(name: String?, labels: DataLabels)] = []
        for keyword in node.children("keywords") {
            keywords.append((keyword.string("arg"), evaluate(keyword.child("value"))))
        }
        var receiver: DataLabels = []
        if function.type == "Attribute" {
            receiver = evaluate(function.child("value"))
        } else if function.type != "Name" {
            receiver = evaluate(function)
        }
        // Set again below only when this call's callee returns a tuple.
        lastCallElements = nil
        var everything = receiver.union(starred)
        for labels in positional { everything.formUnion(labels) }
        for keyword in keywords { everything.formUnion(keyword.labels) }

        let terminal = function.terminalName ?? ""
        let resolved = index.aliases.resolve(function) ?? terminal
        // A size or a range of positions computes nothing from the data's content; nor do the
        // positions where a test holds (`(tokens == bos_id).nonzero()`: document boundaries).
        if Self.positionFunctions.contains(resolved) || (function.type == "Attribute" && Self.positionMethods.contains(terminal)) {
            return everything.extent
        }
        if (function.type == "Attribute" && Self.extentMethods.contains(terminal))
            || (function.type == "Name" && Self.extentBuiltins.contains(terminal) && index.resolve(callee: function, enclosingClass: className) == nil) {
            return everything.extent
        }
        let receiverName = terminal == "step" || Self.inPlaceUpdates.contains(terminal) || Self.compressors.contains(terminal)
            ? (function.child("value")?.dottedName ?? "").lowercased() : ""
        let line = node.line
        if terminal == "backward" {
            record(.update, everything, line: line, detail: resolved)
        } else if terminal == "step" && (receiverName.contains("opt") || receiverName.hasSuffix("optimizer")) {
            record(.optimizerStep, everything, line: line, detail: resolved)
        } else if Self.inPlaceUpdates.contains(terminal) && receiverName.hasSuffix(".data") {
            record(.update, everything, line: line, detail: resolved)
        }
        // `losses.append(val_loss)`: the container now holds what was put in it.
        if function.type == "Attribute", Self.containerStores.contains(terminal), let container = function.child("value"),
           ["Name", "Attribute", "Subscript"].contains(container.type) {
            var stored = starred
            for labels in positional { stored.formUnion(labels) }
            for keyword in keywords { stored.formUnion(keyword.labels) }
            if !stored.isEmpty { bind(container, stored, replacing: false) }
        }
        let traits = index.callTraits(terminal)
        if resolved == "torch.save" || traits.contains(.quantizes)
            || (Self.compressors.contains(terminal) && Self.isCompressorReceiver(receiverName, resolved)) {
            record(.serialize, [], line: line, detail: resolved)
        }
        if traits.contains(.calibrates) || resolved.hasSuffix("SentencePieceTrainer.train") {
            record(.calibrate, calibrationInput(node, function: function, everything: everything, receiver: receiver,
                                                starred: starred, positional: positional, keywords: keywords),
                   line: line, detail: resolved)
        }
        if gradientFree && !everything.isEmpty {
            record(.score, everything, line: line, detail: resolved)
        }
        if terminal == "bitwise_xor" || resolved.hasSuffix("bitwise_xor") || resolved == "hash" {
            record(.hashMix, everything, line: line, detail: resolved, operands: positional)
        }

        guard let callee = index.resolve(callee: function, enclosingClass: className) else {
            if function.type == "Name", let name = function.string("id"), let lambda = lambdas[name],
               !appliedLambdas.contains(name) {
                return apply(lambda, named: name, at: node.line, positional: positional, starred: starred, keywords: keywords)
            }
            return everything
        }
        let target = index.functions[callee]
        var arguments = Array(repeating: starred, count: target.parameters.count)
        var offset = 0
        if target.className != nil, function.type == "Attribute", target.parameters.first == "self" {
            if !arguments.isEmpty { arguments[0] = receiver }
            offset = 1
        }
        for (position, labels) in positional.enumerated() where position + offset < arguments.count {
            arguments[position + offset].formUnion(labels)
        }
        for keyword in keywords {
            if let name = keyword.name, let position = target.parameters.firstIndex(of: name) {
                arguments[position].formUnion(keyword.labels)
            } else if keyword.name == nil {
                for position in arguments.indices { arguments[position].formUnion(keyword.labels) }
            }
        }
        callSites.append((callee, arguments))
        let summary = summaries[callee]
        let passesEverything = node.children("args").contains { $0.type == "Starred" }
            || node.children("keywords").contains { $0.string("arg") == nil }
        for kind in FlowEvent.Kind.allCases {
            guard let labels = summary.events[kind] else { continue }
            // `eval_val_single(...)` without `ttt_enabled` (default False): its TTT does not run here.
            if let parameter = summary.parameterGates[kind], !passesEverything,
               !Self.passes(node, parameter: parameter, of: target, offset: offset) { continue }
            record(kind, labels.substituting(arguments), line: line, detail: target.qualifiedName, via: callee,
                   inheritedGate: summary.gates[kind])
        }
        let elements = summary.returnElements?.map { $0.substituting(arguments) }
        let result = summary.returns.substituting(arguments)
        lastCallElements = elements
        return result
    }

    /// A bound lambda's body evaluated with its parameters bound to the call's arguments, so its
    /// result and its events (a key mixed in its body) carry what the call passes in.
    private mutating func apply(
        _ lambda: PyNode, named name: String, at line: Int, positional: [DataLabels], starred: DataLabels,
        keywords: [(name: String?, labels: DataLabels)]
    ) -> DataLabels {
        let saved = environment
        let savedLine = callLine
        callLine = callLine ?? line
        appliedLambdas.insert(name)
        let parameters = (lambda.child("args")?.children("args") ?? []).compactMap { $0.string("arg") }
        for (position, parameter) in parameters.enumerated() {
            var labels = position < positional.count ? positional[position] : starred
            for keyword in keywords where keyword.name == parameter || keyword.name == nil { labels.formUnion(keyword.labels) }
            environment[parameter] = labels.union(index.sourceLabels(parameter))
        }
        let result = evaluate(lambda.child("body"))
        appliedLambdas.remove(name)
        callLine = savedLine
        environment = saved
        return result
    }

    /// `batch["labels"]`: a subscript by a string literal of a named container, as the name its
    /// entry is kept under.
    private static func keyedName(_ node: PyNode) -> String? {
        guard let container = node.child("value")?.dottedName,
              let key = node.child("slice")?.stringLiteral else { return nil }
        return container + "[" + key + "]"
    }

    /// `batch = {"inputs": x, "labels": y}`: each literal key keeps its own value's labels.
    private mutating func bindKeys(_ target: PyNode, _ dict: PyNode) {
        guard let container = target.dottedName else { return }
        // `keys` holds None for a `**mapping` entry: keep the positions aligned with `values`.
        guard case .list(let keys) = dict[field: "keys"] else { return }
        for (key, value) in zip(keys, dict.children("values")) {
            guard let key = key?.stringLiteral else { continue }
            environment[container + "[" + key + "]"] = evaluate(value)
        }
    }

    /// `Class.attribute` for `self.attribute` inside a method of `Class`.
    private func fieldKey(_ node: PyNode) -> String? {
        guard let className, node.type == "Attribute", let attribute = node.string("attr"),
              let base = node.child("value"), base.type == "Name", base.string("id") == "self" else { return nil }
        return className + "." + attribute
    }

    /// Whether a subscript picks the tokens that follow a position: an index one or more past a
    /// position (`tokens[i + 1]`) or a slice starting past the start and running to the end
    /// (`chunk[1:]`, `x[:, 1:]`, `tokens[s + 1:e + 1]`). Those are the tokens being predicted
    /// from the ones before; a slice that also drops the end (`x[:, 1:-1]`) is context, and one
    /// between two literal bounds (`hdr[8:16]`) is a fixed field.
    static func selectsFollowingPositions(_ slice: PyNode?) -> Bool {
        guard let slice else { return false }
        switch slice.type {
        case "Tuple":
            return slice.children("elts").contains { selectsFollowingPositions($0) }
        case "Slice":
            guard let lower = slice.child("lower"), slice.child("step") == nil,
                  lower.constant.map({ ($0.intValue ?? 0) > 0 }) ?? isForwardOffset(lower) else { return false }
            if let upper = slice.child("upper"), upper.type == "UnaryOp", upper.child("op")?.type == "USub" { return false }
            // Two literal bounds pick a fixed field (`hdr[8:16]`, a header's count), not the
            // tokens after each position.
            if lower.constant?.intValue != nil, slice.child("upper")?.constant?.intValue != nil { return false }
            return true
        default:
            return isForwardOffset(slice)
        }
    }

    /// `x[:-1]`, `x[..., :-1]`: a sequence from its start with its end dropped, the input window.
    private static func dropsEnd(_ slice: PyNode?) -> Bool {
        guard let slice else { return false }
        if slice.type == "Tuple" { return slice.children("elts").contains { dropsEnd($0) } }
        guard slice.type == "Slice", slice.child("step") == nil, let upper = slice.child("upper"),
              upper.type == "UnaryOp", upper.child("op")?.type == "USub" else { return false }
        return slice.child("lower") == nil || slice.child("lower")?.constant?.intValue == 0
    }

    /// Whether a subscript selects a range (`a:b`, `:, 1:`) rather than single elements.
    private static func isRange(_ slice: PyNode?) -> Bool {
        guard let slice else { return false }
        if slice.type == "Slice" { return true }
        if slice.type == "Tuple" { return slice.children("elts").allSatisfy { $0.type == "Slice" || $0.constant == .other("Ellipsis") } }
        return false
    }

    /// `i + 1`, `1 + i`, `pos + k` with a positive literal `k`.
    private static func isForwardOffset(_ node: PyNode) -> Bool {
        guard node.type == "BinOp", node.child("op")?.type == "Add" else { return false }
        return [node.child("left"), node.child("right")].contains { ($0?.constant?.intValue ?? 0) > 0 }
    }

    /// What a calibration call of this module's function is given: an object argument whose
    /// parameter the function reads only through attributes its class makes itself
    /// (`fit_logit_calibration(h, model, val_data)` reading only `val_data.sp`) gives those
    /// attributes, not the data the object is named for.
    private func calibrationInput(_ node: PyNode, function: PyNode, everything: DataLabels, receiver: DataLabels,
                                  starred: DataLabels, positional: [DataLabels],
                                  keywords: [(name: String?, labels: DataLabels)]) -> DataLabels {
        guard let callee = index.resolve(callee: function, enclosingClass: className) else { return everything }
        let target = index.functions[callee]
        let offset = target.className != nil && function.type == "Attribute" && target.parameters.first == "self" ? 1 : 0
        // Whether the callee reads its parameter `name` only through attributes holding no data.
        func readsNoData(_ name: String) -> Bool {
            guard let owner = index.instanceClass(of: name),
                  let attributes = index.ownAttributesRead(through: name, in: callee) else { return false }
            return attributes.allSatisfy { holdsNoData($0, of: owner) }
        }
        var input = receiver.union(starred)
        for (position, labels) in positional.enumerated()
        where !(position + offset < target.parameters.count && readsNoData(target.parameters[position + offset])) {
            input.formUnion(labels)
        }
        for keyword in keywords where !(keyword.name.map { target.parameters.contains($0) && readsNoData($0) } ?? false) {
            input.formUnion(keyword.labels)
        }
        return input
    }

    /// Whether `attribute` of instances of `owner` is one the class makes itself
    /// (``ModuleIndex/isOwnAttribute(_:of:)``) from no data: nothing stored in it and nothing its name
    /// says carries data labels.
    private func holdsNoData(_ attribute: String, of owner: String) -> Bool {
        index.isOwnAttribute(attribute, of: owner) && (fields[owner + "." + attribute] ?? []).isEmpty
            && index.sourceLabels(attribute).isEmpty
    }

    /// The labels without the bit of a method's `self` (`self.layers[i + 1]` is no token).
    private func withoutSelf(_ labels: DataLabels) -> DataLabels {
        guard className != nil, index.functions[functionIndex].parameters.first == "self" else { return labels }
        return labels.subtracting(.parameter(0))
    }

    private mutating func record(
        _ kind: FlowEvent.Kind, _ labels: DataLabels, line: Int, detail: String,
        operands: [DataLabels] = [], via: Int? = nil, accumulator: String? = nil, inheritedGate: String? = nil
    ) {
        events.append(FlowEvent(
            kind: kind, labels: labels, line: callLine ?? line, operands: operands, loops: loops,
            conditions: conditions, gradientFree: gradientFree, via: via, detail: detail, accumulator: accumulator,
            inheritedGate: inheritedGate, negatedConditions: negatedConditions))
    }
}
