/// The full audit of a submission folder: every provider's checks and the verdict.
public struct AuditReport: Sendable {
    /// The folder as reports name it: `track_.../<folder>` (never an absolute path).
    public var subject: String
    public var checks: [AuditCheck]
    public var verdict: AuditVerdict
    /// The runs the logs report (seed, val_bpb, val_loss, times), for tables and plots.
    public var runs: [RunResult]
    /// The measured and claimed sizes, for the size plot.
    public var size: SizeReport
    /// The previous record's values, when given.
    public var previousRecord: PreviousRecord?
    /// Whether the slow steps were skipped.
    public var quick: Bool
    /// The data val_bpb was re-evaluated on, when given.
    public var evaluation: AuditEvaluationSettings? = nil

    /// Every finding of every check, in check order.
    public var findings: [AuditFinding] { checks.flatMap(\.findings) }
}

/// Runs the audit.
public enum Audit {
    /// The IDs of the two checks whose providers come with the static analyzer and the reference evaluator.
    public static let staticFindingsID = "STATIC-FINDINGS"
    public static let reproducedScoreID = "REPRODUCED-VAL-BPB"

    /// The providers of this build, in report order.
    public static func defaultProviders() -> [any CheckProvider] {
        [
            SizeCheckProvider(),
            TimeLimitCheckProvider(),
            ClaimConsistencyCheckProvider(),
            SignificanceCheckProvider(),
            StaticFindingsProvider.make(),
            ReproducedScoreCheckProvider(),
        ]
    }

    /// Audits `submission` with `providers`.
    public static func run(
        _ submission: Submission, options: AuditOptions = AuditOptions(),
        providers: [any CheckProvider] = Audit.defaultProviders(),
        progress: (String) -> Void = { _ in }
    ) throws -> AuditReport {
        let context = AuditContext(submission: submission, options: options)
        var checks: [AuditCheck] = []
        for provider in providers {
            progress("running \(String(describing: type(of: provider)))")
            checks += try provider.checks(for: context)
        }
        return AuditReport(
            subject: subject(of: submission), checks: checks, verdict: AuditVerdict.decide(checks),
            runs: context.runs, size: context.size, previousRecord: options.previousRecord, quick: options.quick,
            evaluation: options.evaluation)
    }

    /// `track_x/<folder>` when the folder sits in a track folder, else the folder's name.
    static func subject(of submission: Submission) -> String {
        let name = submission.folder.standardizedFileURL.lastPathComponent
        return submission.trackFolder.map { "\($0)/\(name)" } ?? name
    }
}
