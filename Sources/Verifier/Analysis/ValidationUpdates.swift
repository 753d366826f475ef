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
    /// The environment variable that must be set for this update to run, when it sits behind a
    /// feature that is off by default (here or at every call of its function).
    public var disabledBy: String?
    /// The function holding the update is never used in its module (not called, passed or
    /// named anywhere outside its own body): dead code, which runs nothing.
    public var neverUsed = false

    /// Every validation update of `analysis`, each judged where its validation data enters:
    /// in the function that names the data, or at the call that passes it in.
    public static func find(in analysis: ModuleAnalysis) -> [ValidationUpdate] {
        var result: [ValidationUpdate] = []
        var beforeSerialization: Set<Int> = []
        for function in analysis.index.functions.indices {
            let events = analysis.events[function]
            let serializations = events.filter { $0.kind == .serialize && producesArtifact($0, in: analysis) }.map(\.line)
            let body = analysis.index.functions[function].node
            for event in events where event.kind == .update && event.labels.intrinsic.mayHoldValidation {
                guard let first = serializations.filter({ $0 > event.line }).min(),
                      !leavesFunction(body, at: event.line) else { continue }
                let updater = event.via ?? function
                if updatesOnlyScratch(from: updater, in: analysis) { continue }
                // The function quantized or compressed the artifact before this update: it adapts
                // an exported model (evaluation), not the weights being exported.
                if events.contains(where: { $0.kind == .serialize && $0.line < event.line && !Self.savesRawWeights($0) }) { continue }
                result.append(ValidationUpdate(
                    function: function, event: event, timing: .beforeSerialization(serializationLine: first)))
                if let callee = event.via { beforeSerialization.formUnion(reachable(from: callee, in: analysis)) }
            }
        }
        for function in analysis.index.functions.indices where !beforeSerialization.contains(function) {
            let events = analysis.events[function]
            for event in events where event.kind == .update && event.labels.intrinsic.mayHoldValidation {
                if result.contains(where: { $0.function == function && $0.event.line == event.line }) { continue }
                // Through a call, judge here only when the validation data is an argument;
                // otherwise the callee names it and is judged itself.
                if let callee = event.via,
                   analysis.summaries[callee].events[.update]?.intrinsic.mayHoldValidation == true { continue }
                let node = analysis.index.functions[function].node
                if discardsAdapter(node, after: event.line) || updatesOnlyLocalModules(node) { continue }
                var judged = timing(of: event, among: events, in: analysis, function: function)
                // A call to a function that scores what it is given before training on it
                // (`adapt(model, val_tokens)` with a score-first loop inside): its own order counts.
                if judged == .unscored, let callee = event.via {
                    let inner = analysis.events[callee].filter { $0.kind == .update }
                        .map { timing(of: $0, among: analysis.events[callee], in: analysis, function: callee) }
                    if !inner.isEmpty, inner.allSatisfy({ $0 != .unscored }) { judged = inner[0] }
                }
                // Validation data passed in as an argument: the caller may have scored it already
                // (phased TTT trains on the prefix it scored); judge at every call site.
                // Also when only the positions come from the caller (`val_tokens[start:end]` with
                // `start`, `end` passed in: the prefix a phased caller scored).
                if judged == .unscored, !event.labels.parameters.isEmpty || !event.labels.extentParameters.isEmpty {
                    let calls = callSites(of: function, in: analysis)
                    if !calls.isEmpty {
                        let verdicts = calls.map { timing(of: $0.event, among: analysis.events[$0.caller], in: analysis, function: $0.caller) }
                        if verdicts.allSatisfy({ $0 != .unscored }) { judged = verdicts[0] }
                    }
                }
                result.append(ValidationUpdate(
                    function: function, event: event, timing: judged,
                    slotVariable: slotVariable(updatedBy: event.via ?? function, in: analysis.index),
                    disabledBy: analysis.disablingVariable(for: event, in: function)))
            }
        }
        for position in result.indices where result[position].disabledBy == nil {
            result[position].disabledBy = analysis.disablingVariable(for: result[position].event, in: result[position].function)
        }
        let module = analysis.index.functions[0].node
        for position in result.indices where hasEntryPoint(module) {
            let function = analysis.index.functions[result[position].function]
            if result[position].function != 0, function.enclosingFunction == nil, function.className == nil {
                result[position].neverUsed = !isUsed(function.name, outside: function.node, in: module)
            }
        }
        // Validation data reaching the update only through a value a default-off feature chooses
        // (`args.val_files if args.train_on_val else args.train_files`): behind that feature.
        for position in result.indices where result[position].disabledBy == nil
            && !result[position].event.labels.contains(.validation) {
            result[position].disabledBy = analysis.flags.valueGates.first
        }
        return result
    }

    /// A script: the module runs something when executed (`if __name__ == "__main__":`, or a
    /// call at top level such as `main()`), so its functions nothing reaches do not run. A module
    /// without one may be imported by other files of the submission.
    static func hasEntryPoint(_ module: PyNode) -> Bool {
        module.children("body").contains { statement in
            switch statement.type {
            case "If":
                var mentionsName = false
                statement.child("test")?.walk { node in if node.type == "Name", node.string("id") == "__name__" { mentionsName = true } }
                return mentionsName
            case "Expr":
                return statement.child("value")?.type == "Call"
            default:
                return false
            }
        }
    }

    /// Whether `name` is mentioned in `module` outside `definition`: called, passed as a value,
    /// read as an attribute or named in a string (`getattr(module, "ttt_adapt")`).
    static func isUsed(_ name: String, outside definition: PyNode, in module: PyNode) -> Bool {
        var used = false
        module.walk { node in
            guard !used, node.line < definition.line || node.line > definition.endLine else { return }
            switch node.type {
            case "Name": used = node.string("id") == name
            case "Attribute": used = node.string("attr") == name
            case "Constant": used = node.stringLiteral == name
            default: break
            }
        }
        return used
    }

    private static func callSites(of function: Int, in analysis: ModuleAnalysis) -> [(caller: Int, event: FlowEvent)] {
        var sites: [(caller: Int, event: FlowEvent)] = []
        for caller in analysis.index.functions.indices {
            for event in analysis.events[caller] where event.via == function && event.kind == .update {
                sites.append((caller, event))
            }
        }
        return sites
    }

    /// Whether the branch holding `line` ends in `return`/`raise`, so statements after the
    /// branch never follow it.
    static func leavesFunction(_ function: PyNode, at line: Int) -> Bool {
        var leaves = false
        function.walk { node in
            guard node.type == "If", node.line < line, node.endLine >= line else { return }
            for branch in [node.children("body"), node.children("orelse")] {
                guard let first = branch.first, let last = branch.last,
                      first.line <= line, last.endLine >= line else { continue }
                if last.type == "Return" || last.type == "Raise" { leaves = true }
            }
        }
        return leaves
    }

    /// A throwaway adapter: after the update the function `del`etes a name an optimizer was
    /// built over (compile warm-up on a scratch LoRA), so the update reaches no scored model.
    static func discardsAdapter(_ function: PyNode, after line: Int) -> Bool {
        var optimized: Set<String> = []
        var deleted: Set<String> = []
        function.walk { node in
            if node.type == "Call", let name = node.terminalName, optimizers.contains(name), node.line < line {
                for argument in node.children("args") {
                    argument.walk { inner in if inner.type == "Name", let id = inner.string("id") { optimized.insert(id) } }
                }
            }
            if node.type == "Delete", node.line > line {
                for target in node.children("targets") {
                    target.walk { inner in if inner.type == "Name", let id = inner.string("id") { deleted.insert(id) } }
                }
            }
        }
        return !optimized.isDisjoint(with: deleted)
    }

    /// Whether every function reachable from `updater` that updates weights on validation data
    /// itself trains only a scratch module or adapters it removes again, or puts back the weights
    /// it copied before updating them (through any chain of calls: `main → train_main →
    /// score_first_ttt_eval`).
    static func updatesOnlyScratch(from updater: Int, in analysis: ModuleAnalysis) -> Bool {
        let updaters = reachable(from: updater, in: analysis).filter { function in
            analysis.events[function].contains {
                $0.kind == .update && $0.via == nil && analysis.effective($0.labels, in: function).mayHoldValidation
            }
        }
        return !updaters.isEmpty && updaters.allSatisfy { function in
            let node = analysis.index.functions[function].node
            return updatesOnlyLocalModules(node) || restoresWeights(node)
                || RemovedAdapters.trainsOnly(function: function, in: analysis.index, optimizers: optimizers)
        }
    }

    /// Whether a serialization produces the artifact: a call counts only when some function it
    /// reaches quantizes, compresses or saves outside a straight-through estimator. Fake
    /// quantization in a forward pass (`return w + (dequantize(quantize(w)) - w).detach()`, for
    /// quantization-aware training) computes outputs; it writes no artifact.
    static func producesArtifact(_ event: FlowEvent, in analysis: ModuleAnalysis) -> Bool {
        guard let callee = event.via else { return true }
        var known: [Int: Bool] = [:]
        return serializes(callee, in: analysis, known: &known)
    }

    private static func serializes(_ function: Int, in analysis: ModuleAnalysis, known: inout [Int: Bool]) -> Bool {
        if let result = known[function] { return result }
        known[function] = false
        guard !isStraightThroughEstimator(analysis.index.functions[function]) else { return false }
        var result = false
        for event in analysis.events[function] where event.kind == .serialize && !result {
            result = event.via.map { serializes($0, in: analysis, known: &known) } ?? true
        }
        known[function] = result
        return result
    }

    /// A function whose every returned value is a parameter as given or `a + (b - a).detach()`
    /// (at least one of the latter): the straight-through estimator of fake quantization.
    static func isStraightThroughEstimator(_ function: ModuleIndex.Function) -> Bool {
        var estimates = false
        var other = false
        function.node.walk { node in
            guard node.type == "Return", let value = node.child("value") else { return }
            if value.type == "Name", let name = value.string("id"), function.parameters.contains(name) { return }
            if value.type == "BinOp", value.child("op")?.type == "Add",
               [value.child("left"), value.child("right")].contains(where: { $0?.type == "Call" && $0?.terminalName == "detach" }) {
                estimates = true
            } else {
                other = true
            }
        }
        return estimates && !other
    }

    /// A plain `torch.save` (a raw or checkpoint state dict), as opposed to quantizing or
    /// compressing the artifact.
    static func savesRawWeights(_ event: FlowEvent) -> Bool {
        event.via == nil && (event.detail == "torch.save" || event.detail.hasSuffix(".save"))
    }

    /// A scratch model: every optimizer of the function is built over the parameters of modules
    /// the function itself constructs (`probe = nn.Linear(...)`; `Adam(probe.parameters())`) and
    /// never returns or stores, so its updates change nothing that is scored or saved.
    static func updatesOnlyLocalModules(_ function: PyNode) -> Bool {
        var constructed: Set<String> = []
        var optimizedOwners: [String?] = []
        var escaping: Set<String> = []
        function.walk { node in
            switch node.type {
            case "Assign":
                guard let value = node.child("value"), value.type == "Call",
                      let root = constructorRoot(value), root.hasPrefix("nn.") || root.hasPrefix("torch.nn.") else { return }
                for target in node.children("targets") where target.type == "Name" {
                    if let id = target.string("id") { constructed.insert(id) }
                }
            case "Call":
                guard let name = node.terminalName, optimizers.contains(name) else { return }
                var owner: String?
                node.children("args").first?.walk { inner in
                    if owner == nil, inner.type == "Call", inner.terminalName == "parameters",
                       let receiver = inner.child("func")?.child("value"), receiver.type == "Name" {
                        owner = receiver.string("id")
                    }
                }
                optimizedOwners.append(owner)
            case "Return", "Yield":
                node.walk { inner in if inner.type == "Name", let id = inner.string("id") { escaping.insert(id) } }
            default:
                break
            }
        }
        guard !optimizedOwners.isEmpty else { return false }
        return optimizedOwners.allSatisfy { owner in
            guard let owner else { return false }
            return constructed.contains(owner) && !escaping.contains(owner)
        }
    }

    /// `nn.Linear` for `nn.Linear(d, v).to(device)`: the callee at the root of a call chain.
    private static func constructorRoot(_ call: PyNode) -> String? {
        var node = call
        while node.type == "Call", let function = node.child("func") {
            if function.type == "Attribute", let inner = function.child("value"), inner.type == "Call" {
                node = inner
            } else {
                return function.dottedName
            }
        }
        return nil
    }

    static func reachable(from start: Int, in analysis: ModuleAnalysis) -> Set<Int> {
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
        // A closure (`def closure(): loss.backward()` handed to `LBFGS.step`) runs where it is
        // defined: judge it by what its enclosing function scored before the `def`, in the loop
        // around it.
        if update.loops.isEmpty, let parent = analysis.index.functions[function].enclosingFunction {
            let definition = analysis.index.functions[function].node
            let parentBody = analysis.index.functions[parent].node
            var enclosingLoops: [FlowEvent.Loop] = []
            parentBody.walk { node in
                guard ["For", "AsyncFor", "While"].contains(node.type), node.line < definition.line,
                      node.endLine >= definition.endLine else { return }
                enclosingLoops.append(FlowEvent.Loop(line: node.line, endLine: node.endLine, targets: []))
            }
            let synthetic = FlowEvent(kind: .update, labels: update.labels, line: definition.line, loops: enclosingLoops,
                                      conditions: [], gradientFree: false, via: nil, detail: update.detail)
            let outer = timing(of: synthetic, among: analysis.events[parent], in: analysis, function: parent)
            if outer != .unscored { return outer }
        }
        let body = analysis.index.functions[function].node
        let returned = returnedNames(body)
        for loop in update.loops.reversed() {
            // A score of data passed in counts as what the callers pass (`adapt(model, val_tokens)`
            // scoring its `stream` argument before training on it).
            let scored = events.contains { score in
                guard score.kind == .score, score.line >= loop.line, score.line < update.line else { return false }
                if records(score, in: function, analysis) { return true }
                // The running score the function returns, added to from the same forward pass
                // before the update (score, then train on what was scored), once per token: not
                // inside a loop that repeats the passes.
                guard let accumulator = score.accumulator, returned.contains(accumulator),
                      analysis.effective(score.labels, in: function).mayHoldValidation else { return false }
                return !update.loops.contains { outer in
                    outer.line <= loop.line && outer.endLine >= loop.endLine && isPassLoop(outer, in: function, analysis)
                }
            }
            if scored {
                return .scoreFirst(loop: loop, guarded: hasLastIterationTest(in: body, loop: loop, before: update.line))
            }
        }
        // Training on the chunk the previous iteration scored and kept (`prev_x = x` after the
        // score): the update comes first in the body, but its data are already scored.
        for loop in update.loops.reversed() where trainsOnCarriedScoredData(update, loop: loop, body: body, events: events,
                                                                          function: function, analysis) {
            return .scoreFirst(loop: loop, guarded: true)
        }
        // A later pass over data already scored: a loop earlier in the function scored the
        // validation data into the score the function returns, and nothing is scored after the
        // update (`ttt_second_pass` re-training on chunks the first pass scored).
        let start = update.loops.first?.line ?? update.line
        let isReturnedScore = { (score: FlowEvent) -> Bool in
            score.kind == .score && (score.accumulator.map(returned.contains) ?? false)
                && (records(score, in: function, analysis)
                    || analysis.effective(score.labels, in: function).mayHoldValidation && score.gradientFree)
        }
        if let earlier = events.first(where: { score in
            isReturnedScore(score) && score.line < start && !score.loops.isEmpty && score.loops[0].endLine < start
        }), !events.contains(where: { $0.kind == .score && $0.line > update.line
            && analysis.effective($0.labels, in: function).mayHoldValidation }) {
            return .scoreFirst(loop: earlier.loops[0], guarded: true)
        }
        return .unscored
    }

    /// Whether the update in `loop` trains only on loop-carried data the previous iteration
    /// scored: what the update computes from (traced back through this iteration's assignments
    /// before it) includes a name assigned only after the update, from this iteration's data
    /// (`prev_x = x`), after a score in the same loop; and includes none of this iteration's
    /// data itself.
    static func trainsOnCarriedScoredData(_ update: FlowEvent, loop: FlowEvent.Loop, body: PyNode, events: [FlowEvent],
                                          function: Int, _ analysis: ModuleAnalysis) -> Bool {
        var assignments: [(line: Int, targets: Set<String>, value: PyNode, plain: Bool)] = []
        // Plain copies `target = source` (also `x.clone()`, `.detach()`, pairwise in `a, b = x.clone(), y`).
        var copies: [(line: Int, target: String, source: String)] = []
        var read: Set<String> = []
        var scoredNames: Set<String> = []
        let scoreLines = Set(events.filter { $0.kind == .score && $0.line > update.line && $0.line <= loop.endLine
            && records($0, in: function, analysis) }.map(\.line))
        body.walk { node in
            guard node.line >= loop.line, node.line <= loop.endLine else { return }
            if node.line == update.line, node.type == "Name", let id = node.string("id") { read.insert(id) }
            if scoreLines.contains(node.line), node.type == "Name", let id = node.string("id") { scoredNames.insert(id) }
            guard ["Assign", "AugAssign", "AnnAssign"].contains(node.type), let value = node.child("value") else { return }
            let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
            var names: Set<String> = []
            for target in targets { target.walk { if $0.type == "Name", let id = $0.string("id") { names.insert(id) } } }
            assignments.append((node.line, names, value, node.type == "Assign"))
            if node.type == "Assign", targets.count == 1 {
                let pairs: [(PyNode, PyNode)]
                if ["Tuple", "List"].contains(targets[0].type), ["Tuple", "List"].contains(value.type),
                   targets[0].children("elts").count == value.children("elts").count {
                    pairs = Array(zip(targets[0].children("elts"), value.children("elts")))
                } else {
                    pairs = [(targets[0], value)]
                }
                for (target, source) in pairs {
                    if target.type == "Name", let name = target.string("id"), let copied = copiedName(source) {
                        copies.append((node.line, name, copied))
                    }
                }
            }
        }
        func names(in node: PyNode) -> Set<String> {
            var found: Set<String> = []
            node.walk { if $0.type == "Name", let id = $0.string("id") { found.insert(id) } }
            return found
        }
        /// `start` and what it was computed from by this iteration's assignments before `line`.
        func slice(_ start: Set<String>, before line: Int) -> Set<String> {
            var result = start
            for _ in 0..<8 {
                let grown = assignments.filter { $0.line < line && !$0.targets.isDisjoint(with: result) }
                    .reduce(result) { $0.union(names(in: $1.value)) }
                if grown == result { break }
                result = grown
            }
            return result
        }
        let used = slice(read, before: update.line)
        guard let firstScore = scoreLines.min() else { return false }
        var carried = false
        var current: Set<String> = []
        for copy in copies where copy.line > firstScore {
            // What the score read, made by this iteration before the update, kept for the next one.
            let source = copy.source
            guard used.contains(copy.target), slice(scoredNames, before: copy.line).contains(source),
                  assignments.contains(where: { $0.line < update.line && $0.targets.contains(source) }),
                  !assignments.contains(where: { $0.line <= update.line && $0.targets.contains(copy.target) }) else { continue }
            // This iteration's data: the source and what it was computed from in this iteration.
            let fresh = slice([source], before: copy.line)
            current.formUnion(fresh.filter { name in assignments.contains { $0.line < update.line && $0.targets.contains(name) } })
            carried = true
        }
        return carried && used.isDisjoint(with: current)
    }

    /// The name a value copies: `x`, or `x` through `.clone()`, `.detach()`, `.contiguous()` or `.copy()`.
    static func copiedName(_ value: PyNode) -> String? {
        if value.type == "Name" { return value.string("id") }
        guard value.type == "Call", value.children("args").isEmpty, let callee = value.child("func"), callee.type == "Attribute",
              ["clone", "detach", "contiguous", "copy"].contains(callee.string("attr") ?? ""),
              let base = callee.child("value") else { return nil }
        return copiedName(base)
    }

    /// A score of validation targets with autograd off (or a detached accumulation), or one a
    /// called function makes.
    private static func records(_ score: FlowEvent, in function: Int, _ analysis: ModuleAnalysis) -> Bool {
        let labels = analysis.effective(score.labels, in: function)
        if labels.isSuperset(of: [.validation, .target]) && (score.gradientFree || score.via != nil) { return true }
        // Scored with autograd off into a running sum, whatever names the targets
        // (`loss_sum += nll.sum()` under `inference_mode`, targets sliced from the input).
        return score.accumulator != nil && score.gradientFree && labels.mayHoldValidation
    }

    /// A loop repeating the same work (named as epochs, or over a plain count), not walking
    /// through validation data or its positions.
    static func isPassLoop(_ loop: FlowEvent.Loop, in function: Int, _ analysis: ModuleAnalysis) -> Bool {
        if loop.targets.contains(where: isEpochName) { return true }
        guard !loop.targets.isEmpty else { return false }
        guard analysis.effective(loop.iterable, in: function).intersection([.validation, .validationExtent]).isEmpty else { return false }
        return countsPasses(loopAt: loop.line, in: analysis.index.functions[function].node)
    }

    /// Whether the `for` loop at `line` iterates over a plain count, `range(n)` or
    /// `range(first, n)`: a collection (`enumerate(windows)`, a list of start positions) or a
    /// stepped range (`range(0, len(windows), batch)`) walks through items, not repeated passes.
    static func countsPasses(loopAt line: Int, in function: PyNode) -> Bool {
        var iterable: PyNode?
        function.walk { node in
            guard iterable == nil, ["For", "AsyncFor"].contains(node.type), node.line == line else { return }
            iterable = node.child("iter")
        }
        guard let iterable else { return true }
        return iterable.type == "Call" && iterable.child("func")?.dottedName == "range" && iterable.children("args").count <= 2
    }

    static func isEpochName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("epoch") || lower == "ep" || lower == "_ep" || lower == "e_idx"
    }

    /// The names a function's `return` statements mention, and the names those were computed
    /// from (`val_loss = loss_sum / count; return val_loss`).
    static func returnedNames(_ function: PyNode) -> Set<String> {
        var names: Set<String> = []
        func mentioned(_ node: PyNode) -> Set<String> {
            var found: Set<String> = []
            node.walk { inner in
                if inner.type == "Name", let id = inner.string("id") { found.insert(id) }
                if inner.type == "Attribute", let dotted = inner.dottedName { found.insert(dotted) }
            }
            return found
        }
        function.walk { node in
            if node.type == "Return", let value = node.child("value") { names.formUnion(mentioned(value)) }
        }
        for _ in 0..<4 {
            var added = false
            function.walk { node in
                guard node.type == "Assign" || node.type == "AugAssign", let value = node.child("value") else { return }
                let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
                guard targets.contains(where: { !mentioned($0).isDisjoint(with: names) }) else { return }
                for name in mentioned(value) where names.insert(name).inserted { added = true }
            }
            if !added { break }
        }
        return names
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
                // `ci < n - 1`, or the same shifted to the other side: `ci + 1 == n`.
                let sides = [node.child("left")].compactMap { $0 } + node.children("comparators")
                if sides.contains(where: { side in
                    side.type == "BinOp" && ["Sub", "Add"].contains(side.child("op")?.type ?? "")
                        && side.child("right")?.constant?.intValue == 1
                }) { found = true }
            default:
                break
            }
        }
        return found
    }

    private static let optimizers: Set<String> = ["SGD", "Adam", "AdamW", "LBFGS", "RMSprop", "Adagrad", "Adafactor"]

    /// The SLOT variable of the function whose update this is (the function called, for an
    /// update through a call), or of a function enclosing it: a closure trains the tensor its
    /// enclosing function created.
    static func slotVariable(updatedBy updater: Int, in index: ModuleIndex) -> String? {
        var position: Int? = updater
        while let current = position {
            if let variable = slotVariable(in: index.functions[current].node, aliases: index.aliases) { return variable }
            position = index.functions[current].enclosingFunction
        }
        return nil
    }

    /// A variable holding a fresh `requires_grad=True` tensor that an optimizer then trains:
    /// the SLOT pattern (a per-window delta or logit bias optimised at evaluation time).
    static func slotVariable(in function: PyNode, aliases: ImportAliases) -> String? {
        var fresh: [String] = []
        var trained: Set<String> = []
        function.walk { node in
            if node.type == "Assign", let value = node.child("value"), value.type == "Call",
               value.terminalName == "requires_grad_" || value.children("keywords").contains(where: {
                   $0.string("arg") == "requires_grad" && $0.child("value")?.constant != .bool(false)
               }) {
                fresh.append(contentsOf: node.children("targets").compactMap { $0.string("id") })
            }
            // `Adam(...)`, `torch.optim.Adam(...)`, or an optimizer imported under another name.
            let resolved = aliases.resolve(node.child("func")).map { String($0.split(separator: ".").last ?? "") }
            if node.type == "Call", let name = node.terminalName, optimizers.contains(name) || optimizers.contains(resolved ?? "") {
                for argument in node.children("args") {
                    argument.walk { inner in if inner.type == "Name", let id = inner.string("id") { trained.insert(id) } }
                }
            }
        }
        // A list or dict of fresh tensors (`params = [delta, scale]`) given to the optimizer
        // trains them.
        var holders: [String: String] = [:]
        function.walk { node in
            guard node.type == "Assign", let value = node.child("value"),
                  ["List", "Tuple", "Set", "Dict"].contains(value.type) else { return }
            var held: String?
            value.walk { inner in
                if held == nil, inner.type == "Name", let id = inner.string("id"), fresh.contains(id) { held = id }
            }
            guard let held else { return }
            for target in node.children("targets") { if let id = target.string("id") { holders[id] = held } }
        }
        for (holder, variable) in holders where trained.contains(holder) { trained.insert(variable) }
        return fresh.first { trained.contains($0) }
    }
}
