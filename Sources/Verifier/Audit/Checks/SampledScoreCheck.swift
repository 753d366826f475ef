/// `REPRODUCED-VAL-BPB` from a sampled evaluation (`--sample-docs N --seed S`): the claimed val_bpb
/// against the estimate's 99% interval, widened on each side by the exact check's tolerance (CPU
/// float32 against the submission's GPU run, plus the claim's printed precision).
///
/// A sample never passes the check: an estimate is not a reproduction. The claim below the widened
/// interval (the artifact scores worse than claimed, with 99% confidence) fails it with an error
/// finding; above it (better than claimed), a warning finding; inside, the check stays incomplete
/// and its summary says the claim is consistent and which way, and by how much, the estimate points.
public enum SampledScoreCheck {
    /// `label` names what the runs' `valBPB` claims are in messages (the headline claim, or the
    /// logged no-TTT score of ``DiagnosticQuantizedScore``).
    public static func check(_ sampled: SampledEvaluation, artifact: String, runs: [RunResult],
                             tolerance: Double = ReproducedScoreCheck.defaultTolerance,
                             label: String = "claimed val_bpb") -> AuditCheck {
        let id = Audit.reproducedScoreID, title = "Reproduced val_bpb"
        let design = sampled.plan.design, bpb = sampled.estimate.valBPB
        let seeds = Set(runs.compactMap(\.seed))
        let seed = runs.count == 1 ? seeds.first : nil
        var measurements = [AuditMeasurement("sampled_val_bpb_estimate", bpb.estimate, unit: "bpb", seed: seed,
                                             at: AuditLocation(file: artifact))]
        if let lower = bpb.lower, let upper = bpb.upper {
            measurements.append(AuditMeasurement("sampled_val_bpb_lower_99", lower, unit: "bpb", seed: seed))
            measurements.append(AuditMeasurement("sampled_val_bpb_upper_99", upper, unit: "bpb", seed: seed))
        }
        var evidence = [AuditEvidence(
            "sampled \(design.sampledUnits.count) of \(design.totalUnits) \(sampled.plan.units) of \(artifact) (seed \(design.seed), "
                + "\(design.strata.count) strata by length; \(design.sampledTokens) of \(design.totalTokens) tokens): val_bpb ≈ "
                + "\(AuditFormat.fixed(bpb.estimate, digits: 6))"
                + (bpb.lower.flatMap { lower in bpb.upper.map { upper in
                    ", 99% interval [\(AuditFormat.fixed(lower, digits: 6)), \(AuditFormat.fixed(upper, digits: 6))]" } } ?? "")
                + "; units: \(sampled.plan.unitDescription)")]
        func incomplete(_ summary: String, findings: [AuditFinding] = []) -> AuditCheck {
            AuditCheck(id: id, title: title, status: .incomplete, severity: .error, summary: summary, evidence: evidence,
                       findings: findings, measurements: measurements)
        }
        guard let lower = bpb.lower, let upper = bpb.upper else {
            return incomplete("a sample of one unit gives an estimate without an interval; sample at least 2")
        }
        let claimed = runs.compactMap { run in run.valBPB.flatMap { claim in claim.value.double.map { (run, claim, $0) } } }
        let candidates = seed.map { seed in claimed.filter { $0.0.seed == seed } } ?? claimed
        guard let (run, claim, value) = candidates.min(by: { abs($0.2 - bpb.estimate) < abs($1.2 - bpb.estimate) }) else {
            return incomplete("sampled val_bpb estimate \(AuditFormat.fixed(bpb.estimate, digits: 6)) but no logged run claims a score to compare with")
        }
        measurements.append(AuditMeasurement("claimed_val_bpb", value, unit: "bpb", seed: run.seed, at: AuditLocation(claim.source)))
        let allowed = tolerance + ClaimConsistencyCheckProvider.tolerance(claim.value.description)
        let interval = "[\(AuditFormat.fixed(lower, digits: 6)), \(AuditFormat.fixed(upper, digits: 6))]"
        let delta = bpb.estimate - value
        let pointing = "the estimate \(AuditFormat.fixed(bpb.estimate, digits: 6)) is \(AuditFormat.fixed(abs(delta), digits: 6)) bpb "
            + (delta >= 0 ? "above (worse than)" : "below (better than)") + " the claim"
        let comparison = "\(label) \(claim.value) (\(claim.source)) vs the sampled 99% interval \(interval); \(pointing); "
            + "tolerance ±\(AuditFormat.fixed(allowed, digits: 6))"
        evidence.append(AuditEvidence(comparison, at: AuditLocation(claim.source)))
        if value < lower - allowed {
            let finding = AuditFinding(rule: id, severity: .error, at: AuditLocation(claim.source),
                                       message: "the \(label) is below the sampled 99% interval by "
                                           + "\(AuditFormat.fixed(lower - value, digits: 6)) bpb (beyond the tolerance): "
                                           + "the artifact scores worse than claimed; " + comparison)
            return AuditCheck(id: id, title: title, status: .fail, severity: .error,
                              summary: "the claim is below the 99% interval of a sampled estimate: not reproduced",
                              evidence: evidence, findings: [finding], measurements: measurements)
        }
        if value > upper + allowed {
            let finding = AuditFinding(rule: id, severity: .warning, at: AuditLocation(claim.source),
                                       message: "the \(label) is above the sampled 99% interval by "
                                           + "\(AuditFormat.fixed(value - upper, digits: 6)) bpb (beyond the tolerance): "
                                           + "the artifact scores better than claimed; " + comparison)
            return incomplete("the claim is above the 99% interval of a sampled estimate (the artifact scores better); "
                              + "an estimate is not an exact reproduction", findings: [finding])
        }
        let place = value < lower ? "below the 99% interval by \(AuditFormat.fixed(lower - value, digits: 6)) but within the tolerance"
            : value > upper ? "above the 99% interval by \(AuditFormat.fixed(value - upper, digits: 6)) but within the tolerance"
            : "inside the 99% interval"
        return incomplete("sampled estimate consistent with the claim (\(place); \(pointing)); "
                          + "an estimate is not an exact reproduction: evaluate without --sample-docs to pass")
    }
}
