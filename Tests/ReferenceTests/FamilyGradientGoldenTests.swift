import Foundation
import Testing
@testable import Reference

/// DifferentiableFamilyGPT against the records' own `forward_ttt` + `BatchedTTTLoRA` and varlen
/// `forward` under torch autograd (fixtures/families/*/gradients.json, tools/family_grad_goldens.py).
@Suite struct FamilyGradientGoldenTests {
    static func model(_ name: String, loraAlpha: Double? = nil) throws -> DifferentiableFamilyGPT {
        let golden = try FamilyFixtures.golden(name)
        return try DifferentiableFamilyGPT(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name),
                                           loraAlpha: loraAlpha)
    }

    @Test(arguments: FamilyFixtures.names)
    func adapterGradientsMatchTheRecordsForwardTTT(_ name: String) throws {
        let golden = try FamilyGradientFixtures.golden(name)
        let tokens = try FamilyFixtures.tokens(name)
        let (batch, weights) = FamilyGradientFixtures.batch(golden.ttt, tokens: tokens)
        for testCase in golden.ttt.cases {
            let model = try Self.model(name, loraAlpha: testCase.loraAlpha)
            let adapters = model.makeAdapters(rows: batch.rows, rank: testCase.rank, targets: testCase.targets)
            #expect(adapters.adapters.count == testCase.gradients.count / 2, "\(testCase.name)")
            FamilyGradientFixtures.fill(adapters, bBound: testCase.b_bound)
            let losses = model.accumulateAdapterGradients(batch, adapters: adapters, lossWeights: weights)
            var worst: Float = 0
            for row in 0..<batch.rows {
                for t in 0..<batch.columns {
                    worst = max(worst, abs(losses[row * batch.columns + t] - testCase.losses[row][t]))
                }
            }
            #expect(worst < 2e-5, "\(name) \(testCase.name): per-token losses differ by \(worst)")
            let weighted = zip(losses, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(weighted - testCase.weighted_loss) < 1e-5 * testCase.weighted_loss)
            for adapter in adapters.adapters {
                for (suffix, offset, count) in [("A", adapter.a, adapters.rows * adapters.rank * adapter.inFeatures),
                                                ("B", adapter.b, adapters.rows * adapters.rank * adapter.outFeatures)] {
                    let key = "\(adapter.name).\(suffix)"
                    guard let summary = testCase.gradients[key] else {
                        Issue.record("\(name) \(testCase.name): golden has no \(key)")
                        continue
                    }
                    let problem = FamilyGradientFixtures.mismatch(
                        UnsafeBufferPointer(rebasing: adapters.gradients[offset..<(offset + count)]), summary)
                    #expect(problem == nil, "\(name) \(testCase.name) \(key): \(problem ?? "")")
                }
            }
        }
    }

    @Test(arguments: FamilyFixtures.names)
    func baseGradientsMatchTheRecordsVarlenForward(_ name: String) throws {
        let golden = try FamilyGradientFixtures.golden(name).base
        let tokens = try FamilyFixtures.tokens(name)
        let model = try Self.model(name)
        let inputs = (0..<golden.tokens).map { Int32(tokens[golden.offset + $0]) }
        let targets = (0..<golden.tokens).map { Int32(tokens[golden.offset + $0 + 1]) }
        model.zeroBaseGradients()
        let loss = model.accumulateBaseGradients(inputs: inputs, targets: targets, segmentStarts: golden.segment_starts)
        #expect(abs(loss - golden.loss) < 2e-5, "\(name): loss \(loss) vs \(golden.loss)")
        for entry in model.parameterEntries {
            let values = UnsafeBufferPointer(rebasing: model.baseGradients[entry.offset..<(entry.offset + entry.count)])
            guard let summary = golden.gradients[entry.name] else {
                // No gradient in torch (unused, e.g. a skip weight past the active skips): ours must be zero too.
                #expect(values.allSatisfy { $0 == 0 }, "\(name): \(entry.name) has a gradient torch does not")
                continue
            }
            let problem = FamilyGradientFixtures.mismatch(values, summary)
            #expect(problem == nil, "\(name) \(entry.name): \(problem ?? "")")
        }
        let ours = Set(model.parameterEntries.map(\.name))
        #expect(Set(golden.gradients.keys).isSubset(of: ours), "\(name): torch has gradients for tensors we lack")
    }
}
