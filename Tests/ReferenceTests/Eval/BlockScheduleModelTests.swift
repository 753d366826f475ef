import Foundation
import Testing
@testable import Reference

/// Weight-shared blocks as a parameter of the baseline GPT (``ArchitectureFeatures/blockSchedule``): the
/// unique blocks run in a given order over the schedule's depth, the U-Net skips over that depth. (The
/// numbers against PyTorch: VerifierTests' CycledBlockTests.)
@Suite struct BlockScheduleModelTests {
    /// The tiny fixture (3 blocks) with `rows` skip weights: the first row as stored, the rest scaled copies.
    static func weights(skipRows rows: Int) throws -> (GPTConfig, Weights) {
        var (config, weights) = try ModelWeightsTests.tiny()
        config.features = .baseline
        let skip = try #require(weights["skip_weights"])
        let c = skip.shape[1]
        let data = (0..<rows).flatMap { r in skip.data.prefix(c).map { $0 * (1 + 0.25 * Float(r)) } }
        weights["skip_weights"] = try Tensor(shape: [rows, c], data: data)
        return (config, weights)
    }

    static func logits(_ config: GPTConfig, _ weights: Weights) throws -> [Float] {
        let model = try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        return model.logits(segment: (0..<48).map { UInt16(($0 * 37 + 5) % config.vocabSize) }, previousToken: nil, firstPosition: 0)
    }

    @Test func scheduleSplitsItsDepthForTheSkips() {
        let s = FamilyGPTModel.schedules(layers: 3, loop: nil, blockSchedule: [0, 1, 2, 0, 1, 2, 0])
        #expect(s.plain.encoder == [0, 1, 2] && s.plain.decoder == [0, 1, 2, 0])
        #expect(s.looped.encoder == s.plain.encoder && s.skipCount == 3)
    }

    /// `[0, 1, 2, 0, 1, 2]` is two passes over the stack; `[0, 1, 2]` the plain model; another order of
    /// the same blocks computes something else.
    @Test func scheduleComputesItsOrder() throws {
        var (config, weights) = try Self.weights(skipRows: 3)
        config.features.blockSchedule = [0, 1, 2, 0, 1, 2]
        let cycled = try Self.logits(config, weights)
        config.features.blockSchedule = nil
        config.features.stackLoops = .init(count: 2, loraRank: 0)
        #expect(try Self.logits(config, weights) == cycled)
        config.features.stackLoops = nil
        config.features.blockSchedule = [0, 2, 1, 0, 1, 2]
        let reordered = try Self.logits(config, weights)
        #expect(zip(reordered, cycled).map { abs($0 - $1) }.max()! > 1e-3)

        var (plainConfig, plainWeights) = try Self.weights(skipRows: 1)
        let plain = try Self.logits(plainConfig, plainWeights)
        plainConfig.features.blockSchedule = [0, 1, 2]
        #expect(try Self.logits(plainConfig, plainWeights) == plain)
        plainWeights["skip_weights"] = nil
        plainConfig.features.blockSchedule = [0, 1, 2, 0, 1, 2]
        #expect(throws: ModelWeightsError.missingTensor(name: "skip_weights")) {
            try FamilyGPTModel(config: plainConfig, weights: plainWeights, maxPositions: 64)
        }
    }

    @Test(arguments: [[], [0, 3], [-1, 0]])
    func scheduleOutsideTheBlocksIsRefused(_ schedule: [Int]) throws {
        var (config, weights) = try Self.weights(skipRows: 1)
        config.features.blockSchedule = schedule
        #expect { try FamilyGPTModel(config: config, weights: weights, maxPositions: 64) } throws: { error in
            guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
            return text.contains("block schedule")
        }
    }

    @Test func scheduleIsRefusedWithOtherDepthFeaturesAndByTraining() throws {
        var (config, weights) = try Self.weights(skipRows: 3)
        config.features.blockSchedule = [0, 1, 2, 0, 1, 2]
        config.features.stackLoops = .init(count: 2, loraRank: 0)
        #expect { try FamilyGPTModel(config: config, weights: weights, maxPositions: 64) } throws: { error in
            guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
            return text.contains("block schedule")
        }
        config.features.stackLoops = nil
        #expect { try DifferentiableFamilyGPT(baseline: config, weights: weights) } throws: { error in
            guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
            return text.contains("block schedule (weight-shared blocks)")
        }
    }

    /// Learned vectors around a schedule's positions: a zero shift and a unit scale change nothing, a shift
    /// computes something else, and the tensor is loaded by its state-dict name at the shape the code reads.
    @Test func scheduleVectorsApplyWhereTheySit() throws {
        var (config, weights) = try Self.weights(skipRows: 3)
        let c = config.modelDim
        config.features.blockSchedule = [0, 1, 2, 0, 1, 2]
        let plain = try Self.logits(config, weights)
        func row(_ tensor: String, _ index: Int) -> ArchitectureFeatures.LearnedVector { .init(tensor: tensor, shape: [2, c], index: [index]) }
        weights["loop_embed"] = try Tensor(shape: [2, c], data: [Float](repeating: 0, count: c) + (0..<c).map { 0.1 * Float($0 % 5) - 0.2 })
        weights["loop_scale"] = try Tensor(shape: [2, c], data: [Float](repeating: 1, count: 2 * c))
        config.features.scheduleVectors = (0..<6).map { .init(inputShift: row("loop_embed", 0), outputScale: row("loop_scale", $0 / 3)) }
        #expect(try Self.logits(config, weights) == plain)
        config.features.scheduleVectors = (0..<6).map { .init(inputShift: row("loop_embed", $0 / 3), outputScale: row("loop_scale", 0)) }
        let shiftedInputs = try Self.logits(config, weights)
        #expect(zip(shiftedInputs, plain).map { abs($0 - $1) }.max()! > 1e-4)
        config.features.scheduleVectors = (0..<6).map { .init(outputScale: row("loop_scale", 0), outputShift: row("loop_embed", $0 / 3)) }
        #expect(zip(try Self.logits(config, weights), shiftedInputs).map { abs($0 - $1) }.max()! > 1e-4)
        weights["loop_scale"] = nil
        #expect(throws: ModelWeightsError.missingTensor(name: "loop_scale")) {
            try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
    }

    /// Learned vectors are range-checked: a row outside the tensor, a tensor read at two shapes, a row not of
    /// model_dim, a count other than the schedule's, or vectors without a schedule are an invalid configuration.
    @Test func invalidScheduleVectorsAreRefused() throws {
        var (config, _) = try Self.weights(skipRows: 1)
        let c = config.modelDim
        func row(_ shape: [Int], _ index: Int...) -> ArchitectureFeatures.LearnedVector { .init(tensor: "e", shape: shape, index: index) }
        config.features.blockSchedule = [0, 0]
        let bad: [[ArchitectureFeatures.ScheduleVectors]] = [
            [.init(inputShift: row([2, c], 2)), .init()],
            [.init(inputShift: row([2, c], 0)), .init(outputShift: row([3, c], 0))],
            [.init(inputShift: row([2, c + 1], 0)), .init()],
            [.init(inputShift: row([2, 2, c], 0)), .init()],
            [.init()],
        ]
        for vectors in bad {
            config.features.scheduleVectors = vectors
            #expect(throws: ModelWeightsError.self) { try FamilyGPTModel.validate(config) }
        }
        config.features.scheduleVectors = [.init(inputShift: row([2, c], 1)), .init()]
        try FamilyGPTModel.validate(config)
        config.features.blockSchedule = nil
        config.features.scheduleVectors = [.init()]
        #expect(throws: ModelWeightsError.self) { try FamilyGPTModel.validate(config) }
    }
}
