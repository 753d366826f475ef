import Foundation

// Forward/backward kernels the gradient tape's ops run (Family/TapeOps.swift, TapeAttention.swift),
// llm.c style: each forward keeps what its backward needs (explicitly, in buffers the caller owns), each
// backward takes the upstream gradient and writes (or accumulates) the downstream ones. Shapes: N rows,
// T tokens per sequence, H query heads, G key/value heads, D head width, V vocabulary.

/// `F.rms_norm` over rows of `width` (row stride `stride`), keeping `1/rms` per row for the backward.
@inlinable
func rmsNormForward(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, reciprocalRMS: UnsafeMutablePointer<Float>,
    rows: Int, width: Int, stride: Int, eps: Float
) {
    for row in 0..<rows {
        let x = input + row * stride, y = out + row * stride
        var sumSquares: Float = 0
        for i in 0..<width { sumSquares += x[i] * x[i] }
        let r = 1 / (sumSquares / Float(width) + eps).squareRoot()
        reciprocalRMS[row] = r
        for i in 0..<width { y[i] = x[i] * r }
    }
}

/// Backward of ``rmsNormForward``: `dx = r·dy − x·r³·⟨dy, x⟩ / width`, written to `dInput`
/// (or added to it when `accumulate`). `dInput` may alias `dOut` only when not accumulating.
@inlinable
func rmsNormBackward(
    dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
    reciprocalRMS: UnsafePointer<Float>, rows: Int, width: Int, stride: Int, accumulate: Bool
) {
    for row in 0..<rows {
        let x = input + row * stride, dy = dOut + row * stride, dx = dInput + row * stride
        let r = reciprocalRMS[row]
        var dot: Float = 0
        for i in 0..<width { dot += dy[i] * x[i] }
        let coefficient = r * r * r * dot / Float(width)
        if accumulate {
            for i in 0..<width { dx[i] += r * dy[i] - coefficient * x[i] }
        } else {
            for i in 0..<width { dx[i] = r * dy[i] - coefficient * x[i] }
        }
    }
}

/// `relu(x)²` into `out`, keeping the input (`pre`) for the backward.
@inlinable
func reluSquaredForward(out: UnsafeMutablePointer<Float>, pre: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let v = max(pre[i], 0)
        out[i] = v * v
    }
}

/// Softcapped logits and per-row negative log-likelihoods: `logits` (raw head outputs, `[rows, V]`)
/// become `cap·tanh(logits/cap)` in place (unchanged without a cap), and `nll[r]` the row's loss.
@inlinable
func softcapCrossEntropyForward(
    logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<UInt16>, nll: UnsafeMutablePointer<Float>,
    rows: Int, vocab: Int, cap: Float?, scratch: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let row = logits + r * vocab
        if let cap { softcap(row, count: vocab, cap: cap) }
        nll[r] = crossEntropy(logits: row, count: vocab, target: Int(targets[r]), scratch: scratch)
    }
}

/// Backward of the mean of ``softcapCrossEntropyForward``'s losses, in place over the capped logits:
/// `d = (softmax − onehot) · scale`, then through the cap, `d · (1 − (y/cap)²)`. With `rowWeights`,
/// row `r`'s scale is `rowWeights[r]` instead (a weighted sum of the losses).
@inlinable
func softcapCrossEntropyBackward(
    logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<UInt16>, rows: Int, vocab: Int,
    cap: Float?, scale uniformScale: Float, rowWeights: [Float]? = nil
) {
    for r in 0..<rows {
        let row = logits + r * vocab
        let scale = rowWeights?[r] ?? uniformScale
        if scale == 0 {
            row.update(repeating: 0, count: vocab)
            continue
        }
        let largest = maximum(row, count: vocab)
        var total: Float = 0
        for i in 0..<vocab {
            let e = fastExp(row[i] - largest)
            total += e
        }
        let inverse = scale / total
        for i in 0..<vocab {
            let y = row[i]
            var g = fastExp(y - largest) * inverse
            if i == Int(targets[r]) { g -= scale }
            if let cap {
                let ratio = y / cap
                g *= 1 - ratio * ratio
            }
            row[i] = g
        }
    }
}

/// Query rows per block in the training attention: each block reads only the keys up to its last
/// row (the causal mask), so about half of the T×T work is skipped.
@usableFromInline let trainingAttentionBlockRows = 64

/// Causal GQA attention for `sequences` sequences of `length` rows each, keeping each row's
/// log-sum-exp (`lse`, `[N, H]`) so the backward can rebuild the probabilities instead of storing them.
/// `qkv` rows hold q (`H·D`), k (`G·D`), v (`G·D`) with stride `ldqkv`; `out` is `[N, H·D]`.
/// `scores` holds `blockRows × length` floats. Only the heads of the KV groups `kvGroups` (all by
/// default) are computed: groups write disjoint columns, so they can run side by side.
@inlinable
func attentionForward(
    out: UnsafeMutablePointer<Float>, lse: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, ldqkv: Int,
    sequences: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int, scores: UnsafeMutablePointer<Float>,
    blockRows: Int = trainingAttentionBlockRows, kvGroups: Range<Int>? = nil
) {
    let group = heads / kvHeads, scale = 1 / Float(headDim).squareRoot()
    let c = heads * headDim, t = length
    let groups = kvGroups ?? 0..<kvHeads
    for b in 0..<sequences {
        let base = qkv + b * t * ldqkv
        for h in (groups.lowerBound * group)..<(groups.upperBound * group) {
            let g = h / group
            let q = base + h * headDim, k = base + c + g * headDim, v = base + c + (kvHeads + g) * headDim
            var first = 0
            while first < t {
                let last = min(first + blockRows, t), rows = last - first, keys = last
                BLAS.sgemm(m: rows, n: keys, k: headDim, a: q + first * ldqkv, lda: ldqkv, b: k, ldb: ldqkv,
                           transposeB: true, c: scores, ldc: keys)
                for i in 0..<rows {
                    let row = scores + i * keys, visible = first + i + 1
                    let shift = maximum(row, count: visible) * scale
                    expInPlace(row, count: visible, scale: scale, shift: shift)
                    let total = sum(row, count: visible)
                    lse[(b * t + first + i) * heads + h] = shift + logf(total)
                    let inverse = 1 / total
                    for j in 0..<visible { row[j] *= inverse }
                    if visible < keys { (row + visible).update(repeating: 0, count: keys - visible) }
                }
                BLAS.sgemm(m: rows, n: headDim, k: keys, a: scores, lda: keys, b: v, ldb: ldqkv,
                           c: out + (b * t + first) * c + h * headDim, ldc: c)
                first = last
            }
        }
    }
}

/// Backward of ``attentionForward`` (the flash-attention recurrence), block by block of query rows:
/// with `P` rebuilt from `lse`, `dV += Pᵀ·dO`, `dP = dO·Vᵀ`, `dS = P ∘ (dP − rowsum(dO ∘ O))`,
/// `dQ = s·dS·K`, `dK += s·dSᵀ·Q`. `dqkv` has `qkv`'s layout; its k and v columns must be zeroed by
/// the caller (they accumulate over blocks and over the heads of a group), its q columns are
/// overwritten. `probabilities` and `dScores` hold `blockRows × length` floats each. Only the heads of
/// the KV groups `kvGroups` (all by default) are computed; each group's `dK`/`dV` sums its own heads in
/// order, so splitting by group changes no bit.
@inlinable
func attentionBackward(
    dqkv: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
    lse: UnsafePointer<Float>, qkv: UnsafePointer<Float>, ldqkv: Int,
    sequences: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int,
    probabilities: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>,
    blockRows: Int = trainingAttentionBlockRows, kvGroups: Range<Int>? = nil
) {
    let group = heads / kvHeads, scale = 1 / Float(headDim).squareRoot()
    let c = heads * headDim, t = length
    let groups = kvGroups ?? 0..<kvHeads
    for b in 0..<sequences {
        let base = qkv + b * t * ldqkv, dBase = dqkv + b * t * ldqkv
        for h in (groups.lowerBound * group)..<(groups.upperBound * group) {
            let g = h / group
            let q = base + h * headDim, k = base + c + g * headDim, v = base + c + (kvHeads + g) * headDim
            let dq = dBase + h * headDim, dk = dBase + c + g * headDim, dv = dBase + c + (kvHeads + g) * headDim
            var first = 0
            while first < t {
                let last = min(first + blockRows, t), rows = last - first, keys = last
                let dO = dOut + (b * t + first) * c + h * headDim, o = out + (b * t + first) * c + h * headDim
                BLAS.sgemm(m: rows, n: keys, k: headDim, a: q + first * ldqkv, lda: ldqkv, b: k, ldb: ldqkv,
                           transposeB: true, c: probabilities, ldc: keys)
                for i in 0..<rows {
                    let row = probabilities + i * keys, visible = first + i + 1
                    expInPlace(row, count: visible, scale: scale, shift: lse[(b * t + first + i) * heads + h])
                    if visible < keys { (row + visible).update(repeating: 0, count: keys - visible) }
                }
                BLAS.sgemm(m: keys, n: headDim, k: rows, a: probabilities, lda: keys, transposeA: true,
                           b: dO, ldb: c, beta: 1, c: dv, ldc: ldqkv)
                BLAS.sgemm(m: rows, n: keys, k: headDim, a: dO, lda: c, b: v, ldb: ldqkv, transposeB: true,
                           c: dScores, ldc: keys)
                for i in 0..<rows {
                    var rowDot: Float = 0
                    for d in 0..<headDim { rowDot += dO[i * c + d] * o[i * c + d] }
                    let p = probabilities + i * keys, ds = dScores + i * keys, visible = first + i + 1
                    for j in 0..<visible { ds[j] = p[j] * (ds[j] - rowDot) * scale }
                    if visible < keys { (ds + visible).update(repeating: 0, count: keys - visible) }
                }
                BLAS.sgemm(m: rows, n: headDim, k: keys, a: dScores, lda: keys, b: k, ldb: ldqkv,
                           c: dq + first * ldqkv, ldc: ldqkv)
                BLAS.sgemm(m: keys, n: headDim, k: rows, a: dScores, lda: keys, transposeA: true,
                           b: q + first * ldqkv, ldb: ldqkv, beta: 1, c: dk, ldc: ldqkv)
                first = last
            }
        }
    }
}
