import Foundation
import Testing
@testable import Reference

@Suite struct FastMathTests {
    /// Within 2 ulp of the correctly rounded exp over the range softmax uses (x − max ≤ 0) and beyond.
    @Test func fastExpIsWithinTwoUlp() {
        var worst: Double = 0
        var x: Float = -87
        while x <= 88 {
            let exact = Foundation.exp(Double(x))
            let relative = abs(Double(fastExp(x)) - exact) / exact
            worst = max(worst, relative)
            x += 0.0137
        }
        #expect(worst <= 2 * Double(Float.ulpOfOne), "worst relative error \(worst)")
        #expect(fastExp(0) == 1)
        #expect(fastExp(-200) < 1e-37 && fastExp(-200) >= 0)
    }

    @Test func fastTanhIsWithinAbsoluteTolerance() {
        var worst: Double = 0
        var x: Float = -12
        while x <= 12 {
            worst = max(worst, abs(Double(fastTanh(x)) - Foundation.tanh(Double(x))))
            x += 0.00731
        }
        #expect(worst <= 2.5e-7, "worst absolute error \(worst)")
        #expect(fastTanh(0) == 0)
        #expect(fastTanh(-3) == -fastTanh(3))
    }

    @Test func reductionsHandleTailsAndNegatives() {
        let values: [Float] = (0..<19).map { Float($0) * -1.5 + 4 }
        values.withUnsafeBufferPointer { p in
            #expect(maximum(p.baseAddress!, count: 19) == 4)
            #expect(maximum(p.baseAddress! + 1, count: 3) == 2.5)
            #expect(sum(p.baseAddress!, count: 19) == values.reduce(0, +))
        }
    }

    /// PyTorch's table for `Rotary(dim=16, base=10000)` at position 1000, computed in float32:
    /// the angle is rounded to float32 before cos/sin.
    @Test func rotaryTableRoundsTheAngleToFloat32() {
        let table = RotaryTable(headDim: 16, positions: 1001, base: 10_000)
        let inverseFrequency = 1 / powf(10_000, Float(2) / Float(16))
        let angle = Float(1000) * inverseFrequency
        #expect(table.cos[1000 * 8 + 1] == Float(cos(Double(angle))))
        #expect(table.sin[1000 * 8 + 0] == Float(sin(Double(Float(1000)))))
        #expect(table.cos[0] == 1 && table.sin[7] == 0)
    }
}
