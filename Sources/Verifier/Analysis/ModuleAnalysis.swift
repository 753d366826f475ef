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

    /// Summaries are iterated to a fixpoint (bounded: deep call chains beyond it lose labels,
    /// never gain false ones).
    public init(module: PyNode, maximumRounds: Int = 8) {
        let index = ModuleIndex(module: module)
        var summaries = Array(repeating: FunctionSummary(), count: index.functions.count)
        var globals: [String: DataLabels] = [:]
        var events: [[FlowEvent]] = Array(repeating: [], count: index.functions.count)
        var callSites: [[(callee: Int, arguments: [DataLabels])]] = Array(repeating: [], count: index.functions.count)
        for _ in 0..<maximumRounds {
            var changed = false
            for position in index.functions.indices {
                var interpreter = FunctionInterpreter(
                    index: index, functionIndex: position, summaries: summaries, globals: globals)
                interpreter.run()
                if position == 0 {
                    let updated = interpreter.environment
                    if updated != globals { globals = updated; changed = true }
                }
                var summary = FunctionSummary(returns: interpreter.returns)
                for event in interpreter.events {
                    summary.events[event.kind, default: []].formUnion(event.labels)
                }
                if summary != summaries[position] { summaries[position] = summary; changed = true }
                events[position] = interpreter.events
                callSites[position] = interpreter.callSites
            }
            if !changed { break }
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
        self.flags = FeatureFlags(module: module, aliases: index.aliases)
    }

    /// `labels` with parameter bits replaced by what the module's calls pass to `function`.
    public func effective(_ labels: DataLabels, in function: Int) -> DataLabels {
        labels.substituting(incoming[function])
    }
}
