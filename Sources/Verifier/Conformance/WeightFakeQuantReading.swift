import Foundation
import Reference

/// Reads, from a forward's graph, the per-row fake quantization its projections apply to their weights
/// at evaluation (``WeightFakeQuantization``): the projection's weight is computed from one parameter
/// through `round`, a `clamp` of the rounded values, and a scale made of that parameter's per-row `amax`
/// of `abs`. Only the numbers (divisor, floor and where it sits, clamp bounds) and the weights are read
/// here; the reference is then described with them and compared with the code like every other part, so
/// a form that computes anything else (another rounding, a per-tensor scale, a clamp before rounding) is
/// refused at the line where it differs.
enum WeightFakeQuantReading {
    struct Read {
        var quantization: WeightFakeQuantization
        /// The line of the first rounding read.
        var line: Int
    }

    /// What a refusal at `line` adds when the line computes a projection's weight from a parameter with a
    /// rounding (a fake quantization not read, or read but computing something else): the form pgverify reads.
    static func hint(_ g: ForwardGraph, root: Int, line: Int) -> String? {
        guard line > 0 else { return nil }
        var reachable: Set<Int> = [], stack = [root]
        while let id = stack.popLast() {
            if reachable.insert(id).inserted { stack += g[id].inputs }
        }
        for id in reachable where ["linear", "embedding"].contains(g[id].op) {
            let weight = g[id].inputs[g[id].op == "linear" ? 1 : 0]
            var parts: [Int] = [], seen: Set<Int> = [], queue = [weight]
            while let next = queue.popLast(), seen.count < 512 {
                guard seen.insert(next).inserted, g[next].op != "param" else { continue }
                parts.append(next)
                queue += g[next].inputs
            }
            if parts.contains(where: { g[$0].op == "round" }), parts.contains(where: { g[$0].origin?.line == line }) {
                return "this line is part of a weight's fake quantization, which pgverify evaluates only as "
                    + "clamp(round(w / s), lower, upper) · s per row, s = the row's amax(abs(w)) / divisor (a floor on it or on the row max allowed)"
            }
        }
        return nil
    }

    static func read(_ g: ForwardGraph, root: Int) -> Read? {
        var reachable: Set<Int> = []
        var stack = [root]
        while let id = stack.popLast() {
            if reachable.insert(id).inserted { stack += g[id].inputs }
        }
        var parameters: Set<String> = []
        var numbers: (divisor: Double, floor: Double?, floorsRowMax: Bool, lower: Double, upper: Double)?
        var line = Int.max
        for id in reachable.sorted() where ["linear", "embedding"].contains(g[id].op) {
            let weight = g[id].inputs[g[id].op == "linear" ? 1 : 0]
            guard g[weight].op != "param", let (name, read, at) = quantization(of: weight, g) else { continue }
            // One function for every weight: the reference applies one.
            if let numbers, numbers != read { return nil }
            numbers = read
            parameters.insert(name)
            line = min(line, at)
        }
        guard let numbers else { return nil }
        return Read(quantization: WeightFakeQuantization(parameters: Array(parameters), divisor: numbers.divisor, floor: numbers.floor,
                                                         floorsRowMax: numbers.floorsRowMax, lower: numbers.lower, upper: numbers.upper),
                    line: line == .max ? 0 : line)
    }

    /// The parameter and numbers of a weight computed as `clamp(round(p / s); lower, upper) · s`, read
    /// from the nodes its graph holds; nil when it holds no such parts.
    private static func quantization(of weight: Int, _ g: ForwardGraph)
        -> (String, (divisor: Double, floor: Double?, floorsRowMax: Bool, lower: Double, upper: Double), Int)? {
        var nodes: [Int] = []
        var seen: Set<Int> = []
        var stack = [weight]
        while let id = stack.popLast(), seen.count < 512 {
            guard seen.insert(id).inserted else { continue }
            nodes.append(id)
            stack += g[id].inputs
        }
        let rounds = nodes.filter { g[$0].op == "round" }
        let rowMaxima = nodes.filter { g[$0].op == "amax" }
        let parameters = Set(nodes.filter { g[$0].op == "param" })
        guard rounds.count == 1, rowMaxima.count == 1, parameters.count == 1, let parameter = parameters.first,
              case .text(let name)? = g[parameter].attribute("name") else { return nil }
        let round = rounds[0], rowMax = rowMaxima[0]
        // The rounded values' clamp: the one clamp with both bounds over the rounding.
        guard let bounds = nodes.first(where: { g[$0].op == "clamp" && g[$0].inputs == [round] }),
              case .real(let lower)? = g[bounds].attribute("min"), case .real(let upper)? = g[bounds].attribute("max") else { return nil }
        // A floor: a clamp with only a lower bound over the row maximum or over the row maximum scaled.
        let floorNode = nodes.first { id in
            guard g[id].op == "clamp", g[id].attribute("max") == nil, let input = g[id].inputs.first else { return false }
            return input == rowMax || (g[input].op == "scale" && g[input].inputs == [rowMax])
        }
        func coefficient(_ id: Int) -> Double? {
            guard g[id].op == "scale", case .real(let c)? = g[id].attribute("by"), c != 0 else { return nil }
            return c
        }
        var floor: Double?, floorsRowMax = false, divisor: Double?
        if let floorNode, case .real(let value)? = g[floorNode].attribute("min") {
            floor = value
            let input = g[floorNode].inputs[0]
            if input == rowMax {
                floorsRowMax = true
                divisor = coefficient(g[round].inputs[0])
            } else {
                divisor = coefficient(input).map { 1 / $0 }
            }
        } else {
            divisor = coefficient(g[round].inputs[0])
        }
        guard let divisor, divisor > 0 else { return nil }
        return (name, (divisor, floor, floorsRowMax, lower, upper), g[round].origin?.line ?? 0)
    }
}
