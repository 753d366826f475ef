/// `SIGNIFICANCE`: a new record must beat the previous record by at least 0.005 nats of validation
/// loss, shown at p < 0.01 across its runs (challenge README, "Submission Process", rule 1).
///
/// The test is ``ImprovementTest``: one-sided Welch t-test of the per-seed `val_loss` (nats) of the
/// logs against the previous record's per-seed values (a one-sample t-test when only one previous
/// value is given). Without the previous record's values the check is incomplete.
public struct SignificanceCheckProvider: CheckProvider {
    /// The required improvement in nats.
    public static let margin = 0.005
    /// The significance level.
    public static let alpha = 0.01

    public init() {}

    public func checks(for context: AuditContext) throws -> [AuditCheck] {
        let id = "SIGNIFICANCE", title = "Beats the previous record by ≥ 0.005 nats at p < 0.01"
        var seen: Set<Int> = []
        let runs = context.runs.filter { run in
            guard run.valLoss?.value.double != nil else { return false }
            return run.seed.map { seen.insert($0).inserted } ?? true
        }
        let evidence = runs.compactMap { run in
            run.valLoss.map { AuditEvidence("\(run.label): val_loss \($0.value) nats", at: AuditLocation($0.source)) }
        }
        let losses = runs.compactMap { $0.valLoss?.value.double }
        var measurements = runs.compactMap { run in
            run.valLoss.flatMap { claim in
                claim.value.double.map { AuditMeasurement("val_loss", $0, unit: "nats", seed: run.seed, at: AuditLocation(claim.source)) }
            }
        }
        if context.isNonRecord {
            return [AuditCheck(id: id, title: title, status: .skipped, severity: .error,
                               summary: "non-record track: no significance requirement", evidence: evidence,
                               measurements: measurements)]
        }
        guard let previous = context.options.previousRecord else {
            return [AuditCheck(id: id, title: title, status: .incomplete, severity: .error,
                               summary: "the previous record's per-seed val_loss values were not given (--previous-record)",
                               evidence: evidence, measurements: measurements)]
        }
        let previousEvidence = AuditEvidence(
            "previous record (\(previous.source)): val_loss "
                + previous.valLosses.map { AuditFormat.fixed($0, digits: 8) }.joined(separator: ", ") + " nats")
        guard let test = ImprovementTest.run(new: losses, previous: previous.valLosses, margin: Self.margin) else {
            return [AuditCheck(id: id, title: title, status: .incomplete, severity: .error,
                               summary: "\(losses.count) logged run\(losses.count == 1 ? "" : "s") with a val_loss: "
                                   + "at least 2 are needed for a t-test",
                               evidence: evidence + [previousEvidence], measurements: measurements)]
        }
        measurements += [
            AuditMeasurement("mean_val_loss", test.newMean, unit: "nats"),
            AuditMeasurement("previous_mean_val_loss", test.previousMean, unit: "nats"),
            AuditMeasurement("improvement", test.improvement, unit: "nats"),
            AuditMeasurement("t", test.t),
            AuditMeasurement("degrees_of_freedom", test.degreesOfFreedom),
            AuditMeasurement("p_value", test.pValue),
        ]
        let method = test.method == .welch ? "one-sided Welch t-test" : "one-sided one-sample t-test"
        let statement = "\(method) on val_loss (nats), H0: improvement ≤ \(Self.margin): mean \(AuditFormat.fixed(test.newMean, digits: 5)) "
            + "over \(test.newCount) runs vs \(AuditFormat.fixed(test.previousMean, digits: 5)) over \(test.previousCount), "
            + "improvement \(AuditFormat.fixed(test.improvement, digits: 5)) nats, t = \(AuditFormat.fixed(test.t, digits: 3)), "
            + "df = \(AuditFormat.fixed(test.degreesOfFreedom, digits: 2)), p = \(AuditFormat.pValue(test.pValue))"
        let passed = test.pValue < Self.alpha
        let findings = passed ? [] : [AuditFinding(
            rule: id, severity: .error,
            message: "the runs do not show an improvement of \(Self.margin) nats at p < \(Self.alpha): \(statement)")]
        return [AuditCheck(
            id: id, title: title, status: passed ? .pass : .fail, severity: .error,
            summary: passed ? "significant: p = \(AuditFormat.pValue(test.pValue)) < \(Self.alpha)"
                : "not significant: p = \(AuditFormat.pValue(test.pValue)) ≥ \(Self.alpha)",
            evidence: evidence + [previousEvidence, AuditEvidence(statement)], findings: findings,
            measurements: measurements)]
    }
}
