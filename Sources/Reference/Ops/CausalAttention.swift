/// Rows of queries handled per block: keeps the score scratch at `blockRows × T` and lets each
/// block skip the keys after its last row (the causal mask), halving the work.
@usableFromInline let attentionBlockRows = 64

/// Scratch floats `causalAttention` needs for windows of up to `maxTokens` tokens.
func causalAttentionScratchCount(maxTokens: Int) -> Int { attentionBlockRows * maxTokens }

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
            for i in 0..<rows {
                let row = scratch + i * keys
                let visible = blockStart + i + 1
                var maximum = -Float.infinity
                for j in 0..<visible { maximum = max(maximum, row[j]) }
                let shift = maximum * scale
                var sum: Float = 0
                for j in 0..<visible {
                    let e = fastExp(row[j] * scale - shift)
                    row[j] = e
                    sum += e
                }
                let inverse = 1 / sum
                for j in 0..<visible { row[j] *= inverse }
                for j in visible..<keys { row[j] = 0 }
            }
            // out[block, head h] = P · V[0..<keys]
            BLAS.sgemm(m: rows, n: headDim, k: keys,
                       a: scratch, lda: keys,
                       b: v + g * headDim, ldb: ldkv,
                       c: out + blockStart * ldOut + h * headDim, ldc: ldOut)
            blockStart = blockEnd
        }
    }
}
