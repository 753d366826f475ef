/// Everything the backward needs from one forward pass of a batch of up to `maxRows` tokens
/// (sequences of up to `maxLength`), plus the backward's own scratch: sized once, reused per batch.
public final class TrainingCache {
    /// One block's saved activations (`N = maxRows` rows each).
    struct BlockCache {
        let input: UnsafeMutablePointer<Float>         // [N, C] block input (after the skip add)
        let mixed: UnsafeMutablePointer<Float>         // [N, C] mix[0]·x + mix[1]·x0
        let attentionRMS: UnsafeMutablePointer<Float>  // [N] 1/rms of `mixed`
        let attentionNormed: UnsafeMutablePointer<Float>  // [N, C]
        let qkvRaw: UnsafeMutablePointer<Float>        // [N, C + 2·G·D] before the q/k norms
        let qkRMS: UnsafeMutablePointer<Float>         // [N, H + G] 1/rms per head
        let rotatedQuery: UnsafeMutablePointer<Float>  // [N, C] q after norm and rotary, before q_gain
        let qkv: UnsafeMutablePointer<Float>           // [N, C + 2·G·D] what attention reads
        let attention: UnsafeMutablePointer<Float>     // [N, C] attention output (before proj)
        let lse: UnsafeMutablePointer<Float>           // [N, H]
        let attentionProjected: UnsafeMutablePointer<Float>  // [N, C] proj(attention)
        let afterAttention: UnsafeMutablePointer<Float>  // [N, C]
        let mlpRMS: UnsafeMutablePointer<Float>        // [N]
        let mlpNormed: UnsafeMutablePointer<Float>     // [N, C]
        let hiddenPre: UnsafeMutablePointer<Float>     // [N, F] fc output
        let hidden: UnsafeMutablePointer<Float>        // [N, F] relu²
        let mlpProjected: UnsafeMutablePointer<Float>  // [N, C]
        let output: UnsafeMutablePointer<Float>        // [N, C]
    }

    public let maxRows: Int
    public let maxLength: Int
    var sequences = 0
    var length = 0
    var rows: Int { sequences * length }
    let inputs: UnsafeMutablePointer<UInt16>      // [N]
    let targets: UnsafeMutablePointer<UInt16>     // [N]
    let embedded: UnsafeMutablePointer<Float>     // [N, C] raw embedding rows
    let embeddingRMS: UnsafeMutablePointer<Float> // [N]
    let x0: UnsafeMutablePointer<Float>           // [N, C]
    let blocks: [BlockCache]
    let finalRMS: UnsafeMutablePointer<Float>     // [N]
    let finalNormed: UnsafeMutablePointer<Float>  // [N, C]
    let logits: UnsafeMutablePointer<Float>       // [N, V] capped logits; the backward overwrites them
    /// Per-row losses of the last forward pass.
    let nll: UnsafeMutablePointer<Float>          // [N]
    // Backward scratch.
    let dx: UnsafeMutablePointer<Float>, dx0: UnsafeMutablePointer<Float>
    let scratchA: UnsafeMutablePointer<Float>, scratchB: UnsafeMutablePointer<Float>  // [N, C]
    let dqkv: UnsafeMutablePointer<Float>         // [N, C + 2·G·D]
    let dHidden: UnsafeMutablePointer<Float>      // [N, F]
    let dSkips: UnsafeMutablePointer<Float>       // [S, N, C]
    let scores: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>  // [min(T, 64), T]
    let vocabularyRow: UnsafeMutablePointer<Float>  // [V]
    // LoRA (rank r; empty without): x·Aᵀ per block for q and v, and for the head; backward scratch.
    let loraRank: Int
    let loraQuery: [UnsafeMutablePointer<Float>], loraValue: [UnsafeMutablePointer<Float>]  // [N, r] each
    let loraHead: UnsafeMutablePointer<Float>, loraScratch: UnsafeMutablePointer<Float>       // [N, r]
    /// The LoRA adapters of the last forward pass, if any.
    var lora: LoRAAdapters?
    /// Per-row weights of the loss the backward differentiates (`nil`: the mean over all rows).
    var rowWeights: [Float]?
    private var allocations: [UnsafeMutableRawPointer] = []

    /// A cache for `model` and batches of up to `maxRows` tokens in sequences of up to `maxLength`.
    public init(model: TrainableGPT, maxRows: Int, maxLength: Int, loraRank: Int = 0) {
        precondition(maxRows > 0 && maxLength > 0)
        let config = model.config
        let n = maxRows, c = config.modelDim, f = config.mlpHidden, w = model.qkvWidth
        var owned: [UnsafeMutableRawPointer] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            owned.append(UnsafeMutableRawPointer(pointer))
            return pointer
        }
        func makeTokens() -> UnsafeMutablePointer<UInt16> {
            let pointer = UnsafeMutablePointer<UInt16>.allocate(capacity: n)
            pointer.initialize(repeating: 0, count: n)
            owned.append(UnsafeMutableRawPointer(pointer))
            return pointer
        }
        self.maxRows = maxRows
        self.maxLength = maxLength
        inputs = makeTokens(); targets = makeTokens()
        embedded = make(n * c); embeddingRMS = make(n); x0 = make(n * c)
        blocks = (0..<config.numLayers).map { _ in
            BlockCache(
                input: make(n * c), mixed: make(n * c), attentionRMS: make(n), attentionNormed: make(n * c),
                qkvRaw: make(n * w), qkRMS: make(n * (config.numHeads + config.numKVHeads)),
                rotatedQuery: make(n * c), qkv: make(n * w), attention: make(n * c),
                lse: make(n * config.numHeads), attentionProjected: make(n * c), afterAttention: make(n * c),
                mlpRMS: make(n), mlpNormed: make(n * c), hiddenPre: make(n * f), hidden: make(n * f),
                mlpProjected: make(n * c), output: make(n * c))
        }
        finalRMS = make(n); finalNormed = make(n * c); logits = make(n * config.vocabSize); nll = make(n)
        dx = make(n * c); dx0 = make(n * c); scratchA = make(n * c); scratchB = make(n * c)
        dqkv = make(n * w); dHidden = make(n * f); dSkips = make(model.skipCount * n * c)
        let blockScores = min(maxLength, trainingAttentionBlockRows) * maxLength
        scores = make(blockScores); dScores = make(blockScores)
        vocabularyRow = make(config.vocabSize)
        self.loraRank = loraRank
        let r = loraRank
        loraQuery = (0..<(r > 0 ? config.numLayers : 0)).map { _ in make(n * r) }
        loraValue = (0..<(r > 0 ? config.numLayers : 0)).map { _ in make(n * r) }
        loraHead = make(n * r); loraScratch = make(n * r)
        allocations = owned
    }

    deinit { for pointer in allocations { pointer.deallocate() } }

    /// The per-token losses of the last forward pass (`sequences × length`, row-major).
    public var losses: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: nll, count: rows) }
}
