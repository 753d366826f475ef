// Legend for shapes: N rows (tokens of a batch), T tokens per sequence, C model width, H query heads,
// G key/value heads, D head width, F MLP hidden width, V vocabulary, L layers, S skip weights.

/// Where each of the baseline GPT's parameters lives in one flat float32 buffer, by its `state_dict`
/// name. Gradients, optimizer state and the parameters themselves share this layout.
///
/// Each block's `c_q`, `c_k`, `c_v` are adjacent, so together they are one fused `[C + 2·G·D, C]`
/// matrix; with tied embeddings the head is the token embedding (same offset).
public struct ParameterLayout: Sendable {
    /// One named tensor of the layout.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// The block this tensor belongs to (`blocks.i.`), or `nil` for the embedding, skips and head.
        public let block: Int?
    }

    /// Offsets of one block's tensors.
    struct BlockOffsets: Sendable {
        let qkv: Int, attentionProjection: Int, queryGain: Int, fc: Int, mlpProjection: Int
        let attentionScale: Int, mlpScale: Int, residualMix: Int
    }

    /// Every tensor, in buffer order.
    public let entries: [Entry]
    /// Floats in the buffer.
    public let totalCount: Int
    let tokenEmbedding: Int
    let head: Int
    let skipWeights: Int
    let blocks: [BlockOffsets]

    /// The layout of the baseline GPT with `config`'s shape.
    public init(config: GPTConfig) {
        let c = config.modelDim, v = config.vocabSize, kvWidth = config.numKVHeads * config.headDim
        let f = config.mlpHidden, encoder = config.numLayers / 2
        let skips = min(encoder, config.numLayers - encoder)
        var entries: [Entry] = []
        var cursor = 0
        func add(_ name: String, _ shape: [Int], block: Int? = nil) -> Int {
            let entry = Entry(name: name, shape: shape, offset: cursor, block: block)
            entries.append(entry)
            cursor += entry.count
            return entry.offset
        }
        tokenEmbedding = add("tok_emb.weight", [v, c])
        skipWeights = add("skip_weights", [skips, c])
        blocks = (0..<config.numLayers).map { i in
            let p = "blocks.\(i)."
            let qkv = add(p + "attn.c_q.weight", [c, c], block: i)
            _ = add(p + "attn.c_k.weight", [kvWidth, c], block: i)
            _ = add(p + "attn.c_v.weight", [kvWidth, c], block: i)
            return BlockOffsets(
                qkv: qkv, attentionProjection: add(p + "attn.proj.weight", [c, c], block: i),
                queryGain: add(p + "attn.q_gain", [config.numHeads], block: i),
                fc: add(p + "mlp.fc.weight", [f, c], block: i), mlpProjection: add(p + "mlp.proj.weight", [c, f], block: i),
                attentionScale: add(p + "attn_scale", [c], block: i), mlpScale: add(p + "mlp_scale", [c], block: i),
                residualMix: add(p + "resid_mix", [2, c], block: i))
        }
        head = config.tieEmbeddings ? tokenEmbedding : add("lm_head.weight", [v, c])
        self.entries = entries
        self.totalCount = cursor
    }

    /// The entry named `name`, if the layout has one.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}
