import Foundation
import Testing
@testable import Reference

/// The baseline GPT's backward (the one differentiable model with the baseline's features) against
/// central finite differences of its own mean loss, for the largest-gradient element of every tensor
/// and one more, untied and tied (the head's and the embedding's gradients then add up).
///
/// The forward is float32 on a loss of ~8 nats, so its rounding noise is ~1e-6: with steps of 1e-2 the
/// difference quotient is good to ~1e-4, hence the tolerance 1e-4 + 2% of the tensor's largest gradient
/// (the float64-exact comparison is the PyTorch golden, GradientGoldenTests).
@Suite struct ModelBackwardTests {
    @Test(arguments: [false, true])
    func backwardMatchesFiniteDifferences(tied: Bool) throws {
        let model = try TTTFixtures.tinyModel(tied: tied)
        let tokens = try TTTFixtures.sliceTokens()
        let sequences = 2, length = 16, n = sequences * length
        let inputs = tokens[100..<(100 + n)].map(Int32.init), targets = tokens[101...(100 + n)].map(Int32.init)
        func loss() -> Double { model.accumulateBaseGradients(rows: sequences, inputs: inputs, targets: targets) }
        model.zeroBaseGradients()
        _ = loss()
        let gradients = Array(model.baseGradients)

        let step: Float = 1e-2
        for entry in model.parameterEntries where entry.count > 0 {
            let slice = gradients[entry.offset..<(entry.offset + entry.count)]
            let largest = slice.indices.max { abs(gradients[$0]) < abs(gradients[$1]) }!
            let largestMagnitude = Double(abs(gradients[largest]))
            #expect(largestMagnitude > 0, "\(entry.name) has no gradient")
            for index in [largest, entry.offset + entry.count / 3] {
                let saved = model.baseParameters[index]
                model.baseParameters[index] = saved + step
                let plus = loss()
                model.baseParameters[index] = saved - step
                let minus = loss()
                model.baseParameters[index] = saved
                let numeric = (plus - minus) / Double(2 * step)
                #expect(abs(numeric - Double(gradients[index])) <= 1e-4 + 0.02 * largestMagnitude,
                        "\(entry.name)[\(index - entry.offset)]: analytic \(gradients[index]) vs numeric \(numeric)")
            }
        }
    }
}

extension ModelBackwardTests {
    /// The chunked TTT's frozen blocks get no gradients, and the rest are exactly those of a full backward.
    @Test(arguments: [1, 2])
    func frozenBlocksKeepTheirGradientsUntouched(frozenBlocks: Int) throws {
        let model = try TTTFixtures.tinyModel()
        let tokens = try TTTFixtures.sliceTokens()
        func gradients(frozenBlocks: Int) -> [Float] {
            tokens.withUnsafeBufferPointer { stream in
                model.accumulateSequenceGradients(stream: stream.baseAddress!, sequences: 2, length: 16, frozenBlocks: frozenBlocks)
            }
            return Array(model.gradients)
        }
        let full = gradients(frozenBlocks: 0), frozen = gradients(frozenBlocks: frozenBlocks)
        for tensor in model.tensors {
            let range = tensor.range
            if let block = tensor.block, block < frozenBlocks {
                #expect(frozen[range].allSatisfy { $0 == 0 } && full[range].contains { $0 != 0 }, "\(tensor.name)")
            } else {
                #expect(Array(frozen[range]) == Array(full[range]), "\(tensor.name)")
            }
        }
    }
}
