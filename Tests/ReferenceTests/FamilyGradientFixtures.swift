import Foundation
@testable import Reference

/// Readers for fixtures/families/*/gradients.json (tools/family_grad_goldens.py; see fixtures/families/README.md).
enum FamilyGradientFixtures {
    struct Summary: Decodable {
        var shape: [Int]
        var sum, abs_sum, max_abs: Double
        var indices: [Int]
        var values: [Double]
    }

    struct TTTCase: Decodable {
        var name: String
        var rank: Int
        var k_lora, mlp_lora, o_lora: Bool
        var lora_scale, b_bound: Double
        var losses: [[Float]]
        var weighted_loss: Double
        var gradients: [String: Summary]

        var targets: LoRATargets { LoRATargets(key: k_lora, mlp: mlp_lora, output: o_lora) }
        /// `TTT_LORA_ALPHA` when the record scales its LoRA output by `alpha / rank`.
        var loraAlpha: Double? { lora_scale == 1 ? nil : lora_scale * Double(rank) }
    }

    struct TTT: Decodable {
        var rows, columns: Int
        var row_starts, row_lengths: [Int]
        var cases: [TTTCase]
    }

    struct Base: Decodable {
        var offset, tokens: Int
        var segment_starts: [Int]
        var loss: Double
        var parameters: [String]
        var gradients: [String: Summary]
    }

    struct Golden: Decodable {
        var ttt: TTT
        var base: Base
    }

    static func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("families/\(name)/gradients.json")))
    }

    /// The generator's deterministic LoRA entries (see `lora_value` in tools/family_grad_goldens.py).
    static func loraValue(a: Bool, adapter: Int, row: Int, index: Int, bound: Double) -> Float {
        a ? Float(bound * sin(0.731 * Double(index) + 1.37 * Double(adapter) + 2.11 * Double(row) + 0.5))
          : Float(bound * cos(0.593 * Double(index) + 0.91 * Double(adapter) + 1.73 * Double(row) + 0.2))
    }

    /// The generator's per-token loss weights (`loss_weight`).
    static func lossWeight(row: Int, column: Int, length: Int) -> Float {
        column >= length ? 0 : Float(1 + (7 * row + 3 * column) % 5) / 10
    }

    /// Fills every adapter with the generator's values.
    static func fill(_ adapters: FamilyLoRAAdapters, bBound: Double) {
        for (index, adapter) in adapters.adapters.enumerated() {
            let bound = 1 / Double(adapter.inFeatures).squareRoot()
            let r = adapters.rank
            for row in 0..<adapters.rows {
                for i in 0..<(r * adapter.inFeatures) {
                    adapters.parameters[adapter.a + row * r * adapter.inFeatures + i] =
                        loraValue(a: true, adapter: index, row: row, index: i, bound: bound)
                }
                for i in 0..<(adapter.outFeatures * r) {
                    adapters.parameters[adapter.b + row * adapter.outFeatures * r + i] =
                        loraValue(a: false, adapter: index, row: row, index: i, bound: bBound)
                }
            }
        }
    }

    /// The golden's `[rows × columns]` batch (rows at document starts, short rows zero-padded) and weights.
    static func batch(_ ttt: TTT, tokens: [UInt16]) -> (TokenRows, [Float]) {
        var inputs = [Int32](repeating: 0, count: ttt.rows * ttt.columns), targets = inputs
        var weights = [Float](repeating: 0, count: ttt.rows * ttt.columns)
        for row in 0..<ttt.rows {
            let start = ttt.row_starts[row], length = ttt.row_lengths[row]
            for t in 0..<ttt.columns {
                weights[row * ttt.columns + t] = lossWeight(row: row, column: t, length: length)
                guard t < length else { continue }
                inputs[row * ttt.columns + t] = Int32(tokens[start + t])
                targets[row * ttt.columns + t] = Int32(tokens[start + t + 1])
            }
        }
        return (TokenRows(inputs: inputs, targets: targets, rows: ttt.rows, columns: ttt.columns), weights)
    }

    /// Whether `values` match `summary` (sums within `relative` of the absolute sum, samples within
    /// `relative` of the largest magnitude); returns the first mismatch described, or `nil`.
    static func mismatch(_ values: UnsafeBufferPointer<Float>, _ summary: Summary, relative: Double = 1e-4) -> String? {
        guard values.count == summary.shape.reduce(1, *) else { return "count \(values.count) vs shape \(summary.shape)" }
        var sum = 0.0, absSum = 0.0, maxAbs = 0.0
        for v in values {
            sum += Double(v)
            absSum += Double(abs(v))
            maxAbs = max(maxAbs, Double(abs(v)))
        }
        let scale = max(summary.abs_sum, 1e-12)
        if abs(sum - summary.sum) > relative * scale + 1e-9 { return "sum \(sum) vs \(summary.sum)" }
        if abs(absSum - summary.abs_sum) > relative * scale + 1e-9 { return "abs_sum \(absSum) vs \(summary.abs_sum)" }
        if abs(maxAbs - summary.max_abs) > relative * max(summary.max_abs, 1e-12) + 1e-9 { return "max_abs \(maxAbs) vs \(summary.max_abs)" }
        for (index, expected) in zip(summary.indices, summary.values) {
            let actual = Double(values[index])
            if abs(actual - expected) > relative * max(summary.max_abs, 1e-12) + 1e-9 {
                return "[\(index)] \(actual) vs \(expected)"
            }
        }
        return nil
    }
}
