// Port of the baseline GPT in corpus/parameter-golf/train_gpt.py (classes GPT, Block,
// CausalSelfAttention, MLP, Rotary, RMSNorm), forward only, float32.

/// The baseline GPT's parameters in one flat float32 buffer, with named views per layer.
///
/// Immutable after loading, so one instance is shared by every evaluation thread; each thread
/// brings its own ``ForwardWorkspace``.
public final class GPTModel: @unchecked Sendable {
    /// The shape this model was loaded for.
    public let config: GPTConfig
    /// `[V, C]`.
    let tokenEmbedding: UnsafePointer<Float>
    /// Output projection `[V, C]`: the token embedding when tied.
    let head: UnsafePointer<Float>
    /// `[S, C]` with `S = min(L/2, L − L/2)`.
    let skipWeights: UnsafePointer<Float>
    let layers: [Layer]
    /// Per effective layer (pass · L + block) with whole-stack LoRA passes; empty otherwise.
    let adapters: [Adapter]
    let rotary: RotaryTable
    let rmsEps: Float
    let softcap: Float?

    private let storage: UnsafeMutableBufferPointer<Float>

    /// One block's parameters; `qkv` fuses `c_q`, `c_k`, `c_v` into `[C + 2·G·D, C]` (one sgemm).
    struct Layer {
        let qkv: UnsafePointer<Float>
        let attentionProjection: UnsafePointer<Float>  // [C, C]
        let queryGain: UnsafePointer<Float>            // [H]
        let fc: UnsafePointer<Float>                   // [F, C] mlp.fc, or SwiGLU's gate
        let up: UnsafePointer<Float>?                  // [F, C] SwiGLU's up projection
        let mlpProjection: UnsafePointer<Float>        // [C, F]
        let attentionScale: UnsafePointer<Float>       // [C]
        let mlpScale: UnsafePointer<Float>             // [C]
        let residualMix: UnsafePointer<Float>          // [2, C]
    }

    /// Blocks run in a forward: `L`, or `L · passes` with whole-stack loops.
    public var effectiveDepth: Int { Self.effectiveDepth(config) }
    static func effectiveDepth(_ config: GPTConfig) -> Int { config.numLayers * (config.features.stackLoops?.count ?? 1) }
    /// Encoder layers (half the effective depth); they push their outputs for the decoder's skip connections.
    public var encoderLayers: Int { effectiveDepth / 2 }
    /// Skip weights (`min(encoder, decoder)` rows).
    public var skipCount: Int { min(encoderLayers, effectiveDepth - encoderLayers) }

    /// One pass's low-rank updates of a block's attention: `A` `[in, r]`, `B` `[r, out]`.
    struct Adapter {
        let qA, qB, kA, kB, vA, vB, projA, projB: UnsafePointer<Float>
    }
    /// Width of the fused q/k/v rows: `C + 2·G·D`.
    var qkvWidth: Int { config.modelDim + 2 * config.numKVHeads * config.headDim }

    /// Loads `weights` by the baseline's `state_dict` names, refusing missing, extra, misshapen or
    /// non-finite tensors. `maxPositions` sizes the rotary tables (the longest window evaluated).
    public init(config: GPTConfig, weights: Weights, maxPositions: Int) throws(ModelWeightsError) {
        try FamilyGPTModel.validate(config)
        guard config.features.runsOnBaselineModel else {
            throw .invalidConfig("the baseline GPTModel has no record-family features; load these weights with FamilyGPTModel")
        }
        guard maxPositions > 0 else { throw .invalidConfig("sequence length must be positive, got \(maxPositions)") }
        let c = config.modelDim, v = config.vocabSize, kvWidth = config.numKVHeads * config.headDim
        let f = config.mlpHidden, layerCount = config.numLayers
        let depth = Self.effectiveDepth(config)
        let mlpInputs = config.features.mlpActivation.inputProjections
        let encoder = depth / 2
        let skips = min(encoder, depth - encoder)

        var expected: [(name: String, shape: [Int])] = [("tok_emb.weight", [v, c])]
        if skips > 0 || weights["skip_weights"] != nil { expected.append(("skip_weights", [skips, c])) }
        for i in 0..<layerCount {
            let p = "blocks.\(i)."
            expected += [
                (p + "attn.c_q.weight", [c, c]), (p + "attn.c_k.weight", [kvWidth, c]),
                (p + "attn.c_v.weight", [kvWidth, c]), (p + "attn.proj.weight", [c, c]),
                (p + "attn.q_gain", [config.numHeads]),
            ]
            expected += mlpInputs.map { (p + "mlp.\($0).weight", [f, c]) }
            expected += [(p + "mlp.proj.weight", [c, f]), (p + "attn_scale", [c]), (p + "mlp_scale", [c]), (p + "resid_mix", [2, c])]
        }
        if !config.tieEmbeddings { expected.append(("lm_head.weight", [v, c])) }
        let passes = config.features.stackLoops
        if let passes, passes.hasAdapters {
            let r = passes.loraRank
            for pass in 0..<passes.count {
                for block in 0..<layerCount {
                    let p = "lora_adapters.\(pass).\(block)."
                    expected += [(p + "q_A", [c, r]), (p + "q_B", [r, c]), (p + "k_A", [c, r]), (p + "k_B", [r, kvWidth]),
                                 (p + "v_A", [c, r]), (p + "v_B", [r, kvWidth]), (p + "proj_A", [c, r]), (p + "proj_B", [r, c])]
                }
            }
        }

        let expectedNames = Set(expected.map(\.name))
        if let extra = weights.keys.sorted().first(where: { !expectedNames.contains($0) }) {
            throw .unexpectedTensor(name: extra)
        }
        var total = 0
        for (name, shape) in expected {
            guard let tensor = weights[name] else { throw .missingTensor(name: name) }
            guard tensor.shape == shape else { throw .shapeMismatch(name: name, expected: shape, actual: tensor.shape) }
            if let bad = tensor.data.firstIndex(where: { !$0.isFinite }) {
                throw .nonFinite(name: name, index: bad, value: tensor.data[bad])
            }
            total += tensor.count
        }

        // Carve the flat buffer: tensors in `expected` order, with c_q/c_k/c_v adjacent per layer.
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(total, 1))
        var offsets: [String: Int] = [:]
        var cursor = 0
        for (name, _) in expected {
            let data = weights[name]!.data  // presence checked above
            offsets[name] = cursor
            _ = UnsafeMutableBufferPointer(rebasing: buffer[cursor..<(cursor + data.count)]).initialize(from: data)
            cursor += data.count
        }
        let base = UnsafePointer(buffer.baseAddress!)
        func view(_ name: String) -> UnsafePointer<Float> { base + offsets[name, default: 0] }

        self.storage = buffer
        self.config = config
        self.tokenEmbedding = view("tok_emb.weight")
        self.head = config.tieEmbeddings ? view("tok_emb.weight") : view("lm_head.weight")
        self.skipWeights = view("skip_weights")
        self.layers = (0..<layerCount).map { i in
            let p = "blocks.\(i)."
            return Layer(
                qkv: view(p + "attn.c_q.weight"), attentionProjection: view(p + "attn.proj.weight"),
                queryGain: view(p + "attn.q_gain"), fc: view(p + "mlp.\(mlpInputs[0]).weight"),
                up: mlpInputs.count > 1 ? view(p + "mlp.\(mlpInputs[1]).weight") : nil,
                mlpProjection: view(p + "mlp.proj.weight"), attentionScale: view(p + "attn_scale"),
                mlpScale: view(p + "mlp_scale"), residualMix: view(p + "resid_mix"))
        }
        if let passes, passes.hasAdapters {
            self.adapters = (0..<depth).map { index in
                let p = "lora_adapters.\(index / layerCount).\(index % layerCount)."
                return Adapter(qA: view(p + "q_A"), qB: view(p + "q_B"), kA: view(p + "k_A"), kB: view(p + "k_B"),
                               vA: view(p + "v_A"), vB: view(p + "v_B"), projA: view(p + "proj_A"), projB: view(p + "proj_B"))
            }
        } else {
            self.adapters = []
        }
        self.rotary = RotaryTable(headDim: config.headDim, positions: maxPositions, base: config.ropeBase)
        self.rmsEps = config.rmsNormEps.map(Float.init) ?? Float.ulpOfOne
        if let cap = config.logitSoftcap, cap > 0 { self.softcap = Float(cap) } else { self.softcap = nil }
    }

    deinit { storage.deallocate() }

    /// The longest window this model's rotary tables cover.
    public var maxPositions: Int { rotary.positions }
}
