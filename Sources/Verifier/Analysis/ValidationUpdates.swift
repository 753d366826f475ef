/// Weight updates computed from validation data, classified by when they happen relative to
/// scoring and serialization. Shared by the test-time-training rules.
public struct ValidationUpdate: Sendable {
    public enum Timing: Sendable, Equatable {
        /// Before the artifact is serialized/quantized (at `serializationLine` of the function).
        case beforeSerialization(serializationLine: Int)
        /// No scoring of validation data precedes it in any enclosing loop.
        case unscored
        /// A loop scores validation data (autograd off) before updating on it; `guarded` when a
        /// last-iteration test (`ci < n - 1`, `is_last_chunk`) appears in that loop.
        case scoreFirst(loop: FlowEvent.Loop, guarded: Bool)
    }

    /// Index of the function in ``ModuleIndex/functions``.
    public var function: Int
    public var event: FlowEvent
    public var timing: Timing
    /// For SLOT: the fresh `requires_grad=True` tensor the optimizer trains.
    public var slotVariable: String?

    /// Every validation update of `analysis`, each judged where its validation data enters:
    /// in the function that names the data, or at the call that passes it in.
    public static func find(in analysis: ModuleAnalysis) -> [ValidationUpdate] {
        var result: [ValidationUpdate] = []
        var beforeSerialization: Set<Int> = []
        for function in analysis.index.functions.indices {
            let events = analysis.events[function]
            let serializations = events.filter { $0.kind == .serialize }.map(\.line)
            for event in events where event.kind == .update && event.labels.intrinsic.contains(.validation) {
                guard let first = serializations.filter({ $0 > event.line }).min() else { continue }
                result.append(ValidationUpdate(
                    function: function, event: event, timing: .beforeSerialization(serializationLine: first)))
                if let callee = event.via { beforeSerialization.formUnion(reachable(from: callee, in: analysis)) }
            }
        }
        for function in analysis.index.functions.indices where !beforeSerialization.contains(function) {
            let events = analysis.events[function]
            for event in events where event.kind == .update && event.labels.intrinsic.contains(.validation) {
                if result.contains(where: { $0.function == function && $0.event.line == event.line }) { continue }
                // Through a call, judge here only when the validation data is an argument;
                // otherwise the callee names it and is judged itself.
                if let callee = event.via,
                   analysis.summaries[callee].events[.update]?.intrinsic.contains(.validation) == true { continue }
                result.append(ValidationUpdate(
                    function: function, event: event, timing: timing(of: event, among: events, in: analysis, function: function),
                    slotVariable: slotVariable(in: analysis.index.functions[function].node)))
            }
        }
        return result
    }

    private static func reachable(from start: Int, in analysis: ModuleAnalysis) -> Set<Int> {
        var seen: Set<Int> = [start]
        var queue = [start]
        while let next = queue.popLast() {
            for event in analysis.events[next] {
                if let callee = event.via, !seen.contains(callee) {
                    seen.insert(callee)
                    queue.append(callee)
                }
            }
        }
        return seen
    }

    private static func timing(of update: FlowEvent, among events: [FlowEvent], in analysis: ModuleAnalysis,
                               function: Int) -> Timing {
        for loop in update.loops.reversed() {
            let scored = events.contains { score in
                score.kind == .score && score.labels.intrinsic.contains(.validation)
                    && (score.gradientFree || score.via != nil)
                    && score.line >= loop.line && score.line < update.line
            }
            if scored {
                let body = analysis.index.functions[function].node
                return .scoreFirst(loop: loop, guarded: hasLastIterationTest(in: body, loop: loop, before: update.line))
            }
        }
        return .unscored
    }

    /// Whether the loop at `loop.line` tests for its last iteration before `line`: a name with
    /// `last` in it, or a comparison against something minus one (`ci < num_chunks - 1`).
    static func hasLastIterationTest(in function: PyNode, loop: FlowEvent.Loop, before line: Int) -> Bool {
        var found = false
        function.walk { node in
            guard !found, node.line >= loop.line, node.line <= line, node.line <= loop.endLine else { return }
            switch node.type {
            case "Name", "Attribute":
                if (node.terminalName ?? "").lowercased().contains("last") { found = true }
            case "Compare":
                let sides = [node.child("left")].compactMap { $0 } + node.children("comparators")
                if sides.contains(where: { side in
                    side.type == "BinOp" && side.child("op")?.type == "Sub" && side.child("right")?.constant?.intValue == 1
                }) { found = true }
            default:
                break
            }
        }
        return found
    }

    private static let optimizers: Set<String> = ["SGD", "Adam", "AdamW", "LBFGS", "RMSprop", "Adagrad", "Adafactor"]

    /// A variable holding a fresh `requires_grad=True` tensor that an optimizer then trains:
    /// the SLOT pattern (a per-window delta or logit bias optimised at evaluation time).
    static func slotVariable(in function: PyNode) -> String? {
        var fresh: [String] = []
        var trained: Set<String> = []
        function.walk { node in
            if node.type == "Assign", let value = node.child("value"), value.type == "Call",
               value.children("keywords").contains(where: {
                   $0.string("arg") == "requires_grad" && $0.child("value")?.constant == .bool(true)
               }) {
                fresh.append(contentsOf: node.children("targets").compactMap { $0.string("id") })
            }
            if node.type == "Call", let name = node.terminalName, optimizers.contains(name) {
                for argument in node.children("args") {
                    argument.walk { inner in if inner.type == "Name", let id = inner.string("id") { trained.insert(id) } }
                }
            }
        }
        return fresh.first { trained.contains($0) }
    }
}
