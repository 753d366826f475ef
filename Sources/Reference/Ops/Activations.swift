/// `relu(x)²` in place over `count` values, the baseline MLP's activation.
@inlinable
func reluSquared(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count {
        let v = max(x[i], 0)
        x[i] = v * v
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
