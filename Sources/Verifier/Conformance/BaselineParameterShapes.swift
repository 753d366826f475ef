import Reference

/// The state-dict shapes of the baseline GPT (`ArchitectureFeatures.baseline`, each block once) for `config`:
/// what the conformance check of baseline code is given when no artifact is (the fuzz target, tests on code text).
enum BaselineParameterShapes {
    static func shapes(_ config: GPTConfig) -> [String: [Int]] {
        let c = config.modelDim, kv = config.numKVHeads * config.headDim
        var shapes: [String: [Int]] = ["tok_emb.weight": [config.vocabSize, c]]
        let encoder = config.numLayers / 2
        shapes["skip_weights"] = [min(encoder, config.numLayers - encoder), c]
        if !config.tieEmbeddings { shapes["lm_head.weight"] = [config.vocabSize, c] }
        for i in 0..<config.numLayers {
            let p = "blocks.\(i)."
            shapes[p + "attn.c_q.weight"] = [c, c]
            shapes[p + "attn.c_k.weight"] = [kv, c]
            shapes[p + "attn.c_v.weight"] = [kv, c]
            shapes[p + "attn.proj.weight"] = [c, c]
            shapes[p + "attn.q_gain"] = [config.numHeads]
            for (name, shape) in config.features.mlpActivation.weights(hidden: config.mlpHidden, dim: c) { shapes[p + "mlp.\(name).weight"] = shape }
            shapes[p + "attn_scale"] = [c]
            shapes[p + "mlp_scale"] = [c]
            shapes[p + "resid_mix"] = [2, c]
        }
        return shapes
    }
}
