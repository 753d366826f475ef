/// Every buffer one forward pass needs, sized once for windows of up to `maxTokens` tokens so the
/// evaluation loop allocates nothing. One per thread; not shareable.
public final class ForwardWorkspace {
    let maxTokens: Int
    let x: UnsafeMutablePointer<Float>          // [T, C] residual stream
    let x0: UnsafeMutablePointer<Float>         // [T, C] normalised embeddings
    let normed: UnsafeMutablePointer<Float>     // [T, C]
    let qkv: UnsafeMutablePointer<Float>        // [T, C + 2·G·D]
    let attention: UnsafeMutablePointer<Float>  // [T, C]
    let projected: UnsafeMutablePointer<Float>  // [T, C]
    let hidden: UnsafeMutablePointer<Float>     // [T, F]
    let upHidden: UnsafeMutablePointer<Float>?  // [T, F] SwiGLU's up projection
    let skips: UnsafeMutablePointer<Float>      // [S, T, C]
    let scores: UnsafeMutablePointer<Float>     // attention scratch
    let logits: UnsafeMutablePointer<Float>     // [min(T, headChunkRows), V]
    let vocabularyRow: UnsafeMutablePointer<Float>  // [V] softmax scratch
    /// Per-position negative log-likelihoods of the last forward pass.
    let nll: UnsafeMutablePointer<Float>        // [T]
    private let allocations: [UnsafeMutablePointer<Float>]

    /// A workspace for `model` and windows of up to `maxTokens` tokens.
    public init(model: GPTModel, maxTokens: Int) {
        precondition(maxTokens > 0)
        let config = model.config
        let t = maxTokens, c = config.modelDim
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            return pointer
        }
        self.maxTokens = maxTokens
        x = make(t * c); x0 = make(t * c); normed = make(t * c)
        qkv = make(t * model.qkvWidth); attention = make(t * c); projected = make(t * c)
        hidden = make(t * config.mlpHidden)
        upHidden = config.features.mlpActivation.isSwiGLU ? make(t * config.mlpHidden) : nil
        skips = make(model.skipCount * t * c)
        scores = make(causalAttentionScratchCount(maxTokens: t))
        logits = make(min(t, headChunkRows) * config.vocabSize); vocabularyRow = make(config.vocabSize); nll = make(t)
        allocations = [x, x0, normed, qkv, attention, projected, hidden, skips, scores, logits, vocabularyRow, nll]
            + (upHidden.map { [$0] } ?? [])
    }

    deinit { for pointer in allocations { pointer.deallocate() } }
}
