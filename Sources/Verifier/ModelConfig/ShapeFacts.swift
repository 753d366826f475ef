import Reference

/// What the tensor names and shapes of a baseline-family state dict establish about the model.
///
/// Facts: vocabulary and width from `tok_emb.weight` `[vocab, dim]`; layers from the `blocks.N.`
/// prefixes (which must be 0..<N); KV width from `blocks.0.attn.c_k.weight` `[kv_dim, dim]`; MLP hidden
/// width from `blocks.0.mlp.fc.weight` `[hidden, dim]`, or without it (SwiGLU's gate and up projections
/// have other names) or when it is wider (a fused `[2·hidden, dim]`) from the down projection `blocks.0.mlp.proj.weight` `[dim, hidden]` (or, without
/// that either, the MLP's other matrix `[dim, hidden]`); heads from `blocks.0.attn.q_gain` `[heads]`
/// when present; tied embeddings when there is no `lm_head.weight`.
struct ShapeFacts {
    var vocabSize: Int
    var modelDim: Int
    var numLayers: Int
    var kvDim: Int
    var mlpHidden: Int
    /// The hidden width was read from the down projection (no `mlp.fc`: SwiGLU's projections carry the
    /// code's names), so how `mlp_mult` sized it is the code's rule, not the baseline's `mlp_mult · dim`.
    var mlpHiddenFromDownProjection = false
    /// `nil` when the state dict has no `q_gain`.
    var numHeads: Int?
    var tieEmbeddings: Bool
    var sources: [String: ValueSource]

    static let embedding = "tok_emb.weight"
    static let keys = "blocks.0.attn.c_k.weight"
    static let mlpIn = "blocks.0.mlp.fc.weight"
    static let mlpOut = "blocks.0.mlp.proj.weight"
    static let queryGain = "blocks.0.attn.q_gain"
    static let head = "lm_head.weight"

    init(_ weights: Weights) throws(ModelConfigError) {
        func matrix(_ name: String) throws(ModelConfigError) -> (rows: Int, columns: Int) {
            guard let tensor = weights[name] else { throw .missingTensor(name) }
            guard tensor.shape.count == 2, tensor.shape[0] > 0, tensor.shape[1] > 0 else {
                throw .unexpectedShape(tensor: name, shape: tensor.shape, expected: "a non-empty 2-D matrix")
            }
            return (tensor.shape[0], tensor.shape[1])
        }
        var sources: [String: ValueSource] = [:]
        func shapeOf(_ name: String) -> ValueSource { .tensorShape(tensor: name, shape: weights[name]?.shape ?? []) }

        let embedding = try matrix(Self.embedding)
        vocabSize = embedding.rows
        modelDim = embedding.columns
        sources["vocab_size"] = shapeOf(Self.embedding)
        sources["model_dim"] = shapeOf(Self.embedding)

        numLayers = try Self.layerCount(weights)
        sources["num_layers"] = .tensorShape(tensor: "blocks.0 … blocks.\(numLayers - 1)", shape: [numLayers])

        let keys = try matrix(Self.keys)
        guard keys.columns == modelDim else {
            throw .unexpectedShape(tensor: Self.keys, shape: [keys.rows, keys.columns],
                                   expected: "[kv_dim, \(modelDim)] (model_dim from \(Self.embedding))")
        }
        kvDim = keys.rows
        sources["num_kv_heads"] = shapeOf(Self.keys)

        // The down projection gives the width when there is no `mlp.fc` (SwiGLU's projections have other
        // names) or when `mlp.fc` is wider (a fused gate and up projection `[2·hidden, dim]` named `fc`).
        let downName = weights[Self.mlpOut] != nil ? Self.mlpOut : Self.downProjection(weights, modelDim)
        if let downName, weights[Self.mlpIn].map({ $0.shape.count == 2 && $0.shape.first != weights[downName]?.shape.last }) ?? true {
            let down = try matrix(downName)
            guard down.rows == modelDim else {
                throw .unexpectedShape(tensor: downName, shape: [down.rows, down.columns],
                                       expected: "[\(modelDim), hidden] (model_dim from \(Self.embedding))")
            }
            mlpHidden = down.columns
            mlpHiddenFromDownProjection = true
            sources["mlp_hidden"] = shapeOf(downName)
        } else {
            let mlp = try matrix(Self.mlpIn)
            guard mlp.columns == modelDim else {
                throw .unexpectedShape(tensor: Self.mlpIn, shape: [mlp.rows, mlp.columns],
                                       expected: "[hidden, \(modelDim)] (model_dim from \(Self.embedding))")
            }
            mlpHidden = mlp.rows
            sources["mlp_hidden"] = shapeOf(Self.mlpIn)
        }

        if let gain = weights[Self.queryGain] {
            guard gain.shape.count == 1, gain.shape[0] > 0 else {
                throw .unexpectedShape(tensor: Self.queryGain, shape: gain.shape, expected: "[num_heads]")
            }
            numHeads = gain.shape[0]
            sources["num_heads"] = shapeOf(Self.queryGain)
        } else {
            numHeads = nil
        }

        if weights[Self.head] != nil {
            let head = try matrix(Self.head)
            guard head.rows == vocabSize, head.columns == modelDim else {
                throw .unexpectedShape(tensor: Self.head, shape: [head.rows, head.columns],
                                       expected: "[\(vocabSize), \(modelDim)] like \(Self.embedding)")
            }
            tieEmbeddings = false
            sources["tie_embeddings"] = shapeOf(Self.head)
        } else {
            tieEmbeddings = true
            sources["tie_embeddings"] = .tensorAbsent(tensor: Self.head)
        }
        self.sources = sources
    }

    /// Without `mlp.fc` and `mlp.proj` (SwiGLU with a down projection of another name, such as `down`):
    /// the first block's MLP matrix `[model_dim, hidden]` that maps to the model width. Of the matrices
    /// with model_dim rows, the one whose columns differ from model_dim (a gate or up projection
    /// `[hidden, dim]` has model_dim rows only when hidden is model_dim); any of them when all are
    /// square. Nil when there is none or two disagree: the width is then unknown.
    static func downProjection(_ weights: Weights, _ modelDim: Int) -> String? {
        let prefix = "blocks.0.mlp."
        let mapping = weights.filter { name, tensor in
            name.hasPrefix(prefix) && name.hasSuffix(".weight") && !name.dropFirst(prefix.count).dropLast(".weight".count).contains(".")
                && tensor.shape.count == 2 && tensor.shape[0] == modelDim
        }
        let narrowing = mapping.filter { $0.value.shape[1] != modelDim }.keys.sorted()
        if narrowing.count == 1 { return narrowing[0] }
        return narrowing.isEmpty ? mapping.keys.sorted().first : nil
    }

    /// The number of blocks: the `N` of the `blocks.N.` prefixes, which must run 0, 1, … without gaps.
    static func layerCount(_ weights: Weights) throws(ModelConfigError) -> Int {
        var indices = Set<Int>()
        for name in weights.keys where name.hasPrefix("blocks.") {
            let rest = name.dropFirst("blocks.".count)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]), index >= 0,
                  String(index) == rest[..<dot] else {
                throw .unexpectedTensorName(name)
            }
            indices.insert(index)
        }
        guard !indices.isEmpty else { throw .missingTensor("blocks.0.*") }
        let count = indices.count
        guard indices.max() == count - 1 else {
            let missing = (0..<(indices.max() ?? 0)).first { !indices.contains($0) } ?? 0
            throw .missingTensor("blocks.\(missing).* (blocks up to \(indices.max() ?? 0) are present)")
        }
        return count
    }
}
