import Foundation
import Testing
@testable import Reference

/// SGD, Adam and AdamW against torch.optim on five steps (fixtures/ttt/optimizers.json): the same
/// start point and gradients, every intermediate parameter vector within 1e-6 (float32 arithmetic in
/// a slightly different order: a few ulps of values of order 1).
@Suite struct OptimizerGoldenTests {
    @Test func trajectoriesMatchTorchOptim() throws {
        let golden = try TTTFixtures.decode(TTTFixtures.Optimizers.self, "optimizers.json")
        #expect(golden.cases.count == 6)
        for testCase in golden.cases {
            let options = testCase.options
            let lr = Float(try #require(options["lr"]?.number))
            let weightDecay = Float(options["weight_decay"]?.number ?? 0)
            var parameters = golden.initial
            let count = parameters.count
            var step: ([Float]) -> Void
            switch testCase.optimizer {
            case "SGD":
                var sgd = SGDOptimizer(count: count, learningRate: lr, momentum: Float(options["momentum"]?.number ?? 0),
                                       dampening: Float(options["dampening"]?.number ?? 0),
                                       nesterov: options["nesterov"]?.flag ?? false, weightDecay: weightDecay)
                step = { g in sgd.step(parameters: &parameters, gradients: g, ranges: [0..<count]) }
            case "Adam", "AdamW":
                let betas = try #require(options["betas"]?.list)
                var adam = AdamOptimizer(count: count, learningRate: try #require(options["lr"]?.number),
                                         beta1: betas[0], beta2: betas[1],
                                         epsilon: try #require(options["eps"]?.number),
                                         weightDecay: options["weight_decay"]?.number ?? 0,
                                         decoupledWeightDecay: testCase.optimizer == "AdamW")
                step = { g in adam.step(parameters: &parameters, gradients: g, ranges: [0..<count]) }
            default:
                Issue.record("unknown optimizer \(testCase.optimizer)")
                continue
            }
            for (t, (gradient, expected)) in zip(golden.gradients, testCase.trajectory).enumerated() {
                step(gradient)
                for i in 0..<count {
                    #expect(abs(Double(parameters[i]) - expected[i]) <= 1e-6, "\(testCase.name) step \(t + 1) [\(i)]: \(parameters[i]) vs \(expected[i])")
                }
            }
        }
    }

    /// clip_grad_norm_: scaled to the max norm when above it, untouched below.
    @Test func gradientClipping() {
        var g: [Float] = [3, 0, 4, 12]
        let norm = clipGradientNorm(&g, ranges: [0..<1, 2..<3], maxNorm: 1)
        #expect(norm == 5)
        #expect(abs(g[0] - 0.6) < 1e-6 && abs(g[2] - 0.8) < 1e-6 && g[3] == 12)
        var small: [Float] = [0.3, 0.4]
        #expect(abs(clipGradientNorm(&small, ranges: [0..<2], maxNorm: 1) - 0.5) < 1e-7)
        #expect(small == [0.3, 0.4])
    }
}
