/// Per-row LoRA adapters on a record-family model (the records' `BatchedTTTLoRA`): on every slot
/// (active layer pass) the query, value and, when switched on, key, MLP-output and attention-output
/// projections, plus the output head; `Δ(x) = scale · (x·Aᵀ)·Bᵀ` per row.
///
/// Layout of ``parameters`` / ``gradients``: adapters in reset order — the head, then the queries of
/// slots `0..<S`, the values, the keys, the MLPs, the outputs (absent kinds skipped) — each as `A`
/// `[rows, rank, in]` followed by `B` `[rows, out, rank]` (the records' tensor layouts).
public final class FamilyLoRAAdapters: BatchedLoRAAdapters {
    /// One adapter's place in the flat buffers.
    public struct Adapter: Sendable, Equatable {
        /// The records' module name: `lm_head_lora`, `q_loras.3`, `v_loras.0`, `k_loras.1`, `mlp_loras.2`, `o_loras.4`.
        public let name: String
        public let a: Int
        public let b: Int
        public let inFeatures: Int
        public let outFeatures: Int
    }

    public let rows: Int
    public let rank: Int
    public let targets: LoRATargets
    /// The output multiplier of every adapter (`TTT_LORA_ALPHA / rank` for records that scale, else 1).
    public let scale: Float
    /// Every adapter in reset order.
    public let adapters: [Adapter]
    public let parameters: UnsafeMutableBufferPointer<Float>
    public let gradients: UnsafeMutableBufferPointer<Float>
    let head: Adapter
    let query: [Adapter], value: [Adapter]
    let key: [Adapter]?, mlp: [Adapter]?, output: [Adapter]?

    init(rows: Int, rank: Int, targets: LoRATargets, slots: Int, modelDim c: Int, kvWidth: Int, vocab: Int, scale: Float) {
        precondition(rows > 0 && rank > 0 && slots >= 0)
        var cursor = 0
        var all: [Adapter] = []
        func adapter(_ name: String, _ inFeatures: Int, _ outFeatures: Int) -> Adapter {
            let result = Adapter(name: name, a: cursor, b: cursor + rows * rank * inFeatures, inFeatures: inFeatures,
                                 outFeatures: outFeatures)
            cursor += rows * rank * (inFeatures + outFeatures)
            all.append(result)
            return result
        }
        head = adapter("lm_head_lora", c, vocab)
        query = (0..<slots).map { adapter("q_loras.\($0)", c, c) }
        value = (0..<slots).map { adapter("v_loras.\($0)", c, kvWidth) }
        key = targets.key ? (0..<slots).map { adapter("k_loras.\($0)", c, kvWidth) } : nil
        mlp = targets.mlp ? (0..<slots).map { adapter("mlp_loras.\($0)", c, c) } : nil
        output = targets.output ? (0..<slots).map { adapter("o_loras.\($0)", c, c) } : nil
        self.adapters = all
        self.rows = rows
        self.rank = rank
        self.targets = targets
        self.scale = scale
        parameters = .allocate(capacity: max(cursor, 1))
        parameters.initialize(repeating: 0)
        gradients = .allocate(capacity: max(cursor, 1))
        gradients.initialize(repeating: 0)
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    /// The adapter the records call `name` (see ``Adapter/name``), if present.
    public func adapter(named name: String) -> Adapter? { adapters.first { $0.name == name } }

    public func reset(row: Int, document: Int) {
        precondition((0..<rows).contains(row))
        for (index, adapter) in adapters.enumerated() {
            let bound = 1 / Float(adapter.inFeatures).squareRoot()
            let a = adapter.a + row * rank * adapter.inFeatures
            for i in 0..<(rank * adapter.inFeatures) {
                parameters[a + i] = LoRAInit.uniform(document: document, adapter: index, element: i, bound: bound)
            }
            let b = adapter.b + row * adapter.outFeatures * rank
            for i in 0..<(adapter.outFeatures * rank) { parameters[b + i] = 0 }
        }
    }

    /// Row `row` for a new document under the records' warm start (`TTT_WARM_START_A=1`, the default
    /// from 2026-04-23 on: `BatchedLinearLoRA.reset` zeroes only `B`, keeping `A` from its last draw).
    public func resetKeepingA(row: Int) {
        precondition((0..<rows).contains(row))
        for adapter in adapters {
            let b = adapter.b + row * adapter.outFeatures * rank
            for i in 0..<(adapter.outFeatures * rank) { parameters[b + i] = 0 }
        }
    }

    public func zeroGradients() { gradients.initialize(repeating: 0) }

    /// `adapter` from row `firstRow` on (a forward over some of the batch's rows).
    func tape(_ adapter: Adapter, firstRow: Int = 0) -> TapeLoRA {
        let p = parameters.baseAddress!, g = gradients.baseAddress!
        let a = adapter.a + firstRow * rank * adapter.inFeatures, b = adapter.b + firstRow * adapter.outFeatures * rank
        return TapeLoRA(a: TapeParameter(p + a, gradient: g + a), b: TapeParameter(p + b, gradient: g + b),
                        rank: rank, inFeatures: adapter.inFeatures, outFeatures: adapter.outFeatures, scale: scale)
    }
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
