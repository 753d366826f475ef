/// The challenge's byte accounting for bits-per-byte: how many UTF-8 bytes each scored token stands for.
///
/// A target token contributes `baseBytes[target]`, plus one byte for its leading space ("▁") when it
/// has one and the previous token is not a boundary token. Built from a SentencePiece model (or a
/// per-token sidecar for tokenizers such as CaseOps).
public struct ByteAccounting: Sendable, Equatable {
    /// UTF-8 bytes of each token's piece without its leading "▁"; byte-fallback tokens count 1;
    /// control/unknown tokens count 0.
    public var baseBytes: [Int32]
    /// Whether the piece starts with "▁".
    public var hasLeadingSpace: [Bool]
    /// Whether the token is a boundary (control, unknown, unused): a following "▁" is not counted.
    public var isBoundary: [Bool]

    public init(baseBytes: [Int32], hasLeadingSpace: [Bool], isBoundary: [Bool]) {
        precondition(baseBytes.count == hasLeadingSpace.count && baseBytes.count == isBoundary.count,
                     "byte accounting tables must have one entry per token")
        self.baseBytes = baseBytes
        self.hasLeadingSpace = hasLeadingSpace
        self.isBoundary = isBoundary
    }

    /// Vocabulary size the tables cover.
    public var vocabularySize: Int { baseBytes.count }

    /// Bytes the token `target` stands for when it follows `previous`.
    @inlinable
    public func bytes(target: Int, previous: Int) -> Int {
        var count = Int(baseBytes[target])
        if hasLeadingSpace[target] && !isBoundary[previous] { count += 1 }
        return count
    }
}
