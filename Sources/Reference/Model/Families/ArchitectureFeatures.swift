/// The architecture features the records add to the baseline GPT. Every field defaults to the
/// baseline's behaviour, so ``ArchitectureFeatures/baseline`` is exactly the baseline model.
///
/// The features follow the records' own code (`GPT`, `Block`, `CausalSelfAttention`, `MLP` of the
/// 2026-04-xx records in `records/track_10min_16mb/`, e.g. 2026-04-27_SmearGateBOSFix_PR1787Base_…);
/// the env names the records use are given with each field.
public struct ArchitectureFeatures: Sendable, Equatable, Codable {
    /// The MLP's nonlinearity before the down projection (`mlp.proj`, or SwiGLU's own name for it).
    public enum MLPActivation: Sendable, Equatable, Codable {
        /// `relu(x)²` (baseline).
        case reluSquared
        /// `leaky_relu(x, slope)²` (records from 2026-03-23 on: slope 0.5).
        case leakyReluSquared(slope: Double)
        /// `relu(x)^exponent` for an exponent other than 2 (`relu(x) ** 3`, or a power from a setting).
        case reluPower(exponent: Double)
        /// SwiGLU: `silu(gate(x)) · up(x)` of two projections of the same input, `mlp.{gate}.weight` and
        /// `mlp.{up}.weight` (`[hidden, dim]` each), then the down projection `mlp.{down}.weight`
        /// (`[dim, hidden]`); the names as the code's `MLP` has them (`gate`, `up`, `proj` in
        /// 2026-03-20_SwiGLU_576_SlidingWindow_MuonWD, `gate`, `fc` in others, `down` in 2026-03-19_combinedOpt).
        case swiGLU(gate: String, up: String, down: String = "proj")
        /// SwiGLU from one fused projection `mlp.{fused}.weight` (`[2·hidden, dim]`) whose output is split
        /// into halves as `chunk(2, dim=-1)` splits it: rows `[0, hidden)` give the first half, rows
        /// `[hidden, 2·hidden)` the second; `gateFirst` says the first half is the gated one.
        case fusedSwiGLU(fused: String, gateFirst: Bool, down: String = "proj")

        /// The activation in words, for reports: `relu²`, `leaky_relu(0.5)²`, `relu^3`, `swiglu(silu(gate)·up)`,
        /// `swiglu(silu(gate_up[:half])·gate_up[half:])`; a down projection not named `proj` follows as `→down`.
        public var formula: String {
            switch self {
            case .reluSquared: return "relu²"
            case .leakyReluSquared(let slope): return "leaky_relu(\(ForwardAttribute.format(slope)))²"
            case .reluPower(let exponent): return "relu^\(ForwardAttribute.format(exponent))"
            case .swiGLU(let gate, let up, _): return "swiglu(silu(\(gate))·\(up))" + downSuffix
            case .fusedSwiGLU(let fused, let gateFirst, _):
                let (gated, other) = gateFirst ? ("[:half]", "[half:]") : ("[half:]", "[:half]")
                return "swiglu(silu(\(fused)\(gated))·\(fused)\(other))" + downSuffix
            }
        }

        private var downSuffix: String { outputProjection == "proj" ? "" : "→" + outputProjection }

        /// Whether the MLP is gated (SwiGLU, fused or not): it computes two projections of its input.
        public var isSwiGLU: Bool {
            switch self {
            case .reluSquared, .leakyReluSquared, .reluPower: false
            case .swiGLU, .fusedSwiGLU: true
            }
        }

        /// The down projection's module name under `blocks.{i}.mlp.`.
        public var outputProjection: String {
            switch self {
            case .reluSquared, .leakyReluSquared, .reluPower: "proj"
            case .swiGLU(_, _, let down), .fusedSwiGLU(_, _, let down): down
            }
        }

        /// The MLP's weights under `blocks.{i}.mlp.` (`.weight`) and their shapes for a hidden width `f`
        /// and model width `c`: the input projections (`fc`; SwiGLU's gate and up, or its fused pair), then the
        /// down projection.
        public func weights(hidden f: Int, dim c: Int) -> [(name: String, shape: [Int])] {
            let inputs: [(String, [Int])]
            switch self {
            case .reluSquared, .leakyReluSquared, .reluPower: inputs = [("fc", [f, c])]
            case .swiGLU(let gate, let up, _): inputs = [(gate, [f, c]), (up, [f, c])]
            case .fusedSwiGLU(let fused, _, _): inputs = [(fused, [2 * f, c])]
            }
            return (inputs + [(outputProjection, [c, f])]).map { (name: $0.0, shape: $0.1) }
        }

        /// Where the first input projection (`fc`, or SwiGLU's gate) and SwiGLU's up projection are read:
        /// a weight under `mlp.` and which block of `hidden` rows of it (0, or 1 for a fused pair's second half).
        public var inputRows: (first: (weight: String, block: Int), up: (weight: String, block: Int)?) {
            switch self {
            case .reluSquared, .leakyReluSquared, .reluPower: (("fc", 0), nil)
            case .swiGLU(let gate, let up, _): ((gate, 0), (up, 0))
            case .fusedSwiGLU(let fused, let gateFirst, _): ((fused, gateFirst ? 0 : 1), (fused, gateFirst ? 1 : 0))
            }
        }

        /// Why the reference cannot compute it, or `nil`: a slope must be finite, an exponent finite
        /// and positive (relu's zeros to a power ≤ 0 are not finite); SwiGLU's weights must be distinct
        /// module names.
        public var invalidity: String? {
            switch self {
            case .reluSquared: return nil
            case .leakyReluSquared(let slope): return slope.isFinite ? nil : "leaky_relu slope must be finite"
            case .reluPower(let exponent): return exponent.isFinite && exponent > 0 ? nil : "relu power \(exponent) must be finite and positive"
            case .swiGLU, .fusedSwiGLU:
                let names = weights(hidden: 1, dim: 1).map(\.name)
                return names.allSatisfy(Self.isModuleName) && Set(names).count == names.count ? nil
                    : "SwiGLU projections " + names.map { "'\($0)'" }.joined(separator: ", ") + " must be different module names"
            }
        }

        /// A Python identifier: one component of a state-dict name.
        static func isModuleName(_ name: String) -> Bool {
            guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
                return false
            }
            return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
        }
    }

    /// Where an attention output gate reads its input from.
    public enum GateSource: String, Sendable, Equatable, Codable {
        /// The attention's (normalised, depth-scaled) input `x` (`ATTN_OUT_GATE_SRC=proj`).
        case blockInput = "proj"
        /// The raw query projection `x·W_qᵀ`, before reshape, norm and RoPE (`…_SRC=q`).
        case queryProjection = "q"
    }

    /// A per-head gate on the attention output (after XSA, before the output projection).
    public enum AttentionGate: Sendable, Equatable, Codable {
        case none
        /// `y_h *= 2·σ(W_h · src[:window])`, `W` = `attn.attn_gate_proj.weight` `[H, window]`
        /// (`ATTN_OUT_GATE_ENABLED` / `GATE_ATTN_OUT`, record 2026-04-16 on).
        case outputGate(window: Int, source: GateSource)
        /// `y_h *= σ(W_h · x)`, `W` = `attn.attn_gate_w` `[H, C]` (`GATED_ATTN_ENABLED`).
        case dense
        /// `y_h *= σ(scale · W_h · x[:window])`, `W` = `attn.attn_gate_w` `[H, window]`
        /// (`SPARSE_ATTN_GATE_ENABLED`, `SPARSE_ATTN_GATE_SCALE`).
        case sparse(window: Int, scale: Double)
    }

    /// SmearGate: `x_t += λ·σ(W · x_t[:window]) · x_{t−1}` on the token embeddings, before the
    /// first norm; `smear_gate.weight` `[1, window]`, `smear_lambda` `[1]`.
    public struct SmearGate: Sendable, Equatable, Codable {
        public var window: Int
        /// With the BOS fix (records 2026-04-27 on) the gate is 0 where the current token is this
        /// id, so no document smears into the next; `nil` smears across every position.
        public var resetToken: Int?

        public init(window: Int, resetToken: Int?) {
            self.window = window
            self.resetToken = resetToken
        }
    }

    /// Depth recurrence: blocks `start...end` run `1 + count` times in a row when active
    /// (`NUM_LOOPS`, `LOOP_START`, `LOOP_END`; the records switch it on before every eval).
    public struct Loop: Sendable, Equatable, Codable {
        public var start: Int
        public var end: Int
        public var count: Int
        public var active: Bool

        public init(start: Int, end: Int, count: Int, active: Bool = true) {
            self.start = start
            self.end = end
            self.count = count
            self.active = active
        }
    }

    /// Whole-stack depth recurrence (2026-03-19_SlidingWindowEval's `NUM_LOOPS` without
    /// LOOP_START/LOOP_END): the L blocks run `count` times in a row, an effective depth of L·count
    /// with the U-Net skips over it; with `loraRank` > 0 each pass has its own low-rank update of the
    /// attention's q, k, v and output projections, `(x @ A) @ B` added to `c_q(x)` etc.
    /// (`lora_adapters.{pass}.{block}.{q,k,v,proj}_{A,B}`, `LORA_RANK`; only when `count` > 1).
    public struct StackLoops: Sendable, Equatable, Codable {
        public var count: Int
        public var loraRank: Int

        public init(count: Int, loraRank: Int) {
            self.count = count
            self.loraRank = loraRank
        }

        /// Whether the passes carry LoRA adapters (the record creates them only for more than one pass).
        public var hasAdapters: Bool { loraRank > 0 && count > 1 }
    }

    /// A learned `[model_dim]` vector of the state dict: row `index` (one entry per leading axis) of the
    /// tensor `tensor` of shape `shape` (`shape` is `index.count` leading axes, then model_dim).
    public struct LearnedVector: Sendable, Hashable, Codable {
        public var tensor: String
        public var shape: [Int]
        public var index: [Int]

        public init(tensor: String, shape: [Int], index: [Int]) {
            self.tensor = tensor
            self.shape = shape
            self.index = index
        }

        /// `tensor[i, j, …]` as the code spells it.
        public var spelled: String { index.isEmpty ? tensor : "\(tensor)[\(index.map(String.init).joined(separator: ", "))]" }
    }

    /// What one position of a block schedule adds around its block application: `x + inputShift` is the
    /// block's input (after the U-Net skip), `block(x)·outputScale + outputShift` its output (what the
    /// encoder saves for the skip). Weight-shared forks learn these per repeat (`loop_embed[r]`,
    /// `loop_scales[r, b]`, `loop_biases[r, b]`).
    public struct ScheduleVectors: Sendable, Equatable, Codable {
        public var inputShift: LearnedVector?
        public var outputScale: LearnedVector?
        public var outputShift: LearnedVector?

        public init(inputShift: LearnedVector? = nil, outputScale: LearnedVector? = nil, outputShift: LearnedVector? = nil) {
            self.inputShift = inputShift
            self.outputScale = outputScale
            self.outputShift = outputShift
        }

        public var all: [LearnedVector] { [inputShift, outputScale, outputShift].compactMap { $0 } }
    }

    /// Which lane feeds the final norm when the decoder runs parallel residual lanes.
    public enum FinalLane: String, Sendable, Equatable, Codable {
        case mean, attention = "attn", mlp
    }

    /// Parallel residuals: decoder blocks with index ≥ `startLayer` keep an attention lane and an
    /// MLP lane mixed by `parallel_resid_lambdas` / `parallel_post_lambdas` (`PARALLEL_START_LAYER`,
    /// `PARALLEL_FINAL_LANE`).
    public struct ParallelResiduals: Sendable, Equatable, Codable {
        public var startLayer: Int
        public var finalLane: FinalLane

        public init(startLayer: Int, finalLane: FinalLane = .mean) {
            self.startLayer = startLayer
            self.finalLane = finalLane
        }
    }

    /// BigramHash embeddings (records 2026-03-2x, `BigramHashEmbedding`): `tok_emb + scale ·
    /// proj(embed[hash])` before the first norm, with `hash_t = (36313·x_t ⊕ 27191·x_{t−1}) mod
    /// (vocab − 1)` and `vocab − 1` at a window's first position (`BIGRAM_VOCAB_SIZE`, `BIGRAM_DIM`);
    /// the trigram variant (`TRIGRAM=1`) adds `embed[(36313·x_t ⊕ 27191·x_{t−1} ⊕ 51497·x_{t−2}) mod (vocab − 1)]`.
    public struct BigramHash: Sendable, Equatable, Codable {
        public var vocab: Int
        public var dim: Int
        public var trigram: Bool

        public init(vocab: Int, dim: Int, trigram: Bool = false) {
            self.vocab = vocab
            self.dim = dim
            self.trigram = trigram
        }
    }

    /// Value embeddings (records 2026-03-2x, `ValueEmbedding`): at the listed blocks the values get
    /// `ve_layer_scales[k] · scale · proj(embed[x_t])` added (`VE_ENABLED`, `VE_DIM`, `VE_LAYERS`).
    public struct ValueEmbeddings: Sendable, Equatable, Codable {
        public var layers: [Int]
        public var dim: Int

        public init(layers: [Int], dim: Int) {
            self.layers = layers
            self.dim = dim
        }
    }

    public var bigramHash: BigramHash?
    public var valueEmbeddings: ValueEmbeddings?
    /// The March records' `SmearGate(dim)`: after the first norm, `x_t = (1 − σ(g))·x_t + σ(g)·x_{t−1}`
    /// per channel (`smear.gate` `[C]`; zero before a window's first token).
    public var channelSmearGate: Bool = false
    /// NTK rotary scaling of the March records' `Rotary`: windows longer than this (hard-coded 1,024
    /// there) use base `base · (L / this)^(rd / (rd − 2))`, `L` the window length.
    public var ropeNTKTrainSeqLen: Int?

    public var mlpActivation: MLPActivation = .reluSquared
    /// Rotary dimensions per head (`ROPE_DIMS`); `nil` rotates the whole head (baseline).
    public var ropeDims: Int?
    /// Exclusive self-attention on the last `xsaLastN` blocks (`XSA_LAST_N`): the attention output
    /// loses its component along the token's own (normalised) value vector.
    public var xsaLastN: Int = 0
    /// Norm outputs scaled by `1/√(layer+1)` (`LN_SCALE`).
    public var layerNormScale: Bool = false
    /// U-Net skips mixed by `lerp(w·skip, x, σ(skip_gates))` instead of `x + w·skip` (`SKIP_GATES_ENABLED`).
    public var skipGates: Bool = false
    public var loop: Loop?
    /// Whole-stack passes (``StackLoops``), with the baseline's blocks only (no record combines them with another feature).
    public var stackLoops: StackLoops?
    /// Weight-shared blocks: the unique blocks' indices in the order the forward runs them over its whole
    /// depth (`blocks[i % n]` for `i` in `0..<depth` is `[0, 1, …, n−1, 0, 1, …]`); the U-Net skips follow
    /// that depth. `nil`: each block once, in order. With the baseline's blocks only.
    public var blockSchedule: [Int]?
    /// Per position of ``blockSchedule`` (same count): learned vectors around that block application; `nil`: none.
    public var scheduleVectors: [ScheduleVectors]?
    public var parallelResiduals: ParallelResiduals?
    public var smearGate: SmearGate?
    public var attentionGate: AttentionGate = .none
    /// Scalar MLP output gate `out *= 2·σ(W · x[:window])`, `mlp.mlp_gate_proj.weight` `[1, window]`
    /// (`GATE_MLP_OUT`, record 2026-04-16).
    public var mlpOutputGateWindow: Int?
    /// Weights the forward fake-quantizes at evaluation (a late-QAT switch left on): replaced when loaded.
    public var weightFakeQuantization: WeightFakeQuantization?

    public init() {}

    /// The baseline GPT.
    public static let baseline = ArchitectureFeatures()

    /// Whether this is the baseline's architecture, evaluated and matched as the baseline's: nothing but
    /// (at most) the MLP activation, whole-stack passes, a block schedule (with its learned vectors) and fake-quantized
    /// weights differ from the baseline's.
    public var runsOnBaselineModel: Bool {
        var structure = self
        structure.mlpActivation = .reluSquared
        structure.stackLoops = nil
        structure.blockSchedule = nil
        structure.scheduleVectors = nil
        structure.weightFakeQuantization = nil
        return structure == .baseline
    }
}
