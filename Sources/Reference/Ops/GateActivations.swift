import Foundation

/// `leaky_relu(x, slope)²` in place over `count` values, the records' MLP activation (slope 0.5).
@inlinable
func leakyReluSquared(_ x: UnsafeMutablePointer<Float>, count: Int, slope: Float) {
    for i in 0..<count {
        let v = x[i] >= 0 ? x[i] : slope * x[i]
        x[i] = v * v
    }
}

/// `σ(x) = 1 / (1 + e^−x)` in float32, for the records' gates.
@inlinable
func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// `torch.lerp(start, end, weight)` in float32: `start + weight·(end − start)`, computed from the
/// nearer end as PyTorch does (`end − (end − start)·(1 − weight)` once `weight ≥ 0.5`).
@inlinable
func lerp(_ start: Float, _ end: Float, _ weight: Float) -> Float {
    abs(weight) < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
}
