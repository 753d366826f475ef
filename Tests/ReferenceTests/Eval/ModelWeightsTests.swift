import Testing
@testable import Reference

@Suite struct ModelWeightsTests {
    static func tiny() throws -> (GPTConfig, Weights) {
        let golden = try #require(try EvalFixtures.goldens().models["tiny"])
        return (golden.config.gptConfig, try EvalFixtures.weights(golden.weights))
    }

    @Test func loadsTheFixtureModel() throws {
        let (config, weights) = try Self.tiny()
        let model = try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        #expect(model.encoderSchedule == [0] && model.decoderSchedule == [1, 2] && model.skipCount == 1)
    }

    @Test func missingTensorIsNamed() throws {
        var (config, weights) = try Self.tiny()
        weights["blocks.2.attn.c_v.weight"] = nil
        #expect(throws: ModelWeightsError.missingTensor(name: "blocks.2.attn.c_v.weight")) {
            try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
    }

    @Test func extraTensorIsNamed() throws {
        var (config, weights) = try Self.tiny()
        weights["bigram.embed.weight"] = try Tensor(zeros: [4, 4])
        #expect(throws: ModelWeightsError.unexpectedTensor(name: "bigram.embed.weight")) {
            try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
        // A tied config must not silently ignore an lm_head.
        config.tieEmbeddings = true
        weights["bigram.embed.weight"] = nil
        #expect(throws: ModelWeightsError.unexpectedTensor(name: "lm_head.weight")) {
            try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
    }

    @Test func shapeMismatchCarriesBothShapes() throws {
        var (config, weights) = try Self.tiny()
        config.numKVHeads = 4
        #expect(throws: ModelWeightsError.shapeMismatch(name: "blocks.0.attn.c_k.weight", expected: [24, 24], actual: [12, 24])) {
            try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
    }

    @Test func nonFiniteWeightIsRefused() throws {
        var (config, weights) = try Self.tiny()
        weights["blocks.1.mlp_scale"]?.data[3] = .nan
        #expect(throws: (any Error).self) { try FamilyGPTModel(config: config, weights: weights, maxPositions: 64) }
        do {
            _ = try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        } catch {
            guard case .nonFinite(let name, let index, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(name == "blocks.1.mlp_scale" && index == 3)
        }
    }

    @Test func impossibleConfigIsRefused() throws {
        var (config, weights) = try Self.tiny()
        config.numKVHeads = 3
        #expect(throws: ModelWeightsError.invalidConfig("num_heads 4 is not divisible by num_kv_heads 3")) {
            try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
    }
}
