import Reference

/// The MLP activation a submission's forward computes, read from its ``ForwardGraph``: the reference
/// takes the activation as a parameter (``ArchitectureFeatures/MLPActivation``), so the code decides
/// it, and the whole forward is then compared with the reference's description for it. What is read
/// here is only a candidate: a forward that computes anything else, or another activation in a later
/// block, still differs from the description and is refused.
enum MLPActivationReading {
    /// The activation applied to the first block's up projection (`linear(·, blocks.0.mlp.fc.weight)`):
    /// `relu` or `leaky_relu(slope)` raised to a constant power (1 when no power follows); or SwiGLU,
    /// `silu` of one projection of the first block's MLP input times another (or of one half of a fused
    /// projection's outputs times the other); if the reference computes
    /// that form (``ArchitectureFeatures/MLPActivation/invalidity``); `nil` otherwise.
    static func read(_ graph: ForwardGraph, root: Int) -> (activation: ArchitectureFeatures.MLPActivation, line: Int)? {
        var reachable = Set<Int>()
        var stack = [root]
        while let id = stack.popLast() {
            if reachable.insert(id).inserted { stack += graph[id].inputs }
        }
        return readPower(graph, reachable) ?? readSwiGLU(graph, reachable)
    }

    /// `relu` or `leaky_relu(slope)` of `linear(·, blocks.0.mlp.fc.weight)` to a constant power.
    private static func readPower(_ graph: ForwardGraph, _ reachable: Set<Int>)
        -> (activation: ArchitectureFeatures.MLPActivation, line: Int)? {
        func consumers(_ id: Int) -> [Int] { reachable.filter { graph[$0].inputs.contains(id) }.sorted() }
        guard let weight = reachable.first(where: {
                  graph[$0].op == "param" && graph[$0].attribute("name") == .text("blocks.0.mlp.fc.weight")
              }),
              case let ups = consumers(weight).filter({ graph[$0].op == "linear" }), ups.count == 1,
              case let activations = consumers(ups[0]), activations.count == 1
        else { return nil }
        let activation = activations[0]
        var exponent = 1.0
        let after = consumers(activation)
        if after.count == 1, graph[after[0]].op == "pow", case .real(let e)? = graph[after[0]].attribute("exponent") {
            exponent = e
        }
        let read: ArchitectureFeatures.MLPActivation
        switch graph[activation].op {
        case "relu": read = exponent == 2 ? .reluSquared : .reluPower(exponent: exponent)
        case "leaky_relu":
            guard exponent == 2, case .real(let slope)? = graph[activation].attribute("negative_slope") else { return nil }
            read = .leakyReluSquared(slope: slope)
        default: return nil
        }
        guard read.invalidity == nil else { return nil }
        return (read, graph[activation].origin?.line ?? 0)
    }

    /// SwiGLU: a product of exactly two factors, each reaching a projection of the same input in the
    /// first block's MLP (`linear(x, blocks.0.mlp.G.weight)`, `linear(x, blocks.0.mlp.U.weight)`, G ≠ U)
    /// through at most three one-input operations; the gate G is the factor that applies `silu` (or,
    /// when neither does, the one that is not the bare projection). The projections' names are the
    /// code's, the down projection's too (the first block's MLP weight that projects the product). The
    /// two factors may also be the two halves of one projection's outputs (`chunk(2, dim=-1)`, or slices
    /// `[:h]` and `[h:]` of 2h outputs): the fused form, whose gated half is the code's. Only a
    /// candidate: `silu(gate(x)) · up(x)` is what the description built for it computes, so another gate
    /// activation, a scale, a power of either factor is refused there, at its own line.
    private static func readSwiGLU(_ graph: ForwardGraph, _ reachable: Set<Int>)
        -> (activation: ArchitectureFeatures.MLPActivation, line: Int)? {
        let prefix = "blocks.0.mlp."
        /// The module name `X` and input when `id` is `linear(input, blocks.0.mlp.X.weight)` (`outputs`
        /// nil), or a slice of its outputs (`outputs`: the slice's range, as `chunk` cuts them).
        func projection(_ id: Int) -> (module: String, input: Int, outputs: Range<Int>?)? {
            let node = graph[id]
            if node.op == "slice", case .int(let start)? = node.attribute("start"), case .int(let end)? = node.attribute("end"),
               start < end, let whole = projection(node.inputs[0]), whole.outputs == nil {
                return (whole.module, whole.input, start..<end)
            }
            guard node.op == "linear", node.inputs.count == 2, graph[node.inputs[1]].op == "param",
                  case .text(let name)? = graph[node.inputs[1]].attribute("name"), name.hasPrefix(prefix), name.hasSuffix(".weight")
            else { return nil }
            let module = String(name.dropFirst(prefix.count).dropLast(".weight".count))
            return module.contains(".") ? nil : (module, node.inputs[0], nil)
        }
        typealias Factor = (module: String, input: Int, outputs: Range<Int>?, ops: [String])
        /// The projection a factor reaches through one-input operations, and those operations.
        func chain(_ id: Int) -> Factor? {
            var ops: [String] = []
            var current = id
            while projection(current) == nil {
                guard ops.count < 3, graph[current].inputs.count == 1 else { return nil }
                ops.append(graph[current].op)
                current = graph[current].inputs[0]
            }
            return projection(current).map { ($0.module, $0.input, $0.outputs, ops) }
        }
        /// The module `D` of the one `linear(product, blocks.0.mlp.D.weight)` that reads the product: the
        /// down projection by the code's name (`proj`, `down`, `w2`, …); nil when there is not exactly one.
        func downProjection(of product: Int) -> String? {
            let downs = reachable.filter { graph[$0].op == "linear" && graph[$0].inputs.first == product }
                .compactMap { projection($0)?.module }
            return downs.count == 1 ? downs[0] : nil
        }
        /// `[0, h)` and `[h, 2h)` in either order.
        func areHalves(_ x: Range<Int>, _ y: Range<Int>) -> Bool {
            let (low, high) = x.lowerBound <= y.lowerBound ? (x, y) : (y, x)
            return low.lowerBound == 0 && high.lowerBound == low.upperBound && high.count == low.count
        }
        for product in reachable.sorted() where graph[product].op == "prod" && graph[product].inputs.count == 2 {
            guard let a = chain(graph[product].inputs[0]), let b = chain(graph[product].inputs[1]), a.input == b.input else { continue }
            // Two projections, or the two halves of one projection's outputs ([0, h) and [h, 2h)).
            switch (a.outputs, b.outputs) {
            case (nil, nil) where a.module != b.module: break
            case let (x?, y?) where a.module == b.module && areHalves(x, y): break
            default: continue
            }
            let gated: (gate: Factor, up: Factor)
            switch (a.ops.contains("silu"), b.ops.contains("silu"), a.ops.isEmpty, b.ops.isEmpty) {
            case (true, false, _, _), (false, false, false, true): gated = (a, b)
            case (false, true, _, _), (false, false, true, false): gated = (b, a)
            default: continue
            }
            let down = downProjection(of: product) ?? "proj"
            let read: ArchitectureFeatures.MLPActivation = gated.gate.outputs.map {
                .fusedSwiGLU(fused: gated.gate.module, gateFirst: $0.lowerBound == 0, down: down)
            } ?? .swiGLU(gate: gated.gate.module, up: gated.up.module, down: down)
            guard read.invalidity == nil else { return nil }
            return (read, graph[product].origin?.line ?? 0)
        }
        return nil
    }
}
