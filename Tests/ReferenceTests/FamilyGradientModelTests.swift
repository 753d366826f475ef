import Foundation
import Testing
@testable import Reference

/// DifferentiableFamilyGPT as a model: the same function as FamilyGPTModel, per-row adapters that
/// stay in their rows, and the features it refuses.
@Suite struct FamilyGradientModelTests {
    /// Per-token losses of FamilyGPTModel's logits on one segment.
    static func referenceLosses(_ model: FamilyGPTModel, tokens: [UInt16], targets: [UInt16], previousToken: UInt16?,
                                firstPosition: Int) -> [Float] {
        let v = model.config.vocabSize
        let logits = model.logits(segment: tokens, previousToken: previousToken, firstPosition: firstPosition)
        var scratch = [Float](repeating: 0, count: v)
        return logits.withUnsafeBufferPointer { lb in
            scratch.withUnsafeMutableBufferPointer { sb in
                targets.indices.map { crossEntropy(logits: lb.baseAddress! + $0 * v, count: v, target: Int(targets[$0]),
                                                   scratch: sb.baseAddress!) }
            }
        }
    }

    @Test(arguments: FamilyFixtures.names)
    func rowLossesMatchFamilyGPTModel(_ name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let weights = try FamilyFixtures.weights(name), tokens = try FamilyFixtures.tokens(name)
        let reference = try FamilyGPTModel(config: golden.hyperparameters.config, weights: weights, maxPositions: 1024)
        let model = try DifferentiableFamilyGPT(config: golden.hyperparameters.config, weights: weights)
        // Two rows of 160 tokens: one from a document start, one from mid-document; positions from 0.
        let starts = [tokens.firstIndex(of: 1)!, 5000], columns = 160
        var inputs: [Int32] = [], targets: [Int32] = []
        for s in starts {
            inputs += tokens[s..<(s + columns)].map(Int32.init)
            targets += tokens[(s + 1)...(s + columns)].map(Int32.init)
        }
        let adapters = model.makeAdapters(rows: 2, rank: 2, targets: LoRATargets())
        let losses = model.perTokenLosses(TokenRows(inputs: inputs, targets: targets, rows: 2, columns: columns), adapters: adapters)
        var worst: Float = 0
        for (row, s) in starts.enumerated() {
            let expected = Self.referenceLosses(reference, tokens: Array(tokens[s..<(s + columns)]),
                                                targets: Array(tokens[(s + 1)...(s + columns)]), previousToken: nil, firstPosition: 0)
            for t in 0..<columns { worst = max(worst, abs(losses[row * columns + t] - expected[t])) }
        }
        #expect(worst < 1e-5, "\(name): per-token losses differ from FamilyGPTModel by \(worst)")
    }

    @Test(arguments: FamilyFixtures.names)
    func varlenMeanLossMatchesFamilyGPTModelSegments(_ name: String) throws {
        let golden = try FamilyFixtures.golden(name)
        let weights = try FamilyFixtures.weights(name), tokens = try FamilyFixtures.tokens(name)
        let reference = try FamilyGPTModel(config: golden.hyperparameters.config, weights: weights, maxPositions: 1024)
        let model = try DifferentiableFamilyGPT(config: golden.hyperparameters.config, weights: weights)
        // 300 stream tokens from mid-document, cut at every BOS (and once more at 250, as a length cap would).
        let secondDocument = tokens.indices.filter { tokens[$0] == 1 }[1]
        let offset = secondDocument - 50, n = 300
        let inputs = Array(tokens[offset..<(offset + n)]), targets = Array(tokens[(offset + 1)...(offset + n)])
        var starts = [0] + (1..<n).filter { inputs[$0] == 1 }
        starts = Array(Set(starts + [250])).sorted()
        let bounds = starts + [n]
        var total = 0.0
        for (s, e) in zip(bounds.dropLast(), bounds.dropFirst()) {
            total += Self.referenceLosses(reference, tokens: Array(inputs[s..<e]), targets: Array(targets[s..<e]),
                                          previousToken: s > 0 ? inputs[s - 1] : nil, firstPosition: s)
                .reduce(0.0) { $0 + Double($1) }
        }
        let mean = model.accumulateBaseGradients(inputs: inputs.map(Int32.init), targets: targets.map(Int32.init), segmentStarts: starts)
        #expect(starts.count >= 3)
        #expect(abs(mean - total / Double(n)) < 1e-5, "\(name): \(mean) vs \(total / Double(n))")
    }

    static func plainModel() throws -> (DifferentiableFamilyGPT, TokenRows) {
        let name = "plain-sp1024"
        let golden = try FamilyFixtures.golden(name)
        let model = try DifferentiableFamilyGPT(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name))
        let tokens = try FamilyFixtures.tokens(name), columns = 48
        let starts = [0, 3000, 9000]
        let inputs = starts.flatMap { s in tokens[s..<(s + columns)].map(Int32.init) }
        let targets = starts.flatMap { s in tokens[(s + 1)...(s + columns)].map(Int32.init) }
        return (model, TokenRows(inputs: inputs, targets: targets, rows: 3, columns: columns))
    }

    static func randomize(_ adapters: FamilyLoRAAdapters, row: Int, seed: UInt64) {
        var random = BackwardOpsTests.Generator(state: seed)
        for adapter in adapters.adapters {
            let r = adapters.rank
            for i in 0..<(r * adapter.inFeatures) { adapters.parameters[adapter.a + row * r * adapter.inFeatures + i] = random.next() * 0.3 }
            for i in 0..<(r * adapter.outFeatures) { adapters.parameters[adapter.b + row * r * adapter.outFeatures + i] = random.next() * 0.05 }
        }
    }

    /// The gradient floats of batch row `row` (every adapter's A and B slices).
    static func rowGradients(_ adapters: FamilyLoRAAdapters, row: Int) -> [Float] {
        let r = adapters.rank
        return adapters.adapters.flatMap { adapter -> [Float] in
            let a = adapter.a + row * r * adapter.inFeatures, b = adapter.b + row * r * adapter.outFeatures
            return Array(adapters.gradients[a..<(a + r * adapter.inFeatures)]) + Array(adapters.gradients[b..<(b + r * adapter.outFeatures)])
        }
    }

    @Test func aZeroWeightRowGetsNoAdapterGradient() throws {
        let (model, batch) = try Self.plainModel()
        let adapters = model.makeAdapters(rows: 3, rank: 2, targets: LoRATargets())
        for row in 0..<3 { Self.randomize(adapters, row: row, seed: UInt64(row + 1)) }
        var weights = [Float](repeating: 0.02, count: batch.inputs.count)
        for t in 0..<batch.columns { weights[batch.columns + t] = 0 }
        _ = model.accumulateAdapterGradients(batch, adapters: adapters, lossWeights: weights)
        #expect(Self.rowGradients(adapters, row: 1).allSatisfy { $0 == 0 })
        #expect(Self.rowGradients(adapters, row: 0).contains { $0 != 0 })
        #expect(Self.rowGradients(adapters, row: 2).contains { $0 != 0 })
        #expect(model.baseGradients.allSatisfy { $0 == 0 }, "adapter gradients must not touch the base gradients")
    }

    @Test func oneRowsAdaptersDoNotAffectAnotherRowsLosses() throws {
        let (model, batch) = try Self.plainModel()
        let adapters = model.makeAdapters(rows: 3, rank: 3, targets: LoRATargets())
        for row in 0..<3 { Self.randomize(adapters, row: row, seed: UInt64(row + 10)) }
        let before = model.perTokenLosses(batch, adapters: adapters)
        Self.randomize(adapters, row: 0, seed: 99)
        let after = model.perTokenLosses(batch, adapters: adapters)
        let n = batch.columns
        #expect(Array(before[n...]) == Array(after[n...]))
        #expect(Array(before[..<n]) != Array(after[..<n]))
        // And the loss values come back from both entry points alike.
        let accumulated = model.accumulateAdapterGradients(batch, adapters: adapters, lossWeights: [Float](repeating: 1, count: 3 * n))
        #expect(accumulated == after)
    }

    /// Rows on several threads (and the base-gradient stream's tiles and segments) give the same
    /// bits as one thread: the numbers must not depend on `--threads`.
    @Test func threadsChangeNoLossOrGradientBit() throws {
        BLAS.threads = 1  // as the TTT evaluators set it: OpenBLAS's own threads round differently
        let (model, batch) = try Self.plainModel()
        func adapterRun(threads: Int) -> (losses: [Float], gradients: [Float]) {
            model.threads = threads
            let adapters = model.makeAdapters(rows: 3, rank: 2, targets: LoRATargets())
            for row in 0..<3 { Self.randomize(adapters, row: row, seed: UInt64(row + 5)) }
            let losses = model.accumulateAdapterGradients(batch, adapters: adapters,
                                                          lossWeights: [Float](repeating: 0.03, count: batch.inputs.count))
            return (losses, Array(adapters.gradients))
        }
        let one = adapterRun(threads: 1), three = adapterRun(threads: 3)
        #expect(one.losses == three.losses)
        #expect(one.gradients == three.gradients)
        #expect(one.gradients.contains { $0 != 0 })

        // One live row: the idle threads go to that row's own tiles and attention.
        func loneRowRun(threads: Int) -> (losses: [Float], gradients: [Float]) {
            model.threads = threads
            var lone = batch
            lone.scoredRows = [false, true, false]
            let adapters = model.makeAdapters(rows: 3, rank: 2, targets: LoRATargets())
            for row in 0..<3 { Self.randomize(adapters, row: row, seed: UInt64(row + 7)) }
            let losses = model.accumulateAdapterGradients(lone, adapters: adapters,
                                                          lossWeights: [Float](repeating: 0.03, count: batch.inputs.count))
            return (losses, Array(adapters.gradients))
        }
        let loneOne = loneRowRun(threads: 1), loneThree = loneRowRun(threads: 3)
        #expect(loneOne.losses == loneThree.losses)
        #expect(loneOne.gradients == loneThree.gradients)
        #expect(loneOne.losses[batch.columns...].prefix(batch.columns).contains { $0 != 0 })

        func baseRun(threads: Int) -> (mean: Double, gradients: [Float]) {
            model.threads = threads
            model.zeroBaseGradients()
            let mean = model.accumulateBaseGradients(inputs: batch.inputs, targets: batch.targets, segmentStarts: [0, 40, 100])
            return (mean, Array(model.baseGradients))
        }
        let baseOne = baseRun(threads: 1), baseTwo = baseRun(threads: 2)
        #expect(baseOne.mean == baseTwo.mean)
        #expect(baseOne.gradients == baseTwo.gradients)
        model.threads = 1
    }

    /// A row the caller does not score (a finished document's padding) is skipped: loss 0, no gradient;
    /// the other rows are as in the full batch.
    @Test func unscoredRowsAreSkipped() throws {
        let (model, full) = try Self.plainModel()
        let adapters = model.makeAdapters(rows: 3, rank: 2, targets: LoRATargets())
        for row in 0..<3 { Self.randomize(adapters, row: row, seed: UInt64(row + 20)) }
        let weights = [Float](repeating: 0.02, count: full.inputs.count)
        let all = model.accumulateAdapterGradients(full, adapters: adapters, lossWeights: weights)
        let allGradients = (0..<3).map { Self.rowGradients(adapters, row: $0) }
        adapters.zeroGradients()
        var partial = full
        partial.scoredRows = [true, false, true]
        var partialWeights = weights
        for t in 0..<full.columns { partialWeights[full.columns + t] = 0 }
        let some = model.accumulateAdapterGradients(partial, adapters: adapters, lossWeights: partialWeights)
        let n = full.columns
        #expect(Array(some[n..<(2 * n)]).allSatisfy { $0 == 0 })
        #expect(Array(some[..<n]) == Array(all[..<n]) && Array(some[(2 * n)...]) == Array(all[(2 * n)...]))
        #expect(Self.rowGradients(adapters, row: 1).allSatisfy { $0 == 0 })
        #expect(Self.rowGradients(adapters, row: 0) == allGradients[0] && Self.rowGradients(adapters, row: 2) == allGradients[2])
    }

    /// The tape's tiled matrix product (features beyond one tile) against a plain triple loop, and
    /// bit for bit the same on one thread and on three.
    @Test func tiledLinearMatchesAPlainProductOnAnyThreads() {
        BLAS.threads = 1  // as the TTT evaluators set it: OpenBLAS's own threads round differently
        let rows = 5, inFeatures = linearTileFeatures + 44, outFeatures = 2 * linearTileFeatures + 7
        var random = BackwardOpsTests.Generator(state: 77)
        let x = (0..<(rows * inFeatures)).map { _ in random.next() }
        let w = (0..<(outFeatures * inFeatures)).map { _ in random.next() }
        let dy = (0..<(rows * outFeatures)).map { _ in random.next() }
        func run(threads: Int) -> (y: [Float], dx: [Float], dw: [Float]) {
            var dw = [Float](repeating: 0, count: w.count)
            let tape = GradientTape(threads: threads, pool: TapeBufferPool())
            let input = TapeBuffer(copying: x)
            let y: [Float] = w.withUnsafeBufferPointer { wb in
                dw.withUnsafeMutableBufferPointer { db in
                    let out = tape.linear(input, weight: TapeParameter(wb.baseAddress!, gradient: db.baseAddress!),
                                          inFeatures: inFeatures, outFeatures: outFeatures)
                    for j in 0..<dy.count { out.gradient[j] = dy[j] }
                    let values = out.values
                    tape.backward()
                    return values
                }
            }
            return (y, input.values.indices.map { input.gradient[$0] }, dw)
        }
        let one = run(threads: 1), three = run(threads: 3)
        #expect(one.y == three.y && one.dx == three.dx && one.dw == three.dw)
        var worst: Float = 0
        for r in 0..<rows {
            for o in 0..<outFeatures {
                var sum: Double = 0
                for i in 0..<inFeatures { sum += Double(x[r * inFeatures + i]) * Double(w[o * inFeatures + i]) }
                worst = max(worst, abs(one.y[r * outFeatures + o] - Float(sum)))
            }
            for i in 0..<inFeatures {
                var sum: Double = 0
                for o in 0..<outFeatures { sum += Double(dy[r * outFeatures + o]) * Double(w[o * inFeatures + i]) }
                worst = max(worst, abs(one.dx[r * inFeatures + i] - Float(sum)))
            }
        }
        for o in [0, linearTileFeatures, outFeatures - 1] {
            for i in [0, inFeatures - 1] {
                var sum: Double = 0
                for r in 0..<rows { sum += Double(dy[r * outFeatures + o]) * Double(x[r * inFeatures + i]) }
                worst = max(worst, abs(one.dw[o * inFeatures + i] - Float(sum)))
            }
        }
        #expect(worst < 1e-3, "largest difference \(worst)")
    }

    @Test func adaptersFollowTheRecordsResetOrderAndLayout() throws {
        let (model, _) = try Self.plainModel()
        let adapters = model.makeAdapters(rows: 2, rank: 2, targets: LoRATargets(key: false, mlp: true, output: false))
        let slots = model.slotCount
        #expect(slots == 10)  // loop 1...2 ×2 over 6 layers: [0] + 3×[1, 2] + [3, 4, 5]
        #expect(adapters.adapters.map(\.name) == ["lm_head_lora"] + (0..<slots).map { "q_loras.\($0)" }
            + (0..<slots).map { "v_loras.\($0)" } + (0..<slots).map { "mlp_loras.\($0)" })
        adapters.reset(row: 1, document: 7)
        let head = adapters.adapters[0], c = model.config.modelDim
        #expect(adapters.parameters[head.a + 2 * c] == LoRAInit.uniform(document: 7, adapter: 0, element: 0, bound: 1 / Float(c).squareRoot()))
        #expect(adapters.parameters[head.a] == 0, "row 0 untouched")
        let q3 = adapters.adapters[4]
        #expect(adapters.parameters[q3.a + 2 * c + 5] == LoRAInit.uniform(document: 7, adapter: 4, element: 5, bound: 1 / Float(c).squareRoot()))
        #expect(adapters.parameters[q3.b + 2 * c..<(q3.b + 4 * c)].allSatisfy { $0 == 0 })
        // The warm-start reset zeroes B only.
        adapters.parameters[q3.b + 2 * c] = 0.5
        let a = adapters.parameters[q3.a + 2 * c + 5]
        adapters.resetKeepingA(row: 1)
        #expect(adapters.parameters[q3.b + 2 * c] == 0 && adapters.parameters[q3.a + 2 * c + 5] == a)
        // Fresh adapters (B = 0) leave the model unchanged.
        let fresh = model.makeAdapters(rows: 1, rank: 2, targets: LoRATargets())
        fresh.reset(row: 0, document: 3)
        let (_, batch) = try Self.plainModel()
        let one = TokenRows(inputs: Array(batch.inputs[..<48]), targets: Array(batch.targets[..<48]), rows: 1, columns: 48)
        let zero = model.makeAdapters(rows: 1, rank: 2, targets: LoRATargets())
        #expect(model.perTokenLosses(one, adapters: fresh) == model.perTokenLosses(one, adapters: zero))
    }

    @Test func marchFeaturesAreRefusedForLoRATTTByName() throws {
        for name in FamilyFixtures.marchNames {
            let golden = try FamilyFixtures.golden(name)
            #expect {
                _ = try DifferentiableFamilyGPT(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name))
            } throws: { error in
                guard case ModelWeightsError.unsupportedSetting(_, _, let feature) = error else { return false }
                return feature.contains("BigramHash") && feature.contains("forward_ttt")
            }
        }
    }

    @Test func marchTensorsAreRequiredByName() throws {
        for name in FamilyFixtures.marchNames {
            let golden = try FamilyFixtures.golden(name)
            var weights = try FamilyFixtures.weights(name)
            _ = try DifferentiableFamilyGPT(forBaseGradients: golden.hyperparameters.config, weights: weights)
            weights["bigram.scale"] = nil
            #expect {
                _ = try DifferentiableFamilyGPT(forBaseGradients: golden.hyperparameters.config, weights: weights)
            } throws: { error in
                guard case ModelWeightsError.missingTensor(let missing) = error else { return false }
                return missing == "bigram.scale"
            }
        }
    }
}
