import Foundation
import Reference

/// A ratio's estimate from a stratified sample and its confidence interval.
public struct RatioInterval: Sendable, Equatable {
    public var estimate: Double
    /// The linearised standard error; 0 when every stratum is taken whole.
    public var standardError: Double
    /// The interval's bounds; `nil` when the sample cannot estimate its own variance (a stratum of
    /// several units with one sampled, i.e. N = 1).
    public var lower: Double?
    public var upper: Double?
    /// The t quantile's (Satterthwaite) degrees of freedom; 0 for a census.
    public var degreesOfFreedom: Double
    /// The multiplier of the standard error: Student's t at 99.5% (0 for a census).
    public var quantile: Double

    /// Whether `value` lies in the interval (bounds included).
    public func contains(_ value: Double) -> Bool {
        guard let lower, let upper else { return false }
        return lower <= value && value <= upper
    }
}

/// val_loss and val_bpb estimated from the exact sums of a ``StratifiedSample``'s units.
///
/// Both are ratios of totals over the whole evaluation, R = Y/X: val_loss = Σ loss / Σ tokens,
/// val_bpb = Σ loss/ln 2 / Σ bytes. The combined ratio estimator R̂ = Ŷ/X̂ expands each stratum's
/// sample by N_h/n_h (Ŷ = Σ_h N_h/n_h Σ_{i∈s_h} y_i, X̂ likewise). Its variance, linearised (Cochran,
/// Sampling Techniques, 3rd ed., §6.11), with each stratum's finite-population correction:
///
///     V(R̂) = 1/X̂² · Σ_h N_h² (1 − n_h/N_h) s²_h / n_h,  s²_h = Σ_{i∈s_h} (e_i − ē_h)² / (n_h − 1),
///     e_i = y_i − R̂ x_i.
///
/// The interval is R̂ ± t·√V with t Student's 99.5% quantile at Satterthwaite's degrees of freedom,
/// ν = (Σ_h a_h s²_h)² / Σ_h (a_h s²_h)²/(n_h − 1) with a_h = N_h² (1 − n_h/N_h)/n_h, over the strata
/// not taken whole: at most Σ_h (n_h − 1), fewer when one stratum's variance dominates (wider than
/// the normal's 2.576 for small samples). Strata taken whole add nothing; a census (N = all units)
/// gives the full evaluation's value exactly, the interval one point.
public struct SampledEstimate: Sendable, Equatable {
    public static let confidence = 0.99

    public var valLoss: RatioInterval
    public var valBPB: RatioInterval
    /// Sums over the sampled units (not expanded).
    public var sampled: EvalPartial

    /// `partials[k]` are the exact sums of unit `sample.sampledUnits[k]`.
    public init(sample: StratifiedSample, partials: [EvalPartial]) {
        precondition(partials.count == sample.sampledUnits.count, "one partial per sampled unit")
        let byUnit = Dictionary(uniqueKeysWithValues: zip(sample.sampledUnits, partials))
        let strata = sample.strata.map { stratum in stratum.sampled.map { byUnit[$0]! } }
        sampled = partials.reduce(EvalPartial(), +)
        let estimable = sample.strata.allSatisfy { $0.isComplete || $0.sampled.count >= 2 }
        let lossValues = strata.map { units in units.map { (y: $0.lossSum.value, x: Double($0.tokens)) } }
        let bitValues = strata.map { units in units.map { (y: $0.lossSum.value / log(2.0), x: Double($0.bytes)) } }
        valLoss = Self.ratio(lossValues, sample: sample, exact: sample.isCensus ? sampled.meanLoss : nil,
                             estimable: estimable)
        valBPB = Self.ratio(bitValues, sample: sample, exact: sample.isCensus ? sampled.bitsPerByte : nil,
                            estimable: estimable)
    }

    static func ratio(_ strata: [[(y: Double, x: Double)]], sample: StratifiedSample, exact: Double?,
                      estimable: Bool) -> RatioInterval {
        var yHat = 0.0, xHat = 0.0
        for (h, units) in strata.enumerated() {
            let weight = Double(sample.strata[h].units.count) / Double(units.count)
            yHat += weight * units.reduce(0) { $0 + $1.y }
            xHat += weight * units.reduce(0) { $0 + $1.x }
        }
        let r = exact ?? yHat / xHat
        var variance = 0.0, satterthwaite = 0.0, nominal = 0
        for (h, units) in strata.enumerated() where !sample.strata[h].isComplete && units.count >= 2 {
            let n = Double(units.count), big = Double(sample.strata[h].units.count)
            let residuals = units.map { $0.y - r * $0.x }
            let mean = residuals.reduce(0, +) / n
            let s2 = residuals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
            let term = big * big * (1 - n / big) * s2 / n
            variance += term
            satterthwaite += term * term / (n - 1)
            nominal += units.count - 1
        }
        guard estimable else {
            return RatioInterval(estimate: r, standardError: .nan, lower: nil, upper: nil, degreesOfFreedom: .nan, quantile: .nan)
        }
        guard variance > 0 else {  // a census, or residuals all equal: nothing to widen by
            return RatioInterval(estimate: r, standardError: 0, lower: r, upper: r, degreesOfFreedom: Double(nominal), quantile: 0)
        }
        let degrees = min(Double(nominal), variance * variance / satterthwaite)
        let quantile = tQuantile(0.995, degreesOfFreedom: degrees)
        let se = variance.squareRoot() / xHat
        return RatioInterval(estimate: r, standardError: se, lower: r - quantile * se, upper: r + quantile * se,
                             degreesOfFreedom: degrees, quantile: quantile)
    }

    /// Student's t quantile P(T ≤ t) = p (p > 0.5), by bisection on ``StudentT/cdf(_:degreesOfFreedom:)``.
    static func tQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0 else { return .nan }
        var low = 0.0, high = 1.0
        while (StudentT.cdf(high, degreesOfFreedom: nu) ?? 1) < p { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if (StudentT.cdf(middle, degreesOfFreedom: nu) ?? 1) < p { low = middle } else { high = middle }
            if high - low <= 1e-12 * high { break }
        }
        return (low + high) / 2
    }
}
