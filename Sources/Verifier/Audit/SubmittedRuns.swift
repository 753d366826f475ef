/// Which of a folder's logged runs are the submitted runs, judged by the checks, and which are
/// exploratory (ablations, sweeps, smoke tests kept beside them), reported but not judged.
///
/// - When submission.json names two or more seeds (`seeds`, per-seed results), a run whose seed is
///   another is exploratory, and so is a run without a seed, once every named seed has a log of its own
///   (else any other log may be the missing seed's run). Named: seed claims and the numeric keys of
///   per-seed containers. (A
///   single `seed` is one run's setting, not the list of submitted runs; READMEs name seeds in command
///   lines and prose too loosely to decide: on the pull-request corpus that marked real runs exploratory.)
/// - Otherwise every run is submitted. (Setting aside logs that print no final score was tried on the
///   pull-request corpus and dropped: it set aside training logs kept beside a separate evaluation log.)
public struct RunSelection: Sendable, Equatable {
    public var submitted: [RunResult]
    public var exploratory: [ExploratoryRun]

    public static func select(_ runs: [RunResult], of submission: Submission) -> RunSelection {
        let named = namedSeeds(of: submission)
        var selection = RunSelection(submitted: [], exploratory: [])
        // While a named seed has no log, any other log may be that seed's run (misnamed, or without a seed).
        if named.count >= 2, named.isSubset(of: Set(runs.compactMap(\.seed))) {
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

    /// The seeds submission.json names: its seed claims (`seeds`, `seed`, values under per-seed results)
    /// and the numeric keys of its per-seed containers (`seeds.1337` with no recognised member still names 1337).
    static func namedSeeds(of submission: Submission) -> Set<Int> {
        guard let metadata = submission.metadata else { return [] }
        var seeds = Set(submission.claims.filter { $0.source.file == metadata.name }.compactMap(\.seed))
        func walk(_ value: JSONValue, key: String?) {
            guard case .object(let members) = value else { return }
            for member in members {
                if let key, MetadataClaims.perSeedContainers.contains(key), let seed = Int(member.key) { seeds.insert(seed) }
                walk(member.value, key: member.key)
            }
        }
        walk(metadata.json, key: nil)
        return seeds
    }
}

/// A run reported but not judged, and why.
public struct ExploratoryRun: Sendable, Equatable {
    public var run: RunResult
    public var reason: String
}
