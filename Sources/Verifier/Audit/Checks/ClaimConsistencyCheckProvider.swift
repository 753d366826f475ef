import Foundation

/// `CLAIMS`: what README.md, submission.json and the train logs say about the score, the loss and the
/// seeds must agree. (Size figures are compared by the `SIZE` check.)
///
/// Two printed values agree when, the more precise one rounded to the other's decimals, they differ by at
/// most one unit in that last decimal place (`1.2244` agrees with `1.22436570`, `1.05782711` with
/// `1.057827121`; rounding and truncation both pass).
public struct ClaimConsistencyCheckProvider: CheckProvider {
    public init() {}

    public func checks(for context: AuditContext) throws -> [AuditCheck] {
        var builder = Builder(context: context)
        return [builder.run()]
    }

    /// The numbers printed after every key ending in `bpb` and a `:` or `=`, spaces allowed around it
    /// (`val_bpb:1.2244`, `mix_bpb=0.901319`, `ttt_bpb: 1.07`, `val_bpb = 1.09517862`), in line order.
    static func bpbLiterals(in line: String) -> [String] {
        var literals: [String] = []
        var rest = Substring(line)
        while let range = rest.range(of: "bpb") {
            let after = rest[range.upperBound...]
            let separated = after.drop { $0 == " " }
            if let separator = separated.first, separator == ":" || separator == "=" {
                let number = separated.dropFirst().drop { $0 == " " }
                    .prefix { ($0.isASCII && $0.isNumber) || $0 == "." || $0 == "e" || $0 == "-" || $0 == "+" }
                if number.first?.isNumber == true, Double(number) != nil { literals.append(String(number)) }
            }
            rest = after
        }
        return literals
    }

    /// The tolerance between number literals: one unit u = 10^-d, d the fewest decimals among them, and
    /// u/2 more when another literal is more precise: rounding that one to d decimals moves it by up to
    /// u/2, so "within one unit once rounded" is "within 1.5 u" unrounded (`1.05782711` and `1.057827121`
    /// differ by 1.1e-8; rounded, by one unit).
    static func tolerance(_ literals: String...) -> Double {
        let decimals = literals.map { literal -> Int in
            let mantissa = literal.lowercased().split(separator: "e").first ?? ""
            guard let dot = mantissa.firstIndex(of: ".") else { return 0 }
            return mantissa.distance(from: dot, to: mantissa.endIndex) - 1
        }
        let fewest = decimals.min() ?? 0
        let units = decimals.contains { $0 > fewest } ? 1.5 : 1.0
        return units * pow(10, -Double(fewest)) * 1.000001
    }

    /// A score both submission.json and the logs' final evaluation lines state.
    struct Score: Sendable {
        let kind: ClaimKind
        /// The key the logs print it under.
        let key: String
        let rule: String
        /// val_bpb is the challenge's score: a claim better than any logged value is an error. val_loss
        /// is not scored, so a difference is a warning.
        let canBeError: Bool

        static let bitsPerByte = Score(kind: .valBPB, key: "val_bpb", rule: "CLAIM-VAL-BPB", canBeError: true)
        static let loss = Score(kind: .valLoss, key: "val_loss", rule: "CLAIM-VAL-LOSS", canBeError: false)

        /// The run's logged value of this score (its final evaluation line's).
        func logged(_ run: RunResult) -> Claim? { kind == .valBPB ? run.valBPB : run.valLoss }
    }

    private struct Builder {
        let context: AuditContext
        var findings: [AuditFinding] = []
        var evidence: [AuditEvidence] = []
        var measurements: [AuditMeasurement] = []

        init(context: AuditContext) { self.context = context }

        var submission: Submission { context.submission }

        mutating func run() -> AuditCheck {
            let id = "CLAIMS", title = "README, submission.json and logs agree"
            if let problem = submission.metadataProblem {
                findings.append(AuditFinding(rule: "CLAIM-METADATA-UNREADABLE", severity: .error,
                                             file: problem.file,
                                             message: "\(problem): its claims cannot be read or checked"))
            }
            if submission.logs.isEmpty {
                findings.append(AuditFinding(rule: "CLAIM-NO-LOGS", severity: .error, file: nil,
                                             message: "the folder has no train log (*.log, *.txt): no claim can be checked against a run"))
                return AuditCheck(id: id, title: title, status: .fail, severity: .error,
                                  summary: "no train log: the challenge requires the logs of the runs", findings: findings)
            }
            let scored = scoredRunsBySeed()
            for run in scored {
                if let bpb = run.valBPB {
                    evidence.append(AuditEvidence("\(run.label): val_bpb \(bpb.value) [\(bpb.qualifier ?? "")]", at: AuditLocation(bpb.source)))
                }
            }
            for exploratory in context.exploratoryRuns {
                findings.append(AuditFinding(rule: "CLAIM-EXPLORATORY-LOG", severity: .note, file: exploratory.run.log,
                                             message: "\(exploratory.run.log) is not judged as a submitted run: \(exploratory.reason)"))
            }
            for score in [Score.bitsPerByte, .loss] {
                let runs = context.runs.filter { score.logged($0) != nil }
                comparePerSeed(runs, score)
                compareHeadline(runs, score)
            }
            compareReadme()
            compareSeeds()
            if scored.isEmpty {
                findings.append(AuditFinding(rule: "CLAIM-NO-SCORE-LOGGED", severity: .warning, file: submission.logs[0].name,
                                             message: "no log prints a final evaluation (a `<label> val_loss:... val_bpb:...` line)"))
            }
            let worst = findings.map(\.severity).min()
            let status: AuditStatus = worst == .error ? .fail : worst == .warning ? .warn : .pass
            let errors = findings.filter { $0.severity == .error }.count
            let warnings = findings.filter { $0.severity == .warning }.count
            let summary = findings.isEmpty || worst == .note
                ? "the scores and seeds claimed agree with \(scored.count) logged run\(scored.count == 1 ? "" : "s")"
                : "\(errors) error\(errors == 1 ? "" : "s") and \(warnings) warning\(warnings == 1 ? "" : "s") between the claims and the logs"
            return AuditCheck(id: id, title: title, status: status, severity: .error, summary: summary,
                              evidence: evidence, findings: findings, measurements: measurements)
        }

        /// The runs whose logs print a final score, one per log.
        func scoredRunsBySeed() -> [RunResult] {
            context.runs.filter { $0.valBPB != nil }
        }

        /// Every value of `key` a log prints (evaluations and step lines), for finding where a claim comes
        /// from. For val_bpb, any bits-per-byte figure (`val_bpb:`, also other keys ending in `bpb` such as
        /// `mix_bpb=`).
        func printedScores(in logNames: [String]?, key: String = "val_bpb") -> [(log: String, line: Int, literal: String, text: String)] {
            submission.logs.filter { logNames?.contains($0.name) ?? true }.flatMap { log in
                log.lines.enumerated().flatMap { index, raw -> [(String, Int, String, String)] in
                    let line = LogClaims.stripLinePrefix(raw)
                    if key == "val_bpb" {
                        guard line.contains("bpb") else { return [] }
                        return ClaimConsistencyCheckProvider.bpbLiterals(in: line).map { (log.name, index + 1, $0, String(line.prefix(80))) }
                    }
                    guard let literal = LogClaims.token(after: key, in: line, separators: true),
                          Double(literal) != nil else { return [] }
                    return [(log.name, index + 1, literal, String(line.prefix(80)))]
                }
            }
        }

        /// A claim against the value it should equal: warning when it differs, error when it is better
        /// (lower) than anything the logs print.
        mutating func compare(_ claim: Claim, expected: Double, expectedLiteral: String, expectedSource: String,
                              logNames: [String]?, score: Score, what: String, canBeError: Bool = true, precisionLiteral: String? = nil) {
            let rule = score.rule, canBeError = canBeError && score.canBeError
            guard let value = claim.value.double else { return }
            let tolerance = ClaimConsistencyCheckProvider.tolerance(claim.value.description, precisionLiteral ?? expectedLiteral)
            guard abs(value - expected) > tolerance else { return }
            let location = AuditLocation(claim.source)
            let printed = printedScores(in: logNames, key: score.key)
            func matching(_ printed: [(log: String, line: Int, literal: String, text: String)]) -> (log: String, line: Int, literal: String, text: String)? {
                printed.first { abs((Double($0.literal) ?? .nan) - value) <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, $0.literal) }
            }
            let match = matching(printed)
            // A loss key holding a printed val_bpb: the score written under the wrong name.
            let otherKey = score.kind == .valLoss ? matching(printedScores(in: logNames, key: "val_bpb")).map { ($0, "val_bpb") } : nil
            let best = printed.compactMap { Double($0.literal) }.min()
            let shown = expectedLiteral.isEmpty ? AuditFormat.fixed(expected, digits: 8) : expectedLiteral
            if match == nil, let (other, key) = otherKey {
                findings.append(AuditFinding(rule: rule, severity: .warning, at: location, message:
                    "\(what) \(claim.value) (\(claim.source)) is not the logged \(score.key) \(shown) (\(expectedSource)); "
                    + "it is a \(key): \(other.log):\(other.line) `\(other.text)`"))
            } else if let match {
                findings.append(AuditFinding(rule: rule, severity: .warning, at: location, message:
                    "\(what) \(claim.value) (\(claim.source)) is not the final score \(shown) (\(expectedSource)); "
                    + "it matches \(match.log):\(match.line) `\(match.text)`"))
            } else if canBeError, value < expected, best.map({ value < $0 - tolerance }) ?? true {
                findings.append(AuditFinding(rule: rule, severity: .error, at: location, message:
                    "\(what) \(claim.value) (\(claim.source)) is better than the logs support: final score "
                    + "\(shown) (\(expectedSource))\(best.map { ", best printed \(AuditFormat.fixed($0, digits: 8))" } ?? "")"))
            } else {
                findings.append(AuditFinding(rule: rule, severity: .warning, at: location, message:
                    "\(what) \(claim.value) (\(claim.source)) differs from \(shown) (\(expectedSource)) "
                    + "by \(AuditFormat.fixed(abs(value - expected), digits: 6)), more than the printed precision allows"))
            }
        }

        /// The logs whose seed (from the name or a seed line) is `seed`, runs or not.
        func logs(ofSeed seed: Int) -> [String] {
            let named = Set(submission.claims(.seed).filter { $0.value.integer == seed }.map(\.source.file))
            return submission.logs.map(\.name).filter { named.contains($0) }
        }

        func metadataClaims(_ kind: ClaimKind) -> [Claim] {
            guard let name = submission.metadata?.name else { return [] }
            return submission.claims(kind).filter { $0.source.file == name && $0.qualifier == nil }
        }

        mutating func comparePerSeed(_ scored: [RunResult], _ score: Score) {
            for claim in metadataClaims(score.kind) where claim.seed != nil && claim.aggregate == nil {
                let candidates = scored.filter { $0.seed == claim.seed }
                guard let run = candidates.first, let logged = score.logged(run), let value = logged.value.double else {
                    // A seed without a log is reported once, for its score.
                    if let seed = claim.seed, score.kind == .valBPB {
                        findings.append(AuditFinding(rule: "CLAIM-SEEDS", severity: .warning, at: AuditLocation(claim.source),
                                                     message: "submission.json gives val_bpb \(claim.value) for seed \(seed), but no log reports a score for that seed"))
                    }
                    continue
                }
                // Several logs for one seed (a rerun, an eval-only log): any of them may carry the claimed score.
                if let claimed = claim.value.double, candidates.contains(where: { other in
                    score.logged(other).map { abs(($0.value.double ?? .nan) - claimed)
                        <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, $0.value.description) } ?? false
                }) { continue }
                // The claim is looked up in every log of its seed, also those that print no final line (a
                // separate evaluation's log, `submission_ngram_seed42.log: ... best_agree_bpb=1.10680980`).
                let seedLogs = claim.seed.map(logs(ofSeed:)) ?? []
                let logNames = candidates.map(\.log) + seedLogs.filter { name in !candidates.contains { $0.log == name } }
                compare(claim, expected: value, expectedLiteral: logged.value.description,
                        expectedSource: logged.source.description, logNames: logNames, score: score,
                        what: "seed \(claim.seed ?? 0) \(score.key)")
            }
        }

        mutating func compareHeadline(_ scored: [RunResult], _ score: Score) {
            let values = scored.compactMap { run in score.logged(run).flatMap { claim in claim.value.double.map { (claim, $0) } } }
            guard !values.isEmpty else {
                // A loss without a logged score is covered by the score's own finding.
                guard score.kind == .valBPB else { return }
                for claim in metadataClaims(score.kind) where claim.seed == nil {
                    findings.append(AuditFinding(rule: "CLAIM-VAL-BPB", severity: .warning, at: AuditLocation(claim.source),
                                                 message: "val_bpb \(claim.value) is claimed but no log prints a final score to support it"))
                }
                return
            }
            let mean = values.map(\.1).reduce(0, +) / Double(values.count)
            if score.kind == .valBPB { measurements.append(AuditMeasurement("logged_mean_val_bpb", mean, unit: "bpb")) }
            // The mean is as precise as the least precise logged value.
            let leastPrecise = values.map(\.0.value.description).min { $0.count < $1.count } ?? ""
            let source = values.count == 1 ? values[0].0.source.description : "mean of \(values.count) logged runs"
            // Seeds submission.json lists without a log: the mean cannot be recomputed, so no error.
            let loggedSeeds = Set(context.runs.compactMap(\.seed))
            let unlogged = submission.claims(.seed).filter {
                $0.source.file == submission.metadata?.name && !loggedSeeds.contains($0.value.integer ?? -1)
            }
            // With several logs for a seed (original and rerun), the claimed mean may use the first or the last.
            var firstPerSeed: [Int: Double] = [:], lastPerSeed: [Int: Double] = [:]
            for run in scored {
                guard let seed = run.seed, let value = score.logged(run)?.value.double else { continue }
                if firstPerSeed[seed] == nil { firstPerSeed[seed] = value }
                lastPerSeed[seed] = value
            }
            let alternativeMeans = [firstPerSeed, lastPerSeed].filter { !$0.isEmpty && $0.count < values.count }
                .map { $0.values.sorted().reduce(0, +) / Double($0.count) }
            for claim in metadataClaims(score.kind) where claim.seed == nil {
                if claim.aggregate == .mean || values.count > 1, let value = claim.value.double,
                   alternativeMeans.contains(where: { abs($0 - value) <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, leastPrecise) }) {
                    continue
                }
                if score.kind == .valBPB {
                    measurements.append(AuditMeasurement("claimed_val_bpb", claim.value.double ?? 0, unit: "bpb", at: AuditLocation(claim.source)))
                }
                // A plain top-level score of a multi-run folder may be one run's (the one the README reports).
                if claim.aggregate == nil, values.count > 1, let value = claim.value.double,
                   values.contains(where: { abs($0.1 - value) <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, $0.0.value.description) }) {
                    continue
                }
                // Looked up in every log, as with several runs: the claim may be printed by a log with no final
                // line (a run that stopped before its final evaluation, a separate evaluation's log).
                compare(claim, expected: mean, expectedLiteral: values.count == 1 ? values[0].0.value.description : "",
                        expectedSource: source, logNames: nil,
                        score: score, what: claim.aggregate == .mean ? "mean \(score.key)" : score.key,
                        canBeError: unlogged.isEmpty, precisionLiteral: leastPrecise)
            }
        }

        /// README quotes of log lines (`` `final_..._exact val_bpb:X` ``) must match a logged score.
        mutating func compareReadme() {
            guard let readme = submission.readme else { return }
            let printed = printedScores(in: nil as [String]?)
            for claim in submission.claims(.valBPB) where claim.source.file == readme.name {
                guard let value = claim.value.double else { continue }
                let matched = printed.contains {
                    abs((Double($0.literal) ?? .nan) - value) <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, $0.literal)
                }
                if !matched {
                    findings.append(AuditFinding(rule: "CLAIM-VAL-BPB", severity: .warning, at: AuditLocation(claim.source),
                                                 message: "the README quotes val_bpb \(claim.value) but no log prints it"))
                }
            }
        }

        /// Seeds listed in submission.json against the seeds of the logs.
        mutating func compareSeeds() {
            guard let name = submission.metadata?.name else { return }
            let listed = submission.claims(.seed).filter { $0.source.file == name }
            let listedSeeds = Set(listed.compactMap(\.value.integer))
            let loggedSeeds = Set(context.runs.compactMap(\.seed))
            for claim in listed {
                guard let seed = claim.value.integer, !loggedSeeds.contains(seed) else { continue }
                findings.append(AuditFinding(rule: "CLAIM-SEEDS", severity: .warning, at: AuditLocation(claim.source),
                                             message: "submission.json lists seed \(seed) but no log is for that seed"))
            }
            if !listedSeeds.isEmpty {
                for run in context.runs where run.valBPB != nil {
                    guard let seed = run.seed, !listedSeeds.contains(seed) else { continue }
                    findings.append(AuditFinding(rule: "CLAIM-SEEDS", severity: .note, file: run.log,
                                                 message: "\(run.log) is a run with seed \(seed), which submission.json does not list"))
                }
            }
        }
    }
}
