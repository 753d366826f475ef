/// Shortcuts over ``Submission/claims`` for the checks that compare scores and seeds.
extension Submission {
    /// The score submission.json states for the whole submission: its top-level `val_bpb` (a mean when
    /// several seeds are listed), or a top-level mean key such as `mean_val_bpb` when there is no `val_bpb`.
    public var claimedScore: Claim? {
        let topLevel = claims(.valBPB).filter { claim in
            guard case .jsonKey(_, let path) = claim.source else { return false }
            return !path.contains(".")
        }
        return topLevel.first { $0.source == .jsonKey(file: $0.source.file, path: "val_bpb") } ?? topLevel.first
    }

    /// The score each train log's final evaluation prints, one per log that has one, in log order.
    public var loggedScores: [Claim] {
        claims(.valBPB).filter { claim in
            guard case .line(let file, _) = claim.source else { return false }
            return logs.contains { $0.name == file }
        }
    }

    /// Every seed the submission names (submission.json, log names or log contents), ascending.
    public var seeds: [Int] {
        Set(claims(.seed).compactMap(\.seed) + claims.filter { claim in
            if case .jsonKey = claim.source { return true }
            return false
        }.compactMap(\.seed)).sorted()
    }
}
