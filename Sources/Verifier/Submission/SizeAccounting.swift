/// The 16,000,000-byte cap, measured and compared with what the submission claims.
///
/// The challenge counts "code bytes plus compressed model bytes" against a decimal 16,000,000 bytes
/// (README, "What exactly counts toward the 16MB artifact size?"). Code bytes are the submitted
/// script as it is on disk (a self-extracting wrapper counts its own bytes); model bytes are the
/// artifact file's size. Nothing is decompressed or decoded here.
public struct SizeReport: Sendable {
    /// The cap in bytes (decimal 16 MB, not 16 MiB).
    public static let limit = 16_000_000

    /// The script measured (relative to the folder), when there is one.
    public var codeFile: String?
    /// The script's size on disk: the code bytes.
    public var codeBytes: Int?
    /// The artifact measured (relative to the folder), when there is one.
    public var artifactFile: String?
    /// The artifact's size on disk: the compressed model bytes.
    public var modelBytes: Int?
    /// ``codeBytes`` + ``modelBytes``, when both were measured.
    public var totalBytes: Int? {
        guard let codeBytes, let modelBytes else { return nil }
        return codeBytes + modelBytes
    }
    /// Pass, fail, or incomplete when the total could not be measured and nothing failed.
    public var status: CheckStatus
    /// Every finding, errors first, then by ID and message.
    public var findings: [SizeFinding]
    /// The size claims that were compared (code, model and total bytes), in claim order.
    public var claims: [Claim]
    /// Every disagreement found, measured-vs-claimed first.
    public var mismatches: [SizeMismatch]

    /// Runs the size check on a submission that has been read. `notSubmitted`: logs of runs the folder
    /// does not submit (``RunSelection``), with the reason; their figures over the cap are notes.
    public static func check(_ submission: Submission, notSubmitted: [String: String] = [:]) -> SizeReport {
        var builder = SizeCheckBuilder(submission: submission, notSubmitted: notSubmitted)
        return builder.run()
    }
}

/// Does the work of ``SizeReport/check(_:notSubmitted:)`` one rule at a time.
private struct SizeCheckBuilder {
    let submission: Submission
    let notSubmitted: [String: String]
    let limit = SizeReport.limit
    var findings: [SizeFinding] = []
    var mismatches: [SizeMismatch] = []

    /// ``findStatedExports()``, found once.
    var statedExports: [Int: [(json: Claim, log: Claim)]] = [:]
    /// ``findConfigurationLogs()``, found once.
    var configurationLogs: [String: Claim] = [:]
    /// The code, model and total claims with an integer value.
    let sizeClaims: [Claim]
    /// ``findSeedsRunsIdentified()``, found once.
    var seedsRunsIdentified: String?
    /// ``findSingleRun()``, found once.
    var singleRun: (log: String, reason: String)?

    init(submission: Submission, notSubmitted: [String: String]) {
        self.submission = submission
        self.notSubmitted = notSubmitted
        sizeClaims = submission.claims.filter { [.codeBytes, .modelBytes, .totalBytes].contains($0.kind) && $0.value.integer != nil }
        statedExports = findStatedExports()
        configurationLogs = findConfigurationLogs()
        seedsRunsIdentified = findSeedsRunsIdentified()
        singleRun = findSingleRun()
    }

    /// Why a model or total figure over the cap is not the submitted artifact's, if it is not: its log is
    /// of a run not submitted, or the same run exports the model again later in its log (the artifact is
    /// the last export: `int8+zlib` printed before the `GPTQ+SDClip+brotli` artifact's size). A training
    /// line in between (`step:… train_time:`, `stopping_early`) starts another run: a log of several runs
    /// has one artifact per run.
    func notTheArtifact(_ claim: Claim) -> String? {
        if let reason = notTheSubmittedRun(claim) { return reason }
        guard case .line(let file, let line) = claim.source else { return nil }
        let laterExport = submission.claims.last { other in
            guard other.kind == .modelBytes, case .line(file, let otherLine) = other.source else { return false }
            return otherLine > line && !trainsBetween(in: file, line, otherLine)
        }
        if let laterExport, let qualifier = laterExport.qualifier, let bytes = laterExport.value.integer {
            return "the log exports the model again later (\(laterExport.source): \(qualifier), \(bytes) bytes); "
                + "the artifact is the last export"
        }
        return nil
    }

    /// Whether a training line (`step:… train_time:`, `stopping_early`) of `file` lies between lines `start` and
    /// `end` (1-based, either order): the two lines are then of different runs of one log.
    func trainsBetween(in file: String, _ start: Int, _ end: Int) -> Bool {
        let lines = submission.logs.first { $0.name == file }?.lines ?? []
        let (first, last) = (min(start, end), max(start, end))
        guard first < last, last <= lines.count else { return true }
        return lines[first..<(last - 1)].contains { Self.isTrainingLine(LogClaims.stripLinePrefix($0)) }
    }

    /// A line a run prints while it trains (`step:… train_time:`, `stopping_early`): it starts another run of a log.
    static func isTrainingLine<Text: StringProtocol>(_ text: Text) -> Bool {
        text.hasPrefix("stopping_early") || (text.hasPrefix("step:") && text.contains("train_time"))
    }

    /// Why a figure is not the submitted run's: a submission.json figure of another configuration; a log of a
    /// run not submitted, of another run of a seed whose submitted run submission.json's size identifies (in
    /// another log, or in the same log of several runs, past a training line), or of another configuration (it
    /// prints exactly a figure submission.json states under a named member).
    func notTheSubmittedRun(_ claim: Claim) -> String? {
        if isJSON(claim) { return otherConfiguration(claim) }
        guard case .line(let file, let line) = claim.source else { return nil }
        if let reason = notSubmitted[file] { return "\(file) is not a submitted run: \(reason)" }
        if let seed = claim.seed, let stated = statedExports[seed], !stated.contains(where: { $0.log.source.file == file }),
           let first = stated.first {
            return "\(first.json.source) (\(first.json.value) bytes) is the export printed at \(first.log.source), "
                + "the submitted run of seed \(seed); \(file) is another run of that seed"
        }
        if let seed = claim.seed, let stated = statedExports[seed], !stated.isEmpty, stated.allSatisfy({ export in
            guard case .line(file, let statedLine) = export.log.source, statedLine != line,
                  (submission.logs.first { $0.name == file }?.lines.count ?? 0) >= max(line, statedLine) else { return false }
            return trainsBetween(in: file, line, statedLine)
        }), !printsClaimedScore(ofSeed: seed, inRunOf: claim), let first = stated.first {
            return "\(first.json.source) (\(first.json.value) bytes) is the export printed at \(first.log.source), "
                + "the submitted run of seed \(seed); line \(line) is of another run in the same log"
        }
        if let single = singleRun, single.log != file {
            return "\(single.reason): \(file) is another run"
        }
        if claim.seed == nil, let runs = seedsRunsIdentified, !printsStatedFigure(file) {
            return "\(file) states no seed and prints none of submission.json's size figures, while the submitted run of "
                + "every seed submission.json names is identified by its stated size (\(runs)): another run"
        }
        if let script = scriptNamingTheLog(file) {
            return "\(file) is named after \(script), another script of the folder than the submitted "
                + "\(submission.code?.name ?? "script"): a run of that script"
        }
        if let member = configurationLogs[file] {
            return "\(file) prints \(member.value) bytes, the figure of \(member.source), another configuration "
                + "than the submission's"
        }
        return nil
    }

    /// The Python script of the folder a log is named after (`art_1_dashboard_….log` beside `training_files/art_1.py`),
    /// when it is not the submitted script nor a copy of it: the log is a run of that script. The longest such name
    /// wins; a name the submitted script's own name begins with (`train` for `train_gpt.py`) says nothing.
    func scriptNamingTheLog(_ file: String) -> String? {
        guard let code = submission.code else { return nil }
        func stem(_ path: String) -> String {
            let base = path.split(separator: "/").last.map(String.init) ?? path
            return (base.hasSuffix(".py") ? String(base.dropLast(3)) : base).lowercased()
        }
        let logName = (file.split(separator: "/").last.map(String.init) ?? file).lowercased()
        let ownStem = stem(code.name)
        let candidates = submission.otherCode.filter { other in
            let name = stem(other.name)
            return other.name.hasSuffix(".py") && !ownStem.hasPrefix(name)
                && (logName.hasPrefix(name + "_") || logName.hasPrefix(name + "."))
        }
        guard let named = candidates.max(by: { stem($0.name).count < stem($1.name).count }),
              !code.copies.contains(named.name) else { return nil }
        return named.name
    }

    /// Whether the run of a log line `claim` is in prints, after it and before the next training line, the val_bpb
    /// submission.json claims for `seed` (its per-seed score, else its top-level one): that run is the scored one,
    /// whatever run another stated size points to.
    func printsClaimedScore(ofSeed seed: Int, inRunOf claim: Claim) -> Bool {
        guard case .line(let file, let line) = claim.source,
              let lines = submission.logs.first(where: { $0.name == file })?.lines, line >= 1, line <= lines.count else { return false }
        let scores = submission.claims.filter { $0.kind == .valBPB && isJSON($0) && contextOf($0).isEmpty }
        let perSeed = scores.filter { $0.seed == seed }
        let values = (perSeed.isEmpty ? scores.filter { $0.seed == nil } : perSeed).compactMap(\.value.double)
        guard !values.isEmpty else { return false }
        for raw in lines[(line - 1)...] {
            let text = LogClaims.stripLinePrefix(raw)
            if Self.isTrainingLine(text) { return false }
            for field in text.split(separator: " ") where field.hasPrefix("val_bpb:") {
                if let value = Double(field.dropFirst("val_bpb:".count)), values.contains(where: { abs($0 - value) < 5e-9 }) {
                    return true
                }
            }
        }
        return false
    }

    /// When every seed submission.json names has its submitted run identified by the stated size
    /// (``statedExports``), those runs (`seed 42: submission.json: seed_results.42.artifact_bytes at
    /// train_seed42.log:76`); else nil. A log without a seed that prints none of the stated figures is then not
    /// a named seed's submitted run.
    func findSeedsRunsIdentified() -> String? {
        let named = RunSelection.namedSeeds(of: submission).sorted()
        guard !named.isEmpty, named.allSatisfy({ statedExports[$0] != nil }) else { return nil }
        return named.compactMap { seed in
            statedExports[seed]?.first.map { "seed \(seed): \($0.json.source) at \($0.log.source)" }
        }.joined(separator: "; ")
    }

    /// The one run submission.json describes, when it describes one: it names a single seed (and no count of seeds
    /// above one), one log of that seed prints its plain size figure exactly, and that log's final score is
    /// submission.json's plain val_bpb. The other logs are then other runs (extra seeds, attempts), not submitted.
    func findSingleRun() -> (log: String, reason: String)? {
        guard let metadata = submission.metadata, case .object(let members) = metadata.json else { return nil }
        let named = RunSelection.namedSeeds(of: submission)
        guard named.count == 1, let seed = named.first else { return nil }
        let countsSeveral = members.contains { member in
            guard member.key.lowercased().contains("seeds"), case .number(let literal) = member.value else { return false }
            return (Double(literal) ?? 0) > 1
        }
        guard !countsSeveral, let exports = statedExports[seed], let first = exports.first,
              exports.allSatisfy({ $0.log.source.file == first.log.source.file }) else { return nil }
        let log = first.log.source.file
        let claimed = submission.claims.filter { $0.kind == .valBPB && isJSON($0) && $0.aggregate == nil && contextOf($0).isEmpty }
        let logged = submission.claims.filter { $0.kind == .valBPB && $0.source.file == log }
        let agrees = claimed.contains { claim in
            logged.contains { printed in
                guard let a = claim.value.double, let b = printed.value.double else { return false }
                return abs(a - b) <= ClaimConsistencyCheckProvider.tolerance(claim.value.description, printed.value.description)
            }
        }
        guard agrees else { return nil }
        return (log, "submission.json describes one run, seed \(seed): \(first.json.source) (\(first.json.value) bytes) is "
            + "printed at \(first.log.source) and its val_bpb is that log's")
    }

    /// Whether `file` prints a total or model figure that submission.json states (at any level).
    func printsStatedFigure(_ file: String) -> Bool {
        let stated = Set(sizeClaims.filter(isJSON).compactMap { $0.value.integer })
        return sizeClaims.contains { claim in
            guard case .line(file, _) = claim.source, [.totalBytes, .modelBytes].contains(claim.kind),
                  let value = claim.value.integer else { return false }
            return stated.contains(value)
        }
    }

    /// Logs that print exactly a total or model figure submission.json states under a named member
    /// (``otherConfiguration(_:)``) that is not also one of its own figures: that configuration's runs.
    func findConfigurationLogs() -> [String: Claim] {
        let own = Set(sizeClaims.filter { isJSON($0) && contextOf($0).isEmpty }.compactMap { $0.value.integer })
        let members = sizeClaims.filter { claim in
            guard isJSON(claim), claim.aggregate == nil, [.totalBytes, .modelBytes].contains(claim.kind),
                  let value = claim.value.integer, !own.contains(value) else { return false }
            return otherConfiguration(claim) != nil
        }
        var logs: [String: Claim] = [:]
        for log in sizeClaims where !isJSON(log) && log.aggregate == nil {
            guard case .line(let file, _) = log.source, logs[file] == nil else { continue }
            if let member = members.first(where: { $0.kind == log.kind && $0.value.integer == log.value.integer }) {
                logs[file] = member
            }
        }
        return logs
    }

    /// Why a submission.json figure is another configuration's: it sits under a named member (`pareto_curve.int5`,
    /// `superseded_seeds_v1_0`) while submission.json states the submission's own figure at its top level or per seed.
    func otherConfiguration(_ claim: Claim) -> String? {
        let context = contextOf(claim)
        guard !context.isEmpty, let own = sizeClaims.first(where: { other in
            isJSON(other) && contextOf(other).isEmpty && other.aggregate == nil && [.totalBytes, .modelBytes].contains(other.kind)
        }), let bytes = own.value.integer else { return nil }
        return "it is under `\(context)`, a configuration submission.json names beside the submission's own figure "
            + "(\(own.source): \(bytes) bytes)"
    }

    /// The submitted run of a seed, as submission.json states its size: a plain or per-seed total or model figure
    /// (not a mean, a maximum, nor one of a named configuration) that a log of that seed prints exactly. A log of
    /// the seed that does not print it is another run (a variant or control kept beside it): its figures are not
    /// the artifact's. Logs without a seed are not matched (their runs may be any seed's).
    func findStatedExports() -> [Int: [(json: Claim, log: Claim)]] {
        guard let metadata = submission.metadata else { return [:] }
        let stated = sizeClaims.filter { claim in
            guard case .jsonKey(metadata.name, _) = claim.source, claim.aggregate == nil,
                  [.totalBytes, .modelBytes].contains(claim.kind) else { return false }
            return contextOf(claim).isEmpty
        }
        var exports: [Int: [(json: Claim, log: Claim)]] = [:]
        for json in stated {
            for log in sizeClaims where log.kind == json.kind && log.value.integer == json.value.integer {
                guard case .line = log.source, let seed = log.seed, json.seed == nil || json.seed == seed else { continue }
                exports[seed, default: []].append((json, log))
            }
        }
        return exports
    }


    mutating func run() -> SizeReport {
        let code = submission.code
        let artifact = submission.artifact
        let claims = sizeClaims
        let measuredTotal = code.flatMap { code in artifact.map { code.bytes + $0.bytes } }

        checkLinksOutside()
        checkCodePresence()
        checkArtifactPresence()
        if let code, !code.referencedFiles.isEmpty { flagUncountedCode(code) }

        if let measuredTotal, let code, let artifact {
            let compressedCount = claims.filter(isCompressedCode).compactMap { claim in
                claim.value.integer.map { (claim: claim, bytes: $0) }
            }.first { $0.bytes + artifact.bytes <= limit }
            if measuredTotal > limit, let counted = compressedCount {
                add(.codeCountedCompressed, .warning, "code \(code.bytes) bytes (\(code.name)) + model \(artifact.bytes) bytes "
                    + "(\(artifact.name)) = \(measuredTotal) bytes is over the \(limit)-byte cap; the submission counts its code "
                    + "compressed (\(counted.bytes) bytes, \(describe(counted.claim))), a form the folder does not ship, giving "
                    + "\(counted.bytes + artifact.bytes) bytes" + measuredCompression(code))
            } else if measuredTotal > limit {
                add(.cap, .error, "code \(code.bytes) bytes (\(code.name)) + model \(artifact.bytes) bytes (\(artifact.name)) "
                    + "= \(measuredTotal) bytes, over the \(limit)-byte cap by \(measuredTotal - limit) bytes")
            }
        }
        checkClaimedTotals(claims)
        if let code { checkMeasuredCodeWithClaimedModels(code, claims) }
        if let code { compare(.codeBytes, measured: code.bytes, file: code.name, claims, allMustMatch: true, total: measuredTotal) }
        if let artifact { compare(.modelBytes, measured: artifact.bytes, file: artifact.name, claims, allMustMatch: false, total: measuredTotal) }
        if let measuredTotal, let code, let artifact {
            compare(.totalBytes, measured: measuredTotal, file: "\(code.name) + \(artifact.name)", claims,
                    allMustMatch: false, total: measuredTotal)
        }
        checkArithmetic(claims)
        checkSeedClaimsAgainstLogs(claims)

        let status: CheckStatus
        if findings.contains(where: { $0.severity == .error }) {
            status = .fail
        } else if measuredTotal == nil {
            status = .incomplete
        } else {
            status = .pass
        }
        let sortedFindings = findings.enumerated().sorted { lhs, rhs in
            (lhs.element.severity, lhs.offset) < (rhs.element.severity, rhs.offset)
        }.map(\.element)
        return SizeReport(
            codeFile: code?.name, codeBytes: code?.bytes, artifactFile: artifact?.name, modelBytes: artifact?.bytes,
            status: status, findings: sortedFindings, claims: claims, mismatches: mismatches)
    }

    mutating func add(_ id: SizeCheckID, _ severity: SizeFinding.Severity, _ message: String) {
        findings.append(SizeFinding(id: id, severity: severity, message: message))
    }

    /// Links out of the folder: what they point to is not the submission's, so nothing is read through them.
    mutating func checkLinksOutside() {
        for link in submission.outsideLinks {
            add(.linkOutside, .error, "\(link.name) is a symbolic link to \(link.target), which resolves outside the "
                + "submission folder (or to nothing); it was not read: a submission's files must be in its folder")
        }
    }

    mutating func checkCodePresence() {
        if let code = submission.code, code.bytes == 0 {
            add(.codeMissing, .warning, "\(code.name) is empty (0 bytes): there is no submitted code to count or run")
        }
        guard submission.code == nil else { return }
        if submission.codeCandidates.isEmpty {
            add(.codeMissing, .warning, "no train_gpt.py (or other train*.py) in the folder: code bytes cannot be measured")
        } else {
            add(.codeMissing, .warning, "no train_gpt.py and several candidate scripts ("
                + submission.codeCandidates.joined(separator: ", ") + "): code bytes cannot be measured")
        }
    }

    mutating func checkArtifactPresence() {
        guard submission.artifact == nil else { return }
        if submission.artifacts.isEmpty {
            add(.artifactMissing, .note, "no artifact (*.ptz, *.pt, final_model.*) in the folder: "
                + "model bytes are claimed, not measured; the cap check is incomplete")
        } else {
            add(.artifactAmbiguous, .note, "several candidate artifacts ("
                + submission.artifacts.map { "\($0.name) \($0.bytes) bytes" }.joined(separator: ", ")
                + "): model bytes are not measured; the cap check is incomplete")
        }
    }

    mutating func flagUncountedCode(_ code: SubmissionCode) {
        let extra = code.referencedFiles.reduce(0) { $0 + $1.bytes }
        let listed = code.referencedFiles.map { "\($0.name) (\($0.bytes) bytes)" }.joined(separator: ", ")
        var message = "\(code.name) names other code files of the folder whose bytes are not counted: \(listed)"
        if let artifact = submission.artifact {
            message += "; counting them the total would be \(code.bytes + extra + artifact.bytes) bytes"
        } else {
            message += "; counting them adds \(extra) bytes to the code"
        }
        add(.uncountedCode, .warning, message)
    }

    /// The submission's own totals over the cap.
    mutating func checkClaimedTotals(_ claims: [Claim]) {
        for claim in claims where claim.kind == .totalBytes && claim.aggregate != .mean {
            guard let value = claim.value.integer, value > limit else { continue }
            if let reason = notTheArtifact(claim) {
                add(.claimedOverCap, .note, "claimed total \(value) bytes (\(describe(claim))) is over the \(limit)-byte cap, "
                    + "but it is not the submitted artifact's: \(reason)")
                continue
            }
            if let reason = countsUnpackedCode(claim) {
                add(.claimedOverCap, .note, "claimed total \(value) bytes (\(describe(claim))) is over the \(limit)-byte cap, "
                    + "but it is not the submitted code's: \(reason)")
                continue
            }
            if let reason = recountedWithShippedCode(claim) {
                add(.claimedOverCap, .note, "claimed total \(value) bytes (\(describe(claim))) is over the \(limit)-byte cap, "
                    + "but it is not the submitted code's: \(reason)")
                continue
            }
            if let recount = recountedWithCompressedCode(claim) {
                add(.codeCountedCompressed, .warning, "claimed total \(value) bytes (\(describe(claim))) is over the "
                    + "\(limit)-byte cap; it adds the plain code (\(recount.plain.value) bytes, \(recount.plain.source)) to the "
                    + "model (\(recount.model) bytes), but the submission counts its code compressed (\(recount.counted.bytes) "
                    + "bytes, \(recount.counted.source)), giving \(recount.model + recount.counted.bytes) bytes"
                    + (submission.code.map(measuredCompression) ?? ""))
                continue
            }
            add(.claimedOverCap, .error, "claimed total \(value) bytes (\(describe(claim))) is over the \(limit)-byte cap")
        }
    }

    /// Without a measured artifact, the measured script plus each claimed model size must fit.
    mutating func checkMeasuredCodeWithClaimedModels(_ code: SubmissionCode, _ claims: [Claim]) {
        guard submission.artifact == nil else { return }
        for claim in claims where claim.kind == .modelBytes && claim.aggregate != .mean {
            guard let model = claim.value.integer, code.bytes + model > limit else { continue }
            if let counted = compressedCodeCount(with: claim, below: code.bytes) {
                add(.codeCountedCompressed, .warning, "\(code.name) on disk (\(code.bytes) bytes) + claimed model "
                    + "\(model) bytes (\(describe(claim))) = \(code.bytes + model) bytes is over the \(limit)-byte cap; "
                    + "the submission counts its code compressed (\(counted.bytes) bytes, \(counted.source)), "
                    + "a form the folder does not ship, giving \(counted.bytes + model) bytes" + measuredCompression(code))
                continue
            }
            let overCap = "\(code.name) on disk (\(code.bytes) bytes) + claimed model \(model) bytes "
                + "(\(describe(claim))) = \(code.bytes + model) bytes, over the \(limit)-byte cap"
            if let reason = notTheArtifact(claim) {
                add(.claimedOverCap, .note, overCap + ", but it is not the submitted artifact's: \(reason)")
                continue
            }
            add(.claimedOverCap, .error, overCap)
        }
    }

    /// The compressed count of the code that goes with a model figure, when with it the total fits: submission.json's
    /// compressed count (it states the submitted form for every run); else, for a log's figure, that log's own count
    /// when it prints a code figure (a run that counted another, plain script is not excused by another run's
    /// count), or any log's when it prints none; else the code count submission.json's total for the run's seed
    /// implies (that total minus this model figure: `artifact_bytes` 15,992,375 beside a logged model of 15,968,723
    /// counts 23,652 bytes of code) when it is a compressed copy's size (``countsCompressedCopy(_:)``).
    func compressedCodeCount(with model: Claim, below plainBytes: Int) -> (bytes: Int, source: String)? {
        guard let modelBytes = model.value.integer else { return nil }
        let logCountsCode = !isJSON(model)
            && sizeClaims.contains { $0.kind == .codeBytes && !isJSON($0) && $0.source.file == model.source.file }
        let stated = sizeClaims.filter(isCompressedCode).filter { claim in
            isJSON(claim) || isJSON(model) || !logCountsCode || claim.source.file == model.source.file
        }.sorted { isJSON($0) && !isJSON($1) }
        for claim in stated {
            guard let bytes = claim.value.integer, bytes < plainBytes, bytes + modelBytes <= limit else { continue }
            return (bytes, describe(claim))
        }
        guard !isJSON(model), let seed = model.seed else { return nil }
        for total in sizeClaims where isJSON(total) && total.kind == .totalBytes && total.seed == seed && total.aggregate == nil {
            guard let totalBytes = total.value.integer, totalBytes <= limit, totalBytes > modelBytes else { continue }
            let implied = Claim(kind: .codeBytes, value: .number(Double(totalBytes - modelBytes), literal: String(totalBytes - modelBytes)),
                                seed: seed, source: total.source)
            if implied.value.integer.map({ $0 < plainBytes }) == true, countsCompressedCopy(implied) {
                return (totalBytes - modelBytes, "\(total.source) (\(totalBytes) bytes) minus this model")
            }
        }
        return nil
    }

    /// A log total's parts: the last code figure that is not a compressed count and the last model figure printed
    /// before it in the same log, when the total is exactly their sum (the run's own count of its plain code).
    func plainParts(of total: Claim) -> (code: Claim, codeBytes: Int, model: Claim, modelBytes: Int)? {
        guard case .line(let file, let line) = total.source, let totalBytes = total.value.integer else { return nil }
        func lastBefore(_ kind: ClaimKind) -> Claim? {
            submission.claims.last { claim in
                guard claim.kind == kind, case .line(file, let claimLine) = claim.source else { return false }
                return claimLine < line && !isCompressedCode(claim)
            }
        }
        guard let code = lastBefore(.codeBytes), let model = lastBefore(.modelBytes),
              let codeBytes = code.value.integer, let modelBytes = model.value.integer,
              codeBytes + modelBytes == totalBytes else { return nil }
        return (code, codeBytes, model, modelBytes)
    }

    /// Why a log's total (its own code figure plus its model figure) is not the submitted code's: its code figure is
    /// not the shipped script's, and submission.json states, as a total of the run's seed or of the submission, exactly
    /// the shipped script plus that model (the script was changed after the run, e.g. minified, and re-counted).
    func recountedWithShippedCode(_ total: Claim) -> String? {
        guard let code = submission.code, let (counted, countedBytes, model, modelBytes) = plainParts(of: total),
              countedBytes != code.bytes else { return nil }
        let recount = code.bytes + modelBytes
        guard recount <= limit, let stated = sizeClaims.first(where: { claim in
            isJSON(claim) && claim.kind == .totalBytes && claim.value.integer == recount && contextOf(claim).isEmpty
                && (claim.seed == nil || claim.seed == total.seed)
        }) else { return nil }
        return "it counts the code as \(countedBytes) bytes (\(counted.source)), while the shipped \(code.name) is \(code.bytes) "
            + "bytes, and \(stated.source) states \(recount) bytes, the shipped script plus this run's model \(modelBytes) bytes "
            + "(\(model.source))"
    }

    /// A log's total that is its own plain code figure plus its model figure, when the submission counts the code
    /// compressed (submission.json's count, or this log's) and that count plus the model fits: the total is then the
    /// compressed-code practice (SIZE-CODE-COUNTED-COMPRESSED), as the script plus a model figure is.
    func recountedWithCompressedCode(_ total: Claim) -> (plain: Claim, model: Int, counted: (bytes: Int, source: String))? {
        guard let (plain, plainBytes, model, modelBytes) = plainParts(of: total),
              let counted = compressedCodeCount(with: model, below: plainBytes) else { return nil }
        return (plain, modelBytes, counted)
    }

    /// Why a log's total over the cap is not the submitted code's: the log adds its own code figure to its model
    /// figure (the total is exactly that sum), that figure is larger than the submitted script, and the submitted
    /// script is a self-extracting wrapper, so the run counted the source it unpacks; the wrapper (with the code
    /// files it names) plus the log's model fits the cap. A plain script smaller than the run's count may be a
    /// launcher of code elsewhere, so it is not used.
    func countsUnpackedCode(_ total: Claim) -> String? {
        guard let code = submission.code, code.packing == .selfExtracting,
              let (counted, countedBytes, model, modelBytes) = plainParts(of: total) else { return nil }
        let shipped = code.bytes + code.referencedFiles.reduce(0) { $0 + $1.bytes }
        guard countedBytes > shipped, shipped + modelBytes <= limit else { return nil }
        let named = code.referencedFiles.isEmpty ? "" : " with the code files it names"
        return "it counts the code as \(countedBytes) bytes (\(counted.source)), while the submitted \(code.name) is a "
            + "self-extracting wrapper of \(code.bytes) bytes; \(shipped)\(named) + model \(modelBytes) bytes "
            + "(\(model.source)) = \(shipped + modelBytes) bytes, within the cap"
    }

    /// A code-size claim about a compressed copy of the code: labelled so (`Code size (compressed): N bytes`),
    /// described so by its log, or measured so (``countsCompressedCopy(_:)``).
    func isCompressedCode(_ claim: Claim) -> Bool {
        guard claim.kind == .codeBytes else { return false }
        if let qualifier = claim.qualifier, qualifier.contains("compressed") && !qualifier.contains("uncompressed") { return true }
        return logDescribesCompression(endingAt: claim) || countsCompressedCopy(claim)
    }

    /// Whether a code figure smaller than the shipped script is the size of a compressed copy of it: within a
    /// factor 2 of the script's own LZMA2 size (``SubmissionCode/compressedBytes``). Wrappers differ by compressor,
    /// minification and text encoding (base85 adds a quarter), which the factor allows; readable source is 3-5 times
    /// its LZMA2 size, so a figure of another plain script (an older version, the baseline) stays outside it. A
    /// script that compresses less than 3 times (tiny, or already packed) leaves the two kinds of figure apart by
    /// too little to tell, and is not judged so.
    func countsCompressedCopy(_ claim: Claim) -> Bool {
        guard claim.kind == .codeBytes, let code = submission.code, let compressed = code.compressedBytes,
              code.bytes >= 3 * compressed, let value = claim.value.integer, value < code.bytes else { return false }
        return value * 2 >= compressed && value <= compressed * 2
    }

    /// `; pgverify's LZMA2 of train_gpt.py is N bytes` when it was measured.
    func measuredCompression(_ code: SubmissionCode) -> String {
        code.compressedBytes.map { "; pgverify's LZMA2 of \(code.name) is \($0) bytes" } ?? ""
    }

    /// Whether one of the three log lines before a code figure K describes the counted code as made from the raw
    /// source by compression, ending at K (`Code: 59295 raw → 16092 lzma → 20177 bootstrap` above `Code size: 20177
    /// bytes`): the run counted a compressed copy of its code, as the `(compressed)` label says elsewhere.
    func logDescribesCompression(endingAt claim: Claim) -> Bool {
        guard case .line(let file, let line) = claim.source, let bytes = claim.value.integer,
              let lines = submission.logs.first(where: { $0.name == file })?.lines, line >= 1, line <= lines.count else { return false }
        let words = ["lzma", "zlib", "brotli", "zstd", "gzip", "bz2", "base85", "b85", "bootstrap"]
        for raw in lines[max(0, line - 4)..<(line - 1)] {
            let text = LogClaims.stripLinePrefix(raw).lowercased()
            guard text.contains(" raw"), words.contains(where: text.contains) else { continue }
            let numbers = text.split { !$0.isNumber }.compactMap { Int($0) }
            let rawFigure = text.components(separatedBy: " raw").first?.split { !$0.isNumber }.last.flatMap { Int($0) }
            if numbers.last == bytes, rawFigure != bytes { return true }
        }
        return false
    }

    /// Measured vs claimed. Code claims must all match (one script for all runs); model and total
    /// claims describe one run each, so a measured artifact only has to match one of them.
    mutating func compare(_ kind: ClaimKind, measured: Int, file: String, _ claims: [Claim],
                          allMustMatch: Bool, total: Int?) {
        // A compressed-code figure describes a form the folder does not ship (SIZE-CODE-COUNTED-COMPRESSED).
        let relevant = claims.filter { $0.kind == kind && $0.aggregate == nil && !isCompressedCode($0) }
        if !allMustMatch, relevant.contains(where: { $0.value.integer == measured }) { return }
        // When the logs count the code compressed, the gap between the script and the counted code is that
        // practice (SIZE-CODE-COUNTED-COMPRESSED, or SIZE-CLAIMED-OVER-CAP when even that count does not fit),
        // whatever other code figures (submission.json's, a log's uncompressed one) say.
        let countsCodeCompressed = kind == .codeBytes && claims.contains(where: isCompressedCode)
        for claim in relevant {
            guard let claimed = claim.value.integer, claimed != measured else { continue }
            // The claim matters when the total built on it fits the cap but the measured one does not.
            let basis = total ?? estimatedTotal(kind: kind, measured: measured)
            // A figure of a run the folder does not submit is not the submission's claim.
            let hidesExcess = !countsCodeCompressed && claimed < measured && basis > limit
                && basis - measured + claimed <= limit && notTheSubmittedRun(claim) == nil
            let severity: SizeFinding.Severity = hidesExcess ? .error : .warning
            mismatches.append(SizeMismatch(quantity: kind, expected: measured, expectedSource: file,
                                           expectedIsMeasured: true, claimed: claimed, claimSource: claim.source,
                                           severity: severity))
            add(.claimMismatch, severity, "\(kind.rawValue): measured \(measured) bytes (\(file)) but "
                + "\(describe(claim)) claims \(claimed) bytes (\(claimed > measured ? "+" : "")\(claimed - measured))")
        }
    }

    /// Measured code + the largest claimed model size: how big the submission is by its own model figures.
    func estimatedTotal(kind: ClaimKind, measured: Int) -> Int {
        guard kind == .codeBytes else { return measured }
        let models = sizeClaims.filter { $0.kind == .modelBytes }.compactMap { $0.value.integer }
        return measured + (models.max() ?? 0)
    }

    /// Within one file (a log, submission.json at one seed), code + model must equal the stated total.
    mutating func checkArithmetic(_ claims: [Claim]) {
        let groups = Dictionary(grouping: claims.filter { $0.aggregate == nil }) { claim in
            "\(claim.source.file)|\(claim.seed.map(String.init) ?? "-")|\(contextOf(claim))"
        }
        for key in groups.keys.sorted() {
            let group = groups[key] ?? []
            let codes = group.filter { $0.kind == .codeBytes }.compactMap { $0.value.integer }
            let models = group.filter { $0.kind == .modelBytes }.compactMap { $0.value.integer }
            guard !codes.isEmpty, !models.isEmpty else { continue }
            let sums = Set(codes.flatMap { code in models.map { code + $0 } })
            for total in group where total.kind == .totalBytes {
                guard let value = total.value.integer, !sums.contains(value) else { continue }
                // Cite the code and model figures printed last before the total.
                let code = group.last { $0.kind == .codeBytes && $0.source < total.source } ?? group.first { $0.kind == .codeBytes }
                let model = group.last { $0.kind == .modelBytes && $0.source < total.source } ?? group.first { $0.kind == .modelBytes }
                guard let code, let model, let codeValue = code.value.integer, let modelValue = model.value.integer else { continue }
                let sum = codeValue + modelValue
                mismatches.append(SizeMismatch(quantity: .totalBytes, expected: sum,
                                               expectedSource: "\(code.source) + \(model.source)",
                                               expectedIsMeasured: false, claimed: value, claimSource: total.source,
                                               severity: .warning))
                add(.claimArithmetic, .warning, "\(describe(total)) claims a total of \(value) bytes but code "
                    + "\(codeValue) (\(code.source)) + model \(modelValue) (\(model.source)) = \(sum) bytes")
            }
        }
    }

    /// A per-seed figure in submission.json must be one the logs of that seed print (a seed may have
    /// several logs, e.g. an original run and a rerun: one match is enough).
    mutating func checkSeedClaimsAgainstLogs(_ claims: [Claim]) {
        for claim in claims where isJSON(claim) && claim.aggregate == nil {
            guard let seed = claim.seed, let value = claim.value.integer else { continue }
            let logged = claims.filter { !isJSON($0) && $0.seed == seed && $0.kind == claim.kind && $0.aggregate == nil }
            guard !logged.isEmpty, !logged.contains(where: { $0.value.integer == value }) else { continue }
            for other in logged {
                guard let otherValue = other.value.integer else { continue }
                mismatches.append(SizeMismatch(quantity: claim.kind, expected: otherValue, expectedSource: other.source.description,
                                               expectedIsMeasured: false, claimed: value, claimSource: claim.source,
                                               severity: .warning))
            }
            let printed = logged.map { "\($0.value) (\($0.source))" }.joined(separator: ", ")
            add(.claimMismatch, .warning, "\(claim.kind.rawValue) for seed \(seed): \(claim.source) claims \(value) bytes "
                + "but the logs of that seed print \(printed)")
        }
    }

    /// JSON claims group by their path prefix (top level vs `compliance_rerun`); log claims by file.
    func contextOf(_ claim: Claim) -> String {
        guard case .jsonKey(_, let path) = claim.source else { return "" }
        let parts = path.split(separator: ".").dropLast().map(String.init)
        return parts.prefix(parts.indices.first { MetadataClaims.isSeedLevel(parts, $0) } ?? parts.count).joined(separator: ".")
    }

    func isJSON(_ claim: Claim) -> Bool {
        if case .jsonKey = claim.source { return true }
        return false
    }

    func describe(_ claim: Claim) -> String {
        var text = "\(claim.source)"
        // A JSON key path already names its seed; a log line does not.
        if let seed = claim.seed, !isJSON(claim) { text += ", seed \(seed)" }
        if let aggregate = claim.aggregate { text += ", \(aggregate.rawValue)" }
        return text
    }
}
