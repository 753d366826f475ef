/// `exp(x)` for float32 to within about 1 ulp, written so loops over it vectorize: Cody–Waite range
/// reduction `x = n·ln2 + r` and a degree-6 minimax polynomial for `exp(r)` (the classic single
/// precision coefficients). Inputs below −87.3 give tiny positive numbers instead of denormals; the
/// model only uses it for `exp(x − max)`, where such terms are negligible.
@inlinable @inline(__always)
func fastExp(_ x: Float) -> Float {
    let clamped = min(max(x, -87.3), 88.3)
    let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
    let r = clamped - n * 0.693_359_375 - n * -2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let expR = p * (r * r) + r + 1
    let scale = Float(bitPattern: UInt32(truncatingIfNeeded: Int32(n) + 127) << 23)
    return expR * scale
}
