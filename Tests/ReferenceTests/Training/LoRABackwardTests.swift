import Foundation
import Testing
@testable import Reference

/// LoRA adapters (q, v of every block and the head): their gradients against central finite
/// differences of the forward with adapters, for a loss over a slice of rows (as the LoRA TTT trains
/// on a chunk of its window). Tolerances as ModelBackwardTests.
@Suite struct LoRABackwardTests {
    @Test func adapterGradientsMatchFiniteDifferences() throws {
        let model = try TTTFixtures.tinyModel()
        let tokens = try TTTFixtures.sliceTokens()
        let length = 24, rank = 2
        let lora = LoRAAdapters(config: model.config, rank: rank)
        lora.reset(document: 3)
        for i in 0..<lora.parameters.count where lora.parameters[i] == 0 {  // nonzero B: A gets gradients
            lora.parameters[i] = LoRAInit.uniform(document: 99, adapter: 0, element: i, bound: 0.3)
        }
        let cache = TrainingCache(model: model, maxRows: length, maxLength: length, loraRank: rank)
        let inputs = Array(tokens[40..<(40 + length)]), targets = Array(tokens[41...(40 + length)])
        let weights = (0..<length).map { $0 >= 8 && $0 < 20 ? Float(1) / 12 : 0 }
        func loss() -> Double {
            model.forward(inputs: inputs, targets: targets, sequences: 1, length: length, cache: cache, lora: lora)
            return zip(cache.losses, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = loss()
        lora.zeroGradients()
        model.backward(cache, weightGradientsFrom: model.config.numLayers, rowWeights: weights)
        let gradients = Array(lora.gradients)
        let largest = gradients.reduce(0.0) { max($0, abs(Double($1))) }
        #expect(largest > 0)
        let step: Float = 1e-2
        for adapter in lora.resetOrder {
            for index in [adapter.a, adapter.a + 5, adapter.b, adapter.b + rank * adapter.outFeatures - 1] {
                let saved = lora.parameters[index]
                lora.parameters[index] = saved + step
                let plus = loss()
                lora.parameters[index] = saved - step
                let minus = loss()
                lora.parameters[index] = saved
                let numeric = (plus - minus) / Double(2 * step)
                #expect(abs(numeric - Double(gradients[index])) <= 1e-4 + 0.02 * largest,
                        "[\(index)]: analytic \(gradients[index]) vs numeric \(numeric)")
            }
        }
    }

    /// Zero `B`s leave the model as it was: the adapters' forward adds exactly nothing.
    @Test func freshAdaptersChangeNothing() throws {
        let model = try TTTFixtures.tinyModel()
        let tokens = try TTTFixtures.sliceTokens()
        let lora = LoRAAdapters(config: model.config, rank: 4)
        lora.reset(document: 0)
        let cache = TrainingCache(model: model, maxRows: 32, maxLength: 32, loraRank: 4)
        let inputs = Array(tokens[0..<32]), targets = Array(tokens[1...32])
        let with = model.forward(inputs: inputs, targets: targets, sequences: 1, length: 32, cache: cache, lora: lora)
        let without = model.forward(inputs: inputs, targets: targets, sequences: 1, length: 32, cache: cache)
        #expect(with == without)
    }
}
