import Reference

/// `--sample-docs N --seed S`: how many of an evaluation's scoring units to score, and the seed
/// that picks them.
public struct EvaluationSample: Sendable, Equatable {
    public var size: Int
    public var seed: UInt64

    public init(size: Int, seed: UInt64) {
        self.size = size
        self.seed = seed
    }
}

/// A sample size that does not fit the evaluation's units.
public enum SampledEvaluationError: InputError, Equatable {
    case sizeOutOfRange(flag: String, size: Int, units: Int, kind: String)

    public var description: String {
        switch self {
        case .sizeOutOfRange(let flag, let size, let units, let kind):
            "\(flag) must be in 1...\(units) (this evaluation scores \(units) \(kind)), got \(size)"
        }
    }
}

/// A seeded, reproducible, length-stratified random sample of an evaluation's independent scoring
/// units (windows, or document pieces), drawn without replacement.
///
/// Strata: the units sorted by (scored tokens, index); unit u goes to stratum ⌊H·m_u/T⌋, m_u the
/// middle of its tokens in the running total, so each stratum holds about the same share of the
/// stream's T scored tokens and a unit much longer than the rest gets a stratum of its own; H is at
/// most ``maximumStrata`` and at most N/2 (strata left empty are dropped), so every stratum can get
/// two sampled units. Allocation: every
/// stratum gets min(2, its units) (1 when N = 1), the rest one at a time to the stratum with the
/// most tokens per sampled unit (D'Hondt: in proportion to its tokens), never more than it holds.
/// The long-document strata, with few units, are then often taken whole. Within a stratum the units
/// are picked by a partial Fisher–Yates shuffle driven by SplitMix64 seeded with S.
public struct StratifiedSample: Sendable, Equatable {
    public struct Stratum: Sendable, Equatable {
        /// Every unit of the stratum (indices into the evaluation's units), shortest first.
        public var units: [Int]
        /// The sampled ones, ascending.
        public var sampled: [Int]
        /// Scored tokens of all its units.
        public var tokens: Int
        public var shortest: Int
        public var longest: Int
        /// Whether every unit of the stratum is sampled (it adds no sampling variance).
        public var isComplete: Bool { sampled.count == units.count }
    }

    public static let maximumStrata = 32

    public let size: Int
    public let seed: UInt64
    public let totalUnits: Int
    public let totalTokens: Int
    public let strata: [Stratum]
    /// All sampled units, ascending.
    public let sampledUnits: [Int]
    /// Scored tokens of the sampled units.
    public let sampledTokens: Int

    /// Draws `size` of the units whose scored-token counts are `lengths` (`lengths[i]` for unit i).
    /// `kind` names the units in the error; `flag` the option the size came from.
    public init(lengths: [Int], size: Int, seed: UInt64, kind: String, flag: String = "--sample-docs")
        throws(SampledEvaluationError)
    {
        guard size >= 1, size <= lengths.count else {
            throw .sizeOutOfRange(flag: flag, size: size, units: lengths.count, kind: kind)
        }
        let order = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let total = lengths.reduce(0, +)
        let wanted = max(1, min(Self.maximumStrata, size / 2, lengths.count))
        // Unit u goes to stratum ⌊H·(middle of its tokens in the running total)/T⌋: a long unit whose
        // tokens span a boundary is not put in with much shorter ones.
        var groups = Array(repeating: [Int](), count: wanted)
        var before = 0
        for unit in order {
            groups[min(wanted - 1, (2 * before + lengths[unit]) * wanted / (2 * max(total, 1)))].append(unit)
            before += lengths[unit]
        }
        groups.removeAll { $0.isEmpty }

        let tokens = groups.map { $0.reduce(0) { $0 + lengths[$1] } }
        var allocation = groups.map { min($0.count, size == 1 ? 1 : 2) }
        for _ in 0 ..< (size - allocation.reduce(0, +)) {
            var best: Int?
            for h in groups.indices where allocation[h] < groups[h].count {
                // tokens[h] / allocation[h] > tokens[best] / allocation[best], without division.
                if best.map({ tokens[h] * allocation[$0] > tokens[$0] * allocation[h] }) ?? true { best = h }
            }
            guard let best else { break }
            allocation[best] += 1
        }

        var generator = SplitMix64(seed: seed)
        var strata: [Stratum] = []
        for (h, group) in groups.enumerated() {
            var pool = group
            for i in 0 ..< allocation[h] {
                pool.swapAt(i, i + generator.below(pool.count - i))
            }
            strata.append(Stratum(units: group, sampled: pool.prefix(allocation[h]).sorted(), tokens: tokens[h],
                                  shortest: lengths[group.first!], longest: lengths[group.last!]))
        }
        self.size = size
        self.seed = seed
        totalUnits = lengths.count
        totalTokens = total
        self.strata = strata
        sampledUnits = strata.flatMap(\.sampled).sorted()
        sampledTokens = sampledUnits.reduce(0) { $0 + lengths[$1] }
    }

    /// Whether every unit is sampled: the estimate is then the full evaluation's value.
    public var isCensus: Bool { sampledUnits.count == totalUnits }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small generator whose output depends only on the seed,
/// on every platform, so a sample is reproducible from `--seed`.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0 ..< bound` (bound ≥ 1), by rejection (no modulo bias).
    mutating func below(_ bound: Int) -> Int {
        precondition(bound >= 1, "empty range")
        let n = UInt64(bound)
        let limit = UInt64.max - UInt64.max % n  // n·⌊max/n⌋: the values below it are uniform modulo n
        while true {
            let value = next()
            if value < limit { return Int(value % n) }
        }
    }
}
