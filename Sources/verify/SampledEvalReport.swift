import Foundation
import Reference
import Verifier

/// `verify eval --sample-docs N --seed S` output. The estimates have their own keys
/// (`val_bpb_estimate`, an object, not `val_bpb`), so nothing that reads an exact evaluation's
/// `val_bpb` takes an estimate for it.
struct SampledEvalReport: Encodable {
    struct Interval: Encodable {
        var estimate: Double
        var lower: Double?
        var upper: Double?
        var standard_error: Double?
        /// Satterthwaite's degrees of freedom of the t quantile, and the quantile.
        var degrees_of_freedom: Double?
        var t_quantile: Double?

        init(_ interval: RatioInterval) {
            estimate = interval.estimate
            lower = interval.lower
            upper = interval.upper
            standard_error = interval.standardError.isFinite ? interval.standardError : nil
            degrees_of_freedom = interval.degreesOfFreedom.isFinite ? interval.degreesOfFreedom : nil
            t_quantile = interval.quantile.isFinite ? interval.quantile : nil
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(estimate, forKey: .estimate)
            try container.encode(lower, forKey: .lower)  // null when the sample cannot bound it
            try container.encode(upper, forKey: .upper)
            try container.encode(standard_error, forKey: .standard_error)
            try container.encode(degrees_of_freedom, forKey: .degrees_of_freedom)
            try container.encode(t_quantile, forKey: .t_quantile)
        }

        private enum CodingKeys: String, CodingKey { case estimate, lower, upper, standard_error, degrees_of_freedom, t_quantile }
    }

    struct Stratum: Encodable {
        var units: Int
        var sampled: Int
        var tokens: Int
        var shortest: Int
        var longest: Int
    }

    struct Sample: Encodable {
        /// `documents` or `windows`.
        var units: String
        var unit_description: String
        var size: Int
        var seed: UInt64
        var total_units: Int
        var sampled_tokens: Int
        var total_tokens: Int
        /// sampled_tokens / total_tokens.
        var stream_coverage: Double
        var strata: [Stratum]
        var method: String
    }

    var sampled = true
    var confidence = SampledEstimate.confidence
    var val_loss_estimate: Interval
    var val_bpb_estimate: Interval
    var sample: Sample
    /// Sums over the sampled units.
    var tokens: Int
    var bytes: Int
    var mode: String
    var stride: Int?
    var seq_len: Int
    var threads: Int
    var seconds: Double
    /// This run's rate applied to the whole stream: what the exact evaluation would take here.
    var full_evaluation_seconds_estimate: Double
    var config: [String: String]
    var evaluation: String?
    var architecture: String?

    static let method = "stratified combined ratio estimator over the sampled units' exact loss, token and byte sums; "
        + "linearised variance with each stratum's finite-population correction; Student's t at 99.5% with Satterthwaite's degrees of freedom"

    init(_ result: SampledEvaluation, mode: String, stride: Int?, seqLen: Int, threads: Int, seconds: Double,
         config: [String: String], evaluation: String?, architecture: String?) {
        let design = result.plan.design, estimate = result.estimate
        val_loss_estimate = Interval(estimate.valLoss)
        val_bpb_estimate = Interval(estimate.valBPB)
        sample = Sample(
            units: result.plan.units, unit_description: result.plan.unitDescription, size: design.size, seed: design.seed,
            total_units: design.totalUnits, sampled_tokens: design.sampledTokens, total_tokens: design.totalTokens,
            stream_coverage: Double(design.sampledTokens) / Double(design.totalTokens),
            strata: design.strata.map { Stratum(units: $0.units.count, sampled: $0.sampled.count, tokens: $0.tokens,
                                                shortest: $0.shortest, longest: $0.longest) },
            method: Self.method)
        tokens = estimate.sampled.tokens
        bytes = estimate.sampled.bytes
        self.mode = mode
        self.stride = stride
        seq_len = seqLen
        self.threads = threads
        self.seconds = seconds
        full_evaluation_seconds_estimate = seconds * Double(design.totalTokens) / Double(max(design.sampledTokens, 1))
        self.config = config
        self.evaluation = evaluation
        self.architecture = architecture
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// What a sampled run will score, before it starts.
    static func planLine(_ plan: SamplePlan, threads: Int) -> String {
        let design = plan.design
        return "score a random sample of \(design.sampledUnits.count) of \(design.totalUnits) \(plan.units) (seed \(design.seed), "
            + "\(design.strata.count) strat\(design.strata.count == 1 ? "um" : "a") by length): \(design.sampledTokens) of "
            + "\(design.totalTokens) scored tokens (\(percent(design.sampledTokens, of: design.totalTokens))) on \(threads) threads"
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        String(format: "%.1f%%", 100 * Double(part) / Double(max(whole, 1)))
    }

    func printText(familySources: [String: String]?) {
        print("SAMPLED ESTIMATE (not an exact evaluation): \(sample.size) of \(sample.total_units) \(sample.units), seed \(sample.seed)")
        print("units: \(sample.unit_description)")
        for (h, stratum) in sample.strata.enumerated() {
            print("  stratum \(h + 1): \(stratum.sampled) of \(stratum.units) units of \(stratum.shortest)–\(stratum.longest) "
                  + "tokens (\(stratum.tokens) tokens)" + (stratum.sampled == stratum.units ? ", taken whole" : ""))
        }
        print("scored \(sample.sampled_tokens) of \(sample.total_tokens) tokens (\(Self.percent(sample.sampled_tokens, of: sample.total_tokens)) of the stream), \(bytes) bytes")
        for (name, interval) in [("val_loss", val_loss_estimate), ("val_bpb", val_bpb_estimate)] {
            if let lower = interval.lower, let upper = interval.upper {
                print(String(format: "%@ ≈ %.8f  99%% interval [%.8f, %.8f] (±%.8f)", name, interval.estimate, lower, upper,
                             (upper - lower) / 2))
            } else {
                print(String(format: "%@ ≈ %.8f  (no interval: a sample of one unit cannot estimate its variance)", name,
                             interval.estimate))
            }
        }
        print("mode: \(mode)" + (stride.map { "  stride: \($0)" } ?? "") + "  seq_len: \(seq_len)")
        if let evaluation {
            print("evaluation: \(evaluation)")
            for (name, source) in (familySources ?? [:]).sorted(by: { $0.key < $1.key }) { print("  \(name): \(source)") }
        }
        print("method: \(Self.method)" + (val_bpb_estimate.t_quantile.flatMap { t in val_bpb_estimate.degrees_of_freedom.map {
            String(format: " (val_bpb: t = %.4f at %.1f degrees of freedom)", t, $0) } } ?? ""))
        print(String(format: "%.2f s on %d threads; the exact evaluation would take ~%@ at this rate", seconds, threads,
                     ProgressLine.duration(full_evaluation_seconds_estimate)))
    }
}
