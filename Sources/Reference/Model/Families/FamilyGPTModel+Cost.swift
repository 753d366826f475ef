extension FamilyGPTModel {
    /// Floating-point operations (2 per multiply-add) of the matrix products one window's forward and
    /// scoring issue (``Evaluator``): q, k, v and their whole-stack LoRA, the causal attention's blocks,
    /// the output projection, the MLP and the head, counted as the forward issues them (the last block
    /// pass's queries, attention, projection and MLP and the head for the scored rows only). The gates'
    /// and the March embeddings' small products are not counted. Used by the benchmark to express speed
    /// as a share of sgemm peak.
    public func sgemmFlops(window: EvalWindow) -> Double {
        let t = Double(window.length), c = Double(config.modelDim), d = Double(config.headDim)
        let kv = Double(config.numKVHeads * config.headDim), f = Double(config.mlpHidden), v = Double(config.vocabSize)
        let heads = Double(config.numHeads), rank = adapters.isEmpty ? 0 : Double(config.features.stackLoops?.loraRank ?? 0)
        let passes = encoderSchedule.count + decoderSchedule.count
        var flops = 0.0
        for pass in 0..<passes {
            let firstRow = pass == passes - 1 ? window.scoredFrom : 0
            let rows = t - Double(firstRow)
            flops += 2 * rows * c * c + 4 * t * c * kv                     // q (scored rows), k and v (all rows)
            flops += 2 * rank * (4 * rows * c + 2 * t * (c + kv))          // LoRA on q, proj (scored rows), k, v
            var keyRowProducts = 0.0  // Σ over blocks of query rows · keys
            var start = firstRow
            while start < window.length {
                let end = min(start + attentionBlockRows, window.length)
                keyRowProducts += Double(end - start) * Double(end)
                start = end
            }
            flops += heads * 4 * keyRowProducts * d
            let mlpProducts: Double = config.features.mlpActivation.isSwiGLU ? 3 : 2  // fc (or gate, up), down
            flops += 2 * rows * c * c + 2 * mlpProducts * rows * c * f     // output projection, MLP
        }
        flops += 2 * Double(window.length - window.scoredFrom) * c * v
        return flops
    }
}
