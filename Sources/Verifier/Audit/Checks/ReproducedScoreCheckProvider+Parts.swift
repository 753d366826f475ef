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
        // The audit reproduces with what the folder states; parts configured otherwise are another evaluation.
        guard merged.identity.overrides.isEmpty else {
            return incomplete("the partial results were evaluated with --set "
                              + merged.identity.overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                              + "; the audit compares the claim with an evaluation configured only by the folder's code and logs")
        }
        if let maxTokens = merged.identity.maxTokens {
            return incomplete("the partial results cover only the first \(maxTokens) target tokens (--max-tokens); "
                              + "a claim is compared with a whole evaluation")
        }
        let claimed: EvalMode
        switch claimedMode(submission) {
        case .success(.some(let mode)): claimed = mode
        case .success(.none): return mergedPhasedPartsCheck(merged, for: context, artifact: artifact.name)
        case .failure(let reason): return incomplete(reason.message)
        }
        let stride: Int? = if case .sliding(let value) = claimed { value } else { nil }
        guard merged.identity.mode == claimed.name, merged.identity.stride == stride else {
            return incomplete("the partial results are a \(merged.identity.mode) evaluation"
                              + (merged.identity.stride.map { " (stride \($0))" } ?? "") + "; the claimed score is \(claimed.name)"
                              + (claimed.strideDescription.map { " (\($0))" } ?? ""))
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

    /// A claimed TTT score from the merged parts of a sharded `verify eval --mode ttt-phased`: only
    /// when the folder's code defines `eval_val_ttt_phased`, the parts ran with the settings its code
    /// and logs give, and (given `--val`) on the same validation stream and byte counts as here.
    func mergedPhasedPartsCheck(_ merged: PartialEvaluation.Merged, for context: AuditContext, artifact: String) -> AuditCheck {
        let submission = context.submission
        let phasedName = TTTProcedure.phased.functionName
        guard let code = submission.code.map({ submission.folder.appendingPathComponent($0.name) }) else {
            return incomplete("the claimed score uses test-time training, and there is no code to read its procedure from")
        }
        let procedure: TTTProcedure?
        do { procedure = try TTTProcedure.detect(code: code) } catch {
            return incomplete("could not read the code's TTT procedure: \(error)")
        }
        guard procedure == .phased else {
            return incomplete("the claimed score uses test-time training by "
                              + (procedure.map(\.functionName) ?? "none of the TTT functions pgverify re-runs")
                              + "; the audit takes the parts of a sharded \(phasedName) evaluation only: re-run it whole")
        }
        guard merged.identity.mode == "ttt-phased", let settings = merged.identity.phasedSettings, let detail = merged.phased else {
            return incomplete("the partial results are a \(merged.identity.mode) evaluation; the claimed score is "
                              + "\(phasedName)'s (verify eval --mode ttt-phased)")
        }
        let artifactURL = submission.folder.appendingPathComponent(artifact)
        let logs = submission.logs.map { submission.folder.appendingPathComponent($0.name) }
        let stated: ResolvedPhasedTTTSettings
        do { stated = try TTTReevaluation.phasedSettings(artifact: artifactURL, code: code, logs: logs) } catch {
            return incomplete("could not resolve the folder's phased TTT settings to compare the parts with: \(error)")
        }
        let ours = TTTReevaluation.describe(stated.settings), theirs = TTTReevaluation.describe(settings)
        guard stated.settings == settings else {
            let differing = Set(ours.keys).union(theirs.keys).filter { ours[$0] != theirs[$0] }.sorted()
            return incomplete("the partial results used other phased TTT settings than the folder's code and logs give: "
                              + differing.map { "\($0) \(theirs[$0] ?? "absent") instead of \(ours[$0] ?? "absent")" }.joined(separator: ", "))
        }
        let inputs = merged.identity.inputs
        if let evaluation = context.options.evaluation {
            let request = ReevaluationRequest(artifact: artifactURL, code: code, logs: logs, tokenizer: evaluation.tokenizer,
                                              validationPattern: evaluation.validationPattern,
                                              byteSidecarPattern: evaluation.byteSidecarPattern)
            let here: EvaluationInputDigests
            do { here = try PhasedTTTInputs.digests(of: request, phased: stated) } catch {
                return incomplete("could not read the validation data to compare the parts with: \(error)")
            }
            guard here.validationTokens == inputs.validationTokens else {
                return incomplete("the partial results evaluated another validation stream (sha256 \(inputs.validationTokens)) "
                                  + "than \(evaluation.validationPattern) gives (sha256 \(here.validationTokens))")
            }
            guard here.byteCounts == inputs.byteCounts else {
                return incomplete("the partial results counted bytes " + (inputs.byteCounts.map { "from a sidecar with sha256 \($0)" } ?? "from the tokenizer")
                                  + ", not " + (here.byteCounts.map { "from the sidecar here (sha256 \($0))" } ?? "from the tokenizer, as the code does here"))
            }
        }
        let seeds = Set(context.runs.compactMap(\.seed))
        let seed = context.runs.count == 1 ? seeds.first : nil
        let score = merged.score
        let stream = TTTReevaluation.cumulative(detail.batches.map(\.partial))
        var check = ReproducedScoreCheck.check(
            [ReproducedScore(artifact: artifact, seed: seed, valBPB: score.bitsPerByte,
                             stream: stream.map { (Double($0.tokens), $0.bitsPerByte) })],
            runs: context.runs)
        let gain = detail.before.bitsPerByte - score.bitsPerByte
        check.evidence.insert(AuditEvidence(
            "merged \(merged.parts) partial results of a sharded re-run of the code's score-first TTT (\(phasedName)) on \(artifact), "
                + "seq_len \(merged.identity.seqLen): val_loss \(AuditFormat.fixed(score.meanLoss, digits: 8)) over \(score.tokens) tokens / "
                + "\(score.bytes) bytes after \(detail.adapterSteps + detail.globalSteps) optimizer steps; without adaptation val_bpb "
                + "\(AuditFormat.fixed(detail.before.bitsPerByte, digits: 8)) (TTT gain \(AuditFormat.fixed(gain, digits: 6)) bpb); "
                + "validation tokens sha256 \(inputs.validationTokens), tokenizer sha256 \(inputs.tokenizer)"
                + (merged.kernels.count > 1 ? "; parts from different OpenBLAS kernels (\(merged.kernels.joined(separator: ", ")))" : "")),
            at: 0)
        check.measurements.append(AuditMeasurement("reproduced_val_bpb_before_ttt", detail.before.bitsPerByte, unit: "bpb",
                                                   seed: seed, at: AuditLocation(file: artifact)))
        if let architecture = merged.architecture {
            let text = architecture.replacingOccurrences(of: submission.folder.standardizedFileURL.path + "/", with: "")
            check.evidence.insert(AuditEvidence("architecture \(text)"), at: 1)
        }
        appendSources(merged.config, to: &check, folder: submission.folder)
        for name in ours.keys.sorted() {
            if let value = ours[name] { check.evidence.append(AuditEvidence("ttt setting \(name) = \(value)")) }
        }
        appendSources(detail.sources.merging(["byte_counts": detail.bytesFrom]) { own, _ in own }, to: &check,
                      folder: submission.folder, prefix: "ttt")
        return check
    }
}
