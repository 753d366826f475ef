import Foundation
import Reference

/// Reads (never runs) a record-family submission's `def eval_val_sliding` to decide whether pgverify
/// reproduces its sliding mode.
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
        let text = try ModelConfigResolver.read(code)
        guard let body = DeserializedDTypes.topLevelFunction("eval_val_sliding", in: text) else {
            throw UnsupportedArtifact(path: code.path, reason: "no top-level `def eval_val_sliding(`: the submission has "
                + "no sliding evaluation of its own to reproduce; use standard mode")
        }
        let compact = String(body.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) })
        let signals = ["ifws+context_size<total_tokens", "bos_pos", "cu_seqlens=cu_seqlens",
                       "s=0ifws==0elsecontext_size", "x_parts.append(chunk[:-1])"]
        let missing = signals.filter { !compact.contains($0) }
        guard missing.isEmpty, let batchSequences = defaultBatchSequences(compact) else {
            throw UnsupportedArtifact(path: code.path, reason: "its eval_val_sliding is not the document-segmented form "
                + "pgverify implements (missing: \(missing.isEmpty ? "a batch_seqs=N default" : missing.joined(separator: ", ")))")
        }
        var sources = standard.sources
        sources["eval_val_sliding"] = "\(code.path): eval_val_sliding splits each window at BOS, batch_seqs=\(batchSequences)"
        let readsSidecar = standard.usesByteSidecar && compact.contains("val_token_bytes")
        if standard.usesByteSidecar && !readsSidecar { sources["byte_counts"] = "eval_val_sliding counts bytes by the tokenizer's tables" }
        for key in ["val_batch_tokens", "grad_accum_steps"] { sources[key] = nil }  // eval_val's batching, unused here
        return ResolvedFamilyEvaluation(
            evaluation: .documentSliding(.init(stride: stride, batchSequences: batchSequences, worldSize: settings.worldSize)),
            sources: sources, usesByteSidecar: readsSidecar)
    }

    /// `batch_seqs=N` in the signature.
    static func defaultBatchSequences(_ compact: String) -> Int? {
        guard let range = compact.range(of: "batch_seqs=") else { return nil }
        let digits = compact[range.upperBound...].prefix { $0.isNumber }
        return Int(digits).flatMap { $0 > 0 ? $0 : nil }
    }
}
