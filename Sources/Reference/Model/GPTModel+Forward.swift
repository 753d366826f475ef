/// Scored rows sent through the output head at a time: bounds the logits buffer at
/// `headChunkRows × V` floats per thread.
let headChunkRows = 64

extension GPTModel {
    /// One window through the model: `inputs[0..<tokens]` predict `targets[0..<tokens]`; the
    /// negative log-likelihoods of positions `scoredFrom..<tokens` land in `workspace.nll`, and the
    /// (softcapped) logits of the last chunk of up to `headChunkRows` scored rows in `workspace.logits`.
    ///
    /// The last block computes its queries, attention and MLP only for the scored rows (keys and
    /// values for all), and the head only for them: the same numbers as the full pass, less work.
    /// Token ids must already be checked against the vocabulary (the evaluator does).
    func forward(
        inputs: UnsafePointer<UInt16>, targets: UnsafePointer<UInt16>, tokens: Int, scoredFrom: Int,
        workspace w: ForwardWorkspace
    ) {
        precondition(tokens > 0 && tokens <= w.maxTokens && tokens <= rotary.positions)
        precondition(scoredFrom >= 0 && scoredFrom < tokens)
        let c = config.modelDim, vocab = config.vocabSize

        // Embedding, then rms_norm; x0 keeps the result for every block's residual mix.
        for t in 0..<tokens {
            (w.x + t * c).update(from: tokenEmbedding + Int(inputs[t]) * c, count: c)
        }
        rmsNorm(out: w.x, input: w.x, rows: tokens, width: c, eps: rmsEps)
        w.x0.update(from: w.x, count: tokens * c)

        let encoder = encoderLayers
        var pushed = 0
        rotary.cos.withUnsafeBufferPointer { cosTable in
            rotary.sin.withUnsafeBufferPointer { sinTable in
                let depth = effectiveDepth
                for index in 0..<depth {
                    // Whole-stack passes reuse the blocks in order: effective layer index = pass · L + block.
                    let layer = layers[index % layers.count]
                    if index >= encoder, pushed > 0 {
                        // Decoder block i reuses the skips in reverse order: x += skip_weights[i] · skip.
                        pushed -= 1
                        addScaled(w.x, w.skips + pushed * w.maxTokens * c,
                                  scale: skipWeights + (index - encoder) * c, rows: tokens, width: c)
                    }
                    let firstRow = index == depth - 1 ? scoredFrom : 0
                    block(layer, adapter: adapters.isEmpty ? nil : adapters[index], tokens: tokens, firstRow: firstRow,
                          workspace: w, cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                    if index < encoder, pushed < skipCount {
                        (w.skips + pushed * w.maxTokens * c).update(from: w.x, count: tokens * c)
                        pushed += 1
                    }
                }
            }
        }

        // Final norm, head, softcap and cross-entropy for the scored rows only, the head in chunks
        // of rows so the logits stay small (and in cache) whatever the vocabulary.
        let scored = tokens - scoredFrom
        rmsNorm(out: w.normed, input: w.x + scoredFrom * c, rows: scored, width: c, eps: rmsEps)
        var chunkStart = 0
        while chunkStart < scored {
            let rows = min(headChunkRows, scored - chunkStart)
            linear(out: w.logits, input: w.normed + chunkStart * c, weight: head,
                   rows: rows, inFeatures: c, outFeatures: vocab)
            if let softcap { Reference.softcap(w.logits, count: rows * vocab, cap: softcap) }
            for r in 0..<rows {
                let position = scoredFrom + chunkStart + r
                w.nll[position] = crossEntropy(logits: w.logits + r * vocab, count: vocab,
                                               target: Int(targets[position]), scratch: w.vocabularyRow)
            }
            chunkStart += rows
        }
    }

    /// One `Block.forward`: residual mix with x0, attention, MLP; rows before `firstRow` of the
    /// output are left stale (only their keys and values are needed).
    private func block(
        _ layer: Layer, adapter: Adapter?, tokens: Int, firstRow: Int, workspace w: ForwardWorkspace,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        let c = config.modelDim, heads = config.numHeads, kvHeads = config.numKVHeads
        let d = config.headDim, f = config.mlpHidden, qkvWidth = self.qkvWidth

        // x = mix[0]·x + mix[1]·x0
        let mixX = layer.residualMix, mixX0 = layer.residualMix + c
        for t in 0..<tokens {
            let x = w.x + t * c, x0 = w.x0 + t * c
            for i in 0..<c { x[i] = mixX[i] * x[i] + mixX0[i] * x0[i] }
        }

        // Attention: fused q/k/v, per-head rms_norm of q and k, rotary, q_gain.
        rmsNorm(out: w.normed, input: w.x, rows: tokens, width: c, eps: rmsEps)
        linear(out: w.qkv, input: w.normed, weight: layer.qkv, rows: tokens, inFeatures: c, outFeatures: qkvWidth)
        if let adapter {
            // q, k, v += (x @ A) @ B, this pass's low-rank updates.
            let kvWidth = kvHeads * d
            for (a, b, offset, width) in [(adapter.qA, adapter.qB, 0, c), (adapter.kA, adapter.kB, c, kvWidth),
                                          (adapter.vA, adapter.vB, c + kvWidth, kvWidth)] {
                addLowRank(out: w.qkv + offset, ldOut: qkvWidth, input: w.normed, rows: tokens, inFeatures: c,
                           a: a, b: b, outFeatures: width)
            }
        }
        let queryRows = tokens - firstRow
        let q = w.qkv + firstRow * qkvWidth
        let k = w.qkv + c, v = w.qkv + c + kvHeads * d
        for h in 0..<heads {
            rmsNorm(out: q + h * d, input: q + h * d, rows: queryRows, width: d, stride: qkvWidth, eps: Float.ulpOfOne)
        }
        for g in 0..<kvHeads {
            rmsNorm(out: k + g * d, input: k + g * d, rows: tokens, width: d, stride: qkvWidth, eps: Float.ulpOfOne)
        }
        applyRotary(q, rows: queryRows, firstPosition: firstRow, rowStride: qkvWidth,
                    heads: heads, headDim: d, cos: cos, sin: sin)
        applyRotary(k, rows: tokens, firstPosition: 0, rowStride: qkvWidth,
                    heads: kvHeads, headDim: d, cos: cos, sin: sin)
        for t in 0..<queryRows {
            let row = q + t * qkvWidth
            for h in 0..<heads {
                let gain = layer.queryGain[h]
                for i in 0..<d { row[h * d + i] *= gain }
            }
        }
        causalAttention(out: w.attention, ldOut: c, q: w.qkv, ldq: qkvWidth, k: k, v: v, ldkv: qkvWidth,
                        tokens: tokens, firstRow: firstRow, heads: heads, kvHeads: kvHeads, headDim: d,
                        scratch: w.scores)
        let x = w.x + firstRow * c
        linear(out: w.projected, input: w.attention + firstRow * c, weight: layer.attentionProjection,
               rows: queryRows, inFeatures: c, outFeatures: c)
        if let adapter {
            addLowRank(out: w.projected, ldOut: c, input: w.attention + firstRow * c, rows: queryRows, inFeatures: c,
                       a: adapter.projA, b: adapter.projB, outFeatures: c)
        }
        addScaled(x, w.projected, scale: layer.attentionScale, rows: queryRows, width: c)

        // MLP: proj(act(fc(rms_norm(x)))), act relu² (baseline) or the configured activation;
        // SwiGLU: proj(silu(gate(x))·up(x)).
        rmsNorm(out: w.normed, input: x, rows: queryRows, width: c, eps: rmsEps)
        linear(out: w.hidden, input: w.normed, weight: layer.fc, rows: queryRows, inFeatures: c, outFeatures: f)
        if let up = layer.up, let upHidden = w.upHidden {
            linear(out: upHidden, input: w.normed, weight: up, rows: queryRows, inFeatures: c, outFeatures: f)
        }
        activateMLP(w.hidden, count: queryRows * f, config.features.mlpActivation, up: w.upHidden)
        linear(out: w.projected, input: w.hidden, weight: layer.mlpProjection, rows: queryRows, inFeatures: f, outFeatures: c)
        addScaled(x, w.projected, scale: layer.mlpScale, rows: queryRows, width: c)
    }

    /// `out += (input @ A) @ B` for `rows` rows: A `[in, r]`, B `[r, out]` (row-major, as the
    /// record's `AttentionLoRA` holds them).
    private func addLowRank(
        out: UnsafeMutablePointer<Float>, ldOut: Int, input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, outFeatures: Int
    ) {
        guard let rank = config.features.stackLoops?.loraRank, rank > 0, rows > 0 else { return }
        var hidden = [Float](repeating: 0, count: rows * rank)
        hidden.withUnsafeMutableBufferPointer { h in
            BLAS.sgemm(m: rows, n: rank, k: inFeatures, a: input, lda: inFeatures, b: a, ldb: rank,
                       c: h.baseAddress!, ldc: rank)
            BLAS.sgemm(m: rows, n: outFeatures, k: rank, a: h.baseAddress!, lda: rank, b: b, ldb: outFeatures,
                       beta: 1, c: out, ldc: ldOut)
        }
    }
}
