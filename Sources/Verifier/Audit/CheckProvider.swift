import Foundation
/// A source of audit checks. The audit core runs every provider it is given and decides the verdict
/// from the checks they return; new kinds of evidence (the static analyzer's findings, the reference
/// evaluator's reproduced val_bpb) plug in as providers without changing the core.
public protocol CheckProvider: Sendable {
    /// The checks for one submission. Throw only for bad input (an ``Reference/InputError``), never
    /// for a check that cannot run: that is a check with status ``AuditStatus/incomplete``.
    func checks(for context: AuditContext) throws -> [AuditCheck]
}

/// What every provider sees: the submission, the size check's result (computed once), the submitted
/// runs the logs report (``RunSelection``), and the options of the audit.
public struct AuditContext: Sendable {
    public var submission: Submission
    public var options: AuditOptions
    public var size: SizeReport
    /// The submitted runs: the ones the checks judge.
    public var runs: [RunResult]
    /// Logged runs that are not the submitted ones (reported, not judged).
    public var exploratoryRuns: [ExploratoryRun]

    public init(submission: Submission, options: AuditOptions) {
        self.submission = submission
        self.options = options
        let selection = RunSelection.select(RunResult.runs(of: submission), of: submission)
        // The size figures of logs set aside are not the submission's (notes, not cap failures).
        self.size = SizeReport.check(submission, notSubmitted: selection.notSubmitted)
        self.runs = selection.submitted
        self.exploratoryRuns = selection.exploratory
    }

    /// Whether the submission is on the non-record track (no time limit, no significance requirement):
    /// its folder sits in `track_non_record*`, or submission.json says `"track": "non_record..."`.
    public var isNonRecord: Bool {
        submission.claims(.track).contains { $0.value.description.lowercased().hasPrefix("non_record") }
    }
}

/// What the user asked of the audit.
public struct AuditOptions: Sendable {
    /// Skip the slow steps (reproducing val_bpb); their checks report incomplete.
    public var quick: Bool
    /// The previous record's per-seed validation losses in nats, when given.
    public var previousRecord: PreviousRecord?

    /// What the reproduced-val_bpb check evaluates on; `nil` leaves that check incomplete.
    public var evaluation: AuditEvaluationSettings?

    /// Partial results of a sharded `verify eval` of this folder's artifact (`verify eval --shard
    /// --partial-out`): merged, they are the reproduction, in place of evaluating here.
    public var reproductionParts: [URL]

    /// Reproduce val_bpb from a sample of the evaluation's units (`--sample-docs N --seed S`): the
    /// claim is compared with the estimate's 99% interval (``SampledScoreCheck``).
    public var sample: EvaluationSample?

    public init(quick: Bool = false, previousRecord: PreviousRecord? = nil, evaluation: AuditEvaluationSettings? = nil,
                reproductionParts: [URL] = [], sample: EvaluationSample? = nil) {
        self.sample = sample
        self.quick = quick
        self.previousRecord = previousRecord
        self.evaluation = evaluation
        self.reproductionParts = reproductionParts
    }
}

/// The data the audit re-evaluates an artifact on: the challenge's tokenizer and validation shards.
public struct AuditEvaluationSettings: Sendable {
    /// SentencePiece model of the submission's tokenizer.
    public var tokenizer: URL
    /// Validation shard glob (`data/fineweb_val_*.bin`).
    public var validationPattern: String
    /// Worker threads.
    public var threads: Int
    /// CaseOps byte sidecar glob (`fineweb_val_bytes_*.bin`); `nil` looks beside the shards.
    public var byteSidecarPattern: String?

    public init(tokenizer: URL, validationPattern: String, threads: Int = 1, byteSidecarPattern: String? = nil) {
        self.tokenizer = tokenizer
        self.validationPattern = validationPattern
        self.threads = threads
        self.byteSidecarPattern = byteSidecarPattern
    }
}

/// A provider for a check that this build cannot run yet: it reports the check as incomplete with
/// the reason, so the verdict never passes on evidence that was not gathered.
public struct UnavailableCheckProvider: CheckProvider {
    public var id: String
    public var title: String
    public var reason: String
    /// Whether `--quick` skips this check anyway (it is one of the slow steps); the summary then says so.
    public var isSlow: Bool

    public init(id: String, title: String, reason: String, isSlow: Bool = false) {
        self.id = id
        self.title = title
        self.reason = reason
        self.isSlow = isSlow
    }

    public func checks(for context: AuditContext) throws -> [AuditCheck] {
        let summary = isSlow && context.options.quick ? "skipped by --quick (and \(reason))" : reason
        return [AuditCheck(id: id, title: title, status: .incomplete, severity: .error, summary: summary)]
    }
}
