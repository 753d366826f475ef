import Foundation

/// Causal attention segments of a flat token stream: each `(start, count)` attends only inside
/// itself, its tokens at rotary positions `firstPosition…` (rows of a TTT batch start at 0; the
/// records' varlen forward counts positions along the whole stream).
struct AttentionSegments {
    struct Segment {
        let start: Int
        let count: Int
        let firstPosition: Int
    }

    let segments: [Segment]
    var longest: Int { segments.map(\.count).max() ?? 0 }
    /// One past the largest rotary position used.
    var positions: Int { segments.map { $0.firstPosition + $0.count }.max() ?? 0 }
}

extension GradientTape {
    /// `CausalSelfAttention`'s core on projected `q` `[N, H·D]`, `k`, `v` `[N, G·D]`: per-head
    /// rms_norm of q and k, (partial) RoPE on the first `ropeDims` of each head, `q_gain`, causal
    /// GQA softmax attention inside each segment. Returns `y` `[N, H·D]`.
    func attentionCore(q: TapeBuffer, k: TapeBuffer, v: TapeBuffer, gain: TapeParameter, heads: Int, kvHeads: Int,
                       headDim d: Int, ropeDims: Int, rotary: RotaryTable, segments: AttentionSegments) -> TapeBuffer {
        let c = heads * d, kvWidth = kvHeads * d, ld = c + 2 * kvWidth
        let n = q.count / c
        precondition(k.count == n * kvWidth && v.count == n * kvWidth && rotary.positions >= segments.positions)
        var qkv = [Float](repeating: 0, count: n * ld)
        var qRotated = [Float](repeating: 0, count: n * c)  // after norm and RoPE, before q_gain
        var kNormed = [Float](repeating: 0, count: n * kvWidth)
        var qReciprocal = [Float](repeating: 0, count: n * heads)
        var kReciprocal = [Float](repeating: 0, count: n * kvHeads)
        var lse = [Float](repeating: 0, count: n * heads)
        let out = buffer(count: n * c)
        let blockRows = trainingAttentionBlockRows, longest = segments.longest
        rotary.cos.withUnsafeBufferPointer { cosTable in
            rotary.sin.withUnsafeBufferPointer { sinTable in
                qRotated.withUnsafeMutableBufferPointer { qr in
                    kNormed.withUnsafeMutableBufferPointer { kn in
                        let qp = qr.baseAddress!, kp = kn.baseAddress!
                        qReciprocal.withUnsafeMutableBufferPointer {
                            rmsNormForward(out: qp, input: q.value, reciprocalRMS: $0.baseAddress!, rows: n * heads, width: d,
                                           stride: d, eps: .ulpOfOne)
                        }
                        kReciprocal.withUnsafeMutableBufferPointer {
                            rmsNormForward(out: kp, input: k.value, reciprocalRMS: $0.baseAddress!, rows: n * kvHeads, width: d,
                                           stride: d, eps: .ulpOfOne)
                        }
                        for segment in segments.segments {
                            for h in 0..<heads {
                                applyRotary(qp + segment.start * c + h * d, rows: segment.count, firstPosition: segment.firstPosition,
                                            rowStride: c, heads: 1, headDim: ropeDims, cos: cosTable.baseAddress!,
                                            sin: sinTable.baseAddress!)
                            }
                            for g in 0..<kvHeads {
                                applyRotary(kp + segment.start * kvWidth + g * d, rows: segment.count,
                                            firstPosition: segment.firstPosition, rowStride: kvWidth, heads: 1, headDim: ropeDims,
                                            cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                            }
                        }
                        for t in 0..<n {
                            for h in 0..<heads {
                                let headGain = gain.value[h]
                                for i in 0..<d { qkv[t * ld + h * d + i] = qp[t * c + h * d + i] * headGain }
                            }
                            for j in 0..<kvWidth {
                                qkv[t * ld + c + j] = kp[t * kvWidth + j]
                                qkv[t * ld + c + kvWidth + j] = v.value[t * kvWidth + j]
                            }
                        }
                    }
                }
            }
        }
        // Segments are independent (each writes its own rows), and so are a segment's KV groups (each
        // writes its own heads' columns): the (segment, group) pairs spread over the tape's threads,
        // longest segments first, a score buffer per worker. A lone long row (a TTT chunk's window)
        // still uses every thread.
        let units = attentionUnits(segments, kvHeads: kvHeads)
        let scoreCount = blockRows * max(longest, 1)
        var scores = [Float](repeating: 0, count: parallelWorkers(units.count, threads: threads) * scoreCount)
        qkv.withUnsafeBufferPointer { qb in
            lse.withUnsafeMutableBufferPointer { lb in
                scores.withUnsafeMutableBufferPointer { sb in
                    let qp = qb.baseAddress!, lp = lb.baseAddress!, sp = sb.baseAddress!
                    parallelFor(units.count, threads: threads) { index, worker in
                        let (segment, g) = units[index]
                        attentionForward(out: out.value + segment.start * c, lse: lp + segment.start * heads,
                                         qkv: qp + segment.start * ld, ldqkv: ld, sequences: 1, length: segment.count,
                                         heads: heads, kvHeads: kvHeads, headDim: d, scores: sp + worker * scoreCount,
                                         kvGroups: g..<(g + 1))
                    }
                }
            }
        }
        record { [threads] in
            guard out.hasGradient else { return }
            var dqkv = [Float](repeating: 0, count: n * ld)
            let workers = parallelWorkers(units.count, threads: threads)
            var probabilities = [Float](repeating: 0, count: workers * scoreCount)
            var dScores = probabilities
            let dOut = out.gradient
            dqkv.withUnsafeMutableBufferPointer { db in
                let dp = db.baseAddress!
                qkv.withUnsafeBufferPointer { qb in
                    lse.withUnsafeBufferPointer { lb in
                        probabilities.withUnsafeMutableBufferPointer { pb in
                            dScores.withUnsafeMutableBufferPointer { sb in
                                let qp = qb.baseAddress!, lp = lb.baseAddress!, pp = pb.baseAddress!, sp = sb.baseAddress!
                                parallelFor(units.count, threads: threads) { index, worker in
                                    let (segment, g) = units[index]
                                    attentionBackward(dqkv: dp + segment.start * ld, dOut: dOut + segment.start * c,
                                                      out: out.value + segment.start * c, lse: lp + segment.start * heads,
                                                      qkv: qp + segment.start * ld, ldqkv: ld, sequences: 1,
                                                      length: segment.count, heads: heads, kvHeads: kvHeads, headDim: d,
                                                      probabilities: pp + worker * scoreCount, dScores: sp + worker * scoreCount,
                                                      kvGroups: g..<(g + 1))
                                }
                            }
                        }
                    }
                }
                // dv straight through; dq through q_gain; then both back through RoPE and the norms.
                let dv = v.gradient
                var dqRotated = [Float](repeating: 0, count: n * c)
                var dkNormed = [Float](repeating: 0, count: n * kvWidth)
                for t in 0..<n {
                    for h in 0..<heads {
                        let headGain = gain.value[h]
                        var dot: Float = 0
                        for i in 0..<d {
                            let g = dp[t * ld + h * d + i]
                            dot += g * qRotated[t * c + h * d + i]
                            dqRotated[t * c + h * d + i] = g * headGain
                        }
                        gain.gradient?[h] += dot
                    }
                    for j in 0..<kvWidth {
                        dkNormed[t * kvWidth + j] = dp[t * ld + c + j]
                        dv[t * kvWidth + j] += dp[t * ld + c + kvWidth + j]
                    }
                }
                rotary.cos.withUnsafeBufferPointer { cosTable in
                    rotary.sin.withUnsafeBufferPointer { sinTable in
                        dqRotated.withUnsafeMutableBufferPointer { dq in
                            dkNormed.withUnsafeMutableBufferPointer { dk in
                                for segment in segments.segments {
                                    for h in 0..<heads {
                                        rotaryTranspose(dq.baseAddress! + segment.start * c + h * d, rows: segment.count,
                                                        firstPosition: segment.firstPosition, rowStride: c, headDim: ropeDims,
                                                        cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                                    }
                                    for g in 0..<kvHeads {
                                        rotaryTranspose(dk.baseAddress! + segment.start * kvWidth + g * d, rows: segment.count,
                                                        firstPosition: segment.firstPosition, rowStride: kvWidth, headDim: ropeDims,
                                                        cos: cosTable.baseAddress!, sin: sinTable.baseAddress!)
                                    }
                                }
                                qReciprocal.withUnsafeBufferPointer {
                                    rmsNormBackward(dInput: q.gradient, dOut: dq.baseAddress!, input: q.value,
                                                    reciprocalRMS: $0.baseAddress!, rows: n * heads, width: d, stride: d,
                                                    accumulate: true)
                                }
                                kReciprocal.withUnsafeBufferPointer {
                                    rmsNormBackward(dInput: k.gradient, dOut: dk.baseAddress!, input: k.value,
                                                    reciprocalRMS: $0.baseAddress!, rows: n * kvHeads, width: d, stride: d,
                                                    accumulate: true)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// XSA (`_xsa_efficient`): each head's output minus its component along its KV group's unit value
    /// `v̂ = v / max(‖v‖, 1e−12)`.
    func exclusiveSelfAttention(_ y: TapeBuffer, values v: TapeBuffer, heads: Int, kvHeads: Int, headDim d: Int) -> TapeBuffer {
        let c = heads * d, kvWidth = kvHeads * d, n = y.count / c, group = heads / kvHeads
        let out = buffer(count: y.count)
        var unit = [Float](repeating: 0, count: n * kvWidth)
        var norms = [Float](repeating: 0, count: n * kvHeads)
        for t in 0..<n {
            for g in 0..<kvHeads {
                let vp = v.value + t * kvWidth + g * d
                var norm: Float = 0
                for i in 0..<d { norm += vp[i] * vp[i] }
                norm = norm.squareRoot()
                norms[t * kvHeads + g] = norm
                let inverse = 1 / max(norm, 1e-12)
                for i in 0..<d { unit[t * kvWidth + g * d + i] = vp[i] * inverse }
                for h in (g * group)..<((g + 1) * group) {
                    let yp = y.value + t * c + h * d
                    var dot: Float = 0
                    for i in 0..<d { dot += yp[i] * unit[t * kvWidth + g * d + i] }
                    for i in 0..<d { out.value[t * c + h * d + i] = yp[i] - dot * unit[t * kvWidth + g * d + i] }
                }
            }
        }
        record {
            guard out.hasGradient else { return }
            let dOut = out.gradient, dy = y.gradient, dv = v.gradient
            var du = [Float](repeating: 0, count: d)
            unit.withUnsafeBufferPointer { unitBuffer in
                for t in 0..<n {
                    for g in 0..<kvHeads {
                        let u = unitBuffer.baseAddress! + t * kvWidth + g * d
                        for i in 0..<d { du[i] = 0 }
                        for h in (g * group)..<((g + 1) * group) {
                            let yp = y.value + t * c + h * d, dp = dOut + t * c + h * d
                            var p: Float = 0, q: Float = 0
                            for i in 0..<d {
                                p += yp[i] * u[i]
                                q += dp[i] * u[i]
                            }
                            for i in 0..<d {
                                dy[t * c + h * d + i] += dp[i] - q * u[i]
                                du[i] -= p * dp[i] + q * yp[i]
                            }
                        }
                        let norm = norms[t * kvHeads + g]
                        if norm > 1e-12 {
                            var along: Float = 0
                            for i in 0..<d { along += du[i] * u[i] }
                            for i in 0..<d { dv[t * kvWidth + g * d + i] += (du[i] - along * u[i]) / norm }
                        } else {
                            for i in 0..<d { dv[t * kvWidth + g * d + i] += du[i] / 1e-12 }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// The attention's parallel work: every non-empty segment's KV groups, longest segments first (so the
/// last units to start are short ones).
func attentionUnits(_ segments: AttentionSegments, kvHeads: Int) -> [(AttentionSegments.Segment, Int)] {
    segments.segments.filter { $0.count > 0 }.sorted { $0.count > $1.count }.flatMap { segment in
        (0..<kvHeads).map { (segment, $0) }
    }
}

/// The transpose of ``applyRotary`` for one head per row, in place: `(d1·cos − d2·sin, d1·sin + d2·cos)`.
func rotaryTranspose(
    _ x: UnsafeMutablePointer<Float>, rows: Int, firstPosition: Int, rowStride: Int, headDim: Int,
    cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
) {
    let half = headDim / 2
    for t in 0..<rows {
        let c = cos + (firstPosition + t) * half, s = sin + (firstPosition + t) * half
        let v = x + t * rowStride
        for i in 0..<half {
            let d1 = v[i], d2 = v[i + half]
            v[i] = d1 * c[i] - d2 * s[i]
            v[i + half] = d1 * s[i] + d2 * c[i]
        }
    }
}
