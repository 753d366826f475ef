/// Rows of queries handled per block: keeps the score scratch at `blockRows × T` and lets each
/// block skip the keys after its last row (the causal mask), halving the work.
@usableFromInline let attentionBlockRows = 64

/// Scratch floats `causalAttention` needs for windows of up to `maxTokens` tokens: one block of
/// scores and the blocks' row normalisers.
func causalAttentionScratchCount(maxTokens: Int) -> Int { attentionBlockRows * (maxTokens + 1) }

/// Causal scaled-dot-product attention with grouped key/value heads, as
/// `F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)`: query head `h` reads
/// key/value head `h / (H / G)`; scale `1/√D`.
///
/// Rows are token positions; `q`, `k`, `v` hold head-major columns (`h·D + d`) with row strides
/// `ldq`, `ldkv`. Only query rows `firstRow..<tokens` are computed (into `out`, row stride `ldOut`);
/// keys `0..<tokens` are all visible to the rows after them. Every product goes through sgemm.
@inlinable
func causalAttention(
    out: UnsafeMutablePointer<Float>, ldOut: Int,
    q: UnsafePointer<Float>, ldq: Int,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
    tokens: Int, firstRow: Int, heads: Int, kvHeads: Int, headDim: Int,
    scratch: UnsafeMutablePointer<Float>
) {
    let group = heads / kvHeads
    let scale = 1 / Float(headDim).squareRoot()
    for h in 0..<heads {
        let g = h / group
        var blockStart = firstRow
        while blockStart < tokens {
            let blockEnd = min(blockStart + attentionBlockRows, tokens)
            let rows = blockEnd - blockStart
            let keys = blockEnd
            // scores[rows, keys] = Q[block] · K[0..<keys]ᵀ
            BLAS.sgemm(m: rows, n: keys, k: headDim,
                       a: q + blockStart * ldq + h * headDim, lda: ldq,
                       b: k + g * headDim, ldb: ldkv, transposeB: true,
                       c: scratch, ldc: keys)
            // Unnormalised softmax rows (keys after the row masked to 0); 1/Σ applied to the output.
            let normalisers = scratch + attentionBlockRows * tokens
            for i in 0..<rows {
                let row = scratch + i * keys
                let visible = blockStart + i + 1
                let shift = maximum(row, count: visible) * scale
                expInPlace(row, count: visible, scale: scale, shift: shift)
                normalisers[i] = 1 / sum(row, count: visible)
                if visible < keys { (row + visible).update(repeating: 0, count: keys - visible) }
            }
            // out[block, head h] = P · V[0..<keys], then each row scaled by its 1/Σ.
            let outBlock = out + blockStart * ldOut + h * headDim
            BLAS.sgemm(m: rows, n: headDim, k: keys,
                       a: scratch, lda: keys,
                       b: v + g * headDim, ldb: ldkv,
                       c: outBlock, ldc: ldOut)
            for i in 0..<rows {
                let row = outBlock + i * ldOut
                let inverse = normalisers[i]
                for d in 0..<headDim { row[d] *= inverse }
            }
            blockStart = blockEnd
        }
    }
}
