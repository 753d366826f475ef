/// Claims from `submission.json`, whose keys vary from record to record.
///
/// The whole document is walked; a member becomes a claim when its key is one of the spellings the
/// records use (surveyed over the corpus, see `fixtures/submissions/README.md`). Per-seed results sit
/// under `seed_results.<seed>` or `seeds.<seed>`; the path prefix before them (e.g. `compliance_rerun`)
/// becomes the claim's qualifier.
enum MetadataClaims {
    /// How one key maps onto a claim: kind, aggregate, unit divisor (ms → s), qualifier.
    struct KeyMeaning {
        var kind: ClaimKind
        var aggregate: ClaimAggregate? = nil
        var divisor: Double = 1
        var qualifier: String? = nil
    }

    /// Keys the records use, by what they mean. `artifact_bytes` is the challenge's "artifact"
    /// (code + compressed model), so it is a total.
    static let meanings: [String: KeyMeaning] = [
        "val_bpb": KeyMeaning(kind: .valBPB),
        "mean_val_bpb": KeyMeaning(kind: .valBPB, aggregate: .mean),
        "mean_bpb": KeyMeaning(kind: .valBPB, aggregate: .mean),
        "val_bpb_mean": KeyMeaning(kind: .valBPB, aggregate: .mean),
        "val_loss": KeyMeaning(kind: .valLoss),
        "val_loss_nats": KeyMeaning(kind: .valLoss),
        "mean_val_loss": KeyMeaning(kind: .valLoss, aggregate: .mean),
        "mean_val_loss_nats": KeyMeaning(kind: .valLoss, aggregate: .mean),
        "bytes_total": KeyMeaning(kind: .totalBytes),
        "total_bytes": KeyMeaning(kind: .totalBytes),
        "total_submission_bytes": KeyMeaning(kind: .totalBytes),
        "model_bytes": KeyMeaning(kind: .modelBytes),
        "artifact_bytes": KeyMeaning(kind: .totalBytes, qualifier: "artifact_bytes"),
        "artifact_size_bytes": KeyMeaning(kind: .totalBytes, qualifier: "artifact_size_bytes"),
        "artifact_bytes_max": KeyMeaning(kind: .totalBytes, aggregate: .max),
        "artifact_bytes_mean": KeyMeaning(kind: .totalBytes, aggregate: .mean),
        "bytes_code": KeyMeaning(kind: .codeBytes),
        "code_bytes": KeyMeaning(kind: .codeBytes),
        "train_time_s": KeyMeaning(kind: .trainSeconds),
        "train_time_seconds": KeyMeaning(kind: .trainSeconds),
        "wallclock_seconds": KeyMeaning(kind: .trainSeconds),
        "train_time_ms": KeyMeaning(kind: .trainSeconds, divisor: 1000),
        "train_time_s_mean": KeyMeaning(kind: .trainSeconds, aggregate: .mean),
        "train_time_max_s": KeyMeaning(kind: .trainSeconds, aggregate: .max),
        "eval_time_s": KeyMeaning(kind: .evalSeconds),
        "eval_time_seconds": KeyMeaning(kind: .evalSeconds),
        "eval_time_ms": KeyMeaning(kind: .evalSeconds, divisor: 1000),
        "eval_time_s_mean": KeyMeaning(kind: .evalSeconds, aggregate: .mean),
        "eval_time_max_s": KeyMeaning(kind: .evalSeconds, aggregate: .max),
        "ttt_eval_time_s": KeyMeaning(kind: .evalSeconds, qualifier: "ttt"),
        "ttt_time_ms": KeyMeaning(kind: .evalSeconds, divisor: 1000, qualifier: "ttt"),
        "seed": KeyMeaning(kind: .seed),
        "seeds": KeyMeaning(kind: .seed),
        "track": KeyMeaning(kind: .track),
        "tokenizer": KeyMeaning(kind: .tokenizer),
        "eval_method": KeyMeaning(kind: .evalMode),
        "val_bpb_method": KeyMeaning(kind: .evalMode),
        "eval_stride": KeyMeaning(kind: .evalStride),
    ]

    /// Containers whose members are keyed by seed.
    static let perSeedContainers: Set<String> = ["seed_results", "seeds"]

    /// The seed a member named `seed_<N>` holds the results of (`"seed_1337": {"val_bpb": …}`). (`seed1`, `seed2`
    /// are not read: in the corpus they number runs.)
    static func seedMember(_ key: String) -> Int? {
        guard key.hasPrefix("seed_") else { return nil }
        let digits = key.dropFirst("seed_".count)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// Names of containers that hold `seed_<N>` members without qualifying them (`results.seed_1337`).
    static let seedMemberContainers: Set<String> = perSeedContainers.union(["results"])

    /// Whether path component `index` names a seed level: a per-seed container, or a `seed_<N>` member (with
    /// its container when that is one of ``seedMemberContainers``).
    static func isSeedLevel(_ path: [String], _ index: Int) -> Bool {
        if perSeedContainers.contains(path[index]) || seedMember(path[index]) != nil { return true }
        return index + 1 < path.count && seedMemberContainers.contains(path[index]) && seedMember(path[index + 1]) != nil
    }

    /// Top-level keys whose text describes what kind of submission this is (`"status": "non_record_pending_validation"`).
    static let statusKeys: Set<String> = ["status", "submission_type", "category", "type"]

    /// A submission.json that places itself on the non-record track outside `track`: a top-level ``statusKeys``
    /// text naming it non-record (`non_record_…`, `draft_non_record_…`, `non-record research`).
    static func nonRecordStatus(in metadata: SubmissionMetadata) -> Claim? {
        guard case .object(let members) = metadata.json else { return nil }
        for member in members where statusKeys.contains(member.key.lowercased()) {
            guard case .string(let text) = member.value else { continue }
            let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }
            guard zip(words, words.dropFirst()).contains(where: { $0 == "non" && $1 == "record" })
                || words.contains("nonrecord") else { continue }
            return Claim(kind: .track, value: .text("non_record (submission.json \(member.key))"),
                         source: .jsonKey(file: metadata.name, path: member.key))
        }
        return nil
    }

    static func claims(from metadata: SubmissionMetadata) -> [Claim] {
        var claims: [Claim] = []
        walk(metadata.json, path: [], seed: nil, file: metadata.name, into: &claims)
        // A top-level score of a multi-seed submission is their mean.
        let seeds = Set(claims.compactMap(\.seed))
        if seeds.count > 1 {
            for index in claims.indices
            where claims[index].seed == nil && claims[index].aggregate == nil && claims[index].qualifier == nil
                && [.valBPB, .valLoss].contains(claims[index].kind) && isTopLevel(claims[index].source) {
                claims[index].aggregate = .mean
            }
        }
        return claims
    }

    private static func isTopLevel(_ source: ClaimSource) -> Bool {
        if case .jsonKey(_, let path) = source { return !path.contains(".") }
        return false
    }

    private static func walk(_ value: JSONValue, path: [String], seed: Int?, file: String, into claims: inout [Claim]) {
        switch value {
        case .object(let members):
            let container = path.last ?? ""
            for member in members {
                var childSeed = seed
                if perSeedContainers.contains(container), let memberSeed = Int(member.key) { childSeed = memberSeed }
                if case .object = member.value, let memberSeed = seedMember(member.key) { childSeed = memberSeed }
                walk(member.value, path: path + [member.key], seed: childSeed, file: file, into: &claims)
            }
        case .array(let elements):
            guard let key = path.last else { return }
            for (index, element) in elements.enumerated() {
                var elementPath = path
                elementPath[elementPath.count - 1] = "\(key)[\(index)]"
                if let claim = claim(for: element, key: key, path: elementPath, seed: seed, file: file) {
                    claims.append(claim)
                }
            }
        default:
            guard let key = path.last, let claim = claim(for: value, key: key, path: path, seed: seed, file: file) else {
                return
            }
            claims.append(claim)
        }
    }

    private static func claim(for value: JSONValue, key: String, path: [String], seed: Int?, file: String) -> Claim? {
        // `bytes_model_int8_zlib`, `bytes_model_compressed`, ...: the suffix names the format.
        let prefixed = key.hasPrefix("bytes_model")
            ? KeyMeaning(kind: .modelBytes, qualifier: key == "bytes_model" ? nil : String(key.dropFirst("bytes_model_".count)))
            : nil
        guard let meaning = meanings[key] ?? prefixed else { return nil }
        let source = ClaimSource.jsonKey(file: file, path: path.joined(separator: "."))
        // The qualifier names what sits between the root and the per-seed level (e.g. compliance_rerun).
        let beforeSeeds = path.prefix(path.indices.first { isSeedLevel(path, $0) } ?? path.count)
        let contextParts = beforeSeeds.count == path.count ? Array(path.dropLast()) : Array(beforeSeeds)
        let context = contextParts.isEmpty ? nil : contextParts.joined(separator: ".")
        let qualifier = [context, meaning.qualifier].compactMap { $0 }.joined(separator: " ")
        let claimValue: ClaimValue
        switch value {
        case .number(let literal):
            guard let parsed = ClaimValue.number(literal: literal) else { return nil }
            if meaning.divisor != 1, let number = parsed.double {
                claimValue = .number(number / meaning.divisor, literal: literal)
            } else {
                claimValue = parsed
            }
        case .string(let text):
            if [.track, .tokenizer, .evalMode].contains(meaning.kind) {
                claimValue = .text(text)
            } else if let parsed = ClaimValue.number(literal: text) {
                claimValue = parsed
            } else {
                return nil
            }
        default:
            return nil
        }
        var claimSeed = seed
        if meaning.kind == .seed { claimSeed = claimValue.integer }
        return Claim(
            kind: meaning.kind, value: claimValue, seed: claimSeed, aggregate: meaning.aggregate,
            qualifier: qualifier.isEmpty ? nil : qualifier, source: source)
    }
}
