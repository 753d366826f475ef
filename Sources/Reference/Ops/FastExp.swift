/// `exp(x)` for float32 within about 1 ulp (measured ≤ 1.2·10⁻⁷ relative against glibc's `expf`),
/// written so loops over it vectorize: Cody–Waite range reduction `x = n·ln2 + r` with `n` rounded by
/// the 1.5·2²³ shifter (no libm call), and a degree-6 polynomial for `exp(r)` (the classic single
/// precision coefficients). Inputs are clamped to [−87.3, 88.3]: below that it returns ~1e-38
/// instead of a denormal, which is negligible where the model uses it (`exp(x − max)`).
@inlinable @inline(__always)
func fastExp(_ x: Float) -> Float {
    let clamped = min(max(x, -87.3), 88.3)
    let shifted = clamped * 1.442_695_04 + 12_582_912  // the integer n lands in the low mantissa bits
    let n = shifted - 12_582_912
    let r = clamped - n * 0.693_359_375 - n * -2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let expR = p * (r * r) + r + 1
    return expR * Float(bitPattern: (shifted.bitPattern &+ 127) << 23)
}

/// `tanh(x)` as `(1 − e)/(1 + e)` with `e = exp(−2|x|)`, sign restored: absolute error about
/// 1e-7 (glibc's `tanhf` is exact to an ulp but does not vectorize).
@inlinable @inline(__always)
func fastTanh(_ x: Float) -> Float {
    let e = fastExp(-2 * abs(x))
    return Float(signOf: x, magnitudeOf: (1 - e) / (1 + e))
}

/// Largest of `count ≥ 1` floats, with eight independent running maxima (vectorizes; the
/// generic `pointwiseMax` does not inline).
@inlinable
func maximum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    var i = 0
    while i + 8 <= count {
        m0 = max(m0, p[i]); m1 = max(m1, p[i + 1]); m2 = max(m2, p[i + 2]); m3 = max(m3, p[i + 3])
        m4 = max(m4, p[i + 4]); m5 = max(m5, p[i + 5]); m6 = max(m6, p[i + 6]); m7 = max(m7, p[i + 7])
        i += 8
    }
    var result = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    while i < count { result = max(result, p[i]); i += 1 }
    return result
}

/// Sum of `count` floats, eight lanes at a time.
@inlinable
func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var i = 0
    var lanes = SIMD8<Float>()
    while i + 8 <= count {
        lanes += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var result = lanes.sum()
    while i < count { result += p[i]; i += 1 }
    return result
}

/// `p[i] = exp(p[i]·scale − shift)` in place.
@inlinable
func expInPlace(_ p: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float) {
    for i in 0..<count { p[i] = fastExp(p[i] * scale - shift) }
}
