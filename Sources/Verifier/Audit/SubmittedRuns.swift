/// Which of a folder's logged runs are the submitted runs, judged by the checks, and which are
/// exploratory (ablations, sweeps, smoke tests kept beside them), reported but not judged.
///
/// - When submission.json names two or more seeds (`seeds`, per-seed results), a run whose seed is
///   another is exploratory, and so is a run without a seed, once every named seed has a log of its own
///   (else any other log may be the missing seed's run). Named: seed claims and the numeric keys of
///   per-seed containers. (A
///   single `seed` is one run's setting, not the list of submitted runs; READMEs name seeds in command
///   lines and prose too loosely to decide: on the pull-request corpus that marked real runs exploratory.)
/// - The runs submission.json's per-seed or mean score is of (``claimedRuns(_:of:)``): a complete run
///   (score and training time) whose seed is a claimed complete run's, with a score the claims do not
///   give, is another configuration run with that seed (an ablation arm, a superseded attempt) and is
///   exploratory. Runs of other seeds or without one stay submitted: they may be replicates the claims
///   summarise.
/// - A log whose path marks it as not the submission (``markedNotSubmitted(_:)``: `ablation`,
///   `exploratory`, `overcap` in a file or folder name, or a `data/` folder of inputs) is exploratory,
///   unless every log is so marked by name (then the names describe the submission itself; a `data/`
///   folder still holds inputs) or its score is one submission.json claims (the submission is that
///   ablation run).
/// - Otherwise every run is submitted. (Setting aside logs that print no final score was tried on the
///   pull-request corpus and dropped: it set aside training logs kept beside a separate evaluation log.)
public struct RunSelection: Sendable, Equatable {
    public var submitted: [RunResult]
    public var exploratory: [ExploratoryRun]

    /// Logs that report no run (sizes only) but whose path marks them as not submitted, with the reason:
    /// their figures are not the submission's either.
    public var unsubmittedLogs: [String: String] = [:]

    public init(submitted: [RunResult], exploratory: [ExploratoryRun], unsubmittedLogs: [String: String] = [:]) {
        self.submitted = submitted
        self.exploratory = exploratory
        self.unsubmittedLogs = unsubmittedLogs
    }

    /// Every log set aside, with the reason: the exploratory runs' and ``unsubmittedLogs``.
    public var notSubmitted: [String: String] {
        var logs = unsubmittedLogs
        for run in exploratory { logs[run.run.log] = run.reason }
        return logs
    }

    public static func select(_ runs: [RunResult], of submission: Submission) -> RunSelection {
        var selection = bySeeds(runs, of: submission)
        selection.setAside(byClaims: submission)
        selection.setAside(byPath: submission)
        return selection
    }

    static func bySeeds(_ runs: [RunResult], of submission: Submission) -> RunSelection {
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

    /// Sets aside complete runs of a claimed run's seed whose score the claims do not give.
    mutating func setAside(byClaims submission: Submission) {
        let claimed = Self.claimedRuns(submitted, of: submission)
        guard !claimed.isEmpty else { return }
        var kept: [RunResult] = []
        for run in submitted {
            let sameSeed = claimed.first { other in
                other.log != run.log && other.seed != nil && other.seed == run.seed && other.trainSeconds != nil
            }
            if !claimed.contains(where: { $0.log == run.log }), let sameSeed, let seed = run.seed,
               let score = run.valBPB, run.trainSeconds != nil {
                exploratory.append(ExploratoryRun(run: run, reason: "a complete run with seed \(seed) scoring \(score.value), "
                    + "while submission.json's val_bpb is that of \(sameSeed.log) (same seed): another configuration"))
            } else {
                kept.append(run)
            }
        }
        submitted = kept
    }

    /// Sets aside the logs whose path marks them as not the submission (see the type's documentation for the exceptions).
    mutating func setAside(byPath submission: Submission) {
        var marks = Dictionary(uniqueKeysWithValues: submission.logs.compactMap { log in
            Self.markedNotSubmitted(log.name).map { (log.name, $0) }
        })
        // Names that mark every log name the submission itself; a `data/` folder holds inputs whatever else there is.
        if marks.count == submission.logs.count { marks = marks.filter { $0.value == Self.dataFolderMark } }
        guard !marks.isEmpty else { return }
        let runLogs = Set((submitted.map(\.log) + exploratory.map(\.run.log)))
        // A marked log whose score submission.json claims is the submission's run after all.
        let claims = submission.claims(.valBPB).filter { $0.source.file == submission.metadata?.name && $0.aggregate == nil }
        var kept: [RunResult] = []
        for run in submitted {
            if let mark = marks[run.log], !claims.contains(where: { Self.agrees(run, $0) }) {
                exploratory.append(ExploratoryRun(run: run, reason: "its path marks it as not the submission (\(mark))"))
            } else {
                kept.append(run)
            }
        }
        submitted = kept
        for (log, mark) in marks where !runLogs.contains(log) {
            unsubmittedLogs[log] = "its path marks it as not the submission (\(mark))"
        }
    }

    /// What in `path` (relative to the folder) marks a log as not the submitted run: a file or folder name
    /// containing `ablation`, `exploratory` or `overcap` (`over_cap`, `over-cap`), or a folder named `data`
    /// (inputs the submission reads or analyses, such as other submissions' logs).
    static func markedNotSubmitted(_ path: String) -> String? {
        let components = path.lowercased().split(separator: "/").map(String.init)
        for component in components {
            let squeezed = component.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
            for word in ["ablation", "exploratory", "overcap"] where squeezed.contains(word) {
                return "`\(component)` names \(word == "overcap" ? "an over-cap variant" : "an \(word) run")"
            }
        }
        if components.dropLast().contains("data") { return dataFolderMark }
        return nil
    }

    static let dataFolderMark = "a `data/` folder holds inputs, not the submission's runs"

    /// Whether `run`'s logged val_bpb is `claim`'s, as CLAIMS compares printed values.
    static func agrees(_ run: RunResult, _ claim: Claim) -> Bool {
        guard let logged = run.valBPB, let a = logged.value.double, let b = claim.value.double else { return false }
        return abs(a - b) <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, logged.value.description)
    }

    /// The runs submission.json's val_bpb claims are of: a per-seed claim's runs of that seed, and for a
    /// mean over the seeds it names, every choice of one run per seed whose mean is the claim (a rerun kept
    /// beside the run averaged). Values agree as CLAIMS compares them. A plain top-level claim is not used:
    /// it may be one of several replicates of a seed (`2026-03-17_LoRA_TTT`: four seed-1337 runs, the
    /// claim is the last one's, the README reports all four).
    static func claimedRuns(_ runs: [RunResult], of submission: Submission) -> [RunResult] {
        guard let metadata = submission.metadata else { return [] }
        let claims = submission.claims(.valBPB).filter { $0.source.file == metadata.name && $0.qualifier == nil }
        var claimed: Set<String> = []
        for claim in claims where claim.aggregate == nil {
            guard let seed = claim.seed else { continue }
            for run in runs where run.seed == seed && agrees(run, claim) { claimed.insert(run.log) }
        }
        let named = namedSeeds(of: submission).sorted()
        let perSeed = named.map { seed in runs.filter { $0.seed == seed && $0.valBPB?.value.double != nil } }
        let combinations = perSeed.reduce(1) { $0 * max($1.count, 1) }
        if named.count >= 2, perSeed.allSatisfy({ !$0.isEmpty }), combinations <= 4096 {
            for claim in claims where claim.aggregate == .mean {
                guard let target = claim.value.double else { continue }
                var choice: [Int] = Array(repeating: 0, count: perSeed.count)
                for _ in 0..<combinations {
                    let chosen = zip(perSeed, choice).map { $0[$1] }
                    let values = chosen.compactMap { $0.valBPB?.value.double }
                    let leastPrecise = chosen.compactMap { $0.valBPB?.value.description }.min { $0.count < $1.count } ?? ""
                    let mean = values.reduce(0, +) / Double(values.count)
                    if abs(mean - target) <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, leastPrecise) {
                        claimed.formUnion(chosen.map(\.log))
                    }
                    // The next choice, as an odometer over the seeds' runs.
                    for position in choice.indices {
                        choice[position] += 1
                        if choice[position] < perSeed[position].count { break }
                        choice[position] = 0
                    }
                }
            }
        }
        return runs.filter { claimed.contains($0.log) }
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
                if case .object = member.value, let seed = MetadataClaims.seedMember(member.key) { seeds.insert(seed) }
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
