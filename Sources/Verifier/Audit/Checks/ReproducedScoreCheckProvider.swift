import Foundation
import Reference

/// `REPRODUCED-VAL-BPB`: re-evaluates the submission's artifact with pgverify's own reference model
/// (``Reevaluation``) in the mode its logs claim, and compares with the claimed val_bpb
/// (``ReproducedScoreCheck``). Whatever stops the re-evaluation — no artifact, no data to evaluate
/// on, an unsupported format or architecture, test-time training — leaves the check incomplete
/// with the reason; it never guesses a score.
public struct ReproducedScoreCheckProvider: CheckProvider {
    public init() {}

    /// Points of the bpb-along-the-stream plot.
    static let streamSegments = 32

    public func checks(for context: AuditContext) throws -> [AuditCheck] {
        [check(for: context)]
    }

    func incomplete(_ reason: String) -> AuditCheck {
        AuditCheck(id: Audit.reproducedScoreID, title: "Reproduced val_bpb", status: .incomplete,
                   severity: .error, summary: reason)
    }

    func check(for context: AuditContext) -> AuditCheck {
        let submission = context.submission
        if !context.options.reproductionParts.isEmpty { return mergedPartsCheck(for: context) }
        if context.options.quick { return incomplete("skipped by --quick") }
        guard let artifact = submission.artifact else {
            return incomplete("no artifact in the folder to evaluate")
        }
        guard let settings = context.options.evaluation else {
            return incomplete("no evaluation data given: pass --tokenizer and --val to reproduce val_bpb")
        }
        let mode: EvalMode
        switch claimedMode(submission) {
        case .success(.some(let claimed)): mode = claimed
        case .success(.none):
            if let sample = context.options.sample { return sampledPreTTTCheck(for: context, settings: settings, sample: sample) }
            return testTimeTrainingCheck(for: context, settings: settings)
        case .failure(let reason): return incomplete(reason.message)
        }
        var request = ReevaluationRequest(
            artifact: submission.folder.appendingPathComponent(artifact.name),
            code: submission.code.map { submission.folder.appendingPathComponent($0.name) },
            logs: submission.logs.map { submission.folder.appendingPathComponent($0.name) },
            tokenizer: settings.tokenizer, validationPattern: settings.validationPattern, mode: mode,
            threads: settings.threads)
        request.byteSidecarPattern = settings.byteSidecarPattern
        request.sample = context.options.sample
        let result: ReevaluationResult
        do {
            result = try Reevaluation.run(request, segments: Self.streamSegments)
        } catch {
            return incomplete("could not re-evaluate \(artifact.name): \(error)")
        }
        if let sampled = result.sample {
            var check = SampledScoreCheck.check(sampled, artifact: artifact.name, runs: context.runs)
            check.evidence.insert(AuditEvidence(
                "re-evaluated a sample of \(artifact.name) in \(mode.name) mode"
                    + (mode.strideDescription.map { " (\($0))" } ?? "")
                    + (result.familyEvaluation.map { " with \($0.evaluation.description)" } ?? "")
                    + ", seq_len \(result.resolved.seqLen)"), at: 0)
            appendSources(result.resolved.sources, to: &check, folder: submission.folder)
            return check
        }
        // With a single logged run the artifact is that run's; otherwise the closest claim is compared.
        let seeds = Set(context.runs.compactMap(\.seed))
        let score = ReproducedScore(
            artifact: artifact.name, seed: context.runs.count == 1 ? seeds.first : nil, valBPB: result.score.bitsPerByte,
            stream: result.stream.map { (Double($0.tokens), $0.bitsPerByte) })
        var check = ReproducedScoreCheck.check([score], runs: context.runs)
        check.evidence.insert(AuditEvidence(
            "re-evaluated \(artifact.name) in \(mode.name) mode"
                + (mode.strideDescription.map { " (\($0))" } ?? "")
                + (result.familyEvaluation.map { " with \($0.evaluation.description)" } ?? "")
                + ", seq_len \(result.resolved.seqLen): val_loss \(AuditFormat.fixed(result.score.meanLoss, digits: 8)) "
                + "over \(result.score.tokens) tokens / \(result.score.bytes) bytes"), at: 0)
        appendSources(result.resolved.sources, to: &check, folder: submission.folder)
        if let architecture = result.resolved.architecture {
            let text = architecture.replacingOccurrences(of: submission.folder.standardizedFileURL.path + "/", with: "")
            check.evidence.insert(AuditEvidence("architecture \(text)"), at: 1)
        }
        return check
    }

    /// Config or TTT setting sources as evidence, with file names relative to the folder (so
    /// reports are the same wherever it lies).
    func appendSources(_ sources: [String: some CustomStringConvertible], to check: inout AuditCheck, folder: URL,
                       prefix: String = "config") {
        for name in sources.keys.sorted() {
            if let source = sources[name] {
                let text = "\(source)".replacingOccurrences(of: folder.standardizedFileURL.path + "/", with: "")
                check.evidence.append(AuditEvidence("\(prefix) \(name) from \(text)"))
            }
        }
    }

    /// A claimed TTT score: the procedure is read from the code and re-run with pgverify's own
    /// evaluators; the score without adaptation is reported beside it.
    func testTimeTrainingCheck(for context: AuditContext, settings: AuditEvaluationSettings) -> AuditCheck {
        let submission = context.submission
        guard let artifact = submission.artifact else { return incomplete("no artifact in the folder to evaluate") }
        guard let code = submission.code.map({ submission.folder.appendingPathComponent($0.name) }) else {
            return incomplete("the claimed score uses test-time training, and there is no code to read its procedure from")
        }
        let procedure: TTTProcedure
        do {
            guard let found = try TTTProcedure.detect(code: code) else {
                return incomplete("the claimed score uses test-time training, and the code defines none of the TTT "
                                  + "functions pgverify re-runs (\(TTTProcedure.allCases.map(\.functionName).joined(separator: ", ")))")
            }
            procedure = found
        } catch {
            return incomplete("could not read the code's TTT procedure: \(error)")
        }
        let request = ReevaluationRequest(
            artifact: submission.folder.appendingPathComponent(artifact.name), code: code,
            logs: submission.logs.map { submission.folder.appendingPathComponent($0.name) },
            tokenizer: settings.tokenizer, validationPattern: settings.validationPattern, threads: settings.threads,
            byteSidecarPattern: settings.byteSidecarPattern)
        let result: TTTReevaluationResult
        do {
            result = try TTTReevaluation.run(request, procedure: procedure)
        } catch {
            return incomplete("could not re-run \(procedure.functionName) on \(artifact.name): \(error)")
        }
        let seeds = Set(context.runs.compactMap(\.seed))
        let seed = context.runs.count == 1 ? seeds.first : nil
        let score = ReproducedScore(
            artifact: artifact.name, seed: seed, valBPB: result.score.bitsPerByte,
            stream: result.stream.map { (Double($0.tokens), $0.bitsPerByte) })
        var check = ReproducedScoreCheck.check([score], runs: context.runs)
        let gain = result.before.bitsPerByte - result.score.bitsPerByte
        check.evidence.insert(AuditEvidence(
            "re-ran the code's score-first TTT (\(procedure.functionName)) on \(artifact.name), seq_len \(result.seqLen): "
                + "val_loss \(AuditFormat.fixed(result.score.meanLoss, digits: 8)) over \(result.score.tokens) tokens / "
                + "\(result.score.bytes) bytes after \(result.steps) optimizer steps; without adaptation val_bpb "
                + "\(AuditFormat.fixed(result.before.bitsPerByte, digits: 8)) (TTT gain \(AuditFormat.fixed(gain, digits: 6)) bpb)"), at: 0)
        check.measurements.append(AuditMeasurement("reproduced_val_bpb_before_ttt", result.before.bitsPerByte, unit: "bpb",
                                                   seed: seed, at: AuditLocation(file: artifact.name)))
        appendSources(result.resolved.sources, to: &check, folder: submission.folder)
        if let architecture = result.resolved.architecture {
            let text = architecture.replacingOccurrences(of: submission.folder.standardizedFileURL.path + "/", with: "")
            check.evidence.append(AuditEvidence("architecture \(text)"))
        }
        for name in result.settings.keys.sorted() {
            if let value = result.settings[name] { check.evidence.append(AuditEvidence("ttt setting \(name) = \(value)")) }
        }
        appendSources(result.sources, to: &check, folder: submission.folder, prefix: "ttt")
        return check
    }

    /// A claimed TTT score with `--sample-docs`: TTT is not sampled (its units are not independent),
    /// so the sample checks the logs' no-TTT score of the quantized model (``DiagnosticQuantizedScore``)
    /// instead. The check stays incomplete unless that score is below the interval (fail).
    func sampledPreTTTCheck(for context: AuditContext, settings: AuditEvaluationSettings, sample: EvaluationSample) -> AuditCheck {
        let submission = context.submission
        let notSampled = "the claimed score uses test-time training, which --sample-docs does not sample"
        let diagnostic = DiagnosticQuantizedScore.runs(of: submission, runs: context.runs)
        guard let artifact = submission.artifact else { return incomplete("no artifact in the folder to evaluate") }
        guard !diagnostic.isEmpty else {
            return incomplete(notSampled + "; no log reports the no-TTT quantized score (`diagnostic quantized val_loss:… "
                              + "val_bpb:…`) to compare a sample with")
        }
        var request = ReevaluationRequest(
            artifact: submission.folder.appendingPathComponent(artifact.name),
            code: submission.code.map { submission.folder.appendingPathComponent($0.name) },
            logs: submission.logs.map { submission.folder.appendingPathComponent($0.name) },
            tokenizer: settings.tokenizer, validationPattern: settings.validationPattern, mode: .standard,
            threads: settings.threads)
        request.byteSidecarPattern = settings.byteSidecarPattern
        request.sample = sample
        let sampled: SampledEvaluation
        do {
            guard let result = try Reevaluation.run(request).sample else { return incomplete("nothing was sampled") }
            sampled = result
        } catch {
            return incomplete(notSampled + "; could not evaluate a sample of \(artifact.name) without TTT: \(error)")
        }
        var check = SampledScoreCheck.check(sampled, artifact: artifact.name, runs: diagnostic,
                                            label: "logged no-TTT quantized val_bpb (diagnostic quantized)")
        if check.status == .fail {
            check.summary = "the logs' no-TTT quantized score is below the 99% interval of a sampled estimate of the artifact "
                + "without TTT: the artifact scores worse than its logs report"
        } else {
            check.status = .incomplete
            check.summary = notSampled + "; against the logs' no-TTT quantized score instead: " + check.summary
        }
        return check
    }

    struct Unsupported: Error { var message: String }

    /// The evaluation the submission's headline score used, from its logs' claims; `nil` for
    /// score-first test-time training.
    func claimedMode(_ submission: Submission) -> Result<EvalMode?, Unsupported> {
        let modes = Set(submission.claims(.evalMode).compactMap { claim -> String? in
            if case .text(let text) = claim.value { return text }
            return nil
        })
        if modes.contains("ttt") { return .success(nil) }
        if modes.contains("sliding_window") {
            let strides = Set(submission.claims(.evalStride).compactMap(\.value.integer))
            guard strides.count == 1, let stride = strides.first else {
                return .failure(Unsupported(message: "the claimed score is a sliding-window evaluation whose stride "
                                            + (strides.isEmpty ? "the logs do not state" : "differs between logs (\(strides.sorted()))")))
            }
            return .success(.sliding(stride: stride))
        }
        return .success(.standard)
    }
}

extension EvalMode {
    /// `stride 64` for sliding windows.
    var strideDescription: String? {
        if case .sliding(let stride) = self { return "stride \(stride)" }
        return nil
    }
}
