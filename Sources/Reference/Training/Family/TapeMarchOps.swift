// Tape ops of the March record family (records 2026-03-2x): the channel SmearGate after the first norm
// and the hashed n-gram rows BigramHash gathers. The rest of BigramHash and the value embeddings
// (`embed`, optional `proj`, scalar `scale`) are built from the generic ops.

extension GradientTape {
    /// The March `SmearGate(dim)`: `y_t = (1 − σ(g))·x_t + σ(g)·x_{t−1}` per channel, with
    /// `x_{t−1} = 0` at every position where `rowStart[t]` (the records' zero pad before a row).
    func channelSmear(_ x: TapeBuffer, gate: TapeParameter, width: Int, rowStart: [Bool]) -> TapeBuffer {
        let n = x.count / width
        precondition(rowStart.count == n)
        let out = buffer(count: x.count)
        let g = (0..<width).map { sigmoid(gate.value[$0]) }
        for t in 0..<n {
            for i in 0..<width {
                let previous: Float = rowStart[t] ? 0 : x.value[(t - 1) * width + i]
                out.value[t * width + i] = (1 - g[i]) * x.value[t * width + i] + g[i] * previous
            }
        }
        record {
            guard out.hasGradient else { return }
            let d = out.gradient, dx = x.gradient
            for t in 0..<n {
                for i in 0..<width {
                    let dy = d[t * width + i]
                    dx[t * width + i] += (1 - g[i]) * dy
                    let previous: Float
                    if rowStart[t] { previous = 0 } else {
                        previous = x.value[(t - 1) * width + i]
                        dx[(t - 1) * width + i] += g[i] * dy
                    }
                    gate.gradient?[i] += dy * (previous - x.value[t * width + i]) * g[i] * (1 - g[i])
                }
            }
        }
        return out
    }
}

/// The rows of the BigramHash table each position reads (the records' `bigram_hash` / `trigram_hash`,
/// int32 arithmetic): `(36313·t_i ⊕ 27191·t_{i−1}) mod (V−1)` (trigram: `⊕ 51497·t_{i−2}`), and the
/// last row `V−1` where the previous tokens fall before the row's start (`rowStart`).
func bigramHashRows(_ tokens: [Int32], rowStart: [Bool], vocab: Int, trigram: Bool) -> (bigram: [Int32], trigram: [Int32]?) {
    let modulus = Int32(vocab - 1)
    var sinceStart = 0
    var bigram = [Int32](repeating: modulus, count: tokens.count)
    var tri: [Int32]? = trigram ? [Int32](repeating: modulus, count: tokens.count) : nil
    for t in tokens.indices {
        sinceStart = rowStart[t] ? 0 : sinceStart + 1
        if sinceStart >= 1 { bigram[t] = ((36313 &* tokens[t]) ^ (27191 &* tokens[t - 1])) % modulus }
        if sinceStart >= 2, trigram {
            tri![t] = ((36313 &* tokens[t]) ^ (27191 &* tokens[t - 1]) ^ (51497 &* tokens[t - 2])) % modulus
        }
    }
    return (bigram, tri)
}
