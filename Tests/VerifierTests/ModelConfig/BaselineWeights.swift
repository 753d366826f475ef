import Reference

/// A state dict with the baseline's tensor names and the shapes a given configuration produces
/// (values are zeros: only names and shapes matter to the resolver).
enum BaselineWeights {
    static func make(
        vocab: Int, layers: Int, dim: Int, heads: Int, kvHeads: Int, mlpHidden: Int, tied: Bool,
        includeQueryGain: Bool = true
    ) throws -> Weights {
        let headDim = dim / heads
        var weights: Weights = [:]
        weights["tok_emb.weight"] = try Tensor(zeros: [vocab, dim])
        weights["skip_weights"] = try Tensor(zeros: [layers / 2, dim])
        if !tied { weights["lm_head.weight"] = try Tensor(zeros: [vocab, dim]) }
        for layer in 0..<layers {
            let prefix = "blocks.\(layer)."
            weights[prefix + "attn_scale"] = try Tensor(zeros: [dim])
            weights[prefix + "mlp_scale"] = try Tensor(zeros: [dim])
            weights[prefix + "resid_mix"] = try Tensor(zeros: [2, dim])
            // The big matrices only for block 0 keep the test light; the resolver reads block 0.
            guard layer == 0 else { continue }
            weights[prefix + "attn.c_q.weight"] = try Tensor(zeros: [dim, dim])
            weights[prefix + "attn.c_k.weight"] = try Tensor(zeros: [kvHeads * headDim, dim])
            weights[prefix + "attn.c_v.weight"] = try Tensor(zeros: [kvHeads * headDim, dim])
            weights[prefix + "attn.proj.weight"] = try Tensor(zeros: [dim, dim])
            if includeQueryGain { weights[prefix + "attn.q_gain"] = try Tensor(zeros: [heads]) }
            weights[prefix + "mlp.fc.weight"] = try Tensor(zeros: [mlpHidden, dim])
            weights[prefix + "mlp.proj.weight"] = try Tensor(zeros: [dim, mlpHidden])
        }
        return weights
    }

    /// The shapes of ../shared/artifacts/taleef7-baseline-2L64d (its SOURCE note): vocab 1024, 2 layers,
    /// dim 64, 4 heads / 2 KV heads, MLP multiplier 1, tied.
    static func taleef7(includeQueryGain: Bool = true) throws -> Weights {
        try make(vocab: 1024, layers: 2, dim: 64, heads: 4, kvHeads: 2, mlpHidden: 64, tied: true,
                 includeQueryGain: includeQueryGain)
    }
}
