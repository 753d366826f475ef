import Foundation
import Reference

/// A score that came out infinite or NaN: the scored tokens count zero bytes (a tokenizer whose
/// pieces are empty, a validation shard of only such tokens) or no tokens were scored. Named as an
/// input error, with the files that decide it, rather than written out as a non-number.
public struct NonFiniteScore: InputError, Equatable {
    /// `val_bpb` or `val_bpb before TTT`.
    public var label: String
    public var valLoss: Double
    public var tokens: Int
    public var bytes: Int
    /// The tokenizer (or CaseOps byte sidecar) whose byte counts were used, and the validation shards.
    public var byteSource: String
    public var validation: String

    public var description: String {
        let cause = bytes == 0
            ? "the \(tokens) scored tokens count 0 bytes under \(byteSource) (empty pieces, or shards of only such tokens)"
            : tokens == 0 ? "no token was scored (byte counts from \(byteSource))" : "val_loss is \(valLoss) (byte counts from \(byteSource))"
        return "\(validation): \(label) is not a finite number: \(cause)"
    }

    /// Throws unless `score`'s val_loss and val_bpb are finite.
    public static func check(_ score: EvalPartial, label: String = "val_bpb", request: ReevaluationRequest) throws(NonFiniteScore) {
        try check(score, label: label, tokenizer: request.tokenizer.path, validation: request.validationPattern,
                  byteSidecar: request.byteSidecarPattern)
    }

    /// Throws unless `score`'s val_loss and val_bpb are finite; the files as the user gave them.
    public static func check(_ score: EvalPartial, label: String = "val_bpb", tokenizer: String, validation: String,
                             byteSidecar: String?) throws(NonFiniteScore) {
        guard !(score.meanLoss.isFinite && score.bitsPerByte.isFinite) else { return }
        throw NonFiniteScore(label: label, valLoss: score.meanLoss, tokens: score.tokens, bytes: score.bytes,
                             byteSource: byteSidecar.map { "\(tokenizer) (bytes from \($0))" } ?? tokenizer,
                             validation: validation)
    }
}
