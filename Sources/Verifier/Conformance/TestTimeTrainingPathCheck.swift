import Foundation
import Reference

/// The records' test-time training scores and trains through another forward than the one the standard
/// evaluation scores: `forward_ttt(input_ids, target_ids, lora)`, with LoRA adapters added inside the blocks and
/// on the head (`_block_with_lora`, `_parallel_block_with_lora`). pgverify's TTT re-evaluation runs its own
/// adapters on the matched architecture, so before it prints a TTT score the code's `forward_ttt` must be
/// that forward too. It is followed twice on the matched model, with a stand-in for the `lora` object whose
/// lists (`q_loras`, `k_loras`, `v_loras`, `o_loras`, `mlp_loras`) and `lm_head_lora` hold adapters:
///
/// 1. every adapter returning zero: `forward_ttt` must score, per token (`reduction="none"`), the very logits
///    `forward_logits` computes (same graph node) against `target_ids`;
/// 2. every adapter returning a tagged operation of its input: each must be added to the output of the
///    projection it adapts, reading what the reference's adapters read — q, k and v: their projection's input;
///    o: the input of the block's q projection (the normed attention input), added to the output projection's;
///    mlp: the MLP's input, added to its down projection's output; the head: the head's input, added to the
///    logits before the softcap.
///
/// Anything else (another function, an adapter elsewhere or on another input, a construct not followed) is
/// a refusal for the TTT re-evaluation, naming the line.
enum TestTimeTrainingPathCheck {
    static let adapterClass = "pgverify.TestTimeTrainingAdapter"
    static let adapterSetClass = "pgverify.TestTimeTrainingAdapters"
    static let adapterLists = ["q_loras", "k_loras", "v_loras", "o_loras", "mlp_loras"]
    static let headAdapter = "lm_head_lora"
    static let adapterOperation = "ttt_adapter"

    static func check(_ interpreter: ForwardInterpreter, model: ModuleInstance, className: String, logits: Int,
                      refuse: (ConformanceFailure) -> ModelConfigError) -> TestTimeTrainingPath {
        guard let (method, owner) = interpreter.method("forward_ttt", of: className) else { return .absent }
        let function = owner + ".forward_ttt"
        func refused(_ failure: ConformanceFailure) -> TestTimeTrainingPath {
            if case .architectureNotMatched(_, let line, let detail, _) = refuse(failure) { return .refused(line: line, detail: detail) }
            return .refused(line: failure.line, detail: failure.message)
        }
        let graph = interpreter.graph
        do {
            let zero = try run(interpreter, method, function, owner, model, tagged: false)
            guard let scored = scoredLogits(graph, zero) else {
                return refused(ConformanceFailure(line: method.line, function: function, message: "does not return the per-token "
                    + "cross-entropy (reduction=\"none\") of logits against target_ids, which pgverify's TTT re-evaluation computes"))
            }
            if scored != logits {
                let first = ArchitectureConformance.firstOperation(graph, of: scored, notIn: logits)
                let origin = graph[first].origin
                return refused(ConformanceFailure(line: origin?.line ?? method.line, function: origin?.function ?? function,
                                                  message: "with its adapters' outputs at zero, \(function) computes other logits than "
                                                      + "forward_logits (the TTT re-evaluation runs the matched forward with its adapters)"))
            }
            let tagged = try run(interpreter, method, function, owner, model, tagged: true)
            if let failure = misplacedAdapter(graph, root: tagged, function: function) { return refused(failure) }
            return .matched
        } catch let failure as ConformanceFailure {
            return refused(failure)
        } catch {
            return refused(ConformanceFailure(line: method.line, function: function, message: "\(error)"))
        }
    }

    private static func run(_ interpreter: ForwardInterpreter, _ method: PyNode, _ function: String, _ owner: String,
                            _ model: ModuleInstance, tagged: Bool) throws -> Int {
        let adapters = ModuleInstance(className: adapterSetClass)
        func adapter(_ name: String, _ slot: Int) -> SymbolicValue {
            let module = ModuleInstance(className: adapterClass)
            module.attributes = ["name": .string(name), "slot": .int(slot), "tagged": .bool(tagged)]
            return .module(module)
        }
        for name in adapterLists {
            adapters.attributes[name] = .list(SymbolicList((0..<FamilyGPTModel.maxScheduledDepth).map { adapter(name, $0) }))
        }
        adapters.attributes[headAdapter] = adapter(headAdapter, 0)
        let shape: [SymbolicDim] = [.sym("B"), .sym("T")]
        let ids = SymbolicValue.tensor(interpreter.graph.input("input_ids"), shape)
        let targets = SymbolicValue.tensor(interpreter.graph.input("target_ids"), shape)
        let frame = ForwardInterpreter.Frame(function: function, className: nil, receiver: nil)
        let loss = try interpreter.call(method, qualifiedName: function, className: owner, receiver: model,
                                        positional: [ids, targets, .module(adapters)], keywords: [:], at: method, frame)
        guard case .tensor(let id, _) = loss else {
            throw ConformanceFailure(line: method.line, function: function, message: "returns a \(loss.kind), not the per-token loss")
        }
        return id
    }

    /// An adapter's output: zero, or an operation tagged with its list and slot on its input.
    static func output(_ adapter: ModuleInstance, input: SymbolicValue, _ interpreter: ForwardInterpreter, at site: PyNode,
                       _ frame: ForwardInterpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        guard case .bool(true)? = adapter.attributes["tagged"] else { return .real(0) }
        guard case .tensor(let x, let shape) = input, case .string(let name)? = adapter.attributes["name"],
              case .int(let slot)? = adapter.attributes["slot"] else {
            throw interpreter.fail(site, frame, "calls a TTT adapter on a \(input.kind)")
        }
        // The output's last axis is the adapted projection's; 1 broadcasts to it.
        let out = shape.map { Array($0.dropLast()) + [.n(1)] }
        return .tensor(interpreter.graph.node(adapterOperation, [x], [("name", .text(name)), ("slot", .int(slot))]), out)
    }

    /// The logits `root` scores per token against `target_ids` (through reshapes), or nil.
    private static func scoredLogits(_ graph: ForwardGraph, _ root: Int) -> Int? {
        func strip(_ id: Int) -> Int {
            var id = id
            while graph[id].op == "reshape", let input = graph[id].inputs.first { id = input }
            return id
        }
        let loss = strip(root)
        guard graph[loss].op == "cross_entropy", graph[loss].attribute("reduction") == .text("none"), graph[loss].inputs.count == 2,
              graph[strip(graph[loss].inputs[1])].op == "input",
              graph[strip(graph[loss].inputs[1])].attribute("name") == .text("target_ids") else { return nil }
        return strip(graph[loss].inputs[0])
    }

    /// The first adapter (in creation order) not added to the output of what it adapts, or reading another input
    /// than the reference's adapter reads.
    private static func misplacedAdapter(_ graph: ForwardGraph, root: Int, function: String) -> ConformanceFailure? {
        var reachable = Set<Int>()
        var stack = [root]
        while let id = stack.popLast() { if reachable.insert(id).inserted { stack += graph[id].inputs } }
        var users: [Int: [Int]] = [:]
        for id in reachable.sorted() { for input in graph[id].inputs { users[input, default: []].append(id) } }
        func parameterName(_ id: Int) -> String? {
            guard graph[id].op == "param", case .text(let name)? = graph[id].attribute("name") else { return nil }
            return name
        }
        /// The weight of a linear projection, when `id` is one.
        func projectionWeight(_ id: Int) -> String? {
            guard graph[id].op == "linear", graph[id].inputs.count >= 2 else { return nil }
            return parameterName(graph[id].inputs[1])
        }
        /// A node without the constant factor the normal form distributes over sums, and the factor.
        func unscaled(_ id: Int) -> (base: Int, factor: ForwardAttribute?) {
            graph[id].op == "scale" && graph[id].inputs.count == 1 ? (graph[id].inputs[0], graph[id].attribute("by")) : (id, nil)
        }
        /// The weight of a projection of `input` whose name ends with `suffix` (its block is compared by the caller).
        func readBy(_ input: Int, _ suffix: String) -> String? {
            (users[input] ?? []).compactMap { graph[$0].inputs.first == input ? projectionWeight($0) : nil }.first { $0.hasSuffix(suffix) }
        }
        for id in reachable.sorted() where graph[id].op == adapterOperation {
            guard case .text(let name)? = graph[id].attribute("name"), let input = graph[id].inputs.first else { continue }
            let origin = graph[id].origin
            func misplaced(_ why: String) -> ConformanceFailure {
                ConformanceFailure(line: origin?.line ?? 0, function: origin?.function ?? function,
                                   message: "the TTT adapter \(name) \(why), which is not where pgverify's TTT adapters act")
            }
            // The adapter's output (or it times the constant a softcap or scale distributes) enters one sum, beside one term
            // scaled alike: the output it is added to.
            let carriers = [id] + (users[id] ?? []).filter { graph[$0].op == "scale" && graph[$0].inputs == [id] }
            let uses = carriers.flatMap { users[$0] ?? [] }.filter { !carriers.contains($0) }
            guard uses.count == 1, graph[uses[0]].op == "sum" else { return misplaced("is used otherwise than added to one output") }
            let terms = graph[uses[0]].inputs
            guard let carrier = terms.first(where: carriers.contains), terms.count == 2 else {
                return misplaced("is added to a sum of several outputs")
            }
            let others = terms.filter { $0 != carrier }
            // Scaled alike (a softcap's division distributed over the sum): the output is the partner's base; else the
            // partner as it is (the MLP's gate doubles its output).
            let (factor, partner) = (unscaled(carrier).factor, unscaled(others[0]))
            let target = partner.factor == factor ? partner.base : others[0]
            let weight = projectionWeight(target)
            let ok: Bool
            switch name {
            case "q_loras", "k_loras", "v_loras":
                let suffix = ["q_loras": "c_q.weight", "k_loras": "c_k.weight", "v_loras": "c_v.weight"][name]!
                ok = graph[target].inputs.first == input && weight.map { $0.hasSuffix(suffix) && blockOf($0) != nil } == true
            case "o_loras":
                ok = weight.map { $0.hasSuffix("attn.proj.weight") && blockOf($0) != nil && blockOf($0) == readBy(input, "c_q.weight").flatMap(blockOf) } == true
            case "mlp_loras":
                // The MLP's output: its down projection, or that times the MLP's output gate.
                let gated = unscaled(target).base
                let down = weight ?? (graph[gated].op == "prod" ? graph[gated].inputs.compactMap(projectionWeight).first { $0.hasSuffix("mlp.proj.weight") } : nil)
                ok = down.map { $0.hasSuffix("mlp.proj.weight") && blockOf($0) != nil && blockOf($0) == readBy(input, "mlp.fc.weight").flatMap(blockOf) } == true
            case headAdapter:
                ok = graph[target].inputs.first == input && (weight == "tok_emb.weight" || weight == "lm_head.weight")
            default:
                ok = false
            }
            if !ok { return misplaced("is added to \(weight.map { "the output of " + $0 } ?? "another output") reading another input") }
        }
        return nil
    }

    /// `blocks.3.attn.c_q.weight` → 3.
    private static func blockOf(_ weight: String) -> Int? {
        let parts = weight.split(separator: ".")
        guard parts.count > 2, parts[0] == "blocks" else { return nil }
        return Int(parts[1])
    }
}
