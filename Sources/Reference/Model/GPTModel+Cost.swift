extension GPTModel {
    /// Floating-point operations (2 per multiply-add) the sgemm calls of one ``forward`` perform on
    /// `window`, counted exactly as the forward issues them (causal blocks, scored-rows-only last
    /// block and head). Used by the benchmark to express speed as a share of sgemm peak.
    public func sgemmFlops(window: EvalWindow) -> Double {
        let t = Double(window.length), c = Double(config.modelDim), d = Double(config.headDim)
        let f = Double(config.mlpHidden), v = Double(config.vocabSize), heads = Double(config.numHeads)
        var flops = 0.0
        for index in 0..<config.numLayers {
            let firstRow = index == config.numLayers - 1 ? window.scoredFrom : 0
            let rows = t - Double(firstRow)
            flops += 2 * t * c * Double(qkvWidth)
            var keyRowProducts = 0.0  // Σ over blocks of rows·keys
            var start = firstRow
            while start < window.length {
                let end = min(start + attentionBlockRows, window.length)
                keyRowProducts += Double(end - start) * Double(end)
                start = end
            }
            flops += heads * 4 * keyRowProducts * d
            flops += 2 * rows * c * c + 2 * Double(config.features.mlpActivation.isSwiGLU ? 3 : 2) * rows * c * f
        }
        flops += 2 * Double(window.length - window.scoredFrom) * c * v
        return flops
    }
}
