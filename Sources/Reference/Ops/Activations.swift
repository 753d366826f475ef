import Foundation

/// `relu(x)²` in place over `count` values, the baseline MLP's activation.
@inlinable
func reluSquared(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count {
        let v = max(x[i], 0)
        x[i] = v * v
    }
}

/// `relu(x)^p` in place over `count` values: products for p = 1 and 3 (as PyTorch's `pow` does),
/// `powf` otherwise.
@inlinable
func reluPower(_ x: UnsafeMutablePointer<Float>, count: Int, exponent: Float) {
    switch exponent {
    case 1: for i in 0..<count { x[i] = max(x[i], 0) }
    case 2: reluSquared(x, count: count)
    case 3:
        for i in 0..<count {
            let v = max(x[i], 0)
            x[i] = v * v * v
        }
    default: for i in 0..<count { x[i] = powf(max(x[i], 0), exponent) }
    }
}

/// `silu(gate)·up` into `gate` over `count` values (SwiGLU), `silu(x) = x / (1 + e^(−x))` as PyTorch
/// computes it.
@inlinable
func swiGLU(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let x = gate[i]
        gate[i] = x / (1 + expf(-x)) * up[i]
    }
}

/// The MLP's activation in place over `count` values of its first input projection; for SwiGLU
/// `up` holds the up projection's values (the gate's are in `x`).
@inlinable
func activateMLP(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: ArchitectureFeatures.MLPActivation,
                 up: UnsafePointer<Float>? = nil) {
    switch activation {
    case .reluSquared: reluSquared(x, count: count)
    case .leakyReluSquared(let slope): leakyReluSquared(x, count: count, slope: Float(slope))
    case .reluPower(let exponent): reluPower(x, count: count, exponent: Float(exponent))
    case .swiGLU, .fusedSwiGLU:
        guard let up else { preconditionFailure("SwiGLU needs its up projection's values") }
        swiGLU(x, up: up, count: count)
    }
}

/// `cap · tanh(x / cap)` in place over `count` values, the logit softcap.
@inlinable
func softcap(_ x: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
    for i in 0..<count {
        x[i] = cap * fastTanh(x[i] / cap)
    }
}

/// `out[i] += scale[i mod width] · add[i]` for `rows` rows of `width`: the per-channel scaled
/// residual adds (`attn_scale`, `mlp_scale`, `skip_weights`).
@inlinable
func addScaled(
    _ out: UnsafeMutablePointer<Float>, _ add: UnsafePointer<Float>, scale: UnsafePointer<Float>,
    rows: Int, width: Int
) {
    for t in 0..<rows {
        let o = out + t * width
        let a = add + t * width
        for i in 0..<width { o[i] += scale[i] * a[i] }
    }
}
