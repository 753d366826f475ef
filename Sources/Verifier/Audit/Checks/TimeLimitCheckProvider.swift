/// `TIME-TRAIN` and `TIME-EVAL`: training and evaluation each within 600 seconds (on 8×H100), as the
/// logs state them.
///
/// Train time is the log's `stopping_early: ... train_time:Nms`, else its last `step:N/M ... train_time:Nms`
/// line, plus calibration on training data timed after it (``CalibrationTimeSurvey``); eval time is `total_eval_time:Ns` when printed, else the `eval_time:Nms` of the headline
/// evaluation (see ``LogClaims``). Both limits apply to the record track only.
public struct TimeLimitCheckProvider: CheckProvider {
    /// The challenge's limit for each of training and evaluation, in seconds.
    public static let limitSeconds = 600.0
    /// How far past the limit a run stopped by its own wallclock cap may end (the cap is checked between steps).
    public static let capOvershootSeconds = 1.0

    public init() {}

    public func checks(for context: AuditContext) throws -> [AuditCheck] {
        [trainCheck(context), evalCheck(context)]
    }

    private func trainCheck(_ context: AuditContext) -> AuditCheck {
        // Calibration on training data after the loop is training (CalibrationTimeSurvey).
        var findings: [AuditFinding] = []
        var evidence: [AuditEvidence] = []
        let exploratoryLogs = Set(context.exploratoryRuns.map(\.run.log))
        for log in context.submission.logs where !exploratoryLogs.contains(log.name) {
            switch CalibrationTimeSurvey.survey(log) {
            case .readsTrainingData(let c):
                let total = c.trainSeconds + c.seconds
                evidence.append(AuditEvidence("\(log.name): training \(format(c.trainSeconds)) s (line \(c.trainLine)) + "
                    + "calibration \(format(c.seconds)) s = \(format(total)) s", at: AuditLocation(file: log.name, line: c.line)))
                if total > Self.limitSeconds, !context.isNonRecord {
                    let reserve = c.reservedSeconds ?? 0
                    var why = reserve > 0
                        ? "the \(AuditFormat.fixed(reserve, digits: 1)) s reserved for it were not enough"
                        : "no time was reserved for it"
                    // On fewer or slower GPUs than 8×H100 the sum shows nothing about the limit (TIME-TRAIN alike).
                    let hardware = RunHardware.resolved(log: log, in: context.submission)
                    let otherHardware = hardware?.isBelowReference == true
                    if let hardware, otherHardware {
                        why += "; but the run was on \(hardware.description) (\(hardware.source)), not on 8×H100, so the limit cannot be judged from it"
                    }
                    findings.append(AuditFinding(rule: "TIME-TRAIN-CALIBRATION", severity: reserve > 0 || otherHardware ? .warning : .error,
                        at: AuditLocation(file: log.name, line: c.line), message:
                        "\(log.name): calibration after training took \(format(c.seconds)) s (`\(c.text)`), and training "
                        + "stopped at \(format(c.trainSeconds)) s (line \(c.trainLine)): \(format(total)) s, over the "
                        + "\(Int(Self.limitSeconds)) s budget, and \(why); calibration that reads training data counts as "
                        + "training (no self-generated calibration data is logged)"))
                }
            case .selfGenerated(let c, let evidenceLine):
                evidence.append(AuditEvidence("\(log.name): calibration \(format(c.seconds)) s on self-generated data "
                    + "(line \(evidenceLine)), not counted as training", at: AuditLocation(file: log.name, line: c.line)))
            case nil:
                continue
            }
        }
        return check(id: "TIME-TRAIN", title: "Training ≤ 600 s", what: "training", kind: .trainSeconds,
                     perRun: { $0.trainSeconds }, context: context, extraFindings: findings, extraEvidence: evidence)
    }

    private func check(
        id: String, title: String, what: String, kind: ClaimKind, perRun: (RunResult) -> Claim?, context: AuditContext,
        extraFindings: [AuditFinding] = [], extraEvidence: [AuditEvidence] = []
    ) -> AuditCheck {
        let limit = Self.limitSeconds
        var stated: [(claim: Claim, label: String)] = context.runs.compactMap { run in perRun(run).map { ($0, run.label) } }
        // submission.json's own figures (per seed or a maximum; a mean cannot exceed its maximum).
        for claim in context.submission.claims(kind) where claim.source.file == context.submission.metadata?.name
            && claim.aggregate != .mean {
            stated.append((claim, claim.seed.map { "seed \($0) (\(claim.source.file))" } ?? claim.source.file))
        }
        let evidence = stated.map {
            AuditEvidence("\($0.label): \(format($0.claim.value.double ?? 0)) s", at: AuditLocation($0.claim.source))
        } + extraEvidence
        let measurements = stated.map {
            AuditMeasurement("\(kind.rawValue)", $0.claim.value.double ?? 0, unit: "s", seed: $0.claim.seed,
                             at: AuditLocation($0.claim.source))
        }
        // The scripts check their wallclock cap between steps, so a run stopped by it
        // (`stopping_early: wallclock_cap`) ends slightly past 600 s: up to ``capOvershootSeconds`` is accepted.
        var notes: [AuditFinding] = []
        let logsStoppedOnCap = Set(context.submission.logs.filter { log in
            log.lines.contains { LogClaims.stripLinePrefix($0).hasPrefix("stopping_early: wallclock_cap") }
        }.map(\.name))
        // A log's figure needs its own log to have stopped on the cap; submission.json's, any log. A log
        // whose figure is a step line before the planned step count (`step:7344/20000`) stopped early too:
        // these scripts stop early only on their wallclock cap.
        func stoppedOnCap(_ claim: Claim) -> Bool {
            if case .line(let file, let line) = claim.source {
                return logsStoppedOnCap.contains(file) || context.submission.logs.first { $0.name == file }
                    .map { Self.endsBeforePlannedSteps($0, line: line) } == true
            }
            return !logsStoppedOnCap.isEmpty
        }
        // No log states a training time: nothing shows how a run submission.json times ended.
        let logsStateTrainTime = context.runs.contains { $0.trainSeconds != nil }
        let overLimit = stated.filter { item in
            let seconds = item.claim.value.double ?? 0
            guard seconds > limit else { return false }
            if kind == .trainSeconds, seconds - limit <= Self.capOvershootSeconds {
                let overshoot = "\(AuditFormat.fixed((seconds - limit) * 1000, digits: 0)) ms past \(Int(limit)) s"
                if stoppedOnCap(item.claim) {
                    notes.append(AuditFinding(rule: id, severity: .note, at: AuditLocation(item.claim.source), message:
                        "\(item.label): training stopped on the wallclock cap at \(AuditFormat.fixed(seconds, digits: 3)) s, "
                        + "\(overshoot) (the cap is checked between steps)"))
                    return false
                }
                if case .jsonKey = item.claim.source, !logsStateTrainTime {
                    notes.append(AuditFinding(rule: id, severity: .warning, at: AuditLocation(item.claim.source), message:
                        "\(item.label): training took \(AuditFormat.fixed(seconds, digits: 3)) s, \(overshoot), within the "
                        + "overshoot of a run stopped on its wallclock cap; no log states a training time, so whether it "
                        + "stopped on the cap cannot be judged"))
                    return false
                }
            }
            return true
        }
        // A time from fewer than 8 GPUs or a slower model is not a time on 8×H100: it shows neither.
        let overLimitLogs = Set(overLimit.compactMap { item -> String? in
            if case .line(let file, _) = item.claim.source { return file }
            return nil
        })
        let logHardware = Dictionary(uniqueKeysWithValues: context.submission.logs.filter { overLimitLogs.contains($0.name) }
            .map { ($0.name, RunHardware.resolved(log: $0, in: context.submission)) })
        var folderHardware = RunHardware.resolved(log: nil, in: context.submission)
        // submission.json's figures without a stated GPU count: the count every submitted log that states one agrees on.
        if folderHardware?.gpus == nil, overLimit.contains(where: { if case .jsonKey = $0.claim.source { true } else { false } }) {
            let logs = context.submission.logs.filter { log in context.runs.contains { $0.log == log.name } }
            let counts = logs.compactMap { log in RunHardware.resolved(log: log, in: context.submission).flatMap { hardware in
                hardware.gpus.map { (gpus: $0, source: hardware.source) } } }
            if let first = counts.first, counts.allSatisfy({ $0.gpus == first.gpus }) {
                folderHardware = RunHardware(gpus: first.gpus, model: folderHardware?.model,
                                             source: [folderHardware?.source, first.source].compactMap { $0 }.joined(separator: ", "))
            }
        }
        // A submission.json figure that a log states to the digit is that log's measurement (`eval_time_ms: 1274666`
        // beside `eval_time:1274666ms` in `eval_1gpu.log`): it takes that log's hardware.
        func sameFigureLog(_ claim: Claim) -> String? {
            guard case .jsonKey = claim.source, let seconds = claim.value.double else { return nil }
            return stated.lazy.compactMap { item -> String? in
                guard case .line(let file, _) = item.claim.source, item.claim.value.double == seconds else { return nil }
                return file
            }.first
        }
        // The log's statement completed by submission.json's and the README's (RunHardware.resolved).
        func hardware(_ claim: Claim) -> RunHardware? {
            if let file = sameFigureLog(claim), let log = context.submission.logs.first(where: { $0.name == file }) {
                return RunHardware.resolved(log: log, in: context.submission)
            }
            guard case .line(let file, _) = claim.source, let resolved = logHardware[file] else { return folderHardware }
            return resolved
        }
        let otherHardware = overLimit.filter { hardware($0.claim)?.isBelowReference == true }
        // Severity follows evidence: a time is judged against the 8×H100 limit only when the run states at least
        // that many GPUs (its log, its name, submission.json or the README); an unstated count may be one GPU's time.
        let countUnstated = overLimit.filter { hardware($0.claim)?.isBelowReference != true && hardware($0.claim)?.gpus == nil }
        let over = overLimit.filter { hardware($0.claim)?.isBelowReference != true && hardware($0.claim)?.gpus != nil }
        let findings = notes + over.map {
            AuditFinding(rule: id, severity: .error, at: AuditLocation($0.claim.source),
                         message: "\($0.label): \(what) took \(format($0.claim.value.double ?? 0)) s, over the \(Int(limit)) s limit")
        } + otherHardware.compactMap { item in
            hardware(item.claim).map { run in AuditFinding(rule: id, severity: .warning, at: AuditLocation(item.claim.source), message:
                "\(item.label): \(what) took \(format(item.claim.value.double ?? 0)) s on \(run.description) (\(run.source)), "
                + "not on 8×H100: the \(Int(limit)) s limit cannot be judged from it") }
        } + countUnstated.map { item in
            let model = hardware(item.claim).map { " (\($0.description), \($0.source))" } ?? ""
            return AuditFinding(rule: id, severity: .warning, at: AuditLocation(item.claim.source), message:
                "\(item.label): \(what) took \(format(item.claim.value.double ?? 0)) s, over \(Int(limit)) s, but no GPU count is "
                + "stated for the run\(model) in its log, its name, submission.json or the README: the limit is for 8×H100, "
                + "so it cannot be judged from it")
        } + extraFindings
        if context.isNonRecord {
            return AuditCheck(id: id, title: title, status: .skipped, severity: .error,
                              summary: "non-record track: no \(what) time limit", evidence: evidence,
                              measurements: measurements)
        }
        if !over.isEmpty {
            return AuditCheck(id: id, title: title, status: .fail, severity: .error,
                              summary: "\(over.count) of \(stated.count) stated \(what) times exceed \(Int(limit)) s",
                              evidence: evidence, findings: findings, measurements: measurements)
        }
        let extraErrors = extraFindings.filter { $0.severity == .error }
        if !extraErrors.isEmpty {
            return AuditCheck(id: id, title: title, status: .fail, severity: .error,
                              summary: extraErrors.count == 1 ? extraErrors[0].message
                                  : "\(extraErrors.count) runs exceed \(Int(limit)) s with their calibration",
                              evidence: evidence, findings: findings, measurements: measurements)
        }
        if stated.isEmpty {
            return AuditCheck(id: id, title: title, status: .incomplete, severity: .error,
                              summary: "no log states the \(what) time", evidence: evidence, findings: findings,
                              measurements: measurements)
        }
        // Every stated time is over the limit on other or unstated hardware: nothing shows the time on 8×H100.
        let unjudged = otherHardware.count + countUnstated.count
        if unjudged > 0, unjudged == stated.count {
            return AuditCheck(id: id, title: title, status: .incomplete, severity: .error,
                              summary: "every stated \(what) time is from a run not shown to be on 8×H100; "
                                  + "\(unjudged) of them exceed \(Int(limit)) s", evidence: evidence,
                              findings: findings, measurements: measurements)
        }
        let longest = stated.map { $0.claim.value.double ?? 0 }.max() ?? 0
        let hasWarnings = findings.contains { $0.severity == .warning }
        let stoppedOnCapNoted = notes.contains { $0.severity == .note }
        let overshoot = longest > limit && otherHardware.isEmpty && stoppedOnCapNoted ? " (stopped on the wallclock cap)" : ""
        return AuditCheck(id: id, title: title, status: hasWarnings ? .warn : .pass, severity: .error,
                          summary: "longest stated \(what) time \(format(longest)) s\(overshoot), limit \(Int(limit)) s"
                              + (hasWarnings ? "; see warnings" : ""),
                          evidence: evidence, findings: findings, measurements: measurements)
    }

    private func evalCheck(_ context: AuditContext) -> AuditCheck {
        // Every evaluation pass a log times, summed: diagnostics count too, since they run in the same budget.
        var findings: [AuditFinding] = []
        var evidence: [AuditEvidence] = []
        let exploratoryLogs = Set(context.exploratoryRuns.map(\.run.log))
        for log in context.submission.logs where !exploratoryLogs.contains(log.name) {
            let passes = EvalTimeSurvey.passes(in: log)
            guard passes.count > 1 else { continue }
            let total = passes.reduce(0) { $0 + $1.seconds }
            evidence.append(AuditEvidence("\(log.name): \(passes.count) timed evaluation passes, \(format(total)) s in all",
                                          at: AuditLocation(file: log.name, line: passes[0].line)))
            if total > Self.limitSeconds, !context.isNonRecord {
                findings.append(AuditFinding(
                    rule: "TIME-EVAL-TOTAL", severity: .warning, at: AuditLocation(file: log.name, line: passes[0].line),
                    message: "\(log.name): the \(passes.count) timed evaluation passes add up to \(format(total)) s, "
                        + "over \(Int(Self.limitSeconds)) s (the headline evaluation alone is within it)"))
            }
        }
        return check(id: "TIME-EVAL", title: "Evaluation ≤ 600 s", what: "evaluation", kind: .evalSeconds,
                     perRun: { $0.evalSeconds }, context: context, extraFindings: findings, extraEvidence: evidence)
    }

    /// Whether line `line` of `log` is a `step:N/M` line with N below M.
    static func endsBeforePlannedSteps(_ log: SubmissionTextFile, line: Int) -> Bool {
        guard line >= 1, line <= log.lines.count else { return false }
        let text = LogClaims.stripLinePrefix(log.lines[line - 1])
        guard text.hasPrefix("step:") else { return false }
        let counts = text.dropFirst(5).prefix { $0 != " " }.split(separator: "/")
        guard counts.count == 2, let step = Int(counts[0]), let planned = Int(counts[1]) else { return false }
        return step < planned
    }

    private func format(_ seconds: Double) -> String {
        AuditFormat.fixed(seconds, digits: 1)
    }
}

/// The timed evaluation passes of a log: lines with a `val_loss` and an `eval_time:Nms`, and
/// `total_eval_time:Ns` lines (which replace the passes they sum when present).
enum EvalTimeSurvey {
    struct Pass: Equatable {
        var line: Int
        var seconds: Double
    }

    static func passes(in log: SubmissionTextFile) -> [Pass] {
        var passes: [Pass] = []
        for (index, raw) in log.lines.enumerated() {
            let line = LogClaims.stripLinePrefix(raw)
            guard let first = line.first, first.isLetter, !line.hasPrefix("step") else { continue }
            if line.hasPrefix("total_eval_time:"), let seconds = LogClaims.token(after: "total_eval_time:", in: line, unit: "s"),
               let value = Double(seconds) {
                return [Pass(line: index + 1, seconds: value)]
            }
            if line.contains("val_loss"), let ms = LogClaims.token(after: "eval_time:", in: line, unit: "ms"),
               let value = Double(ms) {
                passes.append(Pass(line: index + 1, seconds: value / 1000))
            }
        }
        return passes
    }
}
