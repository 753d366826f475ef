import Foundation
import Reference

/// Reads (never runs) a record-family submission's sliding evaluation — the function that scores
/// sliding windows without training, whatever its name — to decide whether pgverify reproduces it.
///
/// pgverify implements the form of records 2026-04-10_VarLenAttn … 2026-04-18_PR1626_CaseOps_Taper
/// (``DocumentSlidingPlan``): window starts `range(0, total_tokens, stride)` kept while
/// `ws + context_size < total_tokens`, each window split at BOS into `cu_seqlens` segments of one flat
/// batch of `batch_seqs` windows, targets from `context_size` on (all of the first window's). The March
/// records' sliding evaluators (independent windows, a different tail rule) are refused.
public enum FamilySlidingResolver {
    /// The sliding evaluation for `stride`, given the standard evaluation already resolved from the
    /// same code (its world size and byte counting carry over); throws ``UnsupportedArtifact`` naming
    /// what does not match.
    public static func resolve(code: URL?, standard: ResolvedFamilyEvaluation, stride: Int,
                               features: String) throws -> ResolvedFamilyEvaluation {
        guard let code, case .documentSegmented(let settings) = standard.evaluation else {
            throw UnsupportedArtifact(path: code?.path ?? "(no --code)", reason: "sliding-window evaluation of "
                + "record-family architectures (\(features)) is implemented for the document-segmented records' "
                + "eval_val_sliding (2026-04-10 … 2026-04-18) only; use standard mode (the submission's eval_val)")
        }
        // The procedure is found by what a function does, whatever its name (``EvaluationProcedureReader``).
        let procedures = try EvaluationProcedureReader.procedures(code: code)
        let sliding = procedures.filter(\.isSliding)
        guard let procedure = sliding.first(where: { $0.windowRule == .exactlyOnce && $0.scoredPositions == .afterContext
                                                     && $0.segmentsDocuments && $0.batchSequences != nil }) else {
            let found = (sliding.isEmpty ? procedures.filter { !$0.updates } : sliding).map(\.summary)
            throw UnsupportedArtifact(path: code.path, reason: found.isEmpty
                ? "no function scores sliding windows without training: the submission has no sliding evaluation of its "
                    + "own to reproduce; use standard mode"
                : "no sliding evaluation of the document-segmented form pgverify implements (window starts kept while "
                    + "ws + context_size < total_tokens, scored after the context, windows packed and split at document "
                    + "starts, a batch_seqs=N default); found: " + found.joined(separator: " | "))
        }
        let batchSequences = procedure.batchSequences ?? 0
        var sources = standard.sources
        sources["eval_val_sliding"] = "\(code.path):\(procedure.line): \(procedure.function) splits each window at BOS, "
            + "batch_seqs=\(batchSequences)"
        let readsSidecar = standard.usesByteSidecar && procedure.readsByteSidecar
        if standard.usesByteSidecar && !readsSidecar { sources["byte_counts"] = "\(procedure.function) counts bytes by the tokenizer's tables" }
        for key in ["val_batch_tokens", "grad_accum_steps"] { sources[key] = nil }  // eval_val's batching, unused here
        return ResolvedFamilyEvaluation(
            evaluation: .documentSliding(.init(stride: stride, batchSequences: batchSequences, worldSize: settings.worldSize)),
            sources: sources, usesByteSidecar: readsSidecar)
    }
}
