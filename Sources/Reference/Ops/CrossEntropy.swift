import Foundation

/// Negative log-likelihood of `target` under `softmax(logits)` for one row of `count` logits:
/// `logsumexp(logits) − logits[target]`, in float32 like `F.cross_entropy` on float32 logits.
/// `scratch` (`count` floats) receives `exp(logits − max)`.
@inlinable
func crossEntropy(
    logits: UnsafePointer<Float>, count: Int, target: Int, scratch: UnsafeMutablePointer<Float>
) -> Float {
    let largest = maximum(logits, count: count)
    scratch.update(from: logits, count: count)
    expInPlace(scratch, count: count, scale: 1, shift: largest)
    return (largest + logf(sum(scratch, count: count))) - logits[target]
}
