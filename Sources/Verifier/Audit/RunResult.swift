/// One training run as its log reports it: the seed, the headline evaluation, and the times.
public struct RunResult: Sendable, Equatable {
    /// The log, relative to the submission folder.
    public var log: String
    /// The seed the log states (in its name or in a `seed` line), if any.
    public var seed: Int?
    public var valBPB: Claim?
    public var valLoss: Claim?
    public var trainSeconds: Claim?
    public var evalSeconds: Claim?

    /// One result per log that reports a score or a time, in log order.
    public static func runs(of submission: Submission) -> [RunResult] {
        submission.logs.compactMap { log in
            let claims = submission.claims.filter { $0.source.file == log.name }
            func first(_ kind: ClaimKind) -> Claim? { claims.first { $0.kind == kind } }
            let run = RunResult(
                log: log.name, seed: first(.seed)?.value.integer, valBPB: first(.valBPB), valLoss: first(.valLoss),
                trainSeconds: first(.trainSeconds), evalSeconds: first(.evalSeconds))
            let reportsSomething = run.valBPB != nil || run.trainSeconds != nil || run.evalSeconds != nil
            return reportsSomething ? run : nil
        }
    }

    /// `seed 42 (train_seed42.log)` or the log name.
    public var label: String {
        seed.map { "seed \($0) (\(log))" } ?? log
    }
}
