// Legend for the reference model's shapes: T tokens in a window, C model width, H query heads,
// G key/value heads, D head width, F MLP hidden width, V vocabulary.

/// `out[T, N] = input[T, K] · weightᵀ`, with `weight` stored `[N, K]` like a PyTorch `Linear`.
///
/// Leading dimensions default to the packed widths; pass them to read or write a column slice.
@inlinable
func linear(
    out: UnsafeMutablePointer<Float>, ldOut: Int? = nil,
    input: UnsafePointer<Float>, ldInput: Int? = nil,
    weight: UnsafePointer<Float>,
    rows: Int, inFeatures: Int, outFeatures: Int
) {
    guard rows > 0, outFeatures > 0 else { return }
    BLAS.sgemm(m: rows, n: outFeatures, k: inFeatures,
               a: input, lda: ldInput ?? inFeatures,
               b: weight, ldb: inFeatures, transposeB: true,
               c: out, ldc: ldOut ?? outFeatures)
}
