import Foundation

/// The challenge's significance requirement as a one-sided t-test on validation loss in nats.
///
/// H0: the new runs improve on the previous record by at most `margin` nats
/// (mean_previous − mean_new ≤ margin); H1: by more. With two or more previous values the test is
/// Welch's unequal-variance t-test (Welch–Satterthwaite degrees of freedom); with one previous value
/// (a published mean without its seeds) it is a one-sample t-test of the new runs against
/// `previous − margin`. The p-value is the upper tail of Student's t (``StudentT``).
public struct ImprovementTest: Sendable, Equatable {
    /// Which t-test ran.
    public enum Method: String, Sendable {
        case welch = "welch_t_one_sided"
        case oneSample = "one_sample_t_one_sided"
    }

    public var method: Method
    public var newCount: Int
    public var newMean: Double
    public var newStandardDeviation: Double
    public var previousCount: Int
    public var previousMean: Double
    /// Zero for a single previous value.
    public var previousStandardDeviation: Double
    /// The required improvement in nats.
    public var margin: Double
    /// mean_previous − mean_new, in nats (positive when the new runs are better).
    public var improvement: Double
    public var t: Double
    public var degreesOfFreedom: Double
    /// P(T ≥ t) under H0.
    public var pValue: Double

    /// Runs the test; `nil` with fewer than two new values (no variance estimate) or no previous value,
    /// or when a value is not finite.
    public static func run(new: [Double], previous: [Double], margin: Double) -> ImprovementTest? {
        guard new.count >= 2, !previous.isEmpty,
              (new + previous).allSatisfy(\.isFinite), margin.isFinite else { return nil }
        let (newMean, newVariance) = meanAndVariance(new)
        let (previousMean, previousVariance) = previous.count > 1 ? meanAndVariance(previous) : (previous[0], 0)
        let improvement = previousMean - newMean
        let newShare = newVariance / Double(new.count)
        let method: Method = previous.count > 1 ? .welch : .oneSample
        let previousShare = method == .welch ? previousVariance / Double(previous.count) : 0
        let standardError = (newShare + previousShare).squareRoot()
        var degrees: Double
        if method == .oneSample {
            degrees = Double(new.count - 1)
        } else {
            let denominator = newShare * newShare / Double(new.count - 1)
                + previousShare * previousShare / Double(previous.count - 1)
            degrees = denominator > 0 ? pow(newShare + previousShare, 2) / denominator : Double(new.count + previous.count - 2)
        }
        let excess = improvement - margin
        let t: Double
        if standardError > 0 {
            t = excess / standardError
        } else {
            t = excess > 0 ? .infinity : excess < 0 ? -.infinity : 0
        }
        let p = standardError > 0 ? (StudentT.upperTail(t, degreesOfFreedom: degrees) ?? 1) : (excess > 0 ? 0 : 1)
        return ImprovementTest(
            method: method, newCount: new.count, newMean: newMean, newStandardDeviation: newVariance.squareRoot(),
            previousCount: previous.count, previousMean: previousMean,
            previousStandardDeviation: previousVariance.squareRoot(), margin: margin, improvement: improvement,
            t: t, degreesOfFreedom: degrees, pValue: p)
    }

    /// Sample mean and unbiased (n − 1) variance.
    static func meanAndVariance(_ values: [Double]) -> (Double, Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, squares / Double(values.count - 1))
    }
}
