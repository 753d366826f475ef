import Foundation

/// The cos/sin tables of rotary position embeddings, computed exactly as the baseline's `Rotary`:
/// `inv_freq = 1 / base^(arange(0, D, 2) / D)` and `freqs = outer(arange(T), inv_freq)`, every step
/// in float32 (so the angle is rounded to float32 before cos/sin, as PyTorch does).
public struct RotaryTable: Sendable {
    /// Width of one head (`D`); the tables have `D / 2` columns.
    public let headDim: Int
    /// Positions covered.
    public let positions: Int
    /// `cos(freqs)`, `[positions, D/2]`.
    public let cos: [Float]
    /// `sin(freqs)`, `[positions, D/2]`.
    public let sin: [Float]

    public init(headDim: Int, positions: Int, base: Double) {
        precondition(headDim > 0 && headDim % 2 == 0 && positions >= 0)
        let half = headDim / 2
        let base32 = Float(base)
        let inverseFrequency = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / powf(base32, exponent)
        }
        var cosTable = [Float](repeating: 0, count: positions * half)
        var sinTable = [Float](repeating: 0, count: positions * half)
        for t in 0..<positions {
            for i in 0..<half {
                let angle = Float(t) * inverseFrequency[i]
                cosTable[t * half + i] = Float(Foundation.cos(Double(angle)))
                sinTable[t * half + i] = Float(Foundation.sin(Double(angle)))
            }
        }
        self.headDim = headDim
        self.positions = positions
        self.cos = cosTable
        self.sin = sinTable
    }
}

/// Rotates `heads` head vectors of width `D` in each of `rows` rows (row `t` at position
/// `firstPosition + t`): `(x1·cos + x2·sin, −x1·sin + x2·cos)` on the two halves, as `apply_rotary_emb`.
@inlinable
func applyRotary(
    _ x: UnsafeMutablePointer<Float>, rows: Int, firstPosition: Int, rowStride: Int,
    heads: Int, headDim: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
) {
    let half = headDim / 2
    for t in 0..<rows {
        let c = cos + (firstPosition + t) * half
        let s = sin + (firstPosition + t) * half
        for h in 0..<heads {
            let v = x + t * rowStride + h * headDim
            for i in 0..<half {
                let x1 = v[i], x2 = v[i + half]
                v[i] = x1 * c[i] + x2 * s[i]
                v[i + half] = x1 * (-s[i]) + x2 * c[i]
            }
        }
    }
}
