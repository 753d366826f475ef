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

/// `crossEntropy` of the softcapped row `cap·tanh(logits/cap)` (or of `logits` without a cap), with
/// the softcap and the log-softmax fused: one pass writes `exp(z − shift)` over the row (which it
/// overwrites), one sums it. With a cap every `z` lies in `[−cap, cap]`, so `shift = cap` needs no
/// search for the maximum and cannot overflow (`exp(−2·cap)` is far above float32's smallest normal
/// for caps up to 40; larger caps, or none, shift by the row's maximum).
@inlinable
func softcappedCrossEntropy(_ logits: UnsafeMutablePointer<Float>, count: Int, target: Int, cap: Float?) -> Float {
    if let cap, cap <= 40 {
        let chosen = cap * fastTanh(logits[target] / cap)
        for i in 0..<count { logits[i] = fastExp(cap * fastTanh(logits[i] / cap) - cap) }
        return (cap + logf(sum(logits, count: count))) - chosen
    }
    if let cap { softcap(logits, count: count, cap: cap) }
    let chosen = logits[target], largest = maximum(logits, count: count)
    expInPlace(logits, count: count, scale: 1, shift: largest)
    return (largest + logf(sum(logits, count: count))) - chosen
}
