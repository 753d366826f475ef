import Foundation

// The tape's dense and elementwise ops. Each returns its output and records its backward; shapes are
// `[rows, width]` row-major. Parameter gradients are added only where a `TapeParameter` carries one.

/// A scalar coefficient: a parameter (with optional gradient) or a constant.
struct TapeScalar {
    let value: Float
    let gradient: UnsafeMutablePointer<Float>?

    static func constant(_ value: Float) -> TapeScalar { TapeScalar(value: value, gradient: nil) }
    static func parameter(_ p: TapeParameter) -> TapeScalar { TapeScalar(value: p.value.pointee, gradient: p.gradient) }
}

/// One LoRA adapter for a batch of rows: `A` `[rows, rank, in]`, `B` `[rows, out, rank]`.
struct TapeLoRA {
    let a: TapeParameter
    let b: TapeParameter
    let rank: Int
    let inFeatures: Int
    let outFeatures: Int
    /// The output multiplier (`alpha / rank` in the records that scale their LoRA, else 1).
    let scale: Float
}

extension GradientTape {
    /// `table[tokens[t]]` rows (`nn.Embedding`).
    func embedding(_ tokens: [Int32], table: TapeParameter, width: Int) -> TapeBuffer {
        let out = buffer(count: tokens.count * width)
        for (t, token) in tokens.enumerated() { (out.value + t * width).update(from: table.value + Int(token) * width, count: width) }
        record {
            guard out.hasGradient, let grad = table.gradient else { return }
            let d = out.gradient
            for (t, token) in tokens.enumerated() {
                let row = grad + Int(token) * width
                for i in 0..<width { row[i] += d[t * width + i] }
            }
        }
        return out
    }

    /// The records' SmearGate on the embeddings: `x_t + λ·σ(w·x_t[:window])·x_{t−1}` for every `t`
    /// that is not the first of its row (rows of `rowLength`), the gate 0 where `tokens[t]` is
    /// `resetToken` (the BOS fix, in either of its code forms: same value and gradient).
    func smear(_ x: TapeBuffer, tokens: [Int32], width: Int, rowLength: Int, window: Int,
               gate: TapeParameter, lambda: TapeParameter, resetToken: Int?) -> TapeBuffer {
        let n = tokens.count
        let out = buffer(count: x.count)
        out.value.update(from: x.value, count: x.count)
        var sig = [Float](repeating: 0, count: n)
        var active = [Bool](repeating: false, count: n)
        let l = lambda.value.pointee
        for t in 0..<n where t % rowLength != 0 {
            if let resetToken, Int(tokens[t]) == resetToken { continue }
            let row = x.value + t * width, previous = x.value + (t - 1) * width
            var z: Float = 0
            for i in 0..<window { z += gate.value[i] * row[i] }
            let s = sigmoid(z)
            sig[t] = s
            active[t] = true
            let g = l * s
            for i in 0..<width { out.value[t * width + i] = row[i] + g * previous[i] }
        }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient
            for j in 0..<x.count { dx[j] += d[j] }
            for t in 0..<n where active[t] {
                let dy = d + t * width, row = x.value + t * width, previous = x.value + (t - 1) * width
                let s = sig[t]
                var dot: Float = 0
                for i in 0..<width {
                    dot += dy[i] * previous[i]
                    dx[(t - 1) * width + i] += l * s * dy[i]
                }
                lambda.gradient?.pointee += s * dot
                let dz = l * s * (1 - s) * dot
                for i in 0..<window {
                    gate.gradient?[i] += dz * row[i]
                    dx[t * width + i] += dz * gate.value[i]
                }
            }
        }
        return out
    }

    /// `F.rms_norm` over rows of `width`, times `scale` (the records' `norm(x) * ln_scale_factor`).
    func rmsNorm(_ x: TapeBuffer, width: Int, scale: Float = 1, eps: Float) -> TapeBuffer {
        let rows = x.count / width
        let out = buffer(count: x.count)
        var reciprocal = [Float](repeating: 0, count: rows)
        reciprocal.withUnsafeMutableBufferPointer {
            rmsNormForward(out: out.value, input: x.value, reciprocalRMS: $0.baseAddress!, rows: rows, width: width,
                           stride: width, eps: eps)
        }
        if scale != 1 { for j in 0..<x.count { out.value[j] *= scale } }
        record {
            guard out.hasGradient else { return }
            var scaled = [Float](repeating: 0, count: x.count)
            for j in 0..<x.count { scaled[j] = out.gradient[j] * scale }
            scaled.withUnsafeBufferPointer { sb in
                reciprocal.withUnsafeBufferPointer { rb in
                    rmsNormBackward(dInput: x.gradient, dOut: sb.baseAddress!, input: x.value, reciprocalRMS: rb.baseAddress!,
                                    rows: rows, width: width, stride: width, accumulate: true)
                }
            }
        }
        return out
    }

    /// `x · Wᵀ` with `W` `[out, in]` (`F.linear`, no bias). Forward and backward run as single-threaded
    /// sgemms on fixed tiles of ``linearTileFeatures`` features (output features for the product and
    /// `dW`, input features for `dx`), spread over the tape's threads: each tile writes its own part
    /// of the result, so the numbers do not depend on the thread count.
    func linear(_ x: TapeBuffer, weight: TapeParameter, inFeatures: Int, outFeatures: Int) -> TapeBuffer {
        let rows = x.count / inFeatures
        let out = buffer(count: rows * outFeatures)
        let outTiles = tiles(outFeatures)
        parallelFor(outTiles.count, threads: threads) { index, _ in
            let tile = outTiles[index]
            BLAS.sgemm(m: rows, n: tile.count, k: inFeatures, a: x.value, lda: inFeatures, b: weight.value + tile.lowerBound * inFeatures,
                       ldb: inFeatures, transposeB: true, c: out.value + tile.lowerBound, ldc: outFeatures)
        }
        record { [threads] in
            guard out.hasGradient, rows > 0 else { return }
            let dOut = out.gradient, dx = x.gradient
            let inTiles = tiles(inFeatures)
            let dWeight = weight.gradient
            parallelFor(inTiles.count + (dWeight == nil ? 0 : outTiles.count), threads: threads) { index, _ in
                if index < inTiles.count {
                    let tile = inTiles[index]
                    BLAS.sgemm(m: rows, n: tile.count, k: outFeatures, a: dOut, lda: outFeatures, b: weight.value + tile.lowerBound,
                               ldb: inFeatures, beta: 1, c: dx + tile.lowerBound, ldc: inFeatures)
                } else if let dWeight {
                    let tile = outTiles[index - inTiles.count]
                    BLAS.sgemm(m: tile.count, n: inFeatures, k: rows, a: dOut + tile.lowerBound, lda: outFeatures, transposeA: true,
                               b: x.value, ldb: inFeatures, beta: 1, c: dWeight + tile.lowerBound * inFeatures, ldc: inFeatures)
                }
            }
        }
        return out
    }

    /// Adds `scale · (x_r·A_rᵀ)·B_rᵀ` to `out` for each of `batchRows` rows of `columns` tokens (the
    /// records' `BatchedLinearLoRA`); its backward reads `out`'s final gradient.
    func addLoRA(into out: TapeBuffer, input x: TapeBuffer, adapter: TapeLoRA, batchRows: Int, columns: Int) {
        let r = adapter.rank, i = adapter.inFeatures, o = adapter.outFeatures, t = columns
        precondition(x.count == batchRows * t * i && out.count == batchRows * t * o)
        var u = [Float](repeating: 0, count: batchRows * t * r)
        u.withUnsafeMutableBufferPointer { ub in
            for row in 0..<batchRows {
                let ur = ub.baseAddress! + row * t * r
                BLAS.sgemm(m: t, n: r, k: i, a: x.value + row * t * i, lda: i, b: adapter.a.value + row * r * i, ldb: i,
                           transposeB: true, c: ur, ldc: r)
                BLAS.sgemm(m: t, n: o, k: r, alpha: adapter.scale, a: ur, lda: r, b: adapter.b.value + row * o * r, ldb: r,
                           transposeB: true, beta: 1, c: out.value + row * t * o, ldc: o)
            }
        }
        record {
            guard out.hasGradient else { return }
            let dOut = out.gradient, dx = x.gradient
            var du = [Float](repeating: 0, count: t * r)
            u.withUnsafeBufferPointer { ub in
                du.withUnsafeMutableBufferPointer { db in
                    let dup = db.baseAddress!
                    for row in 0..<batchRows {
                        let dy = dOut + row * t * o, ur = ub.baseAddress! + row * t * r, xr = x.value + row * t * i
                        let a = adapter.a.value + row * r * i, b = adapter.b.value + row * o * r
                        if let dB = adapter.b.gradient {
                            BLAS.sgemm(m: o, n: r, k: t, alpha: adapter.scale, a: dy, lda: o, transposeA: true, b: ur, ldb: r,
                                       beta: 1, c: dB + row * o * r, ldc: r)
                        }
                        BLAS.sgemm(m: t, n: r, k: o, alpha: adapter.scale, a: dy, lda: o, b: b, ldb: r, c: dup, ldc: r)
                        if let dA = adapter.a.gradient {
                            BLAS.sgemm(m: r, n: i, k: t, a: dup, lda: r, transposeA: true, b: xr, ldb: i, beta: 1,
                                       c: dA + row * r * i, ldc: i)
                        }
                        BLAS.sgemm(m: t, n: i, k: r, a: dup, lda: r, b: a, ldb: i, beta: 1, c: dx + row * t * i, ldc: i)
                    }
                }
            }
        }
    }

    /// `leaky_relu(x, slope)²`.
    func leakyReluSquared(_ x: TapeBuffer, slope: Float) -> TapeBuffer {
        let out = buffer(count: x.count)
        for j in 0..<x.count {
            let v = x.value[j] >= 0 ? x.value[j] : slope * x.value[j]
            out.value[j] = v * v
        }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient
            for j in 0..<x.count {
                let v = x.value[j]
                dx[j] += v > 0 ? 2 * v * d[j] : 2 * slope * slope * v * d[j]
            }
        }
        return out
    }

    /// `relu(x)^p`, p > 0; its derivative `p·relu(x)^(p−1)` is 0 wherever x ≤ 0.
    func reluPower(_ x: TapeBuffer, exponent p: Float) -> TapeBuffer {
        let out = buffer(count: x.count)
        out.value.update(from: x.value, count: x.count)
        Reference.reluPower(out.value, count: x.count, exponent: p)
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient
            for j in 0..<x.count where x.value[j] > 0 { dx[j] += p * powf(x.value[j], p - 1) * d[j] }
        }
        return out
    }

    /// `relu(x)²` (the baseline activation).
    func reluSquared(_ x: TapeBuffer) -> TapeBuffer {
        let out = buffer(count: x.count)
        reluSquaredForward(out: out.value, pre: x.value, count: x.count)
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient
            for j in 0..<x.count { dx[j] += 2 * max(x.value[j], 0) * d[j] }
        }
        return out
    }

    /// `x + s ⊙ y` with `s` a `[width]` parameter broadcast over rows (the blocks' scaled residuals).
    func addScaled(_ x: TapeBuffer, _ y: TapeBuffer, scale s: TapeParameter, width: Int) -> TapeBuffer {
        precondition(x.count == y.count)
        let out = buffer(count: x.count)
        for j in 0..<x.count { out.value[j] = x.value[j] + s.value[j % width] * y.value[j] }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient, dy = y.gradient
            for j in 0..<x.count {
                dx[j] += d[j]
                dy[j] += s.value[j % width] * d[j]
                s.gradient?[j % width] += d[j] * y.value[j]
            }
        }
        return out
    }

    /// `s ⊙ x` with `s` a `[width]` parameter broadcast over rows.
    func scaleChannels(_ x: TapeBuffer, by s: TapeParameter, width: Int) -> TapeBuffer {
        let out = buffer(count: x.count)
        for j in 0..<x.count { out.value[j] = s.value[j % width] * x.value[j] }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient
            for j in 0..<x.count {
                dx[j] += s.value[j % width] * d[j]
                s.gradient?[j % width] += d[j] * x.value[j]
            }
        }
        return out
    }

    /// `mix[0] ⊙ x + mix[1] ⊙ x0` (the blocks' `resid_mix`, `[2, width]`).
    func residualMix(_ x: TapeBuffer, _ x0: TapeBuffer, mix: TapeParameter, width: Int) -> TapeBuffer {
        let out = buffer(count: x.count)
        for j in 0..<x.count { out.value[j] = mix.value[j % width] * x.value[j] + mix.value[width + j % width] * x0.value[j] }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient, dx0 = x0.gradient
            for j in 0..<x.count {
                let c = j % width
                dx[j] += mix.value[c] * d[j]
                dx0[j] += mix.value[width + c] * d[j]
                if let g = mix.gradient {
                    g[c] += d[j] * x.value[j]
                    g[width + c] += d[j] * x0.value[j]
                }
            }
        }
        return out
    }

    /// U-Net skip: `x + w ⊙ skip`, or with a skip gate `lerp(w ⊙ skip, x, σ(g))`.
    func skip(_ x: TapeBuffer, _ skip: TapeBuffer, weight w: TapeParameter, gate: TapeParameter?, width: Int) -> TapeBuffer {
        let out = buffer(count: x.count)
        for j in 0..<x.count {
            let c = j % width, scaled = w.value[c] * skip.value[j]
            if let gate {
                out.value[j] = lerp(scaled, x.value[j], sigmoid(gate.value[c]))
            } else {
                out.value[j] = x.value[j] + scaled
            }
        }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient, ds = skip.gradient
            for j in 0..<x.count {
                let c = j % width, scaled = w.value[c] * skip.value[j]
                if let gate {
                    let s = sigmoid(gate.value[c])
                    dx[j] += s * d[j]
                    ds[j] += (1 - s) * w.value[c] * d[j]
                    w.gradient?[c] += (1 - s) * skip.value[j] * d[j]
                    gate.gradient?[c] += s * (1 - s) * (x.value[j] - scaled) * d[j]
                } else {
                    dx[j] += d[j]
                    ds[j] += w.value[c] * d[j]
                    w.gradient?[c] += skip.value[j] * d[j]
                }
            }
        }
        return out
    }

    /// `Σₖ cₖ · inputsₖ` with scalar coefficients (the parallel lanes' lambdas, the final lane mean).
    func combination(_ inputs: [TapeBuffer], coefficients: [TapeScalar]) -> TapeBuffer {
        precondition(inputs.count == coefficients.count && !inputs.isEmpty)
        let count = inputs[0].count
        let out = buffer(count: count)
        for (input, c) in zip(inputs, coefficients) {
            for j in 0..<count { out.value[j] += c.value * input.value[j] }
        }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient
            for (input, c) in zip(inputs, coefficients) {
                let dx = input.gradient
                var dot: Float = 0
                for j in 0..<count {
                    dx[j] += c.value * d[j]
                    dot += d[j] * input.value[j]
                }
                c.gradient?.pointee += dot
            }
        }
        return out
    }

    /// Per-head output gates: `y_h ·= g` with `z = W_h · source_t[:window]` and `g = 2σ(z)`
    /// (`doubled`) or `σ(scale·z)`; `y` is `[rows, heads·headWidth]`, `source` rows `sourceWidth` apart.
    func headGate(_ y: TapeBuffer, source: TapeBuffer, sourceWidth: Int, window: Int, weight: TapeParameter,
                  heads: Int, headWidth: Int, scale: Float, doubled: Bool) -> TapeBuffer {
        let width = heads * headWidth, rows = y.count / width
        let out = buffer(count: y.count)
        var sig = [Float](repeating: 0, count: rows * heads)
        for t in 0..<rows {
            let src = source.value + t * sourceWidth
            for h in 0..<heads {
                var z: Float = 0
                for i in 0..<window { z += weight.value[h * window + i] * src[i] }
                let s = doubled ? sigmoid(z) : sigmoid(scale * z)
                sig[t * heads + h] = s
                let g = doubled ? 2 * s : s
                for i in 0..<headWidth { out.value[t * width + h * headWidth + i] = y.value[t * width + h * headWidth + i] * g }
            }
        }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dy = y.gradient, dsrc = source.gradient
            for t in 0..<rows {
                let src = source.value + t * sourceWidth
                for h in 0..<heads {
                    let s = sig[t * heads + h], g = doubled ? 2 * s : s
                    var dg: Float = 0
                    for i in 0..<headWidth {
                        let j = t * width + h * headWidth + i
                        dy[j] += g * d[j]
                        dg += d[j] * y.value[j]
                    }
                    let dz = doubled ? 2 * s * (1 - s) * dg : scale * s * (1 - s) * dg
                    for i in 0..<window {
                        weight.gradient?[h * window + i] += dz * src[i]
                        dsrc[t * sourceWidth + i] += dz * weight.value[h * window + i]
                    }
                }
            }
        }
        return out
    }

    /// Per-token losses `F.cross_entropy(cap·tanh((x·Wᵀ + Δ(x))/cap), targets, reduction="none")` of
    /// hidden rows `x` `[N, C]` through the head `W` `[V, C]` and, when given, the batch rows' head
    /// LoRA `Δ`; the backward seeds the graph with the gradient of `Σᵢ weights[i]·loss[i]`. The
    /// `[N, V]` logits never exist whole: chunks of at most ``headChunkRows`` rows (inside one batch
    /// row) are computed, and recomputed in the backward.
    func headLoss(_ x: TapeBuffer, head: TapeParameter, width c: Int, vocab: Int, cap: Float?,
                  lora: (adapter: TapeLoRA, columns: Int)?, targets: [Int32], weights: [Float]) -> [Float] {
        let n = targets.count
        precondition(x.count == n * c && weights.count == n)
        let targets16 = targets.map { UInt16(truncatingIfNeeded: $0) }
        let rank = lora?.adapter.rank ?? 0
        var chunks: [(start: Int, count: Int, row: Int)] = []
        let rowLength = lora?.columns ?? n
        for rowStart in stride(from: 0, to: n, by: max(rowLength, 1)) {
            let rowEnd = min(rowStart + rowLength, n)
            for start in stride(from: rowStart, to: rowEnd, by: headChunkRows) {
                chunks.append((start, min(headChunkRows, rowEnd - start), rowStart / max(rowLength, 1)))
            }
        }
        var logits = [Float](repeating: 0, count: headChunkRows * vocab)
        var u = [Float](repeating: 0, count: headChunkRows * max(rank, 1))
        /// Raw logits of a chunk (head plus LoRA) into `logits`; `u = x·Aᵀ` into `u`.
        func chunkLogits(_ chunk: (start: Int, count: Int, row: Int), _ lp: UnsafeMutablePointer<Float>, _ up: UnsafeMutablePointer<Float>) {
            let xs = x.value + chunk.start * c
            BLAS.sgemm(m: chunk.count, n: vocab, k: c, a: xs, lda: c, b: head.value, ldb: c, transposeB: true, c: lp, ldc: vocab)
            if let lora {
                let a = lora.adapter
                BLAS.sgemm(m: chunk.count, n: rank, k: c, a: xs, lda: c, b: a.a.value + chunk.row * rank * c, ldb: c,
                           transposeB: true, c: up, ldc: rank)
                BLAS.sgemm(m: chunk.count, n: vocab, k: rank, alpha: a.scale, a: up, lda: rank,
                           b: a.b.value + chunk.row * vocab * rank, ldb: rank, transposeB: true, beta: 1, c: lp, ldc: vocab)
            }
        }
        var losses = [Float](repeating: 0, count: n)
        var scratch = [Float](repeating: 0, count: vocab)
        logits.withUnsafeMutableBufferPointer { lb in
            u.withUnsafeMutableBufferPointer { ub in
                scratch.withUnsafeMutableBufferPointer { sb in
                    targets16.withUnsafeBufferPointer { tb in
                        losses.withUnsafeMutableBufferPointer { nb in
                            for chunk in chunks {
                                chunkLogits(chunk, lb.baseAddress!, ub.baseAddress!)
                                softcapCrossEntropyForward(logits: lb.baseAddress!, targets: tb.baseAddress! + chunk.start,
                                                           nll: nb.baseAddress! + chunk.start, rows: chunk.count, vocab: vocab,
                                                           cap: cap, scratch: sb.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        record {
            var logits = [Float](repeating: 0, count: headChunkRows * vocab)
            var u = [Float](repeating: 0, count: headChunkRows * max(rank, 1))
            var du = u
            let dx = x.gradient
            logits.withUnsafeMutableBufferPointer { lb in
                u.withUnsafeMutableBufferPointer { ub in
                    du.withUnsafeMutableBufferPointer { db in
                        targets16.withUnsafeBufferPointer { tb in
                            let lp = lb.baseAddress!, up = ub.baseAddress!, dup = db.baseAddress!
                            for chunk in chunks {
                                let rowWeights = Array(weights[chunk.start..<(chunk.start + chunk.count)])
                                if rowWeights.allSatisfy({ $0 == 0 }) { continue }
                                chunkLogits(chunk, lp, up)
                                if let cap { softcap(lp, count: chunk.count * vocab, cap: cap) }
                                softcapCrossEntropyBackward(logits: lp, targets: tb.baseAddress! + chunk.start, rows: chunk.count,
                                                            vocab: vocab, cap: cap, scale: 0, rowWeights: rowWeights)
                                let xs = x.value + chunk.start * c, dxs = dx + chunk.start * c
                                if let dW = head.gradient {
                                    BLAS.sgemm(m: vocab, n: c, k: chunk.count, a: lp, lda: vocab, transposeA: true, b: xs, ldb: c,
                                               beta: 1, c: dW, ldc: c)
                                }
                                BLAS.sgemm(m: chunk.count, n: c, k: vocab, a: lp, lda: vocab, b: head.value, ldb: c, beta: 1,
                                           c: dxs, ldc: c)
                                if let lora {
                                    let a = lora.adapter, aRow = a.a.value + chunk.row * rank * c
                                    let bRow = a.b.value + chunk.row * vocab * rank
                                    if let dB = a.b.gradient {
                                        BLAS.sgemm(m: vocab, n: rank, k: chunk.count, alpha: a.scale, a: lp, lda: vocab, transposeA: true,
                                                   b: up, ldb: rank, beta: 1, c: dB + chunk.row * vocab * rank, ldc: rank)
                                    }
                                    BLAS.sgemm(m: chunk.count, n: rank, k: vocab, alpha: a.scale, a: lp, lda: vocab, b: bRow, ldb: rank,
                                               c: dup, ldc: rank)
                                    if let dA = a.a.gradient {
                                        BLAS.sgemm(m: rank, n: c, k: chunk.count, a: dup, lda: rank, transposeA: true, b: xs, ldb: c,
                                                   beta: 1, c: dA + chunk.row * rank * c, ldc: c)
                                    }
                                    BLAS.sgemm(m: chunk.count, n: c, k: rank, a: dup, lda: rank, b: aRow, ldb: c, beta: 1, c: dxs, ldc: c)
                                }
                            }
                        }
                    }
                }
            }
        }
        return losses
    }
}
