import Foundation
import Reference

extension ReproducedScoreCheckProvider {
    /// `REPRODUCED-VAL-BPB` from the merged parts of a sharded `verify eval`: accepted only when the
    /// parts evaluated this folder's artifact with this folder's code and logs, in the mode its logs
    /// claim, and cover the evaluation exactly once; anything else leaves the check incomplete.
    func mergedPartsCheck(for context: AuditContext) -> AuditCheck {
        let submission = context.submission
        guard let artifact = submission.artifact else { return incomplete("no artifact in the folder to compare the parts with") }
        let merged: PartialEvaluation.Merged
        do {
            merged = try PartialEvaluation.merge(context.options.reproductionParts.map { url throws in
                (url.path, try PartialEvaluation.read(url))
            })
        } catch {
            return incomplete("the partial results do not merge: \(error)")
        }
        let inputs = merged.identity.inputs
        func digest(_ name: String) -> String? { try? SHA256.hex(file: submission.folder.appendingPathComponent(name)) }
        guard inputs.artifact == digest(artifact.name) else {
            return incomplete("the partial results evaluated another artifact (sha256 \(inputs.artifact)) than \(artifact.name)")
        }
        let code = submission.code.flatMap { digest($0.name) }
        guard inputs.code == code else {
            return incomplete("the partial results were configured from " + (inputs.code.map { "code with sha256 \($0)" } ?? "no code")
                              + ", not from the folder's " + (submission.code?.name ?? "(absent) code"))
        }
        guard inputs.logs.sorted() == submission.logs.compactMap({ digest($0.name) }).sorted() else {
            return incomplete("the partial results were configured from other logs than the folder's "
                              + "(pass each of its logs with --log to every shard)")
        }
        if let settings = context.options.evaluation, let tokenizer = try? SHA256.hex(file: settings.tokenizer),
           tokenizer != inputs.tokenizer {
            return incomplete("the partial results used another tokenizer than \(settings.tokenizer.path)")
        }
        let claimed: EvalMode
        switch claimedMode(submission) {
        case .success(.some(let mode)): claimed = mode
        case .success(.none):
            return incomplete("the claimed score uses test-time training; the audit takes parts of standard and sliding "
                              + "evaluations only (phased TTT parts add up with `verify merge`); re-run it whole")
        case .failure(let reason): return incomplete(reason.message)
        }
        let stride: Int? = if case .sliding(let value) = claimed { value } else { nil }
        guard merged.identity.mode == claimed.name, merged.identity.stride == stride else {
            return incomplete("the partial results are a \(merged.identity.mode) evaluation"
                              + (merged.identity.stride.map { " (stride \($0))" } ?? "") + "; the claimed score is \(claimed.name)"
                              + (claimed.strideDescription.map { " (\($0))" } ?? ""))
        }
        if let maxTokens = merged.identity.maxTokens {
            return incomplete("the partial results cover only the first \(maxTokens) target tokens (--max-tokens); "
                              + "a claim is compared with a whole evaluation")
        }
        let seeds = Set(context.runs.compactMap(\.seed))
        let score = ReproducedScore(artifact: artifact.name, seed: context.runs.count == 1 ? seeds.first : nil,
                                    valBPB: merged.score.bitsPerByte)
        var check = ReproducedScoreCheck.check([score], runs: context.runs)
        check.evidence.insert(AuditEvidence(
            "merged \(merged.parts) partial results of a sharded evaluation of \(artifact.name) in \(claimed.name) mode"
                + (claimed.strideDescription.map { " (\($0))" } ?? "")
                + (merged.identity.evaluation.map { " with \($0)" } ?? "")
                + ", seq_len \(merged.identity.seqLen): val_loss \(AuditFormat.fixed(merged.score.meanLoss, digits: 8)) over "
                + "\(merged.score.tokens) tokens / \(merged.score.bytes) bytes; validation tokens sha256 \(inputs.validationTokens), "
                + "tokenizer sha256 \(inputs.tokenizer)"
                + (merged.kernels.count > 1 ? "; parts from different OpenBLAS kernels (\(merged.kernels.joined(separator: ", ")))" : "")),
            at: 0)
        if let architecture = merged.architecture {
            check.evidence.insert(AuditEvidence("architecture \(architecture)"), at: 1)
        }
        appendSources(merged.config, to: &check, folder: submission.folder)
        return check
    }
}
