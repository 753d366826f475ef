import Foundation
import Testing
@testable import Reference

/// Every op of the differentiable family model's tape against central finite differences of its own
/// forward: the probe is `L = Σ rⱼ·outⱼ` (fixed random `r`, summed in Float64), steps of 1e-2 on O(1)
/// values, tolerance 3e-3·max|g| (see BackwardOpsTests for the error budget). Every element of every
/// input and parameter is probed.
@Suite struct FamilyGradientOpsTests {
    typealias Generator = BackwardOpsTests.Generator

    /// An op under test: its inputs (activations), its parameters, and how it is built on a tape.
    struct OpCase {
        var inputs: [[Float]]
        var parameters: [[Float]]
        var build: (GradientTape, [TapeBuffer], [TapeParameter]) -> TapeBuffer
    }

    /// Runs `op` once, forward (returning `Σ r·out`) and, when `gradients`, backward.
    static func run(_ op: OpCase, inputs: [[Float]], parameters: [[Float]], r: [Float]?)
        -> (probe: Double, out: [Float], inputGradients: [[Float]], parameterGradients: [[Float]]) {
        let tape = GradientTape()
        let buffers = inputs.map { TapeBuffer(copying: $0) }
        let values = parameters.map { p -> UnsafeMutablePointer<Float> in
            let b = UnsafeMutablePointer<Float>.allocate(capacity: max(p.count, 1))
            b.initialize(repeating: 0, count: max(p.count, 1))
            p.withUnsafeBufferPointer { b.update(from: $0.baseAddress!, count: p.count) }
            return b
        }
        let grads = parameters.map { p -> UnsafeMutablePointer<Float> in
            let b = UnsafeMutablePointer<Float>.allocate(capacity: max(p.count, 1))
            b.initialize(repeating: 0, count: max(p.count, 1))
            return b
        }
        defer { (values + grads).forEach { $0.deallocate() } }
        let out = op.build(tape, buffers, zip(values, grads).map { TapeParameter($0.0, gradient: $0.1) })
        let outValues = out.values
        let r = r ?? [Float](repeating: 0, count: out.count)
        for j in 0..<out.count { out.gradient[j] = r[j] }
        tape.backward()
        let probe = zip(outValues, r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        return (probe, outValues,
                buffers.map { b in b.hasGradient ? (0..<b.count).map { b.gradient[$0] } : [Float](repeating: 0, count: b.count) },
                zip(parameters, grads).map { p, g in (0..<p.count).map { g[$0] } })
    }

    static func check(_ op: OpCase, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
        var random = Generator(state: seed)
        let first = run(op, inputs: op.inputs, parameters: op.parameters, r: nil)
        let r = random.values(first.out.count)
        let analytic = run(op, inputs: op.inputs, parameters: op.parameters, r: r)
        let all = analytic.inputGradients + analytic.parameterGradients
        let largest = all.joined().reduce(0.0) { max($0, abs(Double($1))) }
        #expect(largest > 0, "vacuous gradient", sourceLocation: sourceLocation)
        let step: Float = 1e-2
        func probe(inputs: [[Float]], parameters: [[Float]]) -> Double {
            run(op, inputs: inputs, parameters: parameters, r: r).probe
        }
        for (k, input) in op.inputs.enumerated() {
            for i in input.indices {
                var plus = op.inputs, minus = op.inputs
                plus[k][i] += step
                minus[k][i] -= step
                let numeric = (probe(inputs: plus, parameters: op.parameters) - probe(inputs: minus, parameters: op.parameters)) / Double(2 * step)
                let value = Double(analytic.inputGradients[k][i])
                #expect(abs(numeric - value) <= 3e-3 * largest + 1e-6, "input \(k)[\(i)]: analytic \(value) vs numeric \(numeric)",
                        sourceLocation: sourceLocation)
            }
        }
        for (k, parameter) in op.parameters.enumerated() {
            for i in parameter.indices {
                var plus = op.parameters, minus = op.parameters
                plus[k][i] += step
                minus[k][i] -= step
                let numeric = (probe(inputs: op.inputs, parameters: plus) - probe(inputs: op.inputs, parameters: minus)) / Double(2 * step)
                let value = Double(analytic.parameterGradients[k][i])
                #expect(abs(numeric - value) <= 3e-3 * largest + 1e-6, "parameter \(k)[\(i)]: analytic \(value) vs numeric \(numeric)",
                        sourceLocation: sourceLocation)
            }
        }
    }

    @Test func embeddingSmearAndNorm() {
        var random = Generator(state: 11)
        let tokens: [Int32] = [2, 1, 3, 3, 0, 1, 2, 1]  // rows of 4; token 1 resets the smear
        Self.check(OpCase(inputs: [], parameters: [random.values(4 * 5)]) { tape, _, p in
            tape.embedding(tokens, table: p[0], width: 5)
        }, seed: 1)
        for reset in [nil, 1] as [Int?] {
            Self.check(OpCase(inputs: [random.values(8 * 5)], parameters: [random.values(3), [0.8]]) { tape, x, p in
                tape.smear(x[0], tokens: tokens, width: 5, rowLength: 4, window: 3, gate: p[0], lambda: p[1], resetToken: reset)
            }, seed: 2)
        }
        Self.check(OpCase(inputs: [random.values(3 * 6)], parameters: []) { tape, x, _ in
            tape.rmsNorm(x[0], width: 6, scale: 0.7, eps: 1e-6)
        }, seed: 3)
    }

    @Test func linearAndLoRA() {
        var random = Generator(state: 12)
        Self.check(OpCase(inputs: [random.values(4 * 3)], parameters: [random.values(5 * 3)]) { tape, x, p in
            tape.linear(x[0], weight: p[0], inFeatures: 3, outFeatures: 5)
        }, seed: 4)
        // 2 batch rows × 3 tokens, in 4, out 5, rank 2, scale 1.5: A [2, 2, 4], B [2, 5, 2].
        Self.check(OpCase(inputs: [random.values(6 * 4), random.values(6 * 5)],
                          parameters: [random.values(2 * 2 * 4), random.values(2 * 5 * 2)]) { tape, x, p in
            let out = tape.combination([x[1]], coefficients: [.constant(1)])
            tape.addLoRA(into: out, input: x[0], adapter: TapeLoRA(a: p[0], b: p[1], rank: 2, inFeatures: 4, outFeatures: 5, scale: 1.5),
                         batchRows: 2, columns: 3)
            return out
        }, seed: 5)
    }

    @Test func elementwiseOps() {
        var random = Generator(state: 13)
        let w = 4
        Self.check(OpCase(inputs: [random.values(3 * w)], parameters: []) { tape, x, _ in tape.leakyReluSquared(x[0], slope: 0.5) }, seed: 6)
        Self.check(OpCase(inputs: [random.values(3 * w)], parameters: []) { tape, x, _ in tape.reluSquared(x[0]) }, seed: 7)
        Self.check(OpCase(inputs: [random.values(3 * w), random.values(3 * w)], parameters: [random.values(w)]) { tape, x, p in
            tape.addScaled(x[0], x[1], scale: p[0], width: w)
        }, seed: 8)
        Self.check(OpCase(inputs: [random.values(3 * w)], parameters: [random.values(w)]) { tape, x, p in
            tape.scaleChannels(x[0], by: p[0], width: w)
        }, seed: 9)
        Self.check(OpCase(inputs: [random.values(3 * w), random.values(3 * w)], parameters: [random.values(2 * w)]) { tape, x, p in
            tape.residualMix(x[0], x[1], mix: p[0], width: w)
        }, seed: 10)
        for gated in [false, true] {
            Self.check(OpCase(inputs: [random.values(3 * w), random.values(3 * w)], parameters: [random.values(w), random.values(w)]) { tape, x, p in
                tape.skip(x[0], x[1], weight: p[0], gate: gated ? p[1] : nil, width: w)
            }, seed: 11)
        }
        Self.check(OpCase(inputs: [random.values(3 * w), random.values(3 * w), random.values(3 * w)],
                          parameters: [[1.1], [0.7], [-0.4]]) { tape, x, p in
            tape.combination(x, coefficients: [.parameter(p[0]), .parameter(p[1]), .parameter(p[2])])
        }, seed: 12)
    }

    @Test func headGates() {
        var random = Generator(state: 14)
        // 3 rows, 2 heads of 3, a source of width 5 read through a window of 4.
        for (scale, doubled) in [(1.5, false), (1, true)] as [(Float, Bool)] {
            Self.check(OpCase(inputs: [random.values(3 * 6), random.values(3 * 5)], parameters: [random.values(2 * 4)]) { tape, x, p in
                tape.headGate(x[0], source: x[1], sourceWidth: 5, window: 4, weight: p[0], heads: 2, headWidth: 3,
                              scale: scale, doubled: doubled)
            }, seed: 13)
        }
    }

    @Test func attentionCoreAndExclusiveSelfAttention() {
        var random = Generator(state: 15)
        // 2 heads / 1 KV head of width 4, partial RoPE on 2 dims; segments of 3 and 4 tokens at stream positions.
        let table = RotaryTable(headDim: 2, positions: 16, base: 10)
        let segments = AttentionSegments(segments: [.init(start: 0, count: 3, firstPosition: 0), .init(start: 3, count: 4, firstPosition: 5)])
        Self.check(OpCase(inputs: [random.values(7 * 8), random.values(7 * 4), random.values(7 * 4)],
                          parameters: [[1.3, -0.8]]) { tape, x, p in
            tape.attentionCore(q: x[0], k: x[1], v: x[2], gain: p[0], heads: 2, kvHeads: 1, headDim: 4, ropeDims: 2,
                               rotary: table, segments: segments)
        }, seed: 14)
        Self.check(OpCase(inputs: [random.values(3 * 8), random.values(3 * 4)], parameters: []) { tape, x, _ in
            tape.exclusiveSelfAttention(x[0], values: x[1], heads: 4, kvHeads: 2, headDim: 2)
        }, seed: 15)
    }

    @Test func headLossWithLoRAWeightedBackward() {
        var random = Generator(state: 16)
        // 2 batch rows × 3 tokens, width 3, vocab 5, head LoRA rank 2 (scale 1.5), softcap 2.5.
        let n = 6, c = 3, vocab = 5, rank = 2
        let sizes = [n * c, vocab * c, 2 * rank * c, 2 * vocab * rank]
        let all = random.values(sizes.reduce(0, +))
        let targets: [Int32] = [1, 4, 0, 2, 2, 3], weights: [Float] = [0.5, 0, 1.25, 0.75, 1, 0.25]
        func probe(_ values: [Float]) -> (Double, [Float]) {
            var parts: [[Float]] = [], cursor = 0
            for size in sizes {
                parts.append(Array(values[cursor..<(cursor + size)]))
                cursor += size
            }
            let tape = GradientTape()
            let x = TapeBuffer(copying: parts[0])
            // Parameters and their gradients in owned buffers (pointers must outlive the tape).
            let values = parts.dropFirst().map { TapeBuffer(copying: $0) }
            let gradients = values.map { TapeBuffer(count: $0.count) }
            func parameter(_ k: Int) -> TapeParameter { TapeParameter(values[k].value, gradient: gradients[k].value) }
            let adapter = TapeLoRA(a: parameter(1), b: parameter(2), rank: rank, inFeatures: c, outFeatures: vocab, scale: 1.5)
            let losses = tape.headLoss(x, head: parameter(0), width: c, vocab: vocab, cap: 2.5, lora: (adapter, 3),
                                       targets: targets, weights: weights)
            tape.backward()
            let grads = gradients.map(\.values)
            let gradient = (0..<x.count).map { x.gradient[$0] } + grads.joined()
            return (zip(losses, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, gradient)
        }
        let analytic = probe(all).1
        BackwardOpsTests.checkGradient(all, analytic: analytic) { probe($0).0 }
        // A zero weight gives its token no gradient at all.
        #expect(analytic[c..<(2 * c)].allSatisfy { $0 == 0 })
    }
}
