import Foundation

/// What an evaluation of some windows adds to the total: loss sum, scored tokens, their bytes.
///
/// Partials of disjoint window ranges add up exactly (the loss sum is an ``ExactLossSum``), which is
/// how an evaluation can be split across threads or machines and reassembled.
public struct EvalPartial: Sendable, Equatable, Codable {
    public var lossSum = ExactLossSum()
    /// Scored target tokens.
    public var tokens = 0
    /// UTF-8 bytes those tokens stand for (the challenge's byte accounting).
    public var bytes = 0

    public init() {}

    public init(lossSum: ExactLossSum, tokens: Int, bytes: Int) {
        self.lossSum = lossSum
        self.tokens = tokens
        self.bytes = bytes
    }

    public static func + (lhs: EvalPartial, rhs: EvalPartial) -> EvalPartial {
        EvalPartial(lossSum: lhs.lossSum + rhs.lossSum, tokens: lhs.tokens + rhs.tokens, bytes: lhs.bytes + rhs.bytes)
    }

    public static func += (lhs: inout EvalPartial, rhs: EvalPartial) { lhs = lhs + rhs }

    /// Mean loss in nats per token (`val_loss`).
    public var meanLoss: Double { lossSum.value / Double(tokens) }

    /// Bits per byte (`val_bpb`): `val_loss / ln 2 · tokens / bytes`.
    public var bitsPerByte: Double { meanLoss / log(2.0) * (Double(tokens) / Double(bytes)) }
}
