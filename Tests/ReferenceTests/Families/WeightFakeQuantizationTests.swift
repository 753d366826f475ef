import Foundation
import Testing
@testable import Reference

/// The per-row fake quantization the model applies to weights a forward quantizes at evaluation, on
/// values worked out by hand: the scale from the row's largest magnitude, ties rounded to even, the clamp,
/// a floor on the scale or on the row maximum.
@Suite struct WeightFakeQuantizationTests {
    static func quantization(divisor: Double, floor: Double? = nil, floorsRowMax: Bool = false, lower: Double, upper: Double)
        -> WeightFakeQuantization {
        WeightFakeQuantization(parameters: ["w"], divisor: divisor, floor: floor, floorsRowMax: floorsRowMax, lower: lower, upper: upper)
    }

    @Test func rowsAreScaledRoundedToEvenAndClamped() {
        // Row 1: m = 1, s = 0.25: 0.375/s = 1.5 → 2, 0.625/s = 2.5 → 2 (half to even), -1/s = -4 → clamped to -3.
        // Row 2: m = 2, s = 0.5: 0.25/s = 0.5 → 0, 2/s = 4 → 3, -0.75/s = -1.5 → -2.
        let q = Self.quantization(divisor: 4, lower: -3, upper: 3)
        let out = q.apply([0.375, 0.625, -1.0, 0.25, 2.0, -0.75], columns: 3)
        #expect(out == [0.5, 0.5, -0.75, 0, 1.5, -1.0])
    }

    @Test func floorSitsOnTheScaleOrOnTheRowMaximum() {
        // m = 0.1: on the scale, s = max(0.1 / 10, 0.05) = 0.05; on the row maximum, s = max(0.1, 0.05) / 10 = 0.01.
        let row: [Float] = [0.1, 0.03]
        let onScale = Self.quantization(divisor: 10, floor: 0.05, lower: -10, upper: 10).apply(row, columns: 2)
        let onRowMax = Self.quantization(divisor: 10, floor: 0.05, floorsRowMax: true, lower: -10, upper: 10).apply(row, columns: 2)
        #expect(onScale == [0.1, 0.05])   // 2 · 0.05, round(0.6) = 1 · 0.05
        #expect(abs(onRowMax[0] - 0.1) < 1e-7 && abs(onRowMax[1] - 0.03) < 1e-7)
    }

    @Test func numbersOutOfRangeAreRefused() throws {
        for bad in [Self.quantization(divisor: 0, lower: -1, upper: 1), Self.quantization(divisor: .nan, lower: -1, upper: 1),
                    Self.quantization(divisor: 4, floor: -1, lower: -1, upper: 1), Self.quantization(divisor: 4, lower: 1, upper: -1),
                    Self.quantization(divisor: 4, lower: -1.5, upper: 1)] {
            #expect(bad.problem != nil, "\(bad)")
        }
        #expect(Self.quantization(divisor: 127, floor: 1e-8, lower: -127, upper: 127).problem == nil)
        let vector = try Tensor(shape: [3], data: [1, 2, 3])
        #expect(throws: ModelWeightsError.self) { try FamilyGPTModel.fakeQuantized(["w": vector], Self.quantization(divisor: 4, lower: -3, upper: 3)) }
        #expect(throws: ModelWeightsError.self) { try FamilyGPTModel.fakeQuantized([:], Self.quantization(divisor: 4, lower: -3, upper: 3)) }
    }
}
