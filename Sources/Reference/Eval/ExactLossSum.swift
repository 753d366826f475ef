/// A sum of per-token losses that is exact and order-independent, so partial results over disjoint
/// ranges add up to exactly the whole, whatever the split or thread count.
///
/// Each float32 loss is rounded once to a multiple of 2⁻³² nats (error ≤ 1.2·10⁻¹⁰ per token, far
/// below float32's own rounding of the loss) and summed as a 128-bit integer.
public struct ExactLossSum: Sendable, Equatable, Hashable, Codable {
    /// Units of 2⁻³² nats, as a two's-complement 128-bit integer.
    public private(set) var high: Int64 = 0
    public private(set) var low: UInt64 = 0

    /// Scale of one unit.
    public static let unitsPerNat: Double = 4_294_967_296  // 2³²
    /// Largest single loss accepted (nats); beyond it the model is broken, not the sum.
    public static let maximumLoss: Double = 1e9

    public init() {}

    public init(high: Int64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Adds one token's loss; `loss` must be finite and within ±``maximumLoss``.
    @inlinable
    public mutating func add(_ loss: Float) {
        let units = Int64((Double(loss) * Self.unitsPerNat).rounded(.toNearestOrEven))
        add(high: units < 0 ? -1 : 0, low: UInt64(bitPattern: units))
    }

    @usableFromInline
    mutating func add(high otherHigh: Int64, low otherLow: UInt64) {
        let (sum, carry) = low.addingReportingOverflow(otherLow)
        low = sum
        high = high &+ otherHigh &+ (carry ? 1 : 0)
    }

    /// The sum in nats.
    public var value: Double {
        (Double(high) * 18_446_744_073_709_551_616 + Double(low)) / Self.unitsPerNat
    }

    public static func + (lhs: ExactLossSum, rhs: ExactLossSum) -> ExactLossSum {
        var result = lhs
        result.add(high: rhs.high, low: rhs.low)
        return result
    }
}
