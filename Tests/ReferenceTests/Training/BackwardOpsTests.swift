import Foundation
import Testing
@testable import Reference

/// Each op's backward against central finite differences of its own forward on tiny random shapes.
///
/// The ops run in float32, so the probe is `L = Σ rᵢ·yᵢ` with fixed random `r`, summed in Float64,
/// and steps of 1e-2 on O(1) inputs: truncation error O(h²) ≈ 1e-4 and rounding error
/// ≈ 1e-7·|L|/h ≈ 1e-4, well under the 2e-3 · max|g| tolerance, while a wrong derivative is off by O(|g|).
@Suite struct BackwardOpsTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
        mutating func values(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in next() * scale } }
    }

    /// Checks `analytic` (dL/dx) against central differences of `probe(x)` at every element of `x`.
    static func checkGradient(_ x: [Float], analytic: [Float], step: Float = 1e-2, tolerance: Double = 2e-3,
                              _ probe: ([Float]) -> Double, sourceLocation: SourceLocation = #_sourceLocation) {
        let largest = analytic.reduce(0.0) { max($0, abs(Double($1))) }
        #expect(largest > 0, "vacuous gradient", sourceLocation: sourceLocation)
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += step
            minus[i] -= step
            let numeric = (probe(plus) - probe(minus)) / Double(2 * step)
            #expect(abs(numeric - Double(analytic[i])) <= tolerance * largest + 1e-6,
                    "∂/∂x[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", sourceLocation: sourceLocation)
        }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }

    @Test func rmsNormBackwardMatchesFiniteDifferences() {
        var random = Generator(state: 1)
        let rows = 3, width = 5
        let x = random.values(rows * width), r = random.values(rows * width)
        func forward(_ input: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: input.count), inverse = [Float](repeating: 0, count: rows)
            rmsNormForward(out: &out, input: input, reciprocalRMS: &inverse, rows: rows, width: width, stride: width, eps: 1e-6)
            return out
        }
        var inverse = [Float](repeating: 0, count: rows), out = [Float](repeating: 0, count: x.count)
        rmsNormForward(out: &out, input: x, reciprocalRMS: &inverse, rows: rows, width: width, stride: width, eps: 1e-6)
        var dx = [Float](repeating: 0, count: x.count)
        rmsNormBackward(dInput: &dx, dOut: r, input: x, reciprocalRMS: inverse, rows: rows, width: width, stride: width, accumulate: false)
        Self.checkGradient(x, analytic: dx) { Self.dot(forward($0), r) }
    }

    @Test(arguments: [Float?.some(3), nil])
    func softcapCrossEntropyBackwardMatchesFiniteDifferences(cap: Float?) {
        var random = Generator(state: 4)
        let rows = 3, vocab = 7
        let logits = random.values(rows * vocab, scale: 4), targets: [UInt16] = [2, 0, 6]
        func meanLoss(_ input: [Float]) -> Double {
            var y = input, nll = [Float](repeating: 0, count: rows), scratch = [Float](repeating: 0, count: vocab)
            softcapCrossEntropyForward(logits: &y, targets: targets, nll: &nll, rows: rows, vocab: vocab, cap: cap, scratch: &scratch)
            return nll.reduce(0.0) { $0 + Double($1) } / Double(rows)
        }
        var y = logits, nll = [Float](repeating: 0, count: rows), scratch = [Float](repeating: 0, count: vocab)
        softcapCrossEntropyForward(logits: &y, targets: targets, nll: &nll, rows: rows, vocab: vocab, cap: cap, scratch: &scratch)
        softcapCrossEntropyBackward(logits: &y, targets: targets, rows: rows, vocab: vocab, cap: cap, scale: 1 / Float(rows))
        Self.checkGradient(logits, analytic: y, step: 5e-3, meanLoss)
    }

    /// Causal GQA attention (4 query heads on 2 key/value heads, two sequences of 5): q, k and v, in
    /// blocks of 64 query rows (one block) and of 2 (three blocks, the last short).
    @Test(arguments: [64, 2])
    func attentionBackwardMatchesFiniteDifferences(blockRows: Int) {
        var random = Generator(state: 6)
        let heads = 4, kvHeads = 2, d = 4, sequences = 2, length = 5
        let width = (heads + 2 * kvHeads) * d, n = sequences * length
        let qkv = random.values(n * width, scale: 1.5), r = random.values(n * heads * d)
        func forward(_ qkv: [Float]) -> (out: [Float], lse: [Float]) {
            var out = [Float](repeating: 0, count: n * heads * d), lse = [Float](repeating: 0, count: n * heads)
            var scores = [Float](repeating: 0, count: length * length)
            attentionForward(out: &out, lse: &lse, qkv: qkv, ldqkv: width, sequences: sequences, length: length,
                             heads: heads, kvHeads: kvHeads, headDim: d, scores: &scores, blockRows: blockRows)
            return (out, lse)
        }
        let (out, lse) = forward(qkv)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        var p = [Float](repeating: 0, count: length * length), dp = p
        attentionBackward(dqkv: &dqkv, dOut: r, out: out, lse: lse, qkv: qkv, ldqkv: width, sequences: sequences,
                          length: length, heads: heads, kvHeads: kvHeads, headDim: d, probabilities: &p, dScores: &dp,
                          blockRows: blockRows)
        Self.checkGradient(qkv, analytic: dqkv) { Self.dot(forward($0).out, r) }
    }
}
