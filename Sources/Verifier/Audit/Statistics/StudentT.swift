import Foundation

/// Student's t distribution, computed from the regularized incomplete beta function (no library):
/// P(T ≤ t) for ν degrees of freedom, ν > 0 and not necessarily whole (Welch's test gives fractional ν).
public enum StudentT {
    /// The cumulative distribution function P(T ≤ t); `nil` when ν is not positive and finite or t is NaN.
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double? {
        guard nu > 0, nu.isFinite, !t.isNaN else { return nil }
        if t == .infinity { return 1 }
        if t == -.infinity { return 0 }
        // P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, 1/2); each tail is half of it.
        guard let twoSided = IncompleteBeta.regularized(x: nu / (nu + t * t), a: nu / 2, b: 0.5) else { return nil }
        let tail = twoSided / 2
        return t > 0 ? 1 - tail : tail
    }

    /// The upper tail P(T ≥ t), computed without the cancellation of `1 - cdf` for large t.
    public static func upperTail(_ t: Double, degreesOfFreedom nu: Double) -> Double? {
        guard let lower = cdf(-t, degreesOfFreedom: nu) else { return nil }
        return lower
    }
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz).
public enum IncompleteBeta {
    /// I_x(a, b) for 0 ≤ x ≤ 1, a > 0, b > 0; `nil` outside that domain or if the fraction does not converge.
    public static func regularized(x: Double, a: Double, b: Double) -> Double? {
        guard a > 0, b > 0, a.isFinite, b.isFinite, x >= 0, x <= 1 else { return nil }
        if x == 0 { return 0 }
        if x == 1 { return 1 }
        // The fraction converges fast for x < (a+1)/(a+b+2); otherwise use I_x(a,b) = 1 - I_{1-x}(b,a).
        if x > (a + 1) / (a + b + 2) {
            guard let mirrored = regularized(x: 1 - x, a: b, b: a) else { return nil }
            return 1 - mirrored
        }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        guard let fraction = continuedFraction(x: x, a: a, b: b) else { return nil }
        return exp(logFront) * fraction / a
    }

    /// 1 / (1 + d1 / (1 + d2 / (1 + ...))) with d_{2m+1} = -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)) and
    /// d_{2m} = m(b-m)x / ((a+2m-1)(a+2m)), evaluated by the modified Lentz method.
    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double? {
        let tiny = 1e-300, epsilon = 1e-16
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let mm = Double(m)
            let even = mm * (b - mm) * x / ((a + 2 * mm - 1) * (a + 2 * mm))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            let odd = -(a + mm) * (a + b + mm) * x / ((a + 2 * mm) * (a + 2 * mm + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < epsilon { return result }
        }
        return nil
    }
}
