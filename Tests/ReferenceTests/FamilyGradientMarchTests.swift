import Foundation
import Testing
@testable import Reference

/// The March family (BigramHash, trigram, value embeddings, SmearGate(dim), NTK RoPE) in
/// DifferentiableFamilyGPT: its ops against finite differences, its losses against FamilyGPTModel, and
/// its gradients against the record's own `GPT.forward` under torch autograd
/// (fixtures/families/march-*/gradients.json, tools/family_grad_goldens.py).
@Suite struct FamilyGradientMarchTests {
    typealias Ops = FamilyGradientOpsTests

    @Test func channelSmearMatchesFiniteDifferences() {
        var random = FamilyGradientOpsTests.Generator(state: 31)
        let rowStart = [true, false, false, true, false, false, false]  // rows of 3 and 4
        Ops.check(Ops.OpCase(inputs: [random.values(7 * 5)], parameters: [random.values(5)]) { tape, x, p in
            tape.channelSmear(x[0], gate: p[0], width: 5, rowStart: rowStart)
        }, seed: 4)
    }

    @Test func hashedEmbeddingPathMatchesFiniteDifferences() {
        // gather (bigram + trigram rows of one table) → proj → scalar scale, as the forward builds it.
        var random = FamilyGradientOpsTests.Generator(state: 32)
        let rows = bigramHashRows([5, 7, 1000, 3, 9], rowStart: [true, false, false, false, false], vocab: 7, trigram: true)
        Ops.check(Ops.OpCase(inputs: [], parameters: [random.values(7 * 3), random.values(4 * 3), [0.6]]) { tape, _, p in
            let b = tape.embedding(rows.bigram, table: p[0], width: 3)
            let t = tape.embedding(rows.trigram!, table: p[0], width: 3)
            let sum = tape.combination([b, t], coefficients: [.constant(1), .constant(1)])
            return tape.scaleChannels(tape.linear(sum, weight: p[1], inFeatures: 3, outFeatures: 4), by: p[2], width: 1)
        }, seed: 5)
    }

    @Test func bigramHashRowsFollowTheRecordsHash() {
        // Values from the records' formula evaluated in Python: (36313·t ⊕ 27191·prev [⊕ 51497·prev2]) mod 96.
        let tokens: [Int32] = [5, 7, 1000, 3]
        let one = bigramHashRows(tokens, rowStart: [true, false, false, false], vocab: 97, trigram: true)
        #expect(one.bigram == [96, 28, 41, 19])
        #expect(one.trigram == [96, 96, 68, 12])
        let two = bigramHashRows(tokens, rowStart: [true, false, true, false], vocab: 97, trigram: true)
        #expect(two.bigram == [96, 28, 96, 19])
        #expect(two.trigram == [96, 96, 96, 96])
        #expect(bigramHashRows(tokens, rowStart: [true, false, false, false], vocab: 97, trigram: false).trigram == nil)
    }

    @Test(arguments: FamilyFixtures.marchNames)
    func rowAndVarlenLossesMatchFamilyGPTModel(_ name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let weights = try FamilyFixtures.weights(name), tokens = try FamilyFixtures.tokens(name)
        let reference = try FamilyGPTModel(config: golden.hyperparameters.config, weights: weights, maxPositions: 1024)
        let model = try DifferentiableFamilyGPT(forBaseGradients: golden.hyperparameters.config, weights: weights)
        let starts = [tokens.firstIndex(of: 1)!, 5000], columns = 160
        var inputs: [Int32] = [], targets: [Int32] = []
        for s in starts {
            inputs += tokens[s..<(s + columns)].map(Int32.init)
            targets += tokens[(s + 1)...(s + columns)].map(Int32.init)
        }
        let losses = model.perTokenLosses(TokenRows(inputs: inputs, targets: targets, rows: 2, columns: columns),
                                          adapters: model.makeAdapters(rows: 2, rank: 2, targets: LoRATargets()))
        var worst: Float = 0, total = 0.0
        for (row, s) in starts.enumerated() {
            let expected = FamilyGradientModelTests.referenceLosses(
                reference, tokens: Array(tokens[s..<(s + columns)]), targets: Array(tokens[(s + 1)...(s + columns)]),
                previousToken: nil, firstPosition: 0)
            for t in 0..<columns { worst = max(worst, abs(losses[row * columns + t] - expected[t])) }
            total += expected.reduce(0.0) { $0 + Double($1) }
        }
        #expect(worst < 1e-5, "\(name): per-token losses differ from FamilyGPTModel by \(worst)")
        model.zeroBaseGradients()
        let mean = model.accumulateBaseGradients(rows: 2, inputs: inputs, targets: targets)
        #expect(abs(mean - total / Double(2 * columns)) < 1e-5)
        // The stream form: segments restart the hash and the smear, rotary positions run on.
        let segments = [0, 70, columns, columns + 50]
        let bounds = segments + [2 * columns]
        var streamTotal = 0.0
        for (s, e) in zip(bounds.dropLast(), bounds.dropFirst()) {
            let flatInputs = inputs.map { UInt16($0) }, flatTargets = targets.map { UInt16($0) }
            streamTotal += FamilyGradientModelTests.referenceLosses(
                reference, tokens: Array(flatInputs[s..<e]), targets: Array(flatTargets[s..<e]),
                previousToken: s > 0 ? flatInputs[s - 1] : nil, firstPosition: s).reduce(0.0) { $0 + Double($1) }
        }
        let streamMean = model.accumulateBaseGradients(inputs: inputs, targets: targets, segmentStarts: segments)
        #expect(abs(streamMean - streamTotal / Double(2 * columns)) < 1e-5, "\(name): \(streamMean) vs \(streamTotal / Double(2 * columns))")
    }

    @Test func ntkRotaryPastTrainingLengthMatchesFamilyGPTModel() throws {
        // One row of 1,100 tokens: longer than the March Rotary's 1,024, so both models scale the base.
        let name = "march-bigram-ve-sp1024"
        let golden = try FamilyFixtures.golden(name)
        let weights = try FamilyFixtures.weights(name), tokens = try FamilyFixtures.tokens(name)
        let columns = 1100
        #expect(golden.hyperparameters.config.features.ropeNTKTrainSeqLen.map { columns > $0 } == true)
        let reference = try FamilyGPTModel(config: golden.hyperparameters.config, weights: weights, maxPositions: columns)
        let model = try DifferentiableFamilyGPT(forBaseGradients: golden.hyperparameters.config, weights: weights)
        let inputs = tokens[0..<columns].map(Int32.init), targets = tokens[1...columns].map(Int32.init)
        let expected = FamilyGradientModelTests.referenceLosses(reference, tokens: Array(tokens[0..<columns]),
                                                                targets: Array(tokens[1...columns]), previousToken: nil, firstPosition: 0)
        let mean = model.accumulateBaseGradients(rows: 1, inputs: inputs, targets: targets)
        let expectedMean = expected.reduce(0.0) { $0 + Double($1) } / Double(columns)
        #expect(abs(mean - expectedMean) < 1e-5, "\(mean) vs \(expectedMean)")
    }

    struct Golden: Decodable {
        struct Base: Decodable {
            var offset, rows, columns: Int
            var loss: Double
            var gradients: [String: FamilyGradientFixtures.Summary]
        }
        var base: Base
    }

    @Test(arguments: FamilyFixtures.marchNames)
    func baseGradientsMatchTheRecordsRowForward(_ name: String) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("families/\(name)/gradients.json"))).base
        let config = try FamilyFixtures.golden(name).hyperparameters.config
        let model = try DifferentiableFamilyGPT(forBaseGradients: config, weights: FamilyFixtures.weights(name))
        let tokens = try FamilyFixtures.tokens(name), n = golden.rows * golden.columns
        let inputs = (0..<n).map { Int32(tokens[golden.offset + $0]) }
        let targets = (0..<n).map { Int32(tokens[golden.offset + $0 + 1]) }
        model.zeroBaseGradients()
        let loss = model.accumulateBaseGradients(rows: golden.rows, inputs: inputs, targets: targets)
        #expect(abs(loss - golden.loss) < 2e-5, "\(name): loss \(loss) vs \(golden.loss)")
        for entry in model.parameterEntries {
            let values = UnsafeBufferPointer(rebasing: model.baseGradients[entry.offset..<(entry.offset + entry.count)])
            guard let summary = golden.gradients[entry.name] else {
                #expect(values.allSatisfy { $0 == 0 }, "\(name): \(entry.name) has a gradient torch does not")
                continue
            }
            let problem = FamilyGradientFixtures.mismatch(values, summary)
            #expect(problem == nil, "\(name) \(entry.name): \(problem ?? "")")
        }
        #expect(Set(golden.gradients.keys) == Set(model.parameterEntries.map(\.name)), "\(name): tensor sets differ")
    }
}
