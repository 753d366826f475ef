import Testing
@testable import Reference

/// The MLP activation and whole-stack passes as parameters of the baseline GPTModel: what it accepts
/// and what the models that do not run them refuse by name. (The numbers are asserted against
/// PyTorch in VerifierTests: VariantGoldenTests, StackLoopTests.)
@Suite struct MLPActivationModelTests {
    @Test func gptModelRunsTheActivationsAndRefusesInvalidOnes() throws {
        var (config, weights) = try ModelWeightsTests.tiny()
        for activation in [ArchitectureFeatures.MLPActivation.leakyReluSquared(slope: 0.5), .reluPower(exponent: 1.5)] {
            config.features.mlpActivation = activation
            _ = try GPTModel(config: config, weights: weights, maxPositions: 64)
        }
        for (activation, message) in [(ArchitectureFeatures.MLPActivation.reluPower(exponent: 0), "relu power 0.0"),
                                      (.leakyReluSquared(slope: .nan), "leaky_relu slope")] {
            config.features.mlpActivation = activation
            #expect { try GPTModel(config: config, weights: weights, maxPositions: 64) } throws: { error in
                guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
                return text.contains(message)
            }
        }
    }

    @Test func activationsComputeTheirFormulas() {
        var values: [Float] = [-2, -0.5, 0, 0.5, 3]
        activateMLP(&values, count: values.count, .reluPower(exponent: 3))
        #expect(values == [0, 0, 0, 0.125, 27])
        values = [-2, 4]
        activateMLP(&values, count: values.count, .leakyReluSquared(slope: 0.5))
        #expect(values == [1, 16])
        values = [-1, 4]
        activateMLP(&values, count: values.count, .reluPower(exponent: 1.5))
        #expect(values == [0, 8])
    }

    @Test func baselineTrainingRefusesAnotherActivationByName() throws {
        var (config, weights) = try ModelWeightsTests.tiny()
        config.features.mlpActivation = .leakyReluSquared(slope: 0.5)
        #expect { try TrainableGPT(config: config, weights: weights, maxPositions: 64) } throws: { error in
            guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
            return text.contains("leaky_relu(0.5)²")
        }
    }

    @Test func familyModelRefusesWholeStackPasses() throws {
        var (config, weights) = try ModelWeightsTests.tiny()
        config.features.stackLoops = .init(count: 2, loraRank: 0)
        config.features.xsaLastN = 1
        #expect { try FamilyGPTModel(config: config, weights: weights, maxPositions: 64) } throws: { error in
            guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
            return text.contains("whole-stack passes")
        }
    }
}
