import Foundation

/// Every buffer one ``FamilyGPTModel`` forward pass needs, sized once for segments of up to
/// `maxTokens` tokens so a pass allocates nothing. One per thread at a time; the model lends them
/// out of a pool (``FamilyGPTModel/withWorkspace(tokens:_:)``).
final class FamilyForwardWorkspace {
    let maxTokens: Int
    let x: UnsafeMutablePointer<Float>            // [T, C] residual stream
    let x0: UnsafeMutablePointer<Float>           // [T, C] normalised embeddings
    let attentionLane: UnsafeMutablePointer<Float>  // [T, C] parallel residual lanes
    let mlpLane: UnsafeMutablePointer<Float>      // [T, C]
    let mixed: UnsafeMutablePointer<Float>        // [T, C] a parallel block's mixed attention read
    let normed: UnsafeMutablePointer<Float>       // [T, C] attention input, then MLP input
    let queries: UnsafeMutablePointer<Float>      // [T, C]
    let queryProjection: UnsafeMutablePointer<Float>?  // [T, C] q before its norm (output gate source)
    let keys: UnsafeMutablePointer<Float>         // [T, G·D]
    let values: UnsafeMutablePointer<Float>       // [T, G·D]
    let attention: UnsafeMutablePointer<Float>    // [T, C] heads' outputs
    let projected: UnsafeMutablePointer<Float>    // [T, C] attention / MLP outputs
    let hidden: UnsafeMutablePointer<Float>       // [T, F]
    let upHidden: UnsafeMutablePointer<Float>?    // [T, F] SwiGLU's up projection
    let skips: UnsafeMutablePointer<Float>        // [S, T, C]
    let scores: UnsafeMutablePointer<Float>       // attention scratch
    let valueEmbeddings: UnsafeMutablePointer<Float>?  // [T, G·D] ve_shared rows
    let embeddingRows: UnsafeMutablePointer<Float>?    // [T, max(bigram dim, ve dim)] table rows before projection
    let projectedRows: UnsafeMutablePointer<Float>?    // [T, C] bigram rows after projection
    let loraHidden: UnsafeMutablePointer<Float>?  // [T, r] a whole-stack pass's x·A
    let logits: UnsafeMutablePointer<Float>       // [min(T, headChunkRows), V]
    /// Per-position negative log-likelihoods of the last ``FamilyGPTModel/score`` call.
    let nll: UnsafeMutablePointer<Float>          // [T]
    private var allocations: [UnsafeMutablePointer<Float>] = []

    init(model: FamilyGPTModel, maxTokens: Int) {
        precondition(maxTokens > 0)
        let config = model.config, features = config.features
        let t = maxTokens, c = config.modelDim, kvWidth = config.numKVHeads * config.headDim
        var made: [UnsafeMutablePointer<Float>] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            made.append(pointer)
            return pointer
        }
        self.maxTokens = maxTokens
        x = make(t * c); x0 = make(t * c); attentionLane = make(t * c); mlpLane = make(t * c); mixed = make(t * c)
        normed = make(t * c); queries = make(t * c); keys = make(t * kvWidth); values = make(t * kvWidth)
        attention = make(t * c); projected = make(t * c); hidden = make(t * config.mlpHidden)
        upHidden = features.mlpActivation.isSwiGLU ? make(t * config.mlpHidden) : nil
        skips = make(model.skipCount * t * c)
        scores = make(causalAttentionScratchCount(maxTokens: t))
        if case .outputGate(_, .queryProjection) = features.attentionGate { queryProjection = make(t * c) } else { queryProjection = nil }
        valueEmbeddings = features.valueEmbeddings != nil ? make(t * kvWidth) : nil
        let rowWidth = max(features.bigramHash?.dim ?? 0, features.valueEmbeddings?.dim ?? 0)
        embeddingRows = rowWidth > 0 ? make(t * rowWidth) : nil
        projectedRows = features.bigramHash != nil ? make(t * c) : nil
        loraHidden = features.stackLoops?.hasAdapters == true ? make(t * (features.stackLoops?.loraRank ?? 0)) : nil
        logits = make(min(t, headChunkRows) * config.vocabSize)
        nll = make(t)
        allocations = made
    }

    deinit { for pointer in allocations { pointer.deallocate() } }
}

/// Workspaces lent to the threads running one model's forward passes: a pass takes one large
/// enough (or makes one) and gives it back, so steady-state evaluation allocates nothing.
final class FamilyWorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [FamilyForwardWorkspace] = []

    func take(model: FamilyGPTModel, tokens: Int) -> FamilyForwardWorkspace {
        lock.lock()
        if let index = idle.firstIndex(where: { $0.maxTokens >= tokens }) {
            defer { lock.unlock() }
            return idle.remove(at: index)
        }
        // None fits: drop the smallest idle one (a pass that fits it will fit the new one).
        if let smallest = idle.indices.min(by: { idle[$0].maxTokens < idle[$1].maxTokens }) { idle.remove(at: smallest) }
        lock.unlock()
        // Rounded up so slightly longer segments later reuse it.
        return FamilyForwardWorkspace(model: model, maxTokens: (tokens + 255) / 256 * 256)
    }

    func give(_ workspace: FamilyForwardWorkspace) {
        lock.lock(); idle.append(workspace); lock.unlock()
    }
}
