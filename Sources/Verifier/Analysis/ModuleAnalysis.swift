/// The dataflow facts of one module: per function, its summary, the events in its body and
/// the labels its parameters may receive from the module's own calls.
public struct ModuleAnalysis: Sendable {
    public let index: ModuleIndex
    /// Indexed like `index.functions`.
    public let summaries: [FunctionSummary]
    /// Events per function, indexed like `index.functions`.
    public let events: [[FlowEvent]]
    /// Per function and parameter: the data kinds any call in this module passes in.
    public let incoming: [[DataLabels]]
    /// Features the module turns off by default through the environment.
    public let flags: FeatureFlags
    /// What the fixpoint left for re-running one function: the module's globals, the labels
    /// closures read from their enclosing function, and what methods store on `self`.
    private let globals: [String: DataLabels]
    private let scopes: [[String: DataLabels]]
    private let fields: [String: DataLabels]

    /// Summaries are iterated to a fixpoint (bounded: deep call chains beyond it lose labels,
    /// never gain false ones).
    public init(module: PyNode, maximumRounds: Int = 8) {
        let index = ModuleIndex(module: module)
        let flags = FeatureFlags(module: module, aliases: index.aliases)
        var summaries = Array(repeating: FunctionSummary(), count: index.functions.count)
        var globals: [String: DataLabels] = [:]
        var events: [[FlowEvent]] = Array(repeating: [], count: index.functions.count)
        var callSites: [[(callee: Int, arguments: [DataLabels])]] = Array(repeating: [], count: index.functions.count)
        // A worklist: a function is re-run when a callee's summary (or the module's globals)
        // changed. Each function runs at most `maximumRounds` times.
        var callers: [Set<Int>] = Array(repeating: [], count: index.functions.count)
        var runs = Array(repeating: 0, count: index.functions.count)
        // Closures read their enclosing function's variables (data kinds only: parameter bits
        // belong to the enclosing function); methods read what any method of their class stores
        // on `self`.
        var scopes: [[String: DataLabels]] = Array(repeating: [:], count: index.functions.count)
        var nested: [[Int]] = Array(repeating: [], count: index.functions.count)
        var methods: [String: [Int]] = [:]
        for (position, function) in index.functions.enumerated() {
            if let parent = function.enclosingFunction { nested[parent].append(position) }
            if let className = function.className { methods[className, default: []].append(position) }
        }
        var fields: [String: DataLabels] = [:]
        var dirty = Set(index.functions.indices)
        while let position = dirty.min() {
            dirty.remove(position)
            guard runs[position] < maximumRounds else { continue }
            runs[position] += 1
            let enclosing = index.functions[position].enclosingFunction.map { scopes[$0] } ?? [:]
            var interpreter = FunctionInterpreter(
                index: index, functionIndex: position, summaries: summaries, globals: globals,
                enclosing: enclosing, fields: fields, flags: flags)
            interpreter.run()
            if !nested[position].isEmpty {
                var scope = enclosing
                for (name, labels) in interpreter.environment where !labels.intrinsic.isEmpty {
                    scope[name, default: []].formUnion(labels.intrinsic)
                }
                if scope != scopes[position] {
                    scopes[position] = scope
                    dirty.formUnion(nested[position])
                }
            }
            for (field, labels) in interpreter.fieldStores where !(fields[field] ?? []).isSuperset(of: labels) {
                fields[field, default: []].formUnion(labels)
                if let className = field.split(separator: ".").first { dirty.formUnion(methods[String(className)] ?? []) }
            }
            if position == 0 {
                let updated = interpreter.environment
                if updated != globals {
                    globals = updated
                    dirty.formUnion(index.functions.indices.dropFirst())
                }
            }
            var summary = FunctionSummary(returns: interpreter.returns, returnElements: interpreter.returnElements)
            for event in interpreter.events {
                summary.events[event.kind, default: []].formUnion(event.labels)
            }
            for (kind, events) in Dictionary(grouping: interpreter.events, by: \.kind) {
                let gates = events.map { flags.disablingVariable($0.conditions, negated: $0.negatedConditions) ?? $0.inheritedGate }
                if let first = gates.first, let variable = first, gates.allSatisfy({ $0 == variable }) {
                    summary.gates[kind] = variable
                }
                let parameters = events.map { interpreter.gatingParameter($0.conditions) }
                if let first = parameters.first, let parameter = first, parameters.allSatisfy({ $0 == parameter }) {
                    summary.parameterGates[kind] = parameter
                }
            }
            events[position] = interpreter.events
            callSites[position] = interpreter.callSites
            for site in interpreter.callSites { callers[site.callee].insert(position) }
            if summary != summaries[position] {
                summaries[position] = summary
                dirty.formUnion(callers[position])
            }
        }
        var incoming = index.functions.map { Array(repeating: DataLabels(), count: $0.parameters.count) }
        for _ in 0..<maximumRounds {
            var changed = false
            for caller in index.functions.indices {
                for site in callSites[caller] {
                    for (position, labels) in site.arguments.enumerated() where position < incoming[site.callee].count {
                        let concrete = labels.substituting(incoming[caller])
                        if !incoming[site.callee][position].isSuperset(of: concrete) {
                            incoming[site.callee][position].formUnion(concrete)
                            changed = true
                        }
                    }
                }
            }
            if !changed { break }
        }
        self.index = index
        self.summaries = summaries
        self.events = events
        self.incoming = incoming
        self.flags = flags
        self.globals = globals
        self.scopes = scopes
        self.fields = fields
    }

    /// The events of `function` when the bodies of the `if` statements at `lines` do not run.
    public func events(of function: Int, skippingBodiesAt lines: Set<Int>) -> [FlowEvent] {
        let enclosing = index.functions[function].enclosingFunction.map { scopes[$0] } ?? [:]
        var interpreter = FunctionInterpreter(
            index: index, functionIndex: function, summaries: summaries, globals: globals,
            enclosing: enclosing, fields: fields, flags: flags)
        interpreter.skippedBodies = lines
        interpreter.run()
        return interpreter.events
    }

    /// `labels` with parameter bits replaced by what the module's calls pass to `function`.
    public func effective(_ labels: DataLabels, in function: Int) -> DataLabels {
        labels.substituting(incoming[function])
    }
}
