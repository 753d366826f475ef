import Foundation
import Testing
@testable import Reference

/// The backward pass against PyTorch's autograd on the baseline GPT (fixtures/ttt/gradients.json), run as
/// the one differentiable model with the baseline's features: the tiny model's mean loss on a batch of
/// real tokens, untied and tied.
///
/// Tolerance: both sides run float32 with different summation orders (tiled products,
/// fast exp/tanh accurate to ~1e-7); forward values agree to ~1e-6 relative, and gradients, which sum
/// O(N·C) such terms, measured within 2e-6 of the tensor's largest gradient. We require every sampled
/// value within 1e-4 · max|g| (50× margin), and Σ|g| and max|g| within 1e-4 relative. A wrong derivative (a missing
/// factor, a transposed product, a dropped path) moves them by O(max|g|).
@Suite struct GradientGoldenTests {
    @Test(arguments: ["tiny_untied", "tiny_tied"])
    func gradientsMatchPyTorch(caseName: String) throws {
        let goldens = try TTTFixtures.decode(TTTFixtures.Gradients.self, "gradients.json")
        let golden = try #require(goldens.cases.first { $0.name == caseName })
        let model = try TTTFixtures.tinyModel(tied: golden.tie_embeddings)
        let tokens = Array(try TTTFixtures.sliceTokens()[golden.token_offset...])
        let n = golden.batch * golden.seq_len
        let inputs = tokens[0..<n].map(Int32.init), targets = tokens[1...n].map(Int32.init)
        model.zeroBaseGradients()
        let loss = model.accumulateBaseGradients(rows: golden.batch, inputs: inputs, targets: targets)
        #expect(abs(loss - golden.loss) <= 1e-5, "loss \(loss) vs \(golden.loss)")

        #expect(Set(model.parameterEntries.map(\.name)) == Set(golden.gradients.keys))
        for (name, expected) in golden.gradients.sorted(by: { $0.key < $1.key }) {
            let entry = try #require(model.entry(named: name))
            let gradient = Array(model.baseGradients[entry.offset..<(entry.offset + entry.count)])
            #expect(gradient.count == expected.shape.reduce(1, *))
            let tolerance = 1e-4 * expected.max_abs + 1e-8
            for (index, value) in zip(expected.indices, expected.values) {
                #expect(abs(Double(gradient[index]) - value) <= tolerance, "\(name)[\(index)]: \(gradient[index]) vs \(value)")
            }
            let absSum = gradient.reduce(0.0) { $0 + abs(Double($1)) }
            #expect(abs(absSum - expected.abs_sum) <= 1e-4 * expected.abs_sum + 1e-8, "\(name) Σ|g| \(absSum) vs \(expected.abs_sum)")
            let maxAbs = gradient.reduce(0.0) { max($0, abs(Double($1))) }
            #expect(abs(maxAbs - expected.max_abs) <= 1e-3 * expected.max_abs + 1e-7, "\(name) max|g| \(maxAbs) vs \(expected.max_abs)")
        }
    }
}
