import Foundation

/// Negative log-likelihood of `target` under `softmax(logits)` for one row of `count` logits:
/// `logsumexp(logits) − logits[target]`, in float32 like `F.cross_entropy` on float32 logits.
@inlinable
func crossEntropy(logits: UnsafePointer<Float>, count: Int, target: Int) -> Float {
    var maximum = -Float.infinity
    for i in 0..<count { maximum = max(maximum, logits[i]) }
    var sum: Float = 0
    for i in 0..<count { sum += fastExp(logits[i] - maximum) }
    return (maximum + logf(sum)) - logits[target]
}
