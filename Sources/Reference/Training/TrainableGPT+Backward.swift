extension TrainableGPT {
    /// Adds to ``gradients`` the gradient of the mean loss of the last ``forward(inputs:targets:sequences:length:cache:)``
    /// on `cache` (as `loss.backward()` after the baseline's `forward`).
    ///
    /// It consumes the cache (the logits become their gradients): one backward per forward.
    /// Blocks below `weightGradientsFrom` get no weight gradients (frozen: their data gradients still
    /// flow through to the embedding); their gradient entries are left as they were.
    /// With LoRA adapters in the forward, their gradients accumulate in the adapters' buffer.
    /// `rowWeights` (one per row) makes the loss `Σ weightᵣ · lossᵣ` instead of the mean.
    public func backward(_ w: TrainingCache, weightGradientsFrom firstTrainedBlock: Int = 0, rowWeights: [Float]? = nil) {
        precondition(rowWeights == nil || rowWeights!.count == w.rows)
        w.rowWeights = rowWeights
        let n = w.rows, c = config.modelDim, vocab = config.vocabSize
        let p = UnsafePointer(parameters.baseAddress!), g = gradients.baseAddress!

        // Loss → capped logits → head → final norm.
        softcapCrossEntropyBackward(logits: w.logits, targets: w.targets, rows: n, vocab: vocab, cap: softcap,
                                    scale: 1 / Float(n), rowWeights: w.rowWeights)
        linearBackward(dOut: w.logits, input: w.finalNormed, weight: p + layout.head, dWeight: g + layout.head,
                       dInput: w.scratchA, rows: n, inFeatures: c, outFeatures: vocab)
        if let lora = w.lora {
            loraBackward(lora, lora.head, dOut: w.logits, ldDOut: vocab, input: w.finalNormed, saved: w.loraHead,
                         dInput: w.scratchA, rows: n, scratch: w.loraScratch)
        }
        rmsNormBackward(dInput: w.dx, dOut: w.scratchA, input: w.blocks[w.blocks.count - 1].output,
                        reciprocalRMS: w.finalRMS, rows: n, width: c, stride: c, accumulate: false)

        w.dx0.update(repeating: 0, count: n * c)
        w.dSkips.update(repeating: 0, count: skipCount * n * c)
        let encoder = encoderLayers
        for index in stride(from: w.blocks.count - 1, through: 0, by: -1) {
            if index < encoder, index < skipCount {
                // This encoder block's output also fed a decoder skip.
                let dSkip = w.dSkips + index * n * c
                for i in 0..<(n * c) { w.dx[i] += dSkip[i] }
            }
            blockBackward(index, w.blocks[index], cache: w, weightGradients: index >= firstTrainedBlock)
            let decoderIndex = index - encoder
            if decoderIndex >= 0, decoderIndex < skipCount {
                // input = previous + skip_weights[i] · skip
                let source = w.blocks[encoder - 1 - decoderIndex].output
                let weight = p + layout.skipWeights + decoderIndex * c, dWeight = g + layout.skipWeights + decoderIndex * c
                let dSkip = w.dSkips + (encoder - 1 - decoderIndex) * n * c
                for r in 0..<n {
                    for i in 0..<c {
                        let d = w.dx[r * c + i]
                        dWeight[i] += d * source[r * c + i]
                        dSkip[r * c + i] += weight[i] * d
                    }
                }
            }
        }
        // Block 0's input is x0 itself.
        for i in 0..<(n * c) { w.dx0[i] += w.dx[i] }

        // x0 = rms_norm(embedding rows); scatter into the embedding table.
        rmsNormBackward(dInput: w.scratchA, dOut: w.dx0, input: w.embedded, reciprocalRMS: w.embeddingRMS,
                        rows: n, width: c, stride: c, accumulate: false)
        for r in 0..<n {
            let row = g + layout.tokenEmbedding + Int(w.inputs[r]) * c, d = w.scratchA + r * c
            for i in 0..<c { row[i] += d[i] }
        }
    }

    /// Backward of one block: `w.dx` holds the gradient of its output and leaves with that of its
    /// input; `w.dx0` gains the residual mix's share.
    private func blockBackward(_ index: Int, _ b: TrainingCache.BlockCache, cache w: TrainingCache, weightGradients: Bool) {
        let c = config.modelDim, heads = config.numHeads, kvHeads = config.numKVHeads, d = config.headDim
        let f = config.mlpHidden, width = qkvWidth, n = w.rows
        let o = layout.blocks[index], p = UnsafePointer(parameters.baseAddress!), g = gradients.baseAddress!
        func weightGradient(_ offset: Int) -> UnsafeMutablePointer<Float>? { weightGradients ? g + offset : nil }
        let dx = w.dx, dA = w.scratchA, dB = w.scratchB

        // output = afterAttention + mlp_scale · mlpProjected
        scaleBackward(dOut: dx, saved: b.mlpProjected, scale: p + o.mlpScale, dScale: weightGradient(o.mlpScale),
                      dSaved: dA, rows: n, width: c)
        linearBackward(dOut: dA, input: b.hidden, weight: p + o.mlpProjection, dWeight: weightGradient(o.mlpProjection),
                       dInput: w.dHidden, rows: n, inFeatures: f, outFeatures: c)
        reluSquaredBackward(w.dHidden, pre: b.hiddenPre, count: n * f)
        linearBackward(dOut: w.dHidden, input: b.mlpNormed, weight: p + o.fc, dWeight: weightGradient(o.fc),
                       dInput: dB, rows: n, inFeatures: c, outFeatures: f)
        rmsNormBackward(dInput: dx, dOut: dB, input: b.afterAttention, reciprocalRMS: b.mlpRMS,
                        rows: n, width: c, stride: c, accumulate: true)

        // afterAttention = mixed + attn_scale · proj(attention)
        scaleBackward(dOut: dx, saved: b.attentionProjected, scale: p + o.attentionScale,
                      dScale: weightGradient(o.attentionScale), dSaved: dA, rows: n, width: c)
        linearBackward(dOut: dA, input: b.attention, weight: p + o.attentionProjection,
                       dWeight: weightGradient(o.attentionProjection), dInput: dB, rows: n, inFeatures: c, outFeatures: c)
        w.dqkv.update(repeating: 0, count: n * width)
        attentionBackward(dqkv: w.dqkv, dOut: dB, out: b.attention, lse: b.lse, qkv: b.qkv, ldqkv: width,
                          sequences: w.sequences, length: w.length, heads: heads, kvHeads: kvHeads, headDim: d,
                          probabilities: w.scores, dScores: w.dScores)
        // q = rotated · q_gain
        let gain = p + o.queryGain, dGain = g + o.queryGain
        for r in 0..<n {
            let dq = w.dqkv + r * width, saved = b.rotatedQuery + r * c
            for h in 0..<heads {
                var dot: Float = 0
                for i in 0..<d { dot += dq[h * d + i] * saved[h * d + i]; dq[h * d + i] *= gain[h] }
                if weightGradients { dGain[h] += dot }
            }
        }
        rotary.cos.withUnsafeBufferPointer { cosTable in
            rotary.sin.withUnsafeBufferPointer { sinTable in
                rotaryBackward(w.dqkv, rows: n, period: w.length, rowStride: width, heads: heads + kvHeads, headDim: d,
                               cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
            }
        }
        for r in 0..<n {
            for h in 0..<(heads + kvHeads) {
                let column = r * width + (h < heads ? h * d : c + (h - heads) * d)
                rmsNormBackward(dInput: w.dqkv + column, dOut: w.dqkv + column, input: b.qkvRaw + column,
                                reciprocalRMS: b.qkRMS + r * (heads + kvHeads) + h, rows: 1, width: d, stride: d,
                                accumulate: false)
            }
        }
        linearBackward(dOut: w.dqkv, input: b.attentionNormed, weight: p + o.qkv, dWeight: weightGradient(o.qkv),
                       dInput: dA, rows: n, inFeatures: c, outFeatures: width)
        if let lora = w.lora {
            loraBackward(lora, lora.query[index], dOut: w.dqkv, ldDOut: width, input: b.attentionNormed,
                         saved: w.loraQuery[index], dInput: dA, rows: n, scratch: w.loraScratch)
            loraBackward(lora, lora.value[index], dOut: w.dqkv + c + kvHeads * d, ldDOut: width, input: b.attentionNormed,
                         saved: w.loraValue[index], dInput: dA, rows: n, scratch: w.loraScratch)
        }
        rmsNormBackward(dInput: dx, dOut: dA, input: b.mixed, reciprocalRMS: b.attentionRMS,
                        rows: n, width: c, stride: c, accumulate: true)

        // mixed = mix[0] · input + mix[1] · x0
        let mix = p + o.residualMix, dMix = g + o.residualMix
        for r in 0..<n {
            let dRow = dx + r * c, x = b.input + r * c, x0 = w.x0 + r * c, dx0 = w.dx0 + r * c
            for i in 0..<c {
                let dm = dRow[i]
                if weightGradients {
                    dMix[i] += dm * x[i]
                    dMix[c + i] += dm * x0[i]
                }
                dx0[i] += mix[c + i] * dm
                dRow[i] = mix[i] * dm
            }
        }
    }

    /// Backward of ``loraForward``: `dB += dOutᵀ·saved`, `dA += (dOut·B)ᵀ·input`, `dInput += (dOut·B)·A`.
    private func loraBackward(
        _ lora: LoRAAdapters, _ adapter: LoRAAdapters.Adapter, dOut: UnsafePointer<Float>, ldDOut: Int,
        input: UnsafePointer<Float>, saved: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, rows: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let p = UnsafePointer(lora.parameters.baseAddress!), g = lora.gradients.baseAddress!, r = lora.rank
        let inFeatures = adapter.inFeatures, outFeatures = adapter.outFeatures
        BLAS.sgemm(m: outFeatures, n: r, k: rows, a: dOut, lda: ldDOut, transposeA: true, b: saved, ldb: r,
                   beta: 1, c: g + adapter.b, ldc: r)
        BLAS.sgemm(m: rows, n: r, k: outFeatures, a: dOut, lda: ldDOut, b: p + adapter.b, ldb: r, c: scratch, ldc: r)
        BLAS.sgemm(m: r, n: inFeatures, k: rows, a: scratch, lda: r, transposeA: true, b: input, ldb: inFeatures,
                   beta: 1, c: g + adapter.a, ldc: inFeatures)
        BLAS.sgemm(m: rows, n: inFeatures, k: r, a: scratch, lda: r, b: p + adapter.a, ldb: inFeatures,
                   beta: 1, c: dInput, ldc: inFeatures)
    }

    /// Backward of `y = base + scale ⊙ saved` for the `saved` branch: `dScale += Σ dOut ⊙ saved`
    /// (per channel), `dSaved = scale ⊙ dOut`.
    private func scaleBackward(
        dOut: UnsafePointer<Float>, saved: UnsafePointer<Float>, scale: UnsafePointer<Float>,
        dScale: UnsafeMutablePointer<Float>?, dSaved: UnsafeMutablePointer<Float>, rows: Int, width: Int
    ) {
        for r in 0..<rows {
            for i in 0..<width {
                let d = dOut[r * width + i]
                dScale?[i] += d * saved[r * width + i]
                dSaved[r * width + i] = scale[i] * d
            }
        }
    }
}
