import Foundation
import Reference

/// Learned vectors a weight-shared forward applies around each application of a shared block, read from
/// its ``ForwardGraph`` by what it computes: a `[model_dim]` row of a tensor the reference does not
/// otherwise read (`self.loop_embed[r]`, `self.loop_scales[r, b]`) added to the block's input, multiplying
/// its output or added to it. The tensor's name is its state-dict name as the code reads it. What is
/// read is a candidate (``ArchitectureFeatures/ScheduleVectors``): the whole forward is then compared with
/// the description built with it, so a vector used anywhere else, or in another way, is refused there.
enum ScheduleVectorReading {
    /// The vectors of each of the `depth` block applications, or nil where the forward reads none (or
    /// they cannot be placed: the comparison then refuses what they do).
    static func read(_ graph: ForwardGraph, root: Int, depth: Int, modelDim: Int, referenceParameters: Set<String>,
                     parameterShapes: [String: [Int]]) -> [ArchitectureFeatures.ScheduleVectors]? {
        var reachable = Set<Int>()
        var stack = [root]
        while let id = stack.popLast() {
            if reachable.insert(id).inserted { stack += graph[id].inputs }
        }
        var consumers: [Int: [Int]] = [:]
        for id in reachable.sorted() {
            for input in Set(graph[id].inputs) { consumers[input, default: []].append(id) }
        }

        // Rows of tensors the reference does not read, down to one [model_dim] vector.
        var vectors: [(node: Int, vector: ArchitectureFeatures.LearnedVector)] = []
        for id in reachable.sorted() where graph[id].op == "param" {
            guard case .text(let name)? = graph[id].attribute("name"), !referenceParameters.contains(name),
                  let shape = parameterShapes[name], shape.last == modelDim, shape.count <= 4 else { continue }
            func walk(_ node: Int, _ index: [Int]) {
                if index.count == shape.count - 1 {
                    vectors.append((node, .init(tensor: name, shape: shape, index: index)))
                    return
                }
                for row in consumers[node] ?? [] where graph[row].op == "row" {
                    guard case .int(let i)? = graph[row].attribute("index"), (0..<shape[index.count]).contains(i) else { continue }
                    walk(row, index + [i])
                }
            }
            walk(id, [])
        }
        guard !vectors.isEmpty else { return nil }

        // Each block application's scaled MLP output (`mlp_scale · mlp(·)`, created in the order they run)
        // and the stream it first ends in: the application's output.
        let mlpTerms = (0..<graph.nodes.count).filter { id in
            graph[id].op == "prod" && graph[id].inputs.contains { input in
                guard graph[input].op == "param", case .text(let name)? = graph[input].attribute("name") else { return false }
                return name.hasPrefix("blocks.") && name.hasSuffix(".mlp_scale")
            }
        }
        guard mlpTerms.count == depth else { return nil }
        // One pass over the graph: the first sum each term enters (nodes are numbered in the order they are built).
        let termSet = Set(mlpTerms)
        var firstSum: [Int: Int] = [:]
        for id in 0..<graph.nodes.count where graph[id].op == "sum" {
            for input in graph[id].inputs where termSet.contains(input) && firstSum[input] == nil { firstSum[input] = id }
        }
        var outputs: [Int] = []
        for term in mlpTerms {
            guard let output = firstSum[term] else { return nil }
            outputs.append(output)
        }
        // Streams the U-Net skips read back (what multiplies a row of skip_weights).
        var saved = Set<Int>()
        for id in reachable where graph[id].op == "prod" {
            let inputs = graph[id].inputs
            let isSkipWeight: (Int) -> Bool = { input in
                guard graph[input].op == "row", case .text(let name)? = graph[graph[input].inputs[0]].attribute("name") else { return false }
                return graph[graph[input].inputs[0]].op == "param" && name == "skip_weights"
            }
            if inputs.contains(where: isSkipWeight) { saved.formUnion(inputs.filter { !isSkipWeight($0) }) }
        }

        var positions = Array(repeating: ArchitectureFeatures.ScheduleVectors(), count: depth)
        func place(_ slot: WritableKeyPath<ArchitectureFeatures.ScheduleVectors, ArchitectureFeatures.LearnedVector?>,
                   _ position: Int, _ vector: ArchitectureFeatures.LearnedVector) -> Bool {
            guard positions[position][keyPath: slot] == nil || positions[position][keyPath: slot] == vector else { return false }
            positions[position][keyPath: slot] = vector
            return true
        }
        for (node, vector) in vectors {
            // A sum that adds more terms to an earlier sum with this vector (`x + v`, then `+ skip`) is the same
            // addition, flattened: only the smallest sums place the vector.
            let sums = (consumers[node] ?? []).filter { graph[$0].op == "sum" }
            let placements = (consumers[node] ?? []).filter { consumer in
                graph[consumer].op != "sum" || !sums.contains { $0 != consumer && isSubmultiset(graph[$0].inputs, of: graph[consumer].inputs) }
            }
            for consumer in placements {
                let others = graph[consumer].inputs.filter { $0 != node }
                switch graph[consumer].op {
                case "prod":
                    // `block(x) · v`: the other factor is an application's output.
                    guard others.count == 1, let position = outputs.firstIndex(of: others[0]),
                          place(\.outputScale, position, vector) else { return nil }
                case "sum":
                    // The last application whose output (or scaled output) is a term of this sum: the vector follows
                    // it, as its output shift where the skip saves it or nothing follows, else as the next one's input.
                    let follows = (0..<depth).last { p in
                        others.contains(mlpTerms[p])
                            || others.contains { graph[$0].op == "prod" && graph[$0].inputs.contains(outputs[p]) }
                    }
                    let placed: Bool
                    if let q = follows {
                        placed = q == depth - 1 || saved.contains(consumer)
                            ? place(\.outputShift, q, vector) : place(\.inputShift, q + 1, vector)
                    } else {
                        placed = place(\.inputShift, 0, vector)
                    }
                    guard placed else { return nil }
                default:
                    return nil
                }
            }
        }
        return positions
    }

    /// Whether every item of `small` is in `large`, counted with multiplicity, and `large` has more.
    private static func isSubmultiset(_ small: [Int], of large: [Int]) -> Bool {
        guard small.count < large.count else { return false }
        var counts: [Int: Int] = [:]
        for item in large { counts[item, default: 0] += 1 }
        for item in small {
            guard let n = counts[item], n > 0 else { return false }
            counts[item] = n - 1
        }
        return true
    }
}
