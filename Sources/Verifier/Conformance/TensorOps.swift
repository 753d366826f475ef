import Foundation
import Reference

/// Tensor arithmetic, layout and indexing while reading model code, in the vocabulary of ``ForwardGraph``.
enum TensorOps {
    typealias Interpreter = ForwardInterpreter

    static func sizes(_ id: Int, _ shape: [SymbolicDim]?) -> [SymbolicValue] {
        guard let shape else { return [] }
        return shape.map { dim in
            switch dim {
            case .n(let n): return .int(n)
            case .sym(let name): return .dim(name)
            }
        }
    }

    static func dimension(_ value: SymbolicValue) -> SymbolicDim? {
        switch value {
        case .int(let n): return .n(n)
        case .dim(let name): return .sym(name)
        default: return nil
        }
    }

    /// The node of a tensor or a number (as a constant).
    static func node(_ value: SymbolicValue, _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame)
        throws(ConformanceFailure) -> (Int, [SymbolicDim]?)
    {
        switch value {
        case .tensor(let id, let shape): return (id, shape)
        case .int(let n): return (interpreter.graph.constant(Double(n)), [])
        case .real(let x): return (interpreter.graph.constant(x), [])
        case .bool(let flag): return (interpreter.graph.constant(flag ? 1 : 0), [])
        default: throw interpreter.fail(site, frame, "uses a \(value.kind) as a tensor")
        }
    }

    /// Broadcast shape (trailing axes aligned); nil when either is unknown.
    static func broadcast(_ a: [SymbolicDim]?, _ b: [SymbolicDim]?) -> [SymbolicDim]? {
        guard let a, let b else { return nil }
        let rank = max(a.count, b.count)
        return (0..<rank).map { i -> SymbolicDim in
            let x = i < rank - a.count ? nil : a[i - (rank - a.count)]
            let y = i < rank - b.count ? nil : b[i - (rank - b.count)]
            if let x, x != .n(1) { return x }
            return y ?? x ?? .n(1)
        }
    }

    /// Constant values of a node: a scalar or a folded vector.
    static func constants(_ id: Int, _ graph: ForwardGraph) -> [Double]? {
        if let value = graph.constantValue(id) { return [value] }
        if graph[id].op == "const_vector", case .reals(let values)? = graph[id].attribute("values") { return values }
        return nil
    }

    static func fold(_ a: [Double], _ b: [Double], _ f: (Double, Double) -> Double) -> [Double]? {
        if a.count == b.count { return zip(a, b).map(f) }
        if a.count == 1 { return b.map { f(a[0], $0) } }
        if b.count == 1 { return a.map { f($0, b[0]) } }
        return nil
    }

    static func binary(_ op: String, _ a: SymbolicValue, _ b: SymbolicValue, _ interpreter: Interpreter,
                       at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue
    {
        let g = interpreter.graph
        let (x, xs) = try node(a, interpreter, at: site, frame)
        let (y, ys) = try node(b, interpreter, at: site, frame)
        try requireRowsAligned(x, xs, y, ys, interpreter, at: site, frame)
        let shape = broadcast(xs, ys)
        if let cx = constants(x, g), let cy = constants(y, g), cx.count > 1 || cy.count > 1 {
            let f: ((Double, Double) -> Double)?
            switch op {
            case "Add": f = { $0 + $1 }
            case "Sub": f = { $0 - $1 }
            case "Mult": f = { $0 * $1 }
            case "Div": f = { $0 / $1 }
            case "Pow": f = { Foundation.pow($0, $1) }
            default: f = nil
            }
            if let f, let values = fold(cx, cy, f) { return .tensor(g.constantVector(values), [.n(values.count)]) }
        }
        switch op {
        case "Add": return .tensor(g.add(x, y), shape)
        case "Sub": return .tensor(g.sub(x, y), shape)
        case "Mult": return .tensor(g.mul(x, y), shape)
        case "Div": return .tensor(g.div(x, y), shape)
        case "Pow":
            guard let exponent = g.constantValue(y) else {
                throw interpreter.fail(site, frame, "raises a tensor to a non-constant power")
            }
            return .tensor(g.pow(x, exponent), xs)
        case "MatMult":
            return try matmul(a, b, interpreter, at: site, frame)
        default:
            throw interpreter.fail(site, frame, "\(op) of tensors")
        }
    }

    /// A per-row reduction (`amax` over the last axis) broadcast against a tensor of higher rank must keep
    /// its axis (`keepdim=True`, `[:, None]`): without it torch aligns the rows with the last axis. The graph
    /// does not hold ranks, so such a use, or one whose shapes are not known, is refused here.
    static func requireRowsAligned(_ x: Int, _ xs: [SymbolicDim]?, _ y: Int, _ ys: [SymbolicDim]?, _ interpreter: Interpreter,
                                   at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) {
        let g = interpreter.graph
        func reducesRows(_ id: Int) -> Bool {
            var stack = [id], seen: Set<Int> = []
            while let next = stack.popLast(), seen.count < 256 {
                guard seen.insert(next).inserted else { continue }
                if g[next].op == "amax" { return true }
                // A weight's quantization is consumed by its projection: what the projection computes is not per-row.
                if ["param", "input", "linear", "matmul", "embedding"].contains(g[next].op) { continue }
                stack += g[next].inputs
            }
            return false
        }
        for (id, shape, other) in [(x, xs, ys), (y, ys, xs)] where reducesRows(id) {
            guard let shape, let other else {
                throw interpreter.fail(site, frame, "combines a per-row maximum with a tensor of unknown shape")
            }
            if shape.count < other.count && !shape.isEmpty {
                throw interpreter.fail(site, frame, "broadcasts a per-row maximum of rank \(shape.count) against a tensor of rank "
                    + "\(other.count) without keeping its axis (keepdim=True or [:, None]): torch aligns it with the last axis")
            }
        }
    }

    static func compare(_ op: String, _ a: SymbolicValue, _ b: SymbolicValue, _ interpreter: Interpreter,
                        at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        guard case .tensor(let id, let shape) = a, let value = Interpreter.number(b) else {
            throw interpreter.fail(site, frame, "compares a tensor with a \(b.kind)")
        }
        let name: String
        switch op {
        case "Eq": name = "eq"
        case "NotEq": name = "ne"
        default: throw interpreter.fail(site, frame, "a \(op) comparison of a tensor")
        }
        return .tensor(interpreter.graph.node(name, [id], [("value", .real(value))]), shape)
    }

    /// `[B, T, H, D]`: tokens on axis 1 (a size of the input), heads on axis 2 (a number).
    static func isTokenMajor(_ shape: [SymbolicDim]) -> Bool {
        guard shape.count >= 4, case .sym = shape[1], case .n = shape[2] else { return false }
        return true
    }

    /// A 4-D shape with heads on one of axes 1 and 2 and tokens on the other.
    static func isHeadLayout(_ shape: [SymbolicDim]) -> Bool {
        guard shape.count == 4 else { return false }
        switch (shape[1], shape[2]) {
        case (.sym, .n), (.n, .sym): return true
        default: return false
        }
    }

    static func normalizedAxis(_ axis: Int, rank: Int?) -> Int? {
        if axis >= 0 { return axis }
        guard let rank else { return nil }
        return rank + axis
    }

    static func transpose(_ value: SymbolicValue, _ first: Int, _ second: Int, _ interpreter: Interpreter,
                          at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        guard case .tensor(let id, let shape) = value,
              let a = normalizedAxis(first, rank: shape?.count), let b = normalizedAxis(second, rank: shape?.count) else {
            throw interpreter.fail(site, frame, "transposes axes of a tensor of unknown rank")
        }
        let (lo, hi) = (min(a, b), max(a, b))
        var newShape = shape
        if var s = newShape, hi < s.count { s.swapAt(lo, hi); newShape = s }
        let g = interpreter.graph
        // Heads and tokens swapped ([B, T, H, D] ↔ [B, H, T, D]): the values per head and token are the
        // same, only where the heads sit changes, which the shape records (attention reads it).
        if lo == 1, hi == 2, let shape, shape.count == 4, isHeadLayout(shape) || isHeadLayout(newShape!) {
            return .tensor(id, newShape)
        }
        return .tensor(g.node("transpose", [id], [("axes", .text("\(lo),\(hi)"))]), newShape)
    }

    /// `reshape`/`view`: the head split and merge, merging leading (token) axes, or an opaque reshape.
    static func reshape(_ value: SymbolicValue, _ arguments: [SymbolicValue], _ interpreter: Interpreter,
                        at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        guard case .tensor(let id, let shape) = value else { throw interpreter.fail(site, frame, "reshapes a \(value.kind)") }
        var targets = arguments
        if targets.count == 1, case .tuple(let items) = targets[0] { targets = items }
        if targets.count == 1, case .list(let list) = targets[0] { targets = list.items }
        let dims = targets.map(dimension)
        guard dims.allSatisfy({ $0 != nil }) else { throw interpreter.fail(site, frame, "reshapes to sizes pgverify cannot read") }
        let target = dims.map { $0! }
        let g = interpreter.graph
        let last = shape?.last
        // [B, T, H·D] → [B, T, H, D]
        if target.count == 4, let shape, shape.count == 3, case .n(let heads) = target[2] {
            var headDim: Int?
            if case .n(let d) = target[3], d > 0 { headDim = d }
            if target[3] == .n(-1), case .n(let c)? = last, heads > 0, c % heads == 0 { headDim = c / heads }
            if let headDim, last == .n(heads * headDim) || last == nil {
                return .tensor(g.node("split_heads", [id], [("heads", .int(heads)), ("head_dim", .int(headDim))]),
                               [shape[0], shape[1], .n(heads), .n(headDim)])
            }
        }
        // [B, T, H, D] → [B, T, H·D]
        if target.count == 3, let shape, shape.count == 4, isTokenMajor(shape), case .n(let heads) = shape[2],
           case .n(let d) = shape[3], target[2] == .n(heads * d) || target[2] == .n(-1) {
            return .tensor(g.node("merge_heads", [id]), [shape[0], shape[1], .n(heads * d)])
        }
        // [B, T, H, D] → [B, T, G, H/G, D]: heads grouped by the key/value head they share, and back.
        if target.count == 5, let shape, shape.count == 4, isTokenMajor(shape), case .n(let heads) = shape[2],
           case .n(let groups) = target[2], groups > 0, target[3] == .n(heads / groups), heads % groups == 0, target[4] == shape[3] {
            return .tensor(g.node("group_heads", [id], [("groups", .int(groups))]), [shape[0], shape[1], .n(groups), .n(heads / groups), shape[3]])
        }
        if target.count == 4, let shape, shape.count == 5, case .n(let groups) = shape[2], case .n(let each) = shape[3],
           target[2] == .n(groups * each), target[3] == shape[4] {
            return .tensor(g.node("ungroup_heads", [id]), [shape[0], shape[1], .n(groups * each), shape[4]])
        }
        // transpose(1, 2) of [B, H, T, D], then [B, T, H·D]
        if target.count == 3, g[id].op == "transpose", g[id].attribute("axes") == .text("1,2"),
           let shape, shape.count == 4, case .n(let heads) = shape[2], case .n(let d) = shape[3],
           target[2] == .n(heads * d) || target[2] == .n(-1) {
            return .tensor(g.node("merge_heads", g[id].inputs), [shape[0], shape[1], .n(heads * d)])
        }
        // Leading axes merged into rows, the last axis kept: every operation compared acts per row.
        if let last, target.count >= 1, target.last == last || (target.last == .n(-1) && target.count == 1 && shape!.count == 1) {
            return .tensor(id, target.map { $0 == .n(-1) ? .sym("rows") : $0 })
        }
        if target == [.n(-1)], let shape, shape.count <= 2 { return .tensor(id, [.sym("rows")]) }
        return .tensor(g.node("reshape", [id], [("to", .text(target.map(\.text).joined(separator: ",")))]), target)
    }

    /// `t[...]`: broadcasting axes (`[None, None, :]`) change nothing compared; a row of a matrix
    /// (`mix[0]`); a slice of the last axis (`x[..., :half]`).
    static func index(_ value: SymbolicValue, _ index: SymbolicValue, _ interpreter: Interpreter,
                      at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        guard case .tensor(let id, let shape) = value else { throw interpreter.fail(site, frame, "indexes a \(value.kind)") }
        var entries: [SymbolicValue]
        if case .tuple(let items) = index { entries = items } else { entries = [index] }
        let g = interpreter.graph
        func isFull(_ entry: SymbolicValue) -> Bool {
            if case .slice(let a, let b, let c) = entry { return a.isNone && b.isNone && c.isNone }
            return false
        }
        // `t[:, :T]` where the axis holds T: the whole axis.
        if let shape, !entries.contains(where: { if case .ellipsis = $0 { return true }; return false }) {
            var axis = 0
            for (position, entry) in entries.enumerated() {
                if entry.isNone { continue }
                if case .slice(let a, let b, let c) = entry, a.isNone, c.isNone, axis < shape.count,
                   let upper = dimension(b), upper == shape[axis] {
                    entries[position] = .slice(.none, .none, .none)
                }
                axis += 1
            }
        }
        // A bank of per-layer matrices (`qo_bank[i]`): the matrix the code's own un-banking names.
        if entries.count == 1, case .int(let row) = entries[0], g[id].op == "param",
           case .text(let bank)? = g[id].attribute("name"), let names = interpreter.banks[bank] {
            guard let name = names[row] else {
                throw interpreter.fail(site, frame, "reads row \(row) of \(bank), which the code's un-banking does not name")
            }
            return .tensor(g.parameter(name), interpreter.parameterShapes[name].map { $0.map { .n($0) } })
        }
        // `t[i, j]`: a row of a row.
        if entries.count > 1, entries.allSatisfy({ if case .int = $0 { return true }; return false }) {
            var result = value
            for entry in entries { result = try TensorOps.index(result, entry, interpreter, at: site, frame) }
            return result
        }
        // `x[:, a:b]`, `x[:, a:b, :w]`: a slice of the token axis (and of the last).
        if let shape, shape.count >= 2, case .sym(let tokens) = shape[1], entries.count >= 2, isFull(entries[0]),
           case .slice(let lower, let upper, let step) = entries[1], step.isNone,
           entries.count == 2 || (entries.count == 3 && shape.count == 3) {
            func bound(_ v: SymbolicValue) -> Int?? {
                if v.isNone { return .some(nil) }
                if case .int(let n) = v { return .some(n) }
                return nil
            }
            guard let start = bound(lower), let end = bound(upper), (start ?? 0) >= 0 else {
                throw interpreter.fail(site, frame, "slices the token axis with bounds pgverify cannot read")
            }
            let from = start ?? 0
            let length: SymbolicDim
            switch end {
            case nil: length = from == 0 ? .sym(tokens) : .sym("\(tokens)-\(from)")
            case let e? where e < 0 && from == 0: length = .sym("\(tokens)-\(-e)")
            case let e? where e >= 0: length = .n(max(0, e - from))
            default: throw interpreter.fail(site, frame, "slices the token axis with bounds pgverify cannot read")
            }
            var sliced = SymbolicValue.tensor(from == 0 && end == nil ? id : g.timeSlice(id, start: from, end: end),
                                              [shape[0], length] + shape.dropFirst(2))
            if entries.count == 3 { sliced = try TensorOps.index(sliced, .tuple([.ellipsis, entries[2]]), interpreter, at: site, frame) }
            return sliced
        }
        // Broadcasting only.
        if entries.allSatisfy({ $0.isNone || isFull($0) || { if case .ellipsis = $0 { return true }; return false }($0) }) {
            var newShape: [SymbolicDim]? = nil
            // `g[..., None]`: new axes after every existing one.
            if let shape, case .ellipsis? = entries.first, entries.dropFirst().allSatisfy(\.isNone) {
                return .tensor(id, shape + Array(repeating: .n(1), count: entries.count - 1))
            }
            if let shape, !entries.contains(where: { if case .ellipsis = $0 { return true }; return false }) {
                var result: [SymbolicDim] = []
                var axis = 0
                for entry in entries {
                    if entry.isNone { result.append(.n(1)) } else if axis < shape.count { result.append(shape[axis]); axis += 1 }
                }
                result += shape[min(axis, shape.count)...]
                newShape = result
            }
            return .tensor(id, newShape)
        }
        // A row of the first axis.
        if case .int(let row) = entries[0], entries.dropFirst().allSatisfy({ $0.isNone || isFull($0) }) {
            let rest = shape.map { Array($0.dropFirst()) }
            var newShape: [SymbolicDim]? = rest
            if let rest, entries.count > 1 {
                var result: [SymbolicDim] = []
                var axis = 0
                for entry in entries.dropFirst() {
                    if entry.isNone { result.append(.n(1)) } else if axis < rest.count { result.append(rest[axis]); axis += 1 }
                }
                newShape = result + rest[min(axis, rest.count)...]
            }
            return .tensor(g.node("row", [id], [("index", .int(row))]), newShape)
        }
        // A slice of the last axis: `x[..., a:b]`, or every earlier axis full.
        if case .slice(let lower, let upper, let step) = entries.last!, step.isNone {
            let leading = entries.dropLast()
            let ellipsisFirst = leading.count == 1 && { if case .ellipsis = leading.first! { return true }; return false }()
            let allFull = shape.map { leading.count == $0.count - 1 } == true && leading.allSatisfy(isFull)
            if ellipsisFirst || allFull, let shape, case .n(let width)? = shape.last {
                func bound(_ v: SymbolicValue, _ fallback: Int) -> Int? {
                    if v.isNone { return fallback }
                    guard case .int(let n) = v else { return nil }
                    return max(0, min(width, n < 0 ? width + n : n))
                }
                if let start = bound(lower, 0), let end = bound(upper, width) {
                    if start == 0, end == width { return value }
                    return .tensor(g.slice(id, start: start, end: end),
                                   Array(shape.dropLast()) + [.n(max(0, end - start))])
                }
            }
        }
        throw interpreter.fail(site, frame, "indexes a tensor in a way pgverify does not compare (only broadcasting axes, "
            + "a row, or a slice of the last axis)")
    }

    static func matmul(_ a: SymbolicValue, _ b: SymbolicValue, _ interpreter: Interpreter,
                       at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        let g = interpreter.graph
        guard case .tensor(let x, let xs) = a, case .tensor(let y, let ys) = b else {
            throw interpreter.fail(site, frame, "a matrix product of a \(a.kind) and a \(b.kind)")
        }
        var shape: [SymbolicDim]?
        if let xs, let ys, xs.count >= 2, ys.count >= 2 { shape = Array(xs.dropLast()) + [ys.last!] }
        // Attention written out: softmax(masked(q·kᵀ·s)) · v, with the heads on axis 1 (else the
        // product mixes heads, not tokens).
        if let xs, xs.count == 4, case .n = xs[1], let attention = manualAttention(probabilities: x, values: y, g) {
            return .tensor(attention, shape)
        }
        return .tensor(g.node("matmul", [x, y]), shape)
    }

    /// `attention(q, k, v)` for `softmax(q @ k.transpose(-2, -1) * s [masked to the past]) @ v`.
    static func manualAttention(probabilities p: Int, values v: Int, _ g: ForwardGraph) -> Int? {
        guard g[p].op == "softmax", g[p].attribute("dim") == .int(-1) else { return nil }
        var scores = g[p].inputs[0]
        var causal = false
        if g[scores].op == "masked_fill", g[scores].attribute("value") == .real(-.infinity),
           isFutureMask(g[scores].inputs[1], g) {
            causal = true
            scores = g[scores].inputs[0]
        }
        var scale = 1.0
        if g[scores].op == "scale", case .real(let c)? = g[scores].attribute("by") {
            scale = c
            scores = g[scores].inputs[0]
        }
        guard g[scores].op == "matmul" else { return nil }
        let q = g[scores].inputs[0], kT = g[scores].inputs[1]
        guard g[kT].op == "transpose", g[kT].attribute("axes") == .text("2,3") else { return nil }
        return attention(q: q, k: g[kT].inputs[0], v: v, causal: causal, scale: scale, g)
    }

    /// A boolean `[T, T]` mask true above the diagonal (the future): `triu(ones(T, T), diagonal=1)`,
    /// `tril(ones(T, T)) == 0`, `~tril(ones(T, T))`.
    static func isFutureMask(_ id: Int, _ g: ForwardGraph) -> Bool {
        func ones(_ n: Int) -> Bool {
            guard g[n].op == "ones", case .text(let dims)? = g[n].attribute("shape") else { return false }
            let parts = dims.split(separator: ",")
            return parts.count == 2 && parts[0] == parts[1] && parts[0] == "T"
        }
        let n = g[id]
        switch n.op {
        case "triu": return n.attribute("diagonal") == .int(1) && ones(n.inputs[0])
        case "eq":
            let inner = g[n.inputs[0]]
            return n.attribute("value") == .real(0) && inner.op == "tril" && inner.attribute("diagonal") == .int(0) && ones(inner.inputs[0])
        case "logical_not":
            let inner = g[n.inputs[0]]
            return inner.op == "tril" && inner.attribute("diagonal") == .int(0) && ones(inner.inputs[0])
        default: return false
        }
    }

    /// Grouped-query heads: `repeat_interleave(k, g, dim=1)` is what the attention does with fewer
    /// key/value heads, so it is taken off.
    static func attention(q: Int, k: Int, v: Int, causal: Bool, scale: Double, _ g: ForwardGraph) -> Int {
        func shared(_ x: Int) -> Int {
            g[x].op == "repeat_interleave" && g[x].attribute("dim") == .int(1) ? g[x].inputs[0] : x
        }
        return g.node("attention", [q, shared(k), shared(v)], [("causal", .flag(causal)), ("scale", .real(scale))])
    }
}
