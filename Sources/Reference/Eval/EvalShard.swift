/// One of `count` contiguous parts of an evaluation's items (windows or batches): part `index`
/// (0-based, as Slurm array and Kubernetes completion indices count) covers items
/// `index·total/count ..< (index+1)·total/count`, so the parts cover every item exactly once.
///
/// Items are independent and their ``EvalPartial``s add up exactly, so the parts evaluated on
/// different machines and added give bit for bit the unsharded result.
public struct EvalShard: Sendable, Equatable, Hashable, Codable {
    public let index: Int
    public let count: Int

    /// More parts than this is a typo, not a plan (the full validation set has ~23,000 windows of 2048).
    public static let maximumCount = 100_000

    public init(index: Int, count: Int) throws(EvalError) {
        guard count >= 1, count <= Self.maximumCount, index >= 0, index < count else {
            throw .invalidShard(index: index, count: count)
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (`0 ≤ K < N`).
    public init(parsing text: String) throws(EvalError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw .unreadableShard(text)
        }
        try self.init(index: index, count: count)
    }

    /// This part's items out of `total`.
    public func range(of total: Int) -> Range<Int> {
        precondition(total >= 0, "negative item count")
        // total ≤ Int.max / maximumCount for any stream that fits in memory, so the products cannot overflow.
        return (index * total / count) ..< ((index + 1) * total / count)
    }
}
