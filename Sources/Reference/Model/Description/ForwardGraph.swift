import Foundation

/// An attribute of a ``ForwardGraph`` operation: an axis, an epsilon, a constant vector, a symbolic size.
public enum ForwardAttribute: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case real(Double)
    case text(String)
    case reals([Double])
    case flag(Bool)

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .real(let value): return Self.format(value)
        case .text(let value): return value
        case .flag(let value): return value ? "True" : "False"
        case .reals(let values):
            let shown = values.prefix(4).map(Self.format).joined(separator: ", ")
            return "[" + shown + (values.count > 4 ? ", … (\(values.count) values)" : "") + "]"
        }
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), value.magnitude < 1e15 { return String(Int(value)) + ".0" }
        return String(value)
    }

    /// Equal up to float rounding: numbers folded in float64 from the code and float32 in the
    /// reference differ in their last bits, which changes no evaluated number.
    func matches(_ other: ForwardAttribute) -> Bool {
        switch (self, other) {
        case let (.real(a), .real(b)): return Self.close(a, b)
        case let (.reals(a), .reals(b)): return a.count == b.count && zip(a, b).allSatisfy { Self.close($0, $1) }
        default: return self == other
        }
    }

    static func close(_ a: Double, _ b: Double) -> Bool {
        if a == b { return true }
        guard a.isFinite, b.isFinite else { return false }
        return abs(a - b) <= 1e-6 * max(abs(a), abs(b))
    }
}

/// Where a node of a graph extracted from code came from.
public struct ForwardOrigin: Hashable, Sendable {
    public var line: Int
    /// The function whose body holds the expression (`MLP.forward`).
    public var function: String

    public init(line: Int, function: String) {
        self.line = line
        self.function = function
    }
}

/// A normalised description of a forward pass: a DAG of tensor operations whose leaves are the inputs,
/// the parameters (by state-dict name) and constants.
///
/// Both the reference model (its own description) and the Verifier (what a submission's code
/// computes) build graphs with the same builder, which puts arithmetic in one normal form:
/// `sum` of terms, each term `scale(c)` of a `prod` of factors, each factor a base or `pow(e)` of one;
/// `sum` and `prod` are unordered. So `x * x`, `x ** 2` and `x.square()`, or `a - b` and `-b + a`,
/// are the same node, and so are `x * sigmoid(x)` and `silu(x)`. Everything else is an operation named by what it computes (`relu`, `rms_norm`,
/// `attention`), compared by name, attributes and inputs.
public final class ForwardGraph: @unchecked Sendable {
    public struct Node: Sendable {
        public let op: String
        public let attributes: [(name: String, value: ForwardAttribute)]
        public let inputs: [Int]
        public internal(set) var origin: ForwardOrigin?

        public func attribute(_ name: String) -> ForwardAttribute? {
            attributes.first { $0.name == name }?.value
        }
    }

    private struct Key: Hashable {
        let op: String
        let attributes: [String]
        let values: [ForwardAttribute]
        let inputs: [Int]
    }

    public private(set) var nodes: [Node] = []
    private var interned: [Key: Int] = [:]
    /// Attached to every node created while set (the code line being read).
    public var currentOrigin: ForwardOrigin?

    /// Bounds the graph a hostile source can make pgverify build.
    public static let maxNodes = 500_000

    public init() {}

    public subscript(id: Int) -> Node { nodes[id] }

    /// Operations whose inputs are unordered.
    public static let commutative: Set<String> = ["sum", "prod"]

    /// The node for `op(inputs)` with `attributes`, shared with an identical one already built.
    public func node(_ op: String, _ inputs: [Int] = [], _ attributes: [(String, ForwardAttribute)] = []) -> Int {
        let sortedInputs = Self.commutative.contains(op) ? inputs.sorted() : inputs
        let sortedAttributes = attributes.sorted { $0.0 < $1.0 }
        let key = Key(op: op, attributes: sortedAttributes.map(\.0), values: sortedAttributes.map(\.1), inputs: sortedInputs)
        if let id = interned[key] { return id }
        precondition(nodes.count < Self.maxNodes, "forward graph over \(Self.maxNodes) nodes")
        nodes.append(Node(op: op, attributes: sortedAttributes.map { (name: $0.0, value: $0.1) },
                          inputs: sortedInputs, origin: currentOrigin))
        interned[key] = nodes.count - 1
        return nodes.count - 1
    }

    public var isFull: Bool { nodes.count >= Self.maxNodes - 64 }

    // MARK: Leaves

    public func input(_ name: String) -> Int { node("input", [], [("name", .text(name))]) }
    public func parameter(_ name: String) -> Int { node("param", [], [("name", .text(name))]) }
    public func constant(_ value: Double) -> Int { node("const", [], [("value", .real(value))]) }
    public func constantVector(_ values: [Double]) -> Int { node("const_vector", [], [("values", .reals(values))]) }

    /// The value of a scalar constant node.
    public func constantValue(_ id: Int) -> Double? {
        guard nodes[id].op == "const", case .real(let value)? = nodes[id].attribute("value") else { return nil }
        return value
    }

    // MARK: Arithmetic in normal form

    public func add(_ a: Int, _ b: Int) -> Int {
        var terms: [(coefficient: Double, base: Int?)] = []
        for term in self.terms(a) + self.terms(b) {
            if let index = terms.firstIndex(where: { $0.base == term.base }) {
                terms[index].coefficient += term.coefficient
            } else {
                terms.append(term)
            }
        }
        let kept = terms.filter { $0.coefficient != 0 }
        if kept.isEmpty { return constant(0) }
        let built = kept.map { scaled($0.coefficient, $0.base) }
        return built.count == 1 ? built[0] : node("sum", built)
    }

    public func neg(_ a: Int) -> Int { scale(a, by: -1) }
    public func sub(_ a: Int, _ b: Int) -> Int { add(a, neg(b)) }

    public func scale(_ a: Int, by c: Double) -> Int {
        let terms = self.terms(a).map { (coefficient: $0.coefficient * c, base: $0.base) }.filter { $0.coefficient != 0 }
        if terms.isEmpty { return constant(0) }
        let built = terms.map { scaled($0.coefficient, $0.base) }
        return built.count == 1 ? built[0] : node("sum", built)
    }

    public func mul(_ a: Int, _ b: Int) -> Int {
        if let c = constantValue(a) { return scale(b, by: c) }
        if let c = constantValue(b) { return scale(a, by: c) }
        let (ca, fa) = factors(a), (cb, fb) = factors(b)
        return product(ca * cb, fa + fb)
    }

    public func div(_ a: Int, _ b: Int) -> Int {
        if let c = constantValue(b) { return scale(a, by: 1 / c) }
        return mul(a, pow(b, -1))
    }

    public func pow(_ a: Int, _ exponent: Double) -> Int {
        if let c = constantValue(a) { return constant(Foundation.pow(c, exponent)) }
        if exponent == 1 { return a }
        let (c, parts) = factors(a)
        return product(Foundation.pow(c, exponent), parts.map { ($0.base, $0.exponent * exponent) })
    }

    private func terms(_ id: Int) -> [(coefficient: Double, base: Int?)] {
        let n = nodes[id]
        switch n.op {
        case "const": return [(constantValue(id) ?? 0, nil)]
        case "sum": return n.inputs.flatMap { terms($0) }
        case "scale":
            guard case .real(let c)? = n.attribute("by") else { return [(1, id)] }
            return [(c, n.inputs[0])]
        default: return [(1, id)]
        }
    }

    private func scaled(_ c: Double, _ base: Int?) -> Int {
        guard let base else { return constant(c) }
        return c == 1 ? base : node("scale", [base], [("by", .real(c))])
    }

    private func factors(_ id: Int) -> (Double, [(base: Int, exponent: Double)]) {
        let n = nodes[id]
        switch n.op {
        case "const": return (constantValue(id) ?? 0, [])
        case "scale":
            guard case .real(let c)? = n.attribute("by") else { return (1, [(id, 1)]) }
            let (inner, parts) = factors(n.inputs[0])
            return (c * inner, parts)
        case "prod": return (1, n.inputs.flatMap { factors($0).1 })
        case "pow":
            guard case .real(let e)? = n.attribute("exponent") else { return (1, [(id, 1)]) }
            return (1, [(n.inputs[0], e)])
        default: return (1, [(id, 1)])
        }
    }

    private func product(_ c: Double, _ parts: [(base: Int, exponent: Double)]) -> Int {
        var merged: [(base: Int, exponent: Double)] = []
        for part in parts {
            if let index = merged.firstIndex(where: { $0.base == part.base }) {
                merged[index].exponent += part.exponent
            } else {
                merged.append(part)
            }
        }
        // x · sigmoid(x) is silu(x) (F.silu written out): one node, as the reference describes it. Only
        // both to the power 1: x² · sigmoid(x) or x · sigmoid(x)² stay products.
        for base in merged.map(\.base) where nodes[base].op == "sigmoid" && nodes[base].attributes.isEmpty {
            let x = nodes[base].inputs[0]
            guard let gate = merged.firstIndex(where: { $0.base == base && $0.exponent == 1 }),
                  let input = merged.firstIndex(where: { $0.base == x && $0.exponent == 1 }) else { continue }
            merged.remove(at: max(gate, input))
            merged.remove(at: min(gate, input))
            let silu = node("silu", [x])
            if let index = merged.firstIndex(where: { $0.base == silu }) {
                merged[index].exponent += 1
            } else {
                merged.append((silu, 1))
            }
        }
        let kept = merged.filter { $0.exponent != 0 }
        let built = kept.map { $0.exponent == 1 ? $0.base : node("pow", [$0.base], [("exponent", .real($0.exponent))]) }
        let body: Int
        switch built.count {
        case 0: return constant(c)
        case 1: body = built[0]
        default: body = node("prod", built)
        }
        return scale(body, by: c)
    }

    // MARK: Layout in normal form

    /// `x[..., start:end]` on the last axis; a slice of a slice is one slice of the original.
    public func slice(_ x: Int, start: Int, end: Int) -> Int {
        if nodes[x].op == "slice", case .int(let outer)? = nodes[x].attribute("start") {
            return node("slice", [nodes[x].inputs[0]], [("start", .int(outer + start)), ("end", .int(outer + end))])
        }
        return node("slice", [x], [("start", .int(start)), ("end", .int(end))])
    }

    /// Concatenation on the last axis; a concatenation inside one is flattened into it.
    public func cat(_ parts: [Int]) -> Int {
        let flat = parts.flatMap { nodes[$0].op == "cat" ? nodes[$0].inputs : [$0] }
        return flat.count == 1 ? flat[0] : node("cat", flat)
    }

    /// `x[:, start:end]` on the token axis; `end` nil runs to the end (`T`), negative counts from it.
    public func timeSlice(_ x: Int, start: Int, end: Int?) -> Int {
        node("time_slice", [x], [("start", .int(start)), ("end", end.map { .int($0) } ?? .text("T"))])
    }

    // MARK: Description

    /// `relu`, `rms_norm(eps=1.1920928955078125e-07)`, `param tok_emb.weight`.
    public func describe(_ id: Int) -> String {
        let n = nodes[id]
        switch n.op {
        case "param": return "parameter \(n.attribute("name")?.description ?? "?")"
        case "input": return "input \(n.attribute("name")?.description ?? "?")"
        case "const": return "constant \(n.attribute("value")?.description ?? "?")"
        case "const_vector": return "constant vector \(n.attribute("values")?.description ?? "?")"
        case "scale": return "multiplication by \(n.attribute("by")?.description ?? "?")"
        case "pow": return "power \(n.attribute("exponent")?.description ?? "?")"
        case "sum": return "sum of \(n.inputs.count) terms"
        case "prod": return "product of \(n.inputs.count) factors"
        default:
            if n.attributes.isEmpty { return n.op }
            return n.op + "(" + n.attributes.map { "\($0.name)=\($0.value)" }.joined(separator: ", ") + ")"
        }
    }
}

/// Compares a graph extracted from code with a reference graph.
public struct ForwardGraphComparison {
    public let code: ForwardGraph
    public let reference: ForwardGraph
    private var memo: [Int64: Bool] = [:]

    public init(code: ForwardGraph, reference: ForwardGraph) {
        self.code = code
        self.reference = reference
    }

    /// Whether code node `c` computes what reference node `r` does.
    public mutating func equal(_ c: Int, _ r: Int) -> Bool {
        let key = Int64(c) << 32 | Int64(r)
        if let known = memo[key] { return known }
        let result = compute(c, r)
        memo[key] = result
        return result
    }

    private mutating func compute(_ c: Int, _ r: Int) -> Bool {
        let a = code[c], b = reference[r]
        guard sameOperation(a, b), a.inputs.count == b.inputs.count else { return false }
        if ForwardGraph.commutative.contains(a.op) { return matching(a.inputs, b.inputs).unmatchedCode.isEmpty }
        for (x, y) in zip(a.inputs, b.inputs) where !equal(x, y) { return false }
        return true
    }

    private func sameOperation(_ a: ForwardGraph.Node, _ b: ForwardGraph.Node) -> Bool {
        guard a.op == b.op, a.attributes.count == b.attributes.count else { return false }
        return zip(a.attributes, b.attributes).allSatisfy { $0.name == $1.name && $0.value.matches($1.value) }
    }

    /// Pairs equal inputs of two unordered nodes; what is left on each side.
    private mutating func matching(_ codeInputs: [Int], _ referenceInputs: [Int]) -> (unmatchedCode: [Int], unmatchedReference: [Int]) {
        var remaining = referenceInputs
        var unmatched: [Int] = []
        for x in codeInputs {
            if let index = remaining.firstIndex(where: { equal(x, $0) }) {
                remaining.remove(at: index)
            } else {
                unmatched.append(x)
            }
        }
        return (unmatched, remaining)
    }

    /// The first place, walking down from `c` and `r`, where the code computes something else than
    /// the reference: the deepest pair of nodes that differ in their own operation.
    public mutating func firstDifference(_ c: Int, _ r: Int) -> (code: Int, reference: Int)? {
        var pair = (c, r)
        var steps = 0
        while !equal(pair.0, pair.1), steps < 100_000 {
            steps += 1
            let a = code[pair.0], b = reference[pair.1]
            guard sameOperation(a, b), a.inputs.count == b.inputs.count || ForwardGraph.commutative.contains(a.op) else {
                return pair
            }
            if ForwardGraph.commutative.contains(a.op) {
                let (left, right) = matching(a.inputs, b.inputs)
                guard left.count == 1, right.count == 1 else { return pair }
                pair = (left[0], right[0])
                continue
            }
            guard let index = a.inputs.indices.first(where: { !equal(a.inputs[$0], b.inputs[$0]) }) else { return pair }
            pair = (a.inputs[index], b.inputs[index])
        }
        return equal(pair.0, pair.1) ? nil : pair
    }
}
