import Foundation
import Reference

/// The evaluation procedure a function of the submission defines, decided by what the function does
/// (read from its syntax tree, never run), not by its name: which windows it scores, which of their
/// positions count, whether it trains on the validation stream and in which order it scores and trains.
public struct EvaluationProcedure: Sendable, Equatable {
    /// How a window's scored positions start (`s = 0 if ws == 0 else …`).
    public enum ScoredPositions: String, Sendable, Equatable {
        /// From `context_size = seq_len - stride` (the first window from 0): each target once.
        case afterContext = "after the context (seq_len - stride)"
        /// From `max(wlen - stride, 0)`: the window's last `stride` targets (the first window all).
        case lastStride = "the window's last stride targets"
    }

    /// The order, in the loop over the validation stream, of scoring a chunk and updating on it.
    public enum UpdateOrder: String, Sendable, Equatable {
        case scoreBeforeUpdate = "scores each chunk before updating on it"
        case updateBeforeScore = "updates on a chunk before scoring it"
        /// Scoring and updating happen in the same statement.
        case undetermined = "scoring and updating are in no order pgverify reads"
        /// Updating and scoring one after the other, in no common loop: training, then evaluation.
        case notInALoop = "trains and scores in no common loop"
    }

    /// The function's name (for messages only) and line.
    public var function: String
    public var line: Int
    /// The window rule its window starts follow (`nil`: no sliding window starts); `unknownWindows`
    /// says why window starts filtered by a condition pgverify does not recognise are not read.
    public var windowRule: TTTWindowRule?
    public var unknownWindows: String?
    public var scoredPositions: ScoredPositions?
    /// Whether windows are packed into one flat batch split at document starts (`cu_seqlens=` and
    /// `parts.append(chunk[:-1])`).
    public var segmentsDocuments: Bool
    /// The default of the parameter that steps its batches of windows (`batch_seqs=32`).
    public var batchSequences: Int?
    /// Optimizers it constructs (`torch.optim.SGD`), in order; empty for pure evaluation.
    public var optimizers: [String]
    /// Whether it calls `.backward()` and an optimizer's `.step()`.
    public var updates: Bool
    public var updateOrder: UpdateOrder?
    /// Whether its `seq_len` is the evaluation length (`seq_len = h.eval_seq_len`).
    public var usesEvalSeqLen: Bool
    /// Whether it reads the CaseOps byte sidecar (`val_token_bytes`).
    public var readsByteSidecar: Bool
    /// Whether it computes a per-token loss (`cross_entropy`) and accumulates it.
    public var scores: Bool

    /// A sliding evaluation without updates.
    public var isSliding: Bool { windowRule != nil && scores && !updates }
    /// Test-time training that scores windows and trains on the stream.
    public var isTestTimeTraining: Bool { scores && updates && !optimizers.isEmpty && updateOrder != .notInALoop }

    /// What pgverify makes of it, in words.
    public var summary: String {
        var parts: [String] = []
        if let windowRule { parts.append("window rule \(windowRule.rawValue)") }
        if scores, windowRule == nil, unknownWindows == nil { parts.append("scores without sliding window starts") }
        if let unknownWindows { parts.append(unknownWindows) }
        if let scoredPositions { parts.append("scores \(scoredPositions.rawValue)") }
        if segmentsDocuments { parts.append("splits windows at document starts") }
        if !optimizers.isEmpty { parts.append("builds " + optimizers.joined(separator: ", ")) }
        if let updateOrder, updates { parts.append(updateOrder.rawValue) }
        return "\(function) (line \(line)): " + (parts.isEmpty ? "no windows, scoring or updates pgverify reads" : parts.joined(separator: "; "))
    }
}

/// Reads the ``EvaluationProcedure`` of every top-level function of a module.
public enum EvaluationProcedureReader {
    /// The procedures of `module`'s top-level functions that score or train, in file order.
    ///
    /// A function that calls another top-level function of the module takes on what the callee does
    /// (its scoring, updates, optimizers and window rule), so procedures split into helpers read as one.
    public static func procedures(in module: PyNode) -> [EvaluationProcedure] {
        let aliases = ImportAliases(module: module)
        let functions = module.children("body").filter { ["FunctionDef", "AsyncFunctionDef"].contains($0.type) }
        var read = functions.map { Self.read($0, aliases: aliases, helpers: [:]) }
        // Callees first: a few rounds reach helpers of helpers.
        for _ in 0..<3 {
            let known = Dictionary(read.map { ($0.function, $0) }) { _, last in last }
            read = functions.map { Self.read($0, aliases: aliases, helpers: known) }
        }
        return read.filter { $0.scores || $0.updates || $0.windowRule != nil || $0.unknownWindows != nil }
    }

    /// The procedures of the code in `url` (decoded from a self-extracting wrapper when it is one).
    public static func procedures(code url: URL) throws(ModelConfigError) -> [EvaluationProcedure] {
        let text = try SubmissionCodeText.read(url)
        return procedures(in: try SubmissionSyntaxTree.tree(text, file: SubmissionCodeText.sourceName(url)))
    }

    static func read(_ function: PyNode, aliases: ImportAliases, helpers: [String: EvaluationProcedure]) -> EvaluationProcedure {
        let name = function.string("name") ?? "?"
        var nodes: [PyNode] = []
        function.walk { nodes.append($0) }
        let assignments = localAssignments(nodes)
        var procedure = EvaluationProcedure(
            function: name, line: function.line, segmentsDocuments: false, optimizers: [], updates: false,
            usesEvalSeqLen: false, readsByteSidecar: false, scores: false)

        // Window starts: `[ws for ws in range(0, total, stride) if <rule>]`.
        for node in nodes where ["ListComp", "GeneratorExp"].contains(node.type) {
            guard let generator = node.children("generators").first, let variable = generator.child("target")?.string("id"),
                  let iterated = generator.child("iter"), iterated.type == "Call", iterated.child("func")?.string("id") == "range",
                  iterated.children("args").count == 3, let step = iterated.children("args")[2].string("id"),
                  let condition = generator.children("ifs").first, node.child("elt")?.string("id") == variable else { continue }
            if let rule = windowRule(condition, start: variable, step: step, assignments: assignments) {
                procedure.windowRule = rule
                procedure.unknownWindows = nil
                break
            }
            procedure.unknownWindows = "window starts at line \(condition.line) filtered by a condition that is neither "
                + "`ws + (seq_len - stride) < total` nor `min(ws + seq_len, total) - ws >= stride or ws == 0`"
        }
        // Scored positions: `s = 0 if ws == 0 else …`.
        for node in nodes where node.type == "IfExp" {
            guard let test = node.child("test"), isComparison(test, op: "Eq", rightConstant: 0),
                  node.child("body")?.constant?.intValue == 0, let other = node.child("orelse") else { continue }
            if other.type == "Name", let bound = other.string("id").flatMap({ assignments[$0] }), bound.type == "BinOp",
               bound.child("op")?.type == "Sub" {
                procedure.scoredPositions = .afterContext
            } else if other.type == "Call", other.child("func")?.string("id") == "max", other.children("args").count == 2,
                      other.children("args")[0].type == "BinOp", other.children("args")[0].child("op")?.type == "Sub",
                      other.children("args")[1].constant?.intValue == 0 {
                procedure.scoredPositions = .lastStride
            }
        }
        let calls = nodes.filter { $0.type == "Call" }
        let hasSegmentBoundaries = calls.contains { call in call.children("keywords").contains { $0.string("arg") == "cu_seqlens" } }
        let packsInputs = calls.contains { call in
            call.child("func")?.string("attr") == "append" && call.children("args").first.map(isDropLastSlice) == true
        }
        procedure.segmentsDocuments = hasSegmentBoundaries && packsInputs
        procedure.batchSequences = batchSequences(function, nodes: nodes)
        procedure.readsByteSidecar = nodes.contains { $0.string("attr") == "val_token_bytes" || $0.string("id") == "val_token_bytes" }
        procedure.usesEvalSeqLen = nodes.contains { node in
            (node.type == "Assign" && node.children("targets").contains { $0.string("id") == "seq_len" }
                && node.child("value")?.string("attr") == "eval_seq_len")
                || (node.type == "keyword" && node.string("arg") == "seq_len" && node.child("value")?.string("attr") == "eval_seq_len")
        }

        // Optimizers, updates and scoring.
        var optimizerNames: Set<String> = []
        for node in nodes where node.type == "Assign" {
            guard let value = node.child("value"), value.type == "Call", let optimizer = optimizerName(value, aliases: aliases)
            else { continue }
            procedure.optimizers.append(optimizer)
            for target in node.children("targets") { if let id = target.string("id") { optimizerNames.insert(id) } }
        }
        let steps = calls.contains { isOptimizerStep($0, optimizers: optimizerNames) }
        let backward = calls.contains { $0.child("func")?.string("attr") == "backward" }
        procedure.updates = steps && backward
        procedure.scores = calls.contains { $0.terminalName == "cross_entropy" } && nodes.contains { $0.type == "AugAssign" }
        // What the module's own functions it calls do.
        let called = calls.compactMap { call in call.child("func")?.type == "Name" ? call.child("func")?.string("id") : nil }
            .filter { $0 != name }.compactMap { helpers[$0] }
        let scoringHelpers = Set(called.filter(\.scores).map(\.function))
        let updatingHelpers = Set(called.filter(\.updates).map(\.function))
        for helper in called {
            procedure.scores = procedure.scores || helper.scores
            procedure.updates = procedure.updates || helper.updates
            procedure.optimizers += helper.optimizers.filter { !procedure.optimizers.contains($0) }
            if procedure.windowRule == nil, procedure.unknownWindows == nil { procedure.windowRule = helper.windowRule }
            if procedure.scoredPositions == nil { procedure.scoredPositions = helper.scoredPositions }
        }
        if procedure.updates, procedure.scores {
            procedure.updateOrder = updateOrder(function.children("body"), optimizers: optimizerNames,
                                                scoringHelpers: scoringHelpers, updatingHelpers: updatingHelpers)
        }
        return procedure
    }

    // MARK: - Window rules

    /// `ws + context < total` with `context = seq_len - stride` (the step): every target once;
    /// `min(ws + seq_len, total) - ws >= stride or ws == 0`: the tail rescored.
    static func windowRule(_ condition: PyNode, start: String, step: String, assignments: [String: PyNode]) -> TTTWindowRule? {
        if condition.type == "Compare", condition.children("ops").map(\.type) == ["Lt"],
           let left = condition.child("left"), left.type == "BinOp", left.child("op")?.type == "Add",
           left.child("left")?.string("id") == start, let context = left.child("right") {
            let bound = context.string("id").flatMap { assignments[$0] } ?? context
            if bound.type == "BinOp", bound.child("op")?.type == "Sub", let subtracted = bound.child("right"),
               sameValue(subtracted, step, assignments: assignments) { return .exactlyOnce }
            return nil
        }
        if condition.type == "BoolOp", condition.child("op")?.type == "Or" {
            let values = condition.children("values")
            guard values.count == 2 else { return nil }
            let first = values.contains { isComparison($0, op: "Eq", rightConstant: 0, left: start) }
            let tail = values.contains { value in
                guard value.type == "Compare", value.children("ops").map(\.type) == ["GtE"],
                      value.children("comparators").first?.string("id") == step,
                      let length = value.child("left"), length.type == "BinOp", length.child("op")?.type == "Sub",
                      length.child("right")?.string("id") == start, let end = length.child("left"), end.type == "Call",
                      end.child("func")?.string("id") == "min", let reach = end.children("args").first,
                      reach.type == "BinOp", reach.child("op")?.type == "Add", reach.child("left")?.string("id") == start
                else { return false }
                return true
            }
            return first && tail ? .rescoreTail : nil
        }
        return nil
    }

    /// Whether `node` is the step `step` names: the name itself, or what it is bound to (`stride = h.eval_stride`).
    static func sameValue(_ node: PyNode, _ step: String, assignments: [String: PyNode]) -> Bool {
        if node.string("id") == step { return true }
        guard let stepValue = assignments[step]?.dottedName else { return false }
        let value = node.string("id").flatMap { assignments[$0] }?.dottedName ?? node.dottedName
        return value == stepValue
    }

    static func isComparison(_ node: PyNode, op: String, rightConstant: Int, left: String? = nil) -> Bool {
        guard node.type == "Compare", node.children("ops").map(\.type) == [op],
              node.children("comparators").first?.constant?.intValue == rightConstant else { return false }
        return left.map { node.child("left")?.string("id") == $0 } ?? (node.child("left")?.type == "Name")
    }

    /// `x[:-1]`.
    static func isDropLastSlice(_ node: PyNode) -> Bool {
        guard node.type == "Subscript", let slice = node.child("slice"), slice.type == "Slice", slice.child("lower") == nil,
              let upper = slice.child("upper") else { return false }
        if upper.type == "UnaryOp", upper.child("op")?.type == "USub", upper.child("operand")?.constant?.intValue == 1 { return true }
        return upper.constant?.intValue == -1
    }

    /// Names assigned exactly once in the function, to their value.
    static func localAssignments(_ nodes: [PyNode]) -> [String: PyNode] {
        var values: [String: PyNode] = [:]
        var counts: [String: Int] = [:]
        for node in nodes where node.type == "Assign" {
            for target in node.children("targets") {
                guard let name = target.string("id") else { continue }
                counts[name, default: 0] += 1
                values[name] = node.child("value")
            }
        }
        return values.filter { counts[$0.key] == 1 }
    }

    /// The integer default of the parameter that steps a `range(0, len(...), batch)` loop.
    static func batchSequences(_ function: PyNode, nodes: [PyNode]) -> Int? {
        guard let arguments = function.child("args") else { return nil }
        let parameters = arguments.children("args")
        let defaults = arguments.children("defaults")
        var defaultsByName: [String: Int] = [:]
        for (parameter, value) in zip(parameters.suffix(defaults.count), defaults) {
            if let name = parameter.string("arg"), let number = value.constant?.intValue, number > 0 { defaultsByName[name] = number }
        }
        for node in nodes where node.type == "For" {
            guard let iterated = node.child("iter"), iterated.type == "Call", iterated.child("func")?.string("id") == "range",
                  iterated.children("args").count == 3, iterated.children("args")[1].terminalName == "len",
                  let step = iterated.children("args")[2].string("id"), let value = defaultsByName[step] else { continue }
            return value
        }
        return nil
    }

    // MARK: - Updates

    static let optimizerClasses: Set<String> = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Muon", "Lion", "Adafactor"]

    /// The optimizer class a call constructs (`torch.optim.SGD(...)`, `Muon(...)`), or `nil`.
    static func optimizerName(_ call: PyNode, aliases: ImportAliases) -> String? {
        guard let function = call.child("func") else { return nil }
        let resolved = aliases.resolve(function) ?? function.terminalName ?? ""
        let last = resolved.split(separator: ".").last.map(String.init) ?? resolved
        if resolved.hasPrefix("torch.optim.") || optimizerClasses.contains(last) { return resolved }
        return nil
    }

    static func isOptimizerStep(_ call: PyNode, optimizers: Set<String>) -> Bool {
        guard let function = call.child("func"), function.string("attr") == "step",
              let receiver = function.child("value")?.string("id") else { return false }
        return optimizers.contains(receiver)
    }

    /// Scoring (a statement accumulating a loss with `+=` after `cross_entropy`) against updating
    /// (`.backward()` / `optimizer.step()`), in the innermost statement list holding both.
    static func updateOrder(_ statements: [PyNode], optimizers: Set<String>, scoringHelpers: Set<String> = [],
                            updatingHelpers: Set<String> = [], insideLoop: Bool = false) -> EvaluationProcedure.UpdateOrder {
        func contains(_ node: PyNode, _ predicate: (PyNode) -> Bool) -> Bool {
            var found = false
            node.walk { if !found, predicate($0) { found = true } }
            return found
        }
        let isScore: (PyNode) -> Bool = { node in
            node.type == "Call" && (node.terminalName == "cross_entropy"
                || (node.child("func")?.type == "Name" && scoringHelpers.contains(node.child("func")?.string("id") ?? "")))
        }
        let isUpdate: (PyNode) -> Bool = { node in
            node.type == "Call" && (node.child("func")?.string("attr") == "backward" || isOptimizerStep(node, optimizers: optimizers)
                || (node.child("func")?.type == "Name" && updatingHelpers.contains(node.child("func")?.string("id") ?? "")))
        }
        let scoring = statements.firstIndex { contains($0, isScore) }
        let updating = statements.firstIndex { contains($0, isUpdate) }
        guard let scoring, let updating else { return .undetermined }
        if scoring != updating, !insideLoop { return .notInALoop }
        if scoring < updating { return .scoreBeforeUpdate }
        if updating < scoring { return .updateBeforeScore }
        let statement = statements[scoring]
        let loop = insideLoop || ["For", "AsyncFor", "While"].contains(statement.type)
        for field in ["body", "orelse", "handlers", "finalbody"] {
            let inner = statement.children(field)
            if inner.contains(where: { contains($0, isScore) }) && inner.contains(where: { contains($0, isUpdate) }) {
                return updateOrder(inner, optimizers: optimizers, scoringHelpers: scoringHelpers, updatingHelpers: updatingHelpers,
                                   insideLoop: loop)
            }
        }
        return .undetermined
    }
}
