import Foundation

/// Scored rows sent through the output head at a time: bounds the logits buffer at
/// `headChunkRows × V` floats per thread.
let headChunkRows = 64

extension FamilyGPTModel {
    /// Runs `body` with a workspace for segments of up to `tokens` tokens, lent from this model's
    /// pool (one per thread at a time; nothing is allocated once the pool holds one per thread).
    func withWorkspace<R, E: Error>(tokens: Int, _ body: (FamilyForwardWorkspace) throws(E) -> R) throws(E) -> R {
        let workspace = workspaces.take(model: self, tokens: tokens)
        defer { workspaces.give(workspace) }
        return try body(workspace)
    }

    /// One attention segment through the model into `w.x`: `tokens[0..<n]` sit at flat positions
    /// `firstPosition…` of the eval batch (the rotary positions), attention stays inside the segment,
    /// and `previousToken` is the token just before the segment in the batch (SmearGate reads its
    /// embedding; `nil` at the start of a batch). Rows `firstRow..<n` of `w.x` end as the final-normed
    /// hidden states; the last block pass computes queries, attention and the MLP only for them (keys
    /// and values for every row), so earlier rows are left stale: the same numbers, less work.
    func forward(tokens: UnsafeBufferPointer<UInt16>, previousToken: UInt16?, firstPosition: Int, firstRow: Int,
                 workspace w: FamilyForwardWorkspace) {
        let n = tokens.count, c = config.modelDim
        precondition(n > 0 && n <= w.maxTokens && firstPosition + n <= rotary.positions)
        precondition(firstRow >= 0 && firstRow < n)
        let x = w.x
        embed(tokens, previousToken: previousToken, into: x, workspace: w)
        w.x0.update(from: x, count: n * c)
        let values = valueEmbeddingRows(tokens, workspace: w)
        // Encoder outputs, kept for the skips: the decoder's k-th block reads the k-th from the end.
        let unusedOutputs = encoderSchedule.count - skipCount
        for (pass, i) in encoderSchedule.enumerated() {
            shiftInput(at: pass, x: x, rows: n)
            block(i, adapter: adapter(at: pass), x: x, rows: n, firstRow: 0, firstPosition: firstPosition, values: values,
                  workspace: w)
            transformOutput(at: pass, x: x, rows: n)
            if pass >= unusedOutputs { (w.skips + (pass - unusedOutputs) * n * c).update(from: x, count: n * c) }
        }
        var lanesStarted = false
        let parallelStart = config.features.parallelResiduals?.startLayer ?? 0
        for (skipIndex, i) in decoderSchedule.enumerated() {
            let rowsFrom = skipIndex == decoderSchedule.count - 1 ? firstRow : 0
            let parallel = config.features.parallelResiduals != nil && parallelStart > 0 && i >= parallelStart
            let skip = skipIndex < skipCount ? UnsafePointer(w.skips + (skipCount - 1 - skipIndex) * n * c) : nil
            if parallel {
                if !lanesStarted {
                    w.attentionLane.update(from: x, count: n * c)
                    w.mlpLane.update(from: x, count: n * c)
                    lanesStarted = true
                }
                if let skip { applySkip(skipIndex, skip: skip, to: w.attentionLane, rows: n) }
                parallelBlock(i, adapter: adapter(at: encoderSchedule.count + skipIndex), rows: n, firstRow: rowsFrom,
                              firstPosition: firstPosition, values: values, workspace: w)
            } else {
                if let skip { applySkip(skipIndex, skip: skip, to: x, rows: n) }
                shiftInput(at: encoderSchedule.count + skipIndex, x: x, rows: n)
                block(i, adapter: adapter(at: encoderSchedule.count + skipIndex), x: x, rows: n, firstRow: rowsFrom,
                      firstPosition: firstPosition, values: values, workspace: w)
                transformOutput(at: encoderSchedule.count + skipIndex, x: x, rows: n)
            }
        }
        let scored = n - firstRow, out = x + firstRow * c
        if lanesStarted {
            let attention = w.attentionLane + firstRow * c, mlp = w.mlpLane + firstRow * c
            switch config.features.parallelResiduals?.finalLane ?? .mean {
            case .attention: out.update(from: attention, count: scored * c)
            case .mlp: out.update(from: mlp, count: scored * c)
            case .mean: for j in 0..<(scored * c) { out[j] = 0.5 * (attention[j] + mlp[j]) }
            }
        }
        rmsNorm(out: out, input: out, rows: scored, width: c, eps: rmsEps)
    }

    /// The final-normed hidden states `[n, C]` of one attention segment (see
    /// ``forward(tokens:previousToken:firstPosition:firstRow:workspace:)``).
    func hidden(tokens: UnsafeBufferPointer<UInt16>, previousToken: UInt16?, firstPosition: Int) -> [Float] {
        withWorkspace(tokens: tokens.count) { w in
            forward(tokens: tokens, previousToken: previousToken, firstPosition: firstPosition, firstRow: 0, workspace: w)
            return Array(UnsafeBufferPointer(start: w.x, count: tokens.count * config.modelDim))
        }
    }

    /// Softcapped logits `[rows, V]` of hidden rows `[rows, C]`.
    func logits(hidden: UnsafePointer<Float>, rows: Int, out: UnsafeMutablePointer<Float>) {
        let v = config.vocabSize
        linear(out: out, input: hidden, weight: head, rows: rows, inFeatures: config.modelDim, outFeatures: v)
        if let softcap { Reference.softcap(out, count: rows * v, cap: softcap) }
    }

    /// Cross-entropy of the hidden rows `rows` left in `w.x` by ``forward(tokens:previousToken:firstPosition:firstRow:workspace:)``
    /// against `target(row)`, into `w.nll[row]`: the head in chunks of ``headChunkRows`` rows (one sgemm
    /// each), then the softcap and the log-softmax fused in one pass over each row's logits.
    func score(rows: Range<Int>, workspace w: FamilyForwardWorkspace, target: (Int) -> Int) {
        let v = config.vocabSize, c = config.modelDim
        var start = rows.lowerBound
        while start < rows.upperBound {
            let count = min(headChunkRows, rows.upperBound - start)
            linear(out: w.logits, input: w.x + start * c, weight: head, rows: count, inFeatures: c, outFeatures: v)
            for r in 0..<count {
                w.nll[start + r] = softcappedCrossEntropy(w.logits + r * v, count: v, target: target(start + r), cap: softcap)
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

    /// Token embeddings (+ BigramHash), SmearGate, rms_norm, the March channel SmearGate, into `x`.
    private func embed(_ tokens: UnsafeBufferPointer<UInt16>, previousToken: UInt16?, into x: UnsafeMutablePointer<Float>,
                       workspace w: FamilyForwardWorkspace) {
        let n = tokens.count, c = config.modelDim
        for t in 0..<n { (x + t * c).update(from: tokenEmbedding + Int(tokens[t]) * c, count: c) }
        if let bigram = config.features.bigramHash { addBigramHash(bigram, tokens: tokens, to: x, workspace: w) }
        if let smear = config.features.smearGate, let gate = smearGate, let lambda = smearLambda {
            // x_t += λ·σ(W·x_t[:w])·x_{t−1} from the raw embeddings (back to front, so x_{t−1} is still raw).
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

    /// U-Net skip: `x + w·skip`, or with skip gates `lerp(w·skip, x, σ(g))`.
    private func applySkip(_ index: Int, skip: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int) {
        let c = config.modelDim
        guard let weights = skipWeights else { return }
        let w = weights + index * c
        if let gates = skipGates.map({ $0 + index * c }) {
            for t in 0..<rows {
                for i in 0..<c {
                    let j = t * c + i
                    x[j] = lerp(w[i] * skip[j], x[j], sigmoid(gates[i]))
                }
            }
        } else {
            addScaled(x, skip, scale: w, rows: rows, width: c)
        }
    }

    /// `x + inputShift` of schedule position `position`, where it has one.
    private func shiftInput(at position: Int, x: UnsafeMutablePointer<Float>, rows: Int) {
        guard !positionVectors.isEmpty, let shift = positionVectors[position].inputShift else { return }
        let c = config.modelDim
        for t in 0..<rows { for j in 0..<c { x[t * c + j] += shift[j] } }
    }

    /// `x·outputScale + outputShift` of schedule position `position` (each where it has one). Every row,
    /// stale ones of a last block too (they are not scored).
    private func transformOutput(at position: Int, x: UnsafeMutablePointer<Float>, rows: Int) {
        guard !positionVectors.isEmpty else { return }
        let vectors = positionVectors[position], c = config.modelDim
        if let scale = vectors.outputScale { for t in 0..<rows { for j in 0..<c { x[t * c + j] *= scale[j] } } }
        if let shift = vectors.outputShift { for t in 0..<rows { for j in 0..<c { x[t * c + j] += shift[j] } } }
    }

    /// The whole-stack pass adapter of schedule position `position`, if the passes have adapters.
    private func adapter(at position: Int) -> Adapter? {
        adapters.isEmpty ? nil : adapters[position]
    }

    /// `x = mix[0]·x + mix[1]·x0` into `out` (which may be `x`).
    private func residualMix(_ layer: Layer, x: UnsafePointer<Float>, x0: UnsafePointer<Float>,
                             out: UnsafeMutablePointer<Float>, rows: Int) {
        let c = config.modelDim, mixX = layer.residualMix, mixX0 = layer.residualMix + c
        for t in 0..<rows {
            let row = x + t * c, row0 = x0 + t * c, o = out + t * c
            for j in 0..<c { o[j] = mixX[j] * row[j] + mixX0[j] * row0[j] }
        }
    }

    /// `Block.forward`: residual mix with x0, attention then MLP on the updated stream (rows before
    /// `firstRow` only as keys and values).
    private func block(_ i: Int, adapter: Adapter?, x: UnsafeMutablePointer<Float>, rows: Int, firstRow: Int, firstPosition: Int,
                       values: UnsafePointer<Float>?, workspace w: FamilyForwardWorkspace) {
        let layer = layers[i], c = config.modelDim, scored = rows - firstRow
        residualMix(layer, x: x, x0: w.x0, out: x, rows: rows)
        normalise(x, rows: rows, scale: layer.normScale, into: w.normed)
        attend(layer, adapter: adapter, input: w.normed, rows: rows, firstRow: firstRow, firstPosition: firstPosition,
               values: valueLayerScale[i].flatMap { s in values.map { ($0, s) } }, out: w.projected, workspace: w)
        let tail = x + firstRow * c
        addScaled(tail, w.projected + firstRow * c, scale: layer.attentionScale, rows: scored, width: c)
        normalise(tail, rows: scored, scale: layer.normScale, into: w.normed + firstRow * c)
        feedForward(layer, input: w.normed + firstRow * c, rows: scored, out: w.projected + firstRow * c, workspace: w)
        addScaled(tail, w.projected + firstRow * c, scale: layer.mlpScale, rows: scored, width: c)
    }

    /// The records' `_parallel_block`: attention reads the mixed attention lane, the MLP reads the
    /// MLP lane, and both lanes take both outputs through `parallel_post_lambdas`.
    private func parallelBlock(_ i: Int, adapter: Adapter?, rows: Int, firstRow: Int, firstPosition: Int,
                               values: UnsafePointer<Float>?, workspace w: FamilyForwardWorkspace) {
        let layer = layers[i], c = config.modelDim, scored = rows - firstRow
        guard let post = parallelPostLambdas.map({ $0 + i * 4 }), let resid = parallelResidLambdas.map({ $0 + i * 2 })
        else { return }
        residualMix(layer, x: w.attentionLane, x0: w.x0, out: w.mixed, rows: rows)
        normalise(w.mixed, rows: rows, scale: layer.normScale, into: w.normed)
        attend(layer, adapter: adapter, input: w.normed, rows: rows, firstRow: firstRow, firstPosition: firstPosition,
               values: valueLayerScale[i].flatMap { s in values.map { ($0, s) } }, out: w.projected, workspace: w)
        // The attention is done with its buffers: `mixed` takes the MLP's input, `attention` its output.
        let mlpInput = w.mixed + firstRow * c, mlpOut = w.attention + firstRow * c
        normalise(w.mlpLane + firstRow * c, rows: scored, scale: layer.normScale, into: mlpInput)
        feedForward(layer, input: mlpInput, rows: scored, out: mlpOut, workspace: w)
        let attentionResid = resid[0], mlpResid = resid[1]
        let attentionOut = w.projected + firstRow * c
        let attentionLane = w.attentionLane + firstRow * c, mlpLane = w.mlpLane + firstRow * c
        for t in 0..<scored {
            for j in 0..<c {
                let k = t * c + j
                let a = layer.attentionScale[j] * attentionOut[k], m = layer.mlpScale[j] * mlpOut[k]
                attentionLane[k] = attentionResid * attentionLane[k] + post[0] * a + post[2] * m
                mlpLane[k] = mlpResid * mlpLane[k] + post[1] * a + post[3] * m
            }
        }
    }

    /// `rms_norm(x) · scale` (the records' `norm(x) * ln_scale_factor`) into `out`.
    private func normalise(_ x: UnsafePointer<Float>, rows: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        let c = config.modelDim
        rmsNorm(out: out, input: x, rows: rows, width: c, eps: rmsEps)
        if scale != 1 { for j in 0..<(rows * c) { out[j] *= scale } }
    }

    /// `CausalSelfAttention.forward` on normalised input `[rows, C]`: q/k/v, per-head rms_norm,
    /// (partial) RoPE, q_gain, causal attention, XSA, the output gate, the output projection, each
    /// projection plus a whole-stack pass's low-rank update where it has one. Keys and values for every
    /// row, the rest for rows `firstRow..<rows` only (into the same rows of `out`).
    private func attend(_ layer: Layer, adapter: Adapter?, input: UnsafePointer<Float>, rows: Int, firstRow: Int, firstPosition: Int,
                        values extra: (rows: UnsafePointer<Float>, scale: Float)?, out: UnsafeMutablePointer<Float>,
                        workspace w: FamilyForwardWorkspace) {
        let c = config.modelDim, heads = config.numHeads, kvHeads = config.numKVHeads, d = headDim
        let kvWidth = kvHeads * d, rd = ropeDims, scored = rows - firstRow
        let q = w.queries, k = w.keys, v = w.values, y = w.attention
        linear(out: q + firstRow * c, input: input + firstRow * c, weight: layer.q, rows: scored, inFeatures: c, outFeatures: c)
        linear(out: k, input: input, weight: layer.k, rows: rows, inFeatures: c, outFeatures: kvWidth)
        linear(out: v, input: input, weight: layer.v, rows: rows, inFeatures: c, outFeatures: kvWidth)
        if let adapter {
            addLowRank(out: q + firstRow * c, input: input + firstRow * c, rows: scored, inFeatures: c, a: adapter.qA, b: adapter.qB,
                       outFeatures: c, workspace: w)
            addLowRank(out: k, input: input, rows: rows, inFeatures: c, a: adapter.kA, b: adapter.kB, outFeatures: kvWidth, workspace: w)
            addLowRank(out: v, input: input, rows: rows, inFeatures: c, a: adapter.vA, b: adapter.vB, outFeatures: kvWidth, workspace: w)
        }
        if let extra {
            // Value embeddings: v += ve_layer_scale · (scale · proj(embed[x_t])).
            for j in 0..<(rows * kvWidth) { v[j] += extra.rows[j] * extra.scale }
        }
        if let raw = w.queryProjection { (raw + firstRow * c).update(from: q + firstRow * c, count: scored * c) }
        rotary.cos.withUnsafeBufferPointer { cosTable in
            rotary.sin.withUnsafeBufferPointer { sinTable in
                let qp = q + firstRow * c
                rmsNorm(out: qp, input: qp, rows: scored * heads, width: d)
                rmsNorm(out: k, input: k, rows: rows * kvHeads, width: d)
                for h in 0..<heads {
                    applyRotary(qp + h * d, rows: scored, firstPosition: firstPosition + firstRow, rowStride: c,
                                heads: 1, headDim: rd, cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                }
                for g in 0..<kvHeads {
                    applyRotary(k + g * d, rows: rows, firstPosition: firstPosition, rowStride: kvWidth,
                                heads: 1, headDim: rd, cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                }
                for t in 0..<scored {
                    for h in 0..<heads {
                        let gain = layer.queryGain[h]
                        for i in 0..<d { qp[t * c + h * d + i] *= gain }
                    }
                }
            }
        }
        causalAttention(out: y, ldOut: c, q: q, ldq: c, k: k, v: v, ldkv: kvWidth, tokens: rows, firstRow: firstRow,
                        heads: heads, kvHeads: kvHeads, headDim: d, scratch: w.scores)
        if layer.exclusiveSelfAttention {
            // XSA: remove from each head's output its component along the token's own unit value.
            let group = heads / kvHeads
            for t in firstRow..<rows {
                for g in 0..<kvHeads {
                    let value = v + t * kvWidth + g * d
                    var norm: Float = 0
                    for i in 0..<d { norm += value[i] * value[i] }
                    let inverse = 1 / max(norm.squareRoot(), 1e-12)
                    for h in (g * group)..<((g + 1) * group) {
                        let head = y + t * c + h * d
                        var dot: Float = 0
                        for i in 0..<d { dot += head[i] * (value[i] * inverse) }
                        for i in 0..<d { head[i] -= dot * (value[i] * inverse) }
                    }
                }
            }
        }
        if let gate = layer.attentionGate {
            let (window, source, scale, doubled): (Int, UnsafePointer<Float>, Float, Bool)
            switch config.features.attentionGate {
            case .none: (window, source, scale, doubled) = (0, input, 1, false)
            case .outputGate(let width, let src):
                let raw = src == .queryProjection ? w.queryProjection.map { UnsafePointer($0) } : nil
                (window, source, scale, doubled) = (width, raw ?? input, 1, true)
            case .dense: (window, source, scale, doubled) = (c, input, 1, false)
            case .sparse(let width, let s): (window, source, scale, doubled) = (width, input, Float(s), false)
            }
            for t in firstRow..<rows {
                for h in 0..<heads {
                    var z: Float = 0
                    for i in 0..<window { z += gate[h * window + i] * source[t * c + i] }
                    let g = doubled ? 2 * sigmoid(z) : sigmoid(scale * z)
                    for i in 0..<d { y[t * c + h * d + i] *= g }
                }
            }
        }
        linear(out: out + firstRow * c, input: y + firstRow * c, weight: layer.projection, rows: scored, inFeatures: c, outFeatures: c)
        if let adapter {
            addLowRank(out: out + firstRow * c, input: y + firstRow * c, rows: scored, inFeatures: c, a: adapter.projA,
                       b: adapter.projB, outFeatures: c, workspace: w)
        }
    }

    /// `out += (input @ A) @ B` for `rows` packed rows: A `[in, r]`, B `[r, out]` (row-major, as the
    /// 2026-03-19 record's `AttentionLoRA` holds them).
    private func addLowRank(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
                            a: UnsafePointer<Float>, b: UnsafePointer<Float>, outFeatures: Int, workspace w: FamilyForwardWorkspace) {
        guard let rank = config.features.stackLoops?.loraRank, rank > 0, rows > 0, let hidden = w.loraHidden else { return }
        BLAS.sgemm(m: rows, n: rank, k: inFeatures, a: input, lda: inFeatures, b: a, ldb: rank, c: hidden, ldc: rank)
        BLAS.sgemm(m: rows, n: outFeatures, k: rank, a: hidden, lda: rank, b: b, ldb: outFeatures, beta: 1, c: out, ldc: outFeatures)
    }

    /// `MLP.forward`: down(act(fc(x))) (SwiGLU: down(silu(gate(x))·up(x))) into `out`, with the optional
    /// scalar output gate.
    private func feedForward(_ layer: Layer, input: UnsafePointer<Float>, rows: Int, out: UnsafeMutablePointer<Float>,
                             workspace w: FamilyForwardWorkspace) {
        let c = config.modelDim, f = config.mlpHidden
        let hb = UnsafeMutableBufferPointer(start: w.hidden, count: rows * f)
        linear(out: hb.baseAddress!, input: input, weight: layer.fc, rows: rows, inFeatures: c, outFeatures: f)
        if let up = layer.up, let upHidden = w.upHidden {
            linear(out: upHidden, input: input, weight: up, rows: rows, inFeatures: c, outFeatures: f)
        }
        activateMLP(hb.baseAddress!, count: rows * f, config.features.mlpActivation, up: w.upHidden)
        linear(out: out, input: hb.baseAddress!, weight: layer.mlpProjection, rows: rows, inFeatures: f, outFeatures: c)
        if let gate = layer.mlpGate, let window = config.features.mlpOutputGateWindow {
            for t in 0..<rows {
                var z: Float = 0
                for i in 0..<window { z += gate[i] * input[t * c + i] }
                let g = 2 * sigmoid(z)
                for j in 0..<c { out[t * c + j] *= g }
            }
        }
    }

    /// BigramHash: `x_t += scale · proj(embed[hash_t])` (and the trigram term), positions counted
    /// from the window's first token, in int32 arithmetic like the records' `bigram_hash`.
    private func addBigramHash(_ bigram: ArchitectureFeatures.BigramHash, tokens: UnsafeBufferPointer<UInt16>,
                               to x: UnsafeMutablePointer<Float>, workspace w: FamilyForwardWorkspace) {
        guard let table = bigramEmbedding, let rows = w.embeddingRows else { return }
        let c = config.modelDim, n = tokens.count, modulus = Int32(bigram.vocab - 1)
        for t in 0..<n {
            let current = Int32(tokens[t])
            let bigramIndex = t >= 1 ? ((36313 &* current) ^ (27191 &* Int32(tokens[t - 1]))) % modulus : modulus
            (rows + t * bigram.dim).update(from: table + Int(bigramIndex) * bigram.dim, count: bigram.dim)
            if bigram.trigram {
                let trigramIndex = t >= 2
                    ? ((36313 &* current) ^ (27191 &* Int32(tokens[t - 1])) ^ (51497 &* Int32(tokens[t - 2]))) % modulus
                    : modulus
                for i in 0..<bigram.dim { rows[t * bigram.dim + i] += table[Int(trigramIndex) * bigram.dim + i] }
            }
        }
        var projected = UnsafePointer(rows)
        if let projection = bigramProjection, let out = w.projectedRows {
            linear(out: out, input: rows, weight: projection, rows: n, inFeatures: bigram.dim, outFeatures: c)
            projected = UnsafePointer(out)
        }
        for j in 0..<(n * c) { x[j] += projected[j] * bigramScale }
    }

    /// `ve_shared(x)`: `scale · proj(embed[x_t])`, `[n, G·D]` in the workspace, or `nil` without value embeddings.
    private func valueEmbeddingRows(_ tokens: UnsafeBufferPointer<UInt16>, workspace w: FamilyForwardWorkspace) -> UnsafePointer<Float>? {
        guard let table = valueEmbedding, let ve = config.features.valueEmbeddings,
              let rows = w.embeddingRows, let out = w.valueEmbeddings else { return nil }
        let n = tokens.count, kvWidth = config.numKVHeads * config.headDim
        for t in 0..<n { (rows + t * ve.dim).update(from: table + Int(tokens[t]) * ve.dim, count: ve.dim) }
        if let projection = valueProjection {
            linear(out: out, input: rows, weight: projection, rows: n, inFeatures: ve.dim, outFeatures: kvWidth)
        } else {
            out.update(from: rows, count: n * kvWidth)
        }
        for j in 0..<(n * kvWidth) { out[j] *= valueScale }
        return UnsafePointer(out)
    }
}
