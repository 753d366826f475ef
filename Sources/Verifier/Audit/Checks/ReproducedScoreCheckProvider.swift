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
        if context.options.quick { return incomplete("skipped by --quick") }
        guard let artifact = submission.artifact else {
            return incomplete("no artifact in the folder to evaluate")
        }
        guard let settings = context.options.evaluation else {
            return incomplete("no evaluation data given: pass --tokenizer and --val to reproduce val_bpb")
        }
        let mode: EvalMode
        switch claimedMode(submission) {
        case .success(let claimed): mode = claimed
        case .failure(let reason): return incomplete(reason.message)
        }
        let request = ReevaluationRequest(
            artifact: submission.folder.appendingPathComponent(artifact.name),
            code: submission.code.map { submission.folder.appendingPathComponent($0.name) },
            logs: submission.logs.map { submission.folder.appendingPathComponent($0.name) },
            tokenizer: settings.tokenizer, validationPattern: settings.validationPattern, mode: mode,
            threads: settings.threads)
        let result: ReevaluationResult
        do {
            result = try Reevaluation.run(request, segments: Self.streamSegments)
        } catch {
            return incomplete("could not re-evaluate \(artifact.name): \(error)")
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
        for name in result.resolved.sources.keys.sorted() {
            if let source = result.resolved.sources[name] {
                // Reports name files relative to the folder, so they are the same wherever it lies.
                let text = "\(source)".replacingOccurrences(of: submission.folder.standardizedFileURL.path + "/", with: "")
                check.evidence.append(AuditEvidence("config \(name) from \(text)"))
            }
        }
        return check
    }

    struct Unsupported: Error { var message: String }

    /// The evaluation the submission's headline score used, from its logs' claims.
    func claimedMode(_ submission: Submission) -> Result<EvalMode, Unsupported> {
        let modes = Set(submission.claims(.evalMode).compactMap { claim -> String? in
            if case .text(let text) = claim.value { return text }
            return nil
        })
        if modes.contains("ttt") {
            return .failure(Unsupported(message: "the claimed score uses test-time training, which this build cannot re-run yet"))
        }
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
