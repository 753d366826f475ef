/// Which of a folder's logged runs are the submitted runs, judged by the checks, and which are
/// exploratory (ablations, sweeps, smoke tests kept beside them), reported but not judged.
///
/// - When submission.json names seeds (`seeds`, `seed`, per-seed results), else when the README names
///   them (`seed 1337`, `seeds 42, 7 and 1337`), a run whose seed is another is exploratory; so is a run
///   without a seed, provided some run has a named seed.
/// - Otherwise, when some run prints a final score, a run that prints none is exploratory, unless its
///   seed is that of a scored run (a training log beside its seed's evaluation log).
/// - Otherwise every run is submitted.
public struct RunSelection: Sendable, Equatable {
    public var submitted: [RunResult]
    public var exploratory: [ExploratoryRun]

    public static func select(_ runs: [RunResult], of submission: Submission) -> RunSelection {
        let metadataSeeds = Set(submission.claims.filter { $0.source.file == submission.metadata?.name }.compactMap(\.seed))
        let readmeSeeds = submission.readme.map(ReadmeSeeds.seeds) ?? []
        let (named, namer) = !metadataSeeds.isEmpty ? (metadataSeeds, "submission.json")
            : (readmeSeeds, submission.readme?.name ?? "README.md")
        var selection = RunSelection(submitted: [], exploratory: [])
        if !named.isEmpty, runs.contains(where: { $0.seed.map(named.contains) ?? false }) {
            let list = named.sorted().map(String.init).joined(separator: ", ")
            for run in runs {
                if let seed = run.seed, !named.contains(seed) {
                    selection.exploratory.append(ExploratoryRun(run: run, reason: "seed \(seed) is not among the seeds \(namer) names (\(list))"))
                } else if run.seed == nil {
                    selection.exploratory.append(ExploratoryRun(run: run, reason: "no seed, while \(namer) names the submitted seeds (\(list))"))
                } else {
                    selection.submitted.append(run)
                }
            }
            return selection
        }
        let scoredSeeds = Set(runs.filter { $0.valBPB != nil }.compactMap(\.seed))
        guard runs.contains(where: { $0.valBPB != nil }) else { return RunSelection(submitted: runs, exploratory: []) }
        for run in runs {
            if run.valBPB != nil || run.seed.map(scoredSeeds.contains) == true {
                selection.submitted.append(run)
            } else {
                selection.exploratory.append(ExploratoryRun(run: run, reason: "prints no final score, while other logs do"))
            }
        }
        return selection
    }
}

/// A run reported but not judged, and why.
public struct ExploratoryRun: Sendable, Equatable {
    public var run: RunResult
    public var reason: String
}

/// Seeds a README names: `seed 1337`, `seed=42`, `seeds: 1, 2, 3`, `seeds 42 and 7`.
enum ReadmeSeeds {
    static func seeds(in readme: SubmissionTextFile) -> Set<Int> {
        var seeds: Set<Int> = []
        for line in readme.lines {
            let lower = line.lowercased()
            var search = lower[...]
            while let range = search.range(of: "seed") {
                search = search[range.upperBound...]
                // The word itself, not `seeds_results` or `seeded`; `seeds` is its plural.
                var rest = search.first == "s" ? search.dropFirst() : search
                guard rest.first.map({ !$0.isLetter && $0 != "_" && $0 != "-" }) ?? false else { continue }
                rest = rest.drop { $0 == " " || $0 == ":" || $0 == "=" || $0 == "#" }
                // A list of numbers joined by commas, slashes, `and`, `&`.
                while let number = wholeNumber(at: rest) {
                    seeds.insert(number.value)
                    rest = number.rest.drop { $0 == " " || $0 == "," || $0 == "/" || $0 == "&" }
                    if rest.hasPrefix("and ") { rest = rest.dropFirst(4) }
                }
            }
        }
        return seeds
    }

    /// A number not followed by `.`+digit, `%`, `x` or a letter (so `0.5`, `3x`, `8xH100` are not seeds).
    private static func wholeNumber(at text: Substring) -> (value: Int, rest: Substring)? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 10, let value = Int(digits) else { return nil }
        let rest = text.dropFirst(digits.count)
        if let next = rest.first {
            if next.isLetter || next == "%" { return nil }
            if next == ".", rest.dropFirst().first?.isNumber == true { return nil }
        }
        return (value, rest)
    }
}
