/// `F.rms_norm` without a weight: each row of `width` values scaled by `1 / sqrt(mean(x²) + eps)`.
///
/// `eps` is PyTorch's default for float32 (`torch.finfo(float32).eps`) when the model does not set
/// one. `out` may alias `input`. Rows are `stride` floats apart (`width` when packed).
@inlinable
func rmsNorm(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    rows: Int, width: Int, stride: Int? = nil, eps: Float = Float.ulpOfOne
) {
    let stride = stride ?? width
    for row in 0..<rows {
        let x = input + row * stride
        let y = out + row * stride
        var sumSquares: Float = 0
        for i in 0..<width { sumSquares += x[i] * x[i] }
        let scale = 1 / (sumSquares / Float(width) + eps).squareRoot()
        for i in 0..<width { y[i] = x[i] * scale }
    }
}
