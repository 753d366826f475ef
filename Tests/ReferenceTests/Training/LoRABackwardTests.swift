import Foundation
import Testing
@testable import Reference

/// 2026-03-17's LoRA adapters (q, v of every block and the head, one row: one document) on the baseline
/// GPT: their gradients against central finite differences of the forward with adapters, for a loss over
/// a slice of rows (as the LoRA TTT trains on a chunk of its window). Tolerances as ModelBackwardTests.
@Suite struct LoRABackwardTests {
    static let recordTargets = LoRATargets(key: false, mlp: false, output: false)

    @Test func adapterGradientsMatchFiniteDifferences() throws {
        let model = try TTTFixtures.tinyModel()
        let tokens = try TTTFixtures.sliceTokens()
        let length = 24, rank = 2
        let lora = model.makeAdapters(rows: 1, rank: rank, targets: Self.recordTargets)
        #expect(lora.adapters.map(\.name) == ["lm_head_lora"] + (0..<3).map { "q_loras.\($0)" } + (0..<3).map { "v_loras.\($0)" })
        lora.reset(row: 0, document: 3)
        for i in 0..<lora.parameters.count where lora.parameters[i] == 0 {  // nonzero B: A gets gradients
            lora.parameters[i] = LoRAInit.uniform(document: 99, adapter: 0, element: i, bound: 0.3)
        }
        let window = TokenRows(inputs: tokens[40..<(40 + length)].map(Int32.init),
                               targets: tokens[41...(40 + length)].map(Int32.init), rows: 1, columns: length)
        let weights = (0..<length).map { $0 >= 8 && $0 < 20 ? Float(1) / 12 : 0 }
        func loss() -> Double {
            zip(model.perTokenLosses(window, adapters: lora), weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        lora.zeroGradients()
        _ = model.accumulateAdapterGradients(window, adapters: lora, lossWeights: weights)
        let gradients = Array(lora.gradients)
        let largest = gradients.reduce(0.0) { max($0, abs(Double($1))) }
        #expect(largest > 0)
        #expect(model.baseGradients.allSatisfy { $0 == 0 }, "the base model is frozen")
        let step: Float = 1e-2
        for adapter in lora.adapters {
            for index in [adapter.a, adapter.a + 5, adapter.b, adapter.b + rank * adapter.outFeatures - 1] {
                let saved = lora.parameters[index]
                lora.parameters[index] = saved + step
                let plus = loss()
                lora.parameters[index] = saved - step
                let minus = loss()
                lora.parameters[index] = saved
                let numeric = (plus - minus) / Double(2 * step)
                #expect(abs(numeric - Double(gradients[index])) <= 1e-4 + 0.02 * largest,
                        "\(adapter.name)[\(index)]: analytic \(gradients[index]) vs numeric \(numeric)")
            }
        }
    }

    /// Zero `B`s leave the model as it was: exactly the losses of all-zero adapters, and the reference forward's.
    @Test func freshAdaptersChangeNothing() throws {
        let model = try TTTFixtures.tinyModel()
        let tokens = try TTTFixtures.sliceTokens()
        let lora = model.makeAdapters(rows: 1, rank: 4, targets: Self.recordTargets)
        lora.reset(row: 0, document: 0)
        let window = TokenRows(inputs: tokens[0..<32].map(Int32.init), targets: tokens[1...32].map(Int32.init), rows: 1, columns: 32)
        let with = model.perTokenLosses(window, adapters: lora)
        let reference = try FamilyGPTModel(config: model.config, weights: model.weights(), maxPositions: 32)
        let without = FamilyGradientModelTests.referenceLosses(reference, tokens: Array(tokens[0..<32]), targets: Array(tokens[1...32]),
                                                               previousToken: nil, firstPosition: 0)
        #expect(with == model.perTokenLosses(window, adapters: model.makeAdapters(rows: 1, rank: 4, targets: Self.recordTargets)))
        #expect(with.count == 32)
        for (a, b) in zip(with, without) { #expect(abs(a - b) <= 1e-5, "\(a) vs \(b)") }
    }
}
