import Foundation

/// Weights a forward replaces, at evaluation, by their per-row fake quantization (late QAT left on): for
/// each row of `w`, with `m` the row's largest magnitude,
///
///     s = max(m / divisor, floor)          (floor on the scale)
///     s = max(m, floor) / divisor          (`floorsRowMax`: floor on the row maximum)
///     q = clamp(round(w / s), lower, upper) · s
///
/// in float32, `round` half to even (`torch.round`). A straight-through spelling (`w + (q − w).detach()`)
/// computes `q` in the forward. The model applies it to the named weights when it loads them.
public struct WeightFakeQuantization: Sendable, Equatable, Codable {
    /// State-dict names of the weights (matrices) replaced.
    public var parameters: [String]
    public var divisor: Double
    /// The lower bound of the scale (or of the row maximum); nil: none.
    public var floor: Double?
    public var floorsRowMax: Bool
    public var lower: Double
    public var upper: Double

    public init(parameters: [String], divisor: Double, floor: Double?, floorsRowMax: Bool, lower: Double, upper: Double) {
        self.parameters = parameters.sorted()
        self.divisor = divisor
        self.floor = floor
        self.floorsRowMax = floorsRowMax
        self.lower = lower
        self.upper = upper
    }

    /// Why these numbers describe no fake quantization the model computes, or nil.
    public var problem: String? {
        guard divisor.isFinite, divisor > 0, divisor <= 16_777_216 else { return "a scale divisor of \(divisor)" }
        if let floor, !(floor.isFinite && floor >= 0) { return "a scale floor of \(floor)" }
        guard lower.isFinite, upper.isFinite, lower < upper, lower == lower.rounded(), upper == upper.rounded(),
              lower.magnitude <= 16_777_216, upper.magnitude <= 16_777_216 else { return "a clamp range of [\(lower), \(upper)]" }
        guard !parameters.isEmpty else { return "no weights" }
        return nil
    }

    /// `[-qmax, qmax]` as `int8 (±127)`, else the range: for reports.
    public var summary: String {
        let bounds = lower == -upper ? "±\(Int(upper))" : "[\(Int(lower)), \(Int(upper))]"
        let floorText = floor.map { (floorsRowMax ? ", row max floored at " : ", scale floored at ") + ForwardAttribute.format($0) } ?? ""
        return "weights fake-quantized per row (scale = row max / \(ForwardAttribute.format(divisor))\(floorText), "
            + "round half to even, clamp \(bounds)) on \(parameters.count) matrices"
    }

    /// The quantized values of a `[rows, columns]` matrix stored row-major.
    public func apply(_ values: [Float], columns: Int) -> [Float] {
        guard columns > 0 else { return values }
        var out = values
        let d = Float(divisor), lo = Float(lower), hi = Float(upper), f = floor.map(Float.init)
        for start in stride(from: 0, to: values.count, by: columns) {
            let row = values[start..<min(values.count, start + columns)]
            var m: Float = 0
            for x in row { m = Swift.max(m, x.magnitude) }
            var s: Float
            if floorsRowMax {
                s = Swift.max(m, f ?? 0) / d
            } else {
                s = m / d
                if let f { s = Swift.max(s, f) }
            }
            for i in row.indices {
                let q = (values[i] / s).rounded(.toNearestOrEven)
                out[i] = Swift.min(Swift.max(q, lo), hi) * s
            }
        }
        return out
    }

    /// `q` of the parameter `p` as ``ForwardGraph`` nodes: `amax(abs(p); dim=-1)` (per row, kept as a
    /// column), `clamp(x; min)` for a floor, `round`, `clamp(x; min, max)`.
    public func describe(_ p: Int, in g: ForwardGraph) -> Int {
        let rowMax = g.node("amax", [g.node("abs", [p])], [("dim", .int(-1))])
        func floored(_ x: Int) -> Int { floor.map { g.node("clamp", [x], [("min", .real($0))]) } ?? x }
        let scale = floorsRowMax ? g.scale(floored(rowMax), by: 1 / divisor) : floored(g.scale(rowMax, by: 1 / divisor))
        let rounded = g.node("round", [g.div(p, scale)])
        return g.mul(g.node("clamp", [rounded], [("max", .real(upper)), ("min", .real(lower))]), scale)
    }
}

extension FamilyGPTModel {
    /// `weights` with the fake-quantized matrices replaced by their quantized values (what the forward reads).
    static func fakeQuantized(_ weights: Weights, _ quantization: WeightFakeQuantization?) throws(ModelWeightsError) -> Weights {
        guard let quantization else { return weights }
        if let problem = quantization.problem { throw .invalidConfig("weight fake quantization with \(problem)") }
        var result = weights
        for name in quantization.parameters {
            guard var tensor = weights[name] else { throw .missingTensor(name: name) }
            guard tensor.shape.count == 2 else {
                throw .invalidConfig("weight fake quantization of \(name), shape \(tensor.shape): per-row quantization needs a matrix")
            }
            tensor.data = quantization.apply(tensor.data, columns: tensor.shape[1])
            result[name] = tensor
        }
        return result
    }
}
