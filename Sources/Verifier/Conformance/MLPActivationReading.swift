import Reference

/// The MLP activation a submission's forward computes, read from its ``ForwardGraph``: the reference
/// takes the activation as a parameter (``ArchitectureFeatures/MLPActivation``), so the code decides
/// it, and the whole forward is then compared with the reference's description for it. What is read
/// here is only a candidate: a forward that computes anything else, or another activation in a later
/// block, still differs from the description and is refused.
enum MLPActivationReading {
    /// The activation applied to the first block's up projection (`linear(·, blocks.0.mlp.fc.weight)`):
    /// `relu` or `leaky_relu(slope)` raised to a constant power (1 when no power follows), if the
    /// reference computes that form (``ArchitectureFeatures/MLPActivation/invalidity``); `nil` otherwise.
    static func read(_ graph: ForwardGraph, root: Int) -> (activation: ArchitectureFeatures.MLPActivation, line: Int)? {
        var reachable = Set<Int>()
        var stack = [root]
        while let id = stack.popLast() {
            if reachable.insert(id).inserted { stack += graph[id].inputs }
        }
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
}
