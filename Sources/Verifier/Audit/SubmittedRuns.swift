/// Which of a folder's logged runs are the submitted runs, judged by the checks, and which are
/// exploratory (ablations, sweeps, smoke tests kept beside them), reported but not judged.
///
/// - When submission.json names two or more seeds (`seeds`, per-seed results), a run whose seed is
///   another is exploratory, and so is a run without a seed, provided some run has a named seed. (A
///   single `seed` is one run's setting, not the list of submitted runs; READMEs name seeds in command
///   lines and prose too loosely to decide: on the pull-request corpus that marked real runs exploratory.)
/// - Otherwise every run is submitted. (Setting aside logs that print no final score was tried on the
///   pull-request corpus and dropped: it set aside training logs kept beside a separate evaluation log.)
public struct RunSelection: Sendable, Equatable {
    public var submitted: [RunResult]
    public var exploratory: [ExploratoryRun]

    public static func select(_ runs: [RunResult], of submission: Submission) -> RunSelection {
        let named = Set(submission.claims.filter { $0.source.file == submission.metadata?.name }.compactMap(\.seed))
        var selection = RunSelection(submitted: [], exploratory: [])
        if named.count >= 2, runs.contains(where: { $0.seed.map(named.contains) ?? false }) {
            let list = named.sorted().map(String.init).joined(separator: ", ")
            for run in runs {
                if let seed = run.seed, !named.contains(seed) {
                    selection.exploratory.append(ExploratoryRun(run: run, reason: "seed \(seed) is not among the seeds submission.json names (\(list))"))
                } else if run.seed == nil {
                    selection.exploratory.append(ExploratoryRun(run: run, reason: "no seed, while submission.json names the submitted seeds (\(list))"))
                } else {
                    selection.submitted.append(run)
                }
            }
            return selection
        }
        return RunSelection(submitted: runs, exploratory: [])
    }
}

/// A run reported but not judged, and why.
public struct ExploratoryRun: Sendable, Equatable {
    public var run: RunResult
    public var reason: String
}
