/// val_bpb as pgverify's reference evaluator reproduced it from an artifact.
public struct ReproducedScore: Sendable, Equatable {
    /// The artifact evaluated, relative to the submission folder.
    public var artifact: String
    /// The run the artifact belongs to, when known; otherwise the closest claimed run is compared.
    public var seed: Int?
    public var valBPB: Double
    /// bpb along the validation stream (tokens scored so far, cumulative bpb), for the HTML plot.
    public var stream: [(x: Double, y: Double)]

    public init(artifact: String, seed: Int? = nil, valBPB: Double, stream: [(x: Double, y: Double)] = []) {
        self.artifact = artifact
        self.seed = seed
        self.valBPB = valBPB
        self.stream = stream
    }

    public static func == (lhs: ReproducedScore, rhs: ReproducedScore) -> Bool {
        lhs.artifact == rhs.artifact && lhs.seed == rhs.seed && lhs.valBPB == rhs.valBPB
            && AuditSeries(name: "", points: lhs.stream) == AuditSeries(name: "", points: rhs.stream)
    }
}

/// Builds the `REPRODUCED-VAL-BPB` check from what the reference evaluator computed: the plug-in point
/// for `verify eval` (a provider calls ``check(_:runs:tolerance:)`` with its results).
///
/// The reproduced value agrees with the claim when they differ by at most `tolerance` plus one unit in
/// the claim's last printed decimal. Worse than claimed beyond that: fail (the claim is not
/// reproduced); better: a warning.
public enum ReproducedScoreCheck {
    /// The default tolerance in bpb between a CPU float32 re-evaluation and the submission's own run.
    public static let defaultTolerance = 0.001

    public static func check(_ reproduced: [ReproducedScore], runs: [RunResult], tolerance: Double = defaultTolerance) -> AuditCheck {
        let id = Audit.reproducedScoreID, title = "Reproduced val_bpb"
        guard !reproduced.isEmpty else {
            return AuditCheck(id: id, title: title, status: .incomplete, severity: .error, summary: "nothing was evaluated")
        }
        var findings: [AuditFinding] = []
        var evidence: [AuditEvidence] = []
        var measurements: [AuditMeasurement] = []
        var series: [AuditSeries] = []
        let claimed = runs.compactMap { run in run.valBPB.flatMap { claim in claim.value.double.map { (run, claim, $0) } } }
        for score in reproduced {
            measurements.append(AuditMeasurement("reproduced_val_bpb", score.valBPB, unit: "bpb", seed: score.seed,
                                                 at: AuditLocation(file: score.artifact)))
            if !score.stream.isEmpty { series.append(AuditSeries(name: "bpb (\(score.artifact))", points: score.stream)) }
            let candidates = score.seed.map { seed in claimed.filter { $0.0.seed == seed } } ?? claimed
            guard let match = candidates.min(by: { abs($0.2 - score.valBPB) < abs($1.2 - score.valBPB) }) else {
                findings.append(AuditFinding(rule: id, severity: .warning, file: score.artifact,
                                             message: "reproduced val_bpb \(AuditFormat.fixed(score.valBPB, digits: 8)) but no logged run claims a score to compare with"))
                continue
            }
            let (run, claim, value) = match
            measurements.append(AuditMeasurement("claimed_val_bpb", value, unit: "bpb", seed: run.seed, at: AuditLocation(claim.source)))
            let allowed = tolerance + ClaimConsistencyCheckProvider.tolerance(claim.value.description)
            let delta = score.valBPB - value
            let comparison = "reproduced \(AuditFormat.fixed(score.valBPB, digits: 8)) from \(score.artifact) vs claimed \(claim.value) "
                + "(\(claim.source)): Δ = \(AuditFormat.fixed(delta, digits: 6)), tolerance ±\(AuditFormat.fixed(allowed, digits: 6))"
            evidence.append(AuditEvidence(comparison, at: AuditLocation(claim.source)))
            if delta > allowed {
                findings.append(AuditFinding(rule: id, severity: .error, at: AuditLocation(claim.source),
                                             message: "the claimed score is not reproduced: " + comparison))
            } else if delta < -allowed {
                findings.append(AuditFinding(rule: id, severity: .warning, at: AuditLocation(claim.source),
                                             message: "the artifact scores better than claimed: " + comparison))
            }
        }
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        let status: AuditStatus = errors > 0 ? .fail : warnings > 0 ? .warn : .pass
        let summary = errors > 0 ? "\(errors) of \(reproduced.count) reproduced score(s) worse than claimed beyond the tolerance"
            : "\(reproduced.count) reproduced score(s) within ±\(AuditFormat.fixed(tolerance, digits: 4)) bpb (+ printed precision) of the claims"
                + (warnings > 0 ? "; \(warnings) warning(s)" : "")
        return AuditCheck(id: id, title: title, status: status, severity: .error, summary: summary,
                          evidence: evidence, findings: findings, measurements: measurements, series: series)
    }
}
