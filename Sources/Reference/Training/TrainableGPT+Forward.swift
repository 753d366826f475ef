extension TrainableGPT {
    /// `GPT.forward` on `sequences` sequences of `length` tokens (`inputs` predict `targets`, both
    /// `sequences × length`, row-major), saving every activation the backward needs in `cache`.
    /// Returns the mean loss (what the baseline's `forward` returns); per-token losses are in
    /// `cache.losses`. Token ids must be below the vocabulary size (callers check).
    ///
    /// With `lora`, its adapters add to every block's q and v projections and to the head's logits
    /// (before the softcap), as `GPT.forward(..., lora=...)` of record 2026-03-17_LoRA_TTT; `cache`
    /// must then have been made with the adapters' rank.
    @discardableResult
    public func forward(
        inputs: UnsafePointer<UInt16>, targets: UnsafePointer<UInt16>, sequences: Int, length: Int,
        cache w: TrainingCache, lora: LoRAAdapters? = nil
    ) -> Double {
        let n = sequences * length
        precondition(sequences > 0 && length > 0 && n <= w.maxRows && length <= w.maxLength && length <= rotary.positions)
        precondition(lora == nil || lora!.rank == w.loraRank, "cache made for another LoRA rank")
        w.sequences = sequences
        w.length = length
        w.lora = lora
        w.rowWeights = nil
        w.inputs.update(from: inputs, count: n)
        w.targets.update(from: targets, count: n)
        let c = config.modelDim, p = UnsafePointer(parameters.baseAddress!)

        for r in 0..<n { (w.embedded + r * c).update(from: p + layout.tokenEmbedding + Int(inputs[r]) * c, count: c) }
        rmsNormForward(out: w.x0, input: w.embedded, reciprocalRMS: w.embeddingRMS, rows: n, width: c, stride: c, eps: rmsEps)

        let encoder = encoderLayers
        for (index, block) in w.blocks.enumerated() {
            let previous = index == 0 ? UnsafePointer(w.x0) : UnsafePointer(w.blocks[index - 1].output)
            block.input.update(from: previous, count: n * c)
            let decoderIndex = index - encoder
            if decoderIndex >= 0, decoderIndex < skipCount {
                addScaled(block.input, w.blocks[encoder - 1 - decoderIndex].output,
                          scale: p + layout.skipWeights + decoderIndex * c, rows: n, width: c)
            }
            blockForward(index, block, cache: w)
        }

        let last = w.blocks[w.blocks.count - 1].output
        rmsNormForward(out: w.finalNormed, input: last, reciprocalRMS: w.finalRMS, rows: n, width: c, stride: c, eps: rmsEps)
        linear(out: w.logits, input: w.finalNormed, weight: p + layout.head, rows: n, inFeatures: c, outFeatures: config.vocabSize)
        if let lora { loraForward(lora, lora.head, input: w.finalNormed, saved: w.loraHead, out: w.logits, ldOut: config.vocabSize, rows: n) }
        softcapCrossEntropyForward(logits: w.logits, targets: w.targets, nll: w.nll, rows: n, vocab: config.vocabSize,
                                   cap: softcap, scratch: w.vocabularyRow)
        var total = 0.0
        for r in 0..<n { total += Double(w.nll[r]) }
        return total / Double(n)
    }

    /// One `Block.forward` over all rows of the batch.
    private func blockForward(_ index: Int, _ b: TrainingCache.BlockCache, cache w: TrainingCache) {
        let c = config.modelDim, heads = config.numHeads, kvHeads = config.numKVHeads, d = config.headDim
        let f = config.mlpHidden, width = qkvWidth, n = w.rows
        let o = layout.blocks[index], p = UnsafePointer(parameters.baseAddress!)
        let mix = p + o.residualMix
        for r in 0..<n {
            let x = b.input + r * c, x0 = w.x0 + r * c, y = b.mixed + r * c
            for i in 0..<c { y[i] = mix[i] * x[i] + mix[c + i] * x0[i] }
        }
        rmsNormForward(out: b.attentionNormed, input: b.mixed, reciprocalRMS: b.attentionRMS, rows: n, width: c, stride: c, eps: rmsEps)
        linear(out: b.qkvRaw, input: b.attentionNormed, weight: p + o.qkv, rows: n, inFeatures: c, outFeatures: width)
        if let lora = w.lora {
            loraForward(lora, lora.query[index], input: b.attentionNormed, saved: w.loraQuery[index], out: b.qkvRaw,
                        ldOut: width, rows: n)
            loraForward(lora, lora.value[index], input: b.attentionNormed, saved: w.loraValue[index],
                        out: b.qkvRaw + c + kvHeads * d, ldOut: width, rows: n)
        }
        b.qkv.update(from: b.qkvRaw, count: n * width)
        // Per-head q/k norms (F.rms_norm default eps), 1/rms kept per (row, head).
        for r in 0..<n {
            for h in 0..<(heads + kvHeads) {
                let column = h < heads ? h * d : c + (h - heads) * d
                rmsNormForward(out: b.qkv + r * width + column, input: b.qkvRaw + r * width + column,
                               reciprocalRMS: b.qkRMS + r * (heads + kvHeads) + h, rows: 1, width: d, stride: d, eps: Float.ulpOfOne)
            }
        }
        rotary.cos.withUnsafeBufferPointer { cosTable in
            rotary.sin.withUnsafeBufferPointer { sinTable in
                for s in 0..<w.sequences {
                    let rows = b.qkv + s * w.length * width
                    applyRotary(rows, rows: w.length, firstPosition: 0, rowStride: width, heads: heads + kvHeads,
                                headDim: d, cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                }
            }
        }
        let gain = p + o.queryGain
        for r in 0..<n {
            let row = b.qkv + r * width, saved = b.rotatedQuery + r * c
            saved.update(from: row, count: c)
            for h in 0..<heads { for i in 0..<d { row[h * d + i] *= gain[h] } }
        }
        attentionForward(out: b.attention, lse: b.lse, qkv: b.qkv, ldqkv: width, sequences: w.sequences,
                         length: w.length, heads: heads, kvHeads: kvHeads, headDim: d, scores: w.scores)
        linear(out: b.attentionProjected, input: b.attention, weight: p + o.attentionProjection, rows: n, inFeatures: c, outFeatures: c)
        b.afterAttention.update(from: b.mixed, count: n * c)
        addScaled(b.afterAttention, b.attentionProjected, scale: p + o.attentionScale, rows: n, width: c)

        rmsNormForward(out: b.mlpNormed, input: b.afterAttention, reciprocalRMS: b.mlpRMS, rows: n, width: c, stride: c, eps: rmsEps)
        linear(out: b.hiddenPre, input: b.mlpNormed, weight: p + o.fc, rows: n, inFeatures: c, outFeatures: f)
        reluSquaredForward(out: b.hidden, pre: b.hiddenPre, count: n * f)
        linear(out: b.mlpProjected, input: b.hidden, weight: p + o.mlpProjection, rows: n, inFeatures: f, outFeatures: c)
        b.output.update(from: b.afterAttention, count: n * c)
        addScaled(b.output, b.mlpProjected, scale: p + o.mlpScale, rows: n, width: c)
    }

    /// `out[:, 0..<outFeatures] += (input·Aᵀ)·Bᵀ`, keeping `input·Aᵀ` (`[rows, r]`) in `saved`.
    private func loraForward(
        _ lora: LoRAAdapters, _ adapter: LoRAAdapters.Adapter, input: UnsafePointer<Float>,
        saved: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, ldOut: Int, rows: Int
    ) {
        let p = UnsafePointer(lora.parameters.baseAddress!), r = lora.rank
        BLAS.sgemm(m: rows, n: r, k: adapter.inFeatures, a: input, lda: adapter.inFeatures,
                   b: p + adapter.a, ldb: adapter.inFeatures, transposeB: true, c: saved, ldc: r)
        BLAS.sgemm(m: rows, n: adapter.outFeatures, k: r, a: saved, lda: r, b: p + adapter.b, ldb: r, transposeB: true,
                   beta: 1, c: out, ldc: ldOut)
    }
}
