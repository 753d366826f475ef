import Foundation
import Reference

/// The token stream and per-token byte counts phased TTT scores, chosen as the records choose them:
/// a CaseOps byte sidecar when `CASEOPS_ENABLED`, or (2026-04-18's `load_validation_token_bytes`)
/// whenever one lies where the code looks; otherwise the tokenizer's tables. Shared by the audit
/// (``TTTReevaluation``) and `verify eval --mode ttt-phased`.
public struct PhasedTTTInputs: Sendable {
    public enum ByteSource: Sendable, Equatable {
        case tokenizer
        /// The sidecar, because `CASEOPS_ENABLED` is on.
        case sidecarEnabled
        /// The sidecar, because it is present and the code reads it whenever it is.
        case sidecarPresent
    }

    public var tokens: [UInt16]
    public var byteCounts: PhasedTTTByteCounts
    public var byteSource: ByteSource

    /// Reads `request`'s validation stream (cut to `maxTokens`, never ending on a BOS that would open
    /// an empty document) and its byte counts (`byteSidecarPattern`, or the sidecar beside the shards).
    public static func prepare(_ request: ReevaluationRequest, phased: ResolvedPhasedTTTSettings,
                               vocabulary: Int) throws -> PhasedTTTInputs {
        let (tokens, sidecar, source) = try stream(request, phased: phased)
        let byteCounts: PhasedTTTByteCounts = try sidecar.map { .sidecar($0) }
            ?? .tables(try SentencePieceModel(contentsOf: request.tokenizer).byteAccounting(modelVocabularySize: vocabulary))
        return PhasedTTTInputs(tokens: tokens, byteCounts: byteCounts, byteSource: source)
    }

    /// The stream and, where the records count bytes from it, the sidecar's counts.
    static func stream(_ request: ReevaluationRequest, phased: ResolvedPhasedTTTSettings)
        throws -> (tokens: [UInt16], sidecar: [UInt16]?, source: ByteSource) {
        var tokens = try EvalTokens.prepare(try ValidationShard.readAll(pattern: request.validationPattern),
                                            seqLen: phased.settings.globalSeqLen, maxTokens: request.maxTokens)
        if request.maxTokens != nil, tokens.last == PhasedTTTEvaluator.bos { tokens.removeLast() }
        if phased.caseOps { return (tokens, try Reevaluation.byteSidecar(request, tokens: tokens.count), .sidecarEnabled) }
        if phased.readsSidecarWhenPresent, let present = try? Reevaluation.byteSidecar(request, tokens: tokens.count) {
            return (tokens, present, .sidecarPresent)
        }
        return (tokens, nil, .tokenizer)
    }

    /// The digests a phased run of `request` records (``digests(of:)``), without building the model's
    /// byte tables: what the audit compares a sharded run's parts with.
    public static func digests(of request: ReevaluationRequest, phased: ResolvedPhasedTTTSettings) throws -> EvaluationInputDigests {
        let (tokens, sidecar, _) = try stream(request, phased: phased)
        return try EvaluationInputDigests.of(request, tokens: tokens, byteCounts: sidecar)
    }
}

extension PhasedTTTInputs {
    /// SHA-256 of `request`'s files and of the stream and byte counts as evaluated (for the
    /// identity of a sharded run's parts).
    public func digests(of request: ReevaluationRequest) throws -> EvaluationInputDigests {
        let sidecar: [UInt16]? = if case .sidecar(let entries) = byteCounts { entries } else { nil }
        return try EvaluationInputDigests.of(request, tokens: tokens, byteCounts: sidecar)
    }
}
