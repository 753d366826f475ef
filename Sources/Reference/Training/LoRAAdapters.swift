/// Low-rank adapters on the baseline GPT, as record 2026-03-17_LoRA_TTT puts them: on every block's
/// query and value projections and on the output head, `Δ(x) = (x·Aᵀ)·Bᵀ` with `A` `[r, in]` and `B`
/// `[out, r]`, added to the projection's output (the head's before the softcap).
///
/// Parameters and gradients are two flat buffers: per block `A_q, B_q, A_v, B_v`, then `A_head, B_head`.
public final class LoRAAdapters: @unchecked Sendable {
    /// Offsets of one adapter in the flat buffers.
    struct Adapter: Sendable {
        let a: Int, b: Int, inFeatures: Int, outFeatures: Int
    }

    public let rank: Int
    let query: [Adapter]
    let value: [Adapter]
    let head: Adapter
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>

    /// Adapters of rank `rank` for a model of `config`'s shape, every value zero.
    public init(config: GPTConfig, rank: Int) {
        precondition(rank > 0)
        let c = config.modelDim, kvWidth = config.numKVHeads * config.headDim
        var cursor = 0
        func adapter(_ inFeatures: Int, _ outFeatures: Int) -> Adapter {
            let result = Adapter(a: cursor, b: cursor + rank * inFeatures, inFeatures: inFeatures, outFeatures: outFeatures)
            cursor += rank * (inFeatures + outFeatures)
            return result
        }
        var query: [Adapter] = [], value: [Adapter] = []
        for _ in 0..<config.numLayers {
            query.append(adapter(c, c))
            value.append(adapter(c, kvWidth))
        }
        self.head = adapter(c, config.vocabSize)
        self.query = query
        self.value = value
        self.rank = rank
        self.parameters = .allocate(capacity: cursor)
        self.parameters.initialize(repeating: 0)
        self.gradients = .allocate(capacity: cursor)
        self.gradients.initialize(repeating: 0)
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    /// Every adapter in reset order: the head, then each block's query, then each block's value
    /// (the order of `BatchedTTTLoRA.modules()` in the record).
    var resetOrder: [Adapter] { [head] + query + value }

    /// Resets for a new document: `B = 0`, and `A` uniform in `±1/√in` drawn from ``LoRAInit`` for
    /// `document` (the record's kaiming-uniform bound; its draws come from torch's global RNG, which
    /// no verifier can replay, so pgverify's are a documented counter-based stream instead).
    public func reset(document: Int) {
        _ = parameters.initialize(repeating: 0)
        for (index, adapter) in resetOrder.enumerated() {
            let bound = 1 / Float(adapter.inFeatures).squareRoot()
            for i in 0..<(rank * adapter.inFeatures) {
                parameters[adapter.a + i] = LoRAInit.uniform(document: document, adapter: index, element: i, bound: bound)
            }
        }
    }

    public func zeroGradients() { _ = gradients.initialize(repeating: 0) }
}

/// pgverify's deterministic draws for LoRA `A` matrices: SplitMix64 of
/// `document · 2⁴⁰ + adapter · 2³² + element`, top 24 bits as a uniform in [0, 1), scaled to
/// `[−bound, bound)`. tools/ttt_goldens.py computes the same numbers for the record's harness.
public enum LoRAInit {
    public static func uniform(document: Int, adapter: Int, element: Int, bound: Float) -> Float {
        var z = UInt64(document) &<< 40 &+ UInt64(adapter) &<< 32 &+ UInt64(element)
        z = z &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z = z ^ (z >> 31)
        let unit = Float(z >> 40) / Float(1 << 24)
        return (2 * unit - 1) * bound
    }
}
