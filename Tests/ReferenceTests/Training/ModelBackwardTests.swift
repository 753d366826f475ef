import Foundation
import Testing
@testable import Reference

/// The whole model's backward against central finite differences of its own mean loss, for the
/// largest-gradient element of every tensor and one more, untied and tied (the head's and the
/// embedding's gradients then add up).
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
        let cache = TrainingCache(model: model, maxRows: n, maxLength: length)
        let inputs = Array(tokens[100..<(100 + n)]), targets = Array(tokens[101...(100 + n)])
        func loss() -> Double { model.forward(inputs: inputs, targets: targets, sequences: sequences, length: length, cache: cache) }
        _ = loss()
        model.zeroGradients()
        model.backward(cache)
        let gradients = Array(model.gradients)

        let step: Float = 1e-2
        for entry in model.layout.entries where entry.count > 0 {
            let slice = gradients[entry.offset..<(entry.offset + entry.count)]
            let largest = slice.indices.max { abs(gradients[$0]) < abs(gradients[$1]) }!
            let largestMagnitude = Double(abs(gradients[largest]))
            #expect(largestMagnitude > 0, "\(entry.name) has no gradient")
            for index in [largest, entry.offset + entry.count / 3] {
                let saved = model.parameters[index]
                model.parameters[index] = saved + step
                let plus = loss()
                model.parameters[index] = saved - step
                let minus = loss()
                model.parameters[index] = saved
                let numeric = (plus - minus) / Double(2 * step)
                #expect(abs(numeric - Double(gradients[index])) <= 1e-4 + 0.02 * largestMagnitude,
                        "\(entry.name)[\(index - entry.offset)]: analytic \(gradients[index]) vs numeric \(numeric)")
            }
        }
    }

    /// Frozen blocks get no weight gradients, and the rest are exactly those of a full backward.
    @Test func frozenBlocksKeepTheirGradientsUntouched() throws {
        let model = try TTTFixtures.tinyModel()
        let tokens = try TTTFixtures.sliceTokens()
        let cache = TrainingCache(model: model, maxRows: 32, maxLength: 32)
        func forward() {
            model.forward(inputs: Array(tokens[0..<32]), targets: Array(tokens[1...32]), sequences: 1, length: 32, cache: cache)
        }
        forward()
        model.zeroGradients()
        model.backward(cache)
        let full = Array(model.gradients)
        forward()  // the backward consumes the cache's logits
        model.zeroGradients()
        model.backward(cache, weightGradientsFrom: 1)
        for entry in model.layout.entries {
            let range = entry.offset..<(entry.offset + entry.count)
            if entry.block == 0 {
                let untouched = model.gradients[range].allSatisfy { $0 == 0 }
                #expect(untouched, "\(entry.name)")
            } else {
                let same = Array(model.gradients[range]) == Array(full[range])
                #expect(same, "\(entry.name)")
            }
        }
    }
}
