import Foundation
import Testing
@testable import Reference

/// The MLP activation and whole-stack passes as parameters of the baseline GPT (``FamilyGPTModel``): what it accepts
/// and what the models that do not run them refuse by name. (The numbers are asserted against
/// PyTorch in VerifierTests: VariantGoldenTests, StackLoopTests.)
@Suite struct MLPActivationModelTests {
    @Test func modelRunsTheActivationsAndRefusesInvalidOnes() throws {
        var (config, weights) = try ModelWeightsTests.tiny()
        for activation in [ArchitectureFeatures.MLPActivation.leakyReluSquared(slope: 0.5), .reluPower(exponent: 1.5)] {
            config.features.mlpActivation = activation
            _ = try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
        for (activation, message) in [(ArchitectureFeatures.MLPActivation.reluPower(exponent: 0), "relu power 0.0"),
                                      (.leakyReluSquared(slope: .nan), "leaky_relu slope")] {
            config.features.mlpActivation = activation
            #expect { try FamilyGPTModel(config: config, weights: weights, maxPositions: 64) } throws: { error in
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

    /// The baseline's TTT runs the one differentiable model, which trains leaky-ReLU² and relu^p for the
    /// record families; for the baseline no golden from a record's own code proves them, so they stay refused.
    @Test(arguments: [(ArchitectureFeatures.MLPActivation.leakyReluSquared(slope: 0.5), "leaky_relu(0.5)²"),
                      (.reluPower(exponent: 3), "relu^3.0")])
    func baselineTrainingRefusesAnotherActivationByName(_ activation: ArchitectureFeatures.MLPActivation, name: String) throws {
        var (config, weights) = try ModelWeightsTests.tiny()
        config.features.mlpActivation = activation
        #expect { try DifferentiableFamilyGPT(baseline: config, weights: weights) } throws: { error in
            guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
            return text.contains(name + " in its MLP")
        }
        _ = try DifferentiableFamilyGPT(forBaseGradients: config, weights: weights)  // the family path trains it
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

    @Test func swiGLUComputesSiLUOfTheGateTimesUp() {
        var gate: [Float] = [-30, -1, 0, 2]
        let up: [Float] = [2, 3, 5, -0.5]
        activateMLP(&gate, count: gate.count, .swiGLU(gate: "gate", up: "up"), up: up)
        let expected = zip([Float(-30), -1, 0, 2], up).map { x, u in x / (1 + expf(-x)) * u }
        #expect(gate == expected)
        #expect(abs(gate[1] - (-0.26894142 * 3)) < 1e-6 && abs(gate[3] - (1.7615942 * -0.5)) < 1e-6)
    }

    /// The tiny fixture with its MLP as SwiGLU: `mlp.fc` becomes the gate, `up` a reversed copy of it.
    static func swiGLUWeights() throws -> (GPTConfig, Weights) {
        var (config, weights) = try ModelWeightsTests.tiny()
        config.features.mlpActivation = .swiGLU(gate: "w1", up: "w3")
        for i in 0..<config.numLayers {
            let fc = try #require(weights["blocks.\(i).mlp.fc.weight"])
            weights["blocks.\(i).mlp.fc.weight"] = nil
            weights["blocks.\(i).mlp.w1.weight"] = fc
            weights["blocks.\(i).mlp.w3.weight"] = try Tensor(shape: fc.shape, data: fc.data.reversed().map { 0.7 * $0 })
        }
        return (config, weights)
    }

    /// The one model's SwiGLU is not the relu² of the same gate weights (the numbers against PyTorch: SwiGLUTests).
    @Test func swiGLUIsNotReluSquaredOfItsGate() throws {
        let (config, weights) = try Self.swiGLUWeights()
        let golden = try #require(try EvalFixtures.goldens().models["tiny"])
        let accounting = try EvalFixtures.accounting(golden.luts)
        let tokens = try EvalTokens.prepare(EvalFixtures.smallValidationTokens(), seqLen: 64, maxTokens: 2048)
        let plan = try EvalPlan(mode: .standard, seqLen: 64, streamLength: tokens.count)
        let swiGLU = try Evaluator(model: FamilyGPTModel(config: config, weights: weights, maxPositions: 64), accounting: accounting,
                                   tokens: tokens, plan: plan).evaluate(threads: 2)
        let (reluConfig, reluWeights) = try ModelWeightsTests.tiny()
        let relu = try Evaluator(model: FamilyGPTModel(config: reluConfig, weights: reluWeights, maxPositions: 64), accounting: accounting,
                                 tokens: tokens, plan: plan).evaluate(threads: 2)
        #expect(swiGLU.bitsPerByte.isFinite && abs(swiGLU.bitsPerByte - relu.bitsPerByte) > 1e-3)
    }

    @Test func swiGLUTensorsAreNamedAndItsNamesChecked() throws {
        var (config, weights) = try Self.swiGLUWeights()
        weights["blocks.1.mlp.w3.weight"] = nil
        #expect(throws: ModelWeightsError.missingTensor(name: "blocks.1.mlp.w3.weight")) {
            try FamilyGPTModel(config: config, weights: weights, maxPositions: 64)
        }
        for (gate, up) in [("gate", "gate"), ("gate", "proj"), ("a.b", "up"), ("", "up")] {
            config.features.mlpActivation = .swiGLU(gate: gate, up: up)
            #expect { try FamilyGPTModel(config: config, weights: weights, maxPositions: 64) } throws: { error in
                guard case .invalidConfig(let text)? = error as? ModelWeightsError else { return false }
                return text.contains("SwiGLU projections")
            }
        }
    }

    /// The SwiGLU forms read their weights as the code lays them out: a fused `[2·hidden, dim]` weight's
    /// first `hidden` rows are the first half of its outputs (`chunk(2, dim=-1)`), the second the rest,
    /// and the down projection goes by its name. On the same values they compute what the separate
    /// projections compute; with the second half gated, what gate and up swapped compute.
    @Test func fusedAndRenamedSwiGLUReadTheirRows() throws {
        let (config, weights) = try Self.swiGLUWeights()
        let golden = try #require(try EvalFixtures.goldens().models["tiny"])
        let accounting = try EvalFixtures.accounting(golden.luts)
        let tokens = try EvalTokens.prepare(EvalFixtures.smallValidationTokens(), seqLen: 64, maxTokens: 2048)
        let plan = try EvalPlan(mode: .standard, seqLen: 64, streamLength: tokens.count)
        func bpb(_ activation: ArchitectureFeatures.MLPActivation, _ weights: Weights) throws -> Double {
            var config = config
            config.features.mlpActivation = activation
            return try Evaluator(model: FamilyGPTModel(config: config, weights: weights, maxPositions: 64), accounting: accounting,
                                 tokens: tokens, plan: plan).evaluate(threads: 2).bitsPerByte
        }
        var fused = weights, renamed = weights
        for i in 0..<config.numLayers {
            let p = "blocks.\(i).mlp."
            let (gate, up) = (try #require(weights[p + "w1.weight"]), try #require(weights[p + "w3.weight"]))
            fused[p + "w1.weight"] = nil
            fused[p + "w3.weight"] = nil
            fused[p + "w13.weight"] = try Tensor(shape: [2 * gate.shape[0], gate.shape[1]], data: gate.data + up.data)
            renamed[p + "w2.weight"] = renamed[p + "proj.weight"]
            renamed[p + "proj.weight"] = nil
        }
        let unfused = try bpb(.swiGLU(gate: "w1", up: "w3"), weights)
        let swapped = try bpb(.swiGLU(gate: "w3", up: "w1"), weights)
        #expect(abs(unfused - swapped) > 1e-3)
        #expect(abs(try bpb(.fusedSwiGLU(fused: "w13", gateFirst: true), fused) - unfused) <= 1e-6)
        #expect(abs(try bpb(.fusedSwiGLU(fused: "w13", gateFirst: false), fused) - swapped) <= 1e-6)
        #expect(abs(try bpb(.swiGLU(gate: "w1", up: "w3", down: "w2"), renamed) - unfused) <= 1e-6)
        // A fused weight of the unfused width, or weights whose down projection has another name, are refused.
        var refused = config
        refused.features.mlpActivation = .fusedSwiGLU(fused: "w1", gateFirst: true)
        #expect(throws: ModelWeightsError.self) { try FamilyGPTModel(config: refused, weights: weights, maxPositions: 64) }
        refused.features.mlpActivation = .swiGLU(gate: "w1", up: "w3", down: "w2")
        #expect(throws: ModelWeightsError.unexpectedTensor(name: "blocks.0.mlp.proj.weight")) {
            try FamilyGPTModel(config: refused, weights: weights, maxPositions: 64)
        }
    }
}
