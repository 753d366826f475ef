import Foundation

extension FamilyGPTModel {
    /// The final-normed hidden states `[n, C]` of one attention segment: `tokens[0..<n]` sit at
    /// flat positions `firstPosition…` of the eval batch (the rotary positions), attention stays
    /// inside the segment, and `previousToken` is the token just before the segment in the batch
    /// (SmearGate reads its embedding; `nil` at the start of a batch).
    func hidden(tokens: UnsafeBufferPointer<UInt16>, previousToken: UInt16?, firstPosition: Int) -> [Float] {
        let n = tokens.count, c = config.modelDim
        precondition(n > 0 && firstPosition + n <= rotary.positions)
        var x = [Float](repeating: 0, count: n * c)
        x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            for t in 0..<n { (x + t * c).update(from: tokenEmbedding + Int(tokens[t]) * c, count: c) }
            if let bigram = config.features.bigramHash { addBigramHash(bigram, tokens: tokens, to: x) }
            if let smear = config.features.smearGate, let gate = smearGate, let lambda = smearLambda {
                // x_t += λ·σ(W·x_t[:w])·x_{t−1} from the raw embeddings (a fresh copy per row, back to front).
                for t in stride(from: n - 1, through: 0, by: -1) {
                    let previous: UnsafePointer<Float>
                    if t > 0 { previous = UnsafePointer(x + (t - 1) * c) }
                    else if let token = previousToken { previous = tokenEmbedding + Int(token) * c }
                    else { continue }
                    if let reset = smear.resetToken, Int(tokens[t]) == reset { continue }
                    let row = x + t * c
                    var z: Float = 0
                    for i in 0..<smear.window { z += gate[i] * row[i] }
                    let g = lambda[0] * sigmoid(z)
                    for i in 0..<c { row[i] += g * previous[i] }
                }
            }
            rmsNorm(out: x, input: x, rows: n, width: c, eps: rmsEps)
            if let gate = channelSmear {
                // March SmearGate(dim): x_t = (1 − σ(g))·x_t + σ(g)·x_{t−1}, x_{−1} = 0; back to front.
                for t in stride(from: n - 1, through: 0, by: -1) {
                    for i in 0..<c {
                        let g = sigmoid(gate[i])
                        let previous: Float = t > 0 ? x[(t - 1) * c + i] : 0
                        x[t * c + i] = (1 - g) * x[t * c + i] + g * previous
                    }
                }
            }
        }
        let x0 = x
        let values = valueEmbeddingRows(tokens)
        var skips: [[Float]] = []
        for i in encoderSchedule {
            block(i, x: &x, x0: x0, rows: n, firstPosition: firstPosition, values: values)
            skips.append(x)
        }
        var lanes: (attention: [Float], mlp: [Float])?
        let parallelStart = config.features.parallelResiduals?.startLayer ?? 0
        for (skipIndex, i) in decoderSchedule.enumerated() {
            let parallel = config.features.parallelResiduals != nil && parallelStart > 0 && i >= parallelStart
            if parallel {
                if lanes == nil { lanes = (x, x) }
                if skipIndex < skipCount, let skip = skips.popLast() {
                    applySkip(skipIndex, skip: skip, to: &lanes!.attention, rows: n)
                }
                parallelBlock(i, lanes: &lanes!, x0: x0, rows: n, firstPosition: firstPosition, values: values)
            } else {
                if skipIndex < skipCount, let skip = skips.popLast() {
                    applySkip(skipIndex, skip: skip, to: &x, rows: n)
                }
                block(i, x: &x, x0: x0, rows: n, firstPosition: firstPosition, values: values)
            }
        }
        if let lanes {
            switch config.features.parallelResiduals?.finalLane ?? .mean {
            case .attention: x = lanes.attention
            case .mlp: x = lanes.mlp
            case .mean: for j in 0..<x.count { x[j] = 0.5 * (lanes.attention[j] + lanes.mlp[j]) }
            }
        }
        x.withUnsafeMutableBufferPointer { rmsNorm(out: $0.baseAddress!, input: $0.baseAddress!, rows: n, width: c, eps: rmsEps) }
        return x
    }

    /// Softcapped logits `[rows, V]` of hidden rows `[rows, C]`.
    func logits(hidden: UnsafePointer<Float>, rows: Int, out: UnsafeMutablePointer<Float>) {
        let v = config.vocabSize
        linear(out: out, input: hidden, weight: head, rows: rows, inFeatures: config.modelDim, outFeatures: v)
        if let softcap { Reference.softcap(out, count: rows * v, cap: softcap) }
    }

    /// Cross-entropy of hidden rows `rows` (of `[n, C]`) against `target(row)`, the head applied in
    /// chunks of ``headChunkRows`` rows (one sgemm each); `body(row, nll)` is called in row order.
    func scoreRows<E: Error>(
        hidden: [Float], rows: Range<Int>, _ body: (Int, Float) throws(E) -> Void, target: (Int) -> Int
    ) throws(E) {
        let v = config.vocabSize, c = config.modelDim
        var logits = [Float](repeating: 0, count: headChunkRows * v)
        var scratch = [Float](repeating: 0, count: v)
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(headChunkRows, rows.upperBound - start)
            hidden.withUnsafeBufferPointer { hb in
                logits.withUnsafeMutableBufferPointer { lb in
                    self.logits(hidden: hb.baseAddress! + start * c, rows: count, out: lb.baseAddress!)
                }
            }
            for r in 0..<count {
                let nll = logits.withUnsafeBufferPointer { lb in
                    scratch.withUnsafeMutableBufferPointer { sb in
                        crossEntropy(logits: lb.baseAddress! + r * v, count: v, target: target(start + r),
                                     scratch: sb.baseAddress!)
                    }
                }
                try body(start + r, nll)
            }
            start += count
        }
    }

    /// Softcapped logits `[n, V]` of one segment (see ``hidden(tokens:previousToken:firstPosition:)``).
    public func logits(segment tokens: [UInt16], previousToken: UInt16?, firstPosition: Int) -> [Float] {
        let h = tokens.withUnsafeBufferPointer { hidden(tokens: $0, previousToken: previousToken, firstPosition: firstPosition) }
        var out = [Float](repeating: 0, count: tokens.count * config.vocabSize)
        h.withUnsafeBufferPointer { hb in
            out.withUnsafeMutableBufferPointer { logits(hidden: hb.baseAddress!, rows: tokens.count, out: $0.baseAddress!) }
        }
        return out
    }

    /// U-Net skip: `x + w·skip`, or with skip gates `lerp(w·skip, x, σ(g))`.
    private func applySkip(_ index: Int, skip: [Float], to x: inout [Float], rows: Int) {
        let c = config.modelDim
        guard let weights = skipWeights else { return }
        let w = weights + index * c
        let gates = skipGates.map { $0 + index * c }
        for t in 0..<rows {
            for i in 0..<c {
                let j = t * c + i
                let scaled = w[i] * skip[j]
                if let gates {
                    x[j] = lerp(scaled, x[j], sigmoid(gates[i]))
                } else {
                    x[j] += scaled
                }
            }
        }
    }

    /// `Block.forward`: residual mix with x0, attention then MLP on the updated stream.
    private func block(_ i: Int, x: inout [Float], x0: [Float], rows: Int, firstPosition: Int, values: [Float]?) {
        let layer = layers[i], c = config.modelDim
        let mixX = layer.residualMix, mixX0 = layer.residualMix + c
        for t in 0..<rows {
            for j in 0..<c { x[t * c + j] = mixX[j] * x[t * c + j] + mixX0[j] * x0[t * c + j] }
        }
        let attention = attend(layer, input: normalised(x, rows: rows, scale: layer.normScale), rows: rows,
                               firstPosition: firstPosition, values: valueLayerScale[i].flatMap { s in values.map { ($0, s) } })
        for t in 0..<rows { for j in 0..<c { x[t * c + j] += layer.attentionScale[j] * attention[t * c + j] } }
        let mlp = feedForward(layer, input: normalised(x, rows: rows, scale: layer.normScale), rows: rows)
        for t in 0..<rows { for j in 0..<c { x[t * c + j] += layer.mlpScale[j] * mlp[t * c + j] } }
    }

    /// The records' `_parallel_block`: attention reads the mixed attention lane, the MLP reads the
    /// MLP lane, and both lanes take both outputs through `parallel_post_lambdas`.
    private func parallelBlock(
        _ i: Int, lanes: inout (attention: [Float], mlp: [Float]), x0: [Float], rows: Int, firstPosition: Int,
        values: [Float]?
    ) {
        let layer = layers[i], c = config.modelDim
        guard let post = parallelPostLambdas.map({ $0 + i * 4 }), let resid = parallelResidLambdas.map({ $0 + i * 2 })
        else { return }
        var read = lanes.attention
        let mixX = layer.residualMix, mixX0 = layer.residualMix + c
        for t in 0..<rows {
            for j in 0..<c { read[t * c + j] = mixX[j] * lanes.attention[t * c + j] + mixX0[j] * x0[t * c + j] }
        }
        let attention = attend(layer, input: normalised(read, rows: rows, scale: layer.normScale), rows: rows,
                               firstPosition: firstPosition, values: valueLayerScale[i].flatMap { s in values.map { ($0, s) } })
        let mlp = feedForward(layer, input: normalised(lanes.mlp, rows: rows, scale: layer.normScale), rows: rows)
        let attentionResid = resid[0], mlpResid = resid[1]
        for t in 0..<rows {
            for j in 0..<c {
                let k = t * c + j
                let a = layer.attentionScale[j] * attention[k], m = layer.mlpScale[j] * mlp[k]
                lanes.attention[k] = attentionResid * lanes.attention[k] + post[0] * a + post[2] * m
                lanes.mlp[k] = mlpResid * lanes.mlp[k] + post[1] * a + post[3] * m
            }
        }
    }

    /// `rms_norm(x) · scale` (the records' `norm(x) * ln_scale_factor`).
    private func normalised(_ x: [Float], rows: Int, scale: Float) -> [Float] {
        var out = x
        out.withUnsafeMutableBufferPointer { b in
            rmsNorm(out: b.baseAddress!, input: b.baseAddress!, rows: rows, width: config.modelDim, eps: rmsEps)
            if scale != 1 { for j in 0..<b.count { b[j] *= scale } }
        }
        return out
    }

    /// `CausalSelfAttention.forward` on normalised input `[rows, C]`: q/k/v, per-head rms_norm,
    /// (partial) RoPE, q_gain, causal attention, XSA, the output gate, the output projection.
    private func attend(_ layer: Layer, input: [Float], rows: Int, firstPosition: Int,
                        values extra: (rows: [Float], scale: Float)?) -> [Float] {
        let c = config.modelDim, heads = config.numHeads, kvHeads = config.numKVHeads, d = headDim
        let kvWidth = kvHeads * d, rd = ropeDims
        var qRaw = [Float](repeating: 0, count: rows * c)
        var k = [Float](repeating: 0, count: rows * kvWidth)
        var v = [Float](repeating: 0, count: rows * kvWidth)
        var y = [Float](repeating: 0, count: rows * c)
        var out = [Float](repeating: 0, count: rows * c)
        var scratch = [Float](repeating: 0, count: causalAttentionScratchCount(maxTokens: rows))
        input.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            qRaw.withUnsafeMutableBufferPointer { linear(out: $0.baseAddress!, input: x, weight: layer.q, rows: rows, inFeatures: c, outFeatures: c) }
            k.withUnsafeMutableBufferPointer { linear(out: $0.baseAddress!, input: x, weight: layer.k, rows: rows, inFeatures: c, outFeatures: kvWidth) }
            v.withUnsafeMutableBufferPointer { linear(out: $0.baseAddress!, input: x, weight: layer.v, rows: rows, inFeatures: c, outFeatures: kvWidth) }
        }
        if let extra {
            // Value embeddings: v += ve_layer_scale · (scale · proj(embed[x_t])).
            for j in 0..<(rows * kvWidth) { v[j] += extra.rows[j] * extra.scale }
        }
        var q = qRaw
        rotary.cos.withUnsafeBufferPointer { cosTable in
            rotary.sin.withUnsafeBufferPointer { sinTable in
                q.withUnsafeMutableBufferPointer { qb in
                    k.withUnsafeMutableBufferPointer { kb in
                        let qp = qb.baseAddress!, kp = kb.baseAddress!
                        rmsNorm(out: qp, input: qp, rows: rows * heads, width: d)
                        rmsNorm(out: kp, input: kp, rows: rows * kvHeads, width: d)
                        for h in 0..<heads {
                            applyRotary(qp + h * d, rows: rows, firstPosition: firstPosition, rowStride: c,
                                        heads: 1, headDim: rd, cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                        }
                        for g in 0..<kvHeads {
                            applyRotary(kp + g * d, rows: rows, firstPosition: firstPosition, rowStride: kvWidth,
                                        heads: 1, headDim: rd, cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                        }
                        for t in 0..<rows {
                            for h in 0..<heads {
                                let gain = layer.queryGain[h]
                                for i in 0..<d { qp[t * c + h * d + i] *= gain }
                            }
                        }
                    }
                }
            }
        }
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    y.withUnsafeMutableBufferPointer { yb in
                        scratch.withUnsafeMutableBufferPointer { sb in
                            causalAttention(out: yb.baseAddress!, ldOut: c, q: qb.baseAddress!, ldq: c,
                                            k: kb.baseAddress!, v: vb.baseAddress!, ldkv: kvWidth,
                                            tokens: rows, firstRow: 0, heads: heads, kvHeads: kvHeads,
                                            headDim: d, scratch: sb.baseAddress!)
                        }
                    }
                }
            }
        }
        if layer.exclusiveSelfAttention {
            // XSA: remove from each head's output its component along the token's own unit value.
            let group = heads / kvHeads
            for t in 0..<rows {
                for g in 0..<kvHeads {
                    var norm: Float = 0
                    for i in 0..<d { norm += v[t * kvWidth + g * d + i] * v[t * kvWidth + g * d + i] }
                    let inverse = 1 / max(norm.squareRoot(), 1e-12)
                    for h in (g * group)..<((g + 1) * group) {
                        var dot: Float = 0
                        for i in 0..<d { dot += y[t * c + h * d + i] * (v[t * kvWidth + g * d + i] * inverse) }
                        for i in 0..<d { y[t * c + h * d + i] -= dot * (v[t * kvWidth + g * d + i] * inverse) }
                    }
                }
            }
        }
        if let gate = layer.attentionGate {
            let (window, source, scale, doubled): (Int, [Float], Float, Bool)
            switch config.features.attentionGate {
            case .none: (window, source, scale, doubled) = (0, input, 1, false)
            case .outputGate(let w, let src): (window, source, scale, doubled) = (w, src == .queryProjection ? qRaw : input, 1, true)
            case .dense: (window, source, scale, doubled) = (c, input, 1, false)
            case .sparse(let w, let s): (window, source, scale, doubled) = (w, input, Float(s), false)
            }
            for t in 0..<rows {
                for h in 0..<heads {
                    var z: Float = 0
                    for i in 0..<window { z += gate[h * window + i] * source[t * c + i] }
                    let g = doubled ? 2 * sigmoid(z) : sigmoid(scale * z)
                    for i in 0..<d { y[t * c + h * d + i] *= g }
                }
            }
        }
        y.withUnsafeBufferPointer { yb in
            out.withUnsafeMutableBufferPointer {
                linear(out: $0.baseAddress!, input: yb.baseAddress!, weight: layer.projection, rows: rows, inFeatures: c, outFeatures: c)
            }
        }
        return out
    }

    /// `MLP.forward`: down(act(up(x))), with the optional scalar output gate.
    private func feedForward(_ layer: Layer, input: [Float], rows: Int) -> [Float] {
        let c = config.modelDim, f = config.mlpHidden
        var hidden = [Float](repeating: 0, count: rows * f)
        var out = [Float](repeating: 0, count: rows * c)
        input.withUnsafeBufferPointer { xb in
            hidden.withUnsafeMutableBufferPointer { hb in
                linear(out: hb.baseAddress!, input: xb.baseAddress!, weight: layer.fc, rows: rows, inFeatures: c, outFeatures: f)
                activateMLP(hb.baseAddress!, count: rows * f, config.features.mlpActivation)
                out.withUnsafeMutableBufferPointer {
                    linear(out: $0.baseAddress!, input: hb.baseAddress!, weight: layer.mlpProjection, rows: rows, inFeatures: f, outFeatures: c)
                }
            }
        }
        if let gate = layer.mlpGate, let window = config.features.mlpOutputGateWindow {
            for t in 0..<rows {
                var z: Float = 0
                for i in 0..<window { z += gate[i] * input[t * c + i] }
                let g = 2 * sigmoid(z)
                for j in 0..<c { out[t * c + j] *= g }
            }
        }
        return out
    }

    /// BigramHash: `x_t += scale · proj(embed[hash_t])` (and the trigram term), positions counted
    /// from the window's first token, in int32 arithmetic like the records' `bigram_hash`.
    private func addBigramHash(_ bigram: ArchitectureFeatures.BigramHash, tokens: UnsafeBufferPointer<UInt16>,
                               to x: UnsafeMutablePointer<Float>) {
        guard let table = bigramEmbedding else { return }
        let c = config.modelDim, n = tokens.count, modulus = Int32(bigram.vocab - 1)
        var rows = [Float](repeating: 0, count: n * bigram.dim)
        for t in 0..<n {
            let current = Int32(tokens[t])
            let bigramIndex = t >= 1 ? ((36313 &* current) ^ (27191 &* Int32(tokens[t - 1]))) % modulus : modulus
            for i in 0..<bigram.dim { rows[t * bigram.dim + i] = table[Int(bigramIndex) * bigram.dim + i] }
            if bigram.trigram {
                let trigramIndex = t >= 2
                    ? ((36313 &* current) ^ (27191 &* Int32(tokens[t - 1])) ^ (51497 &* Int32(tokens[t - 2]))) % modulus
                    : modulus
                for i in 0..<bigram.dim { rows[t * bigram.dim + i] += table[Int(trigramIndex) * bigram.dim + i] }
            }
        }
        var projected = rows
        if let projection = bigramProjection {
            projected = [Float](repeating: 0, count: n * c)
            rows.withUnsafeBufferPointer { rb in
                projected.withUnsafeMutableBufferPointer {
                    linear(out: $0.baseAddress!, input: rb.baseAddress!, weight: projection, rows: n,
                           inFeatures: bigram.dim, outFeatures: c)
                }
            }
        }
        for j in 0..<(n * c) { x[j] += projected[j] * bigramScale }
    }

    /// `ve_shared(x)`: `scale · proj(embed[x_t])`, `[n, G·D]`, or `nil` without value embeddings.
    private func valueEmbeddingRows(_ tokens: UnsafeBufferPointer<UInt16>) -> [Float]? {
        guard let table = valueEmbedding, let ve = config.features.valueEmbeddings else { return nil }
        let n = tokens.count, kvWidth = config.numKVHeads * config.headDim
        var rows = [Float](repeating: 0, count: n * ve.dim)
        for t in 0..<n {
            for i in 0..<ve.dim { rows[t * ve.dim + i] = table[Int(tokens[t]) * ve.dim + i] }
        }
        var projected = rows
        if let projection = valueProjection {
            projected = [Float](repeating: 0, count: n * kvWidth)
            rows.withUnsafeBufferPointer { rb in
                projected.withUnsafeMutableBufferPointer {
                    linear(out: $0.baseAddress!, input: rb.baseAddress!, weight: projection, rows: n,
                           inFeatures: ve.dim, outFeatures: kvWidth)
                }
            }
        }
        for j in projected.indices { projected[j] *= valueScale }
        return projected
    }
}
