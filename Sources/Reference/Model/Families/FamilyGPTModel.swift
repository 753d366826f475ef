import Foundation

// The records' GPT (2026-04-xx family: `GPT`, `Block`, `CausalSelfAttention`, `MLP` in e.g.
// records/track_10min_16mb/2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT/train_gpt.py),
// forward only, float32, with every feature switchable through `GPTConfig.features`. With
// `ArchitectureFeatures.baseline` it computes the baseline GPT (corpus/parameter-golf/train_gpt.py),
// with whole-stack passes the 2026-03-19 record's: pgverify's one reference model.

/// A record-family GPT's parameters in one flat float32 buffer, loaded by the records' per-layer
/// `state_dict` names (banked records' `qo_bank`/`kv_bank`/`mlp_up_bank`/`mlp_down_bank` must be
/// un-banked into `blocks.{i}.attn.c_q.weight` etc. first, as the records' own `_unbank_state_dict`).
///
/// Immutable after loading; shareable across threads (each forward pass borrows a workspace from
/// the model's pool, one per thread at a time).
public final class FamilyGPTModel: @unchecked Sendable {
    public let config: GPTConfig
    let tokenEmbedding: UnsafePointer<Float>   // [V, C]
    let head: UnsafePointer<Float>             // [V, C]
    let skipWeights: UnsafePointer<Float>?     // [S, C]
    let skipGates: UnsafePointer<Float>?       // [S, C]
    let parallelPostLambdas: UnsafePointer<Float>?   // [L, 2, 2]
    let parallelResidLambdas: UnsafePointer<Float>?  // [L, 2]
    let smearGate: UnsafePointer<Float>?       // [1, window]
    let smearLambda: UnsafePointer<Float>?     // [1]
    let channelSmear: UnsafePointer<Float>?    // [C]
    let bigramEmbedding: UnsafePointer<Float>? // [Vb, Db]
    let bigramProjection: UnsafePointer<Float>?  // [C, Db] when Db ≠ C
    let bigramScale: Float
    let valueEmbedding: UnsafePointer<Float>?  // [V, Dv]
    let valueProjection: UnsafePointer<Float>? // [G·D, Dv] when Dv ≠ G·D
    let valueScale: Float
    /// Per block: the value-embedding scale `ve_layer_scales[k]` if block `i` takes value embeddings.
    let valueLayerScale: [Float?]
    let layers: [Layer]
    /// Whole-stack passes' LoRA, per position of the block schedule (pass · L + block); empty without.
    let adapters: [Adapter]
    /// A block schedule's learned vectors around each position's block (``ArchitectureFeatures/ScheduleVectors``); empty without.
    let positionVectors: [PositionVectors]
    let rotary: RotaryTable
    let rmsEps: Float
    let softcap: Float?
    /// Blocks run before and after the U-Net turn, in order (the looped schedule when looping is active).
    public let encoderSchedule: [Int]
    public let decoderSchedule: [Int]
    /// Skip connections: `min(encoder, decoder)` of the looped schedule whenever a loop is configured.
    public let skipCount: Int

    private let storage: UnsafeMutableBufferPointer<Float>
    /// Forward-pass buffers, lent to one thread at a time.
    let workspaces = FamilyWorkspacePool()

    struct Layer {
        let q, k, v, projection: UnsafePointer<Float>
        let queryGain: UnsafePointer<Float>
        /// `mlp.fc`, or SwiGLU's gate.
        let fc, mlpProjection: UnsafePointer<Float>
        /// SwiGLU's up projection.
        let up: UnsafePointer<Float>?
        let attentionScale, mlpScale, residualMix: UnsafePointer<Float>
        let attentionGate: UnsafePointer<Float>?
        let mlpGate: UnsafePointer<Float>?
        /// `1/√(i+1)` with `layerNormScale`, else 1.
        let normScale: Float
        let exclusiveSelfAttention: Bool
    }

    /// `[C]` vectors added to a position's block input, multiplying and added to its output.
    struct PositionVectors {
        let inputShift, outputScale, outputShift: UnsafePointer<Float>?
    }

    /// One whole-stack pass's low-rank updates of a block's attention: `A` `[in, r]`, `B` `[r, out]`.
    struct Adapter {
        let qA, qB, kA, kB, vA, vB, projA, projB: UnsafePointer<Float>
    }

    var headDim: Int { config.headDim }
    var ropeDims: Int { config.features.ropeDims ?? config.headDim }

    /// Loads `weights`, refusing missing, extra (named as an unsupported feature where we know
    /// which), misshapen or non-finite tensors. `maxPositions` sizes the rotary tables: the longest
    /// flat sequence evaluated (rotary positions run over a whole eval batch, as in the records).
    public init(config: GPTConfig, weights: Weights, maxPositions: Int) throws(ModelWeightsError) {
        try Self.validate(config)
        try Self.validateFeatures(config)
        let weights = try Self.fakeQuantized(weights, config.features.weightFakeQuantization)
        guard maxPositions > 0 else { throw .invalidConfig("sequence length must be positive, got \(maxPositions)") }
        let features = config.features
        let c = config.modelDim, v = config.vocabSize, kvWidth = config.numKVHeads * config.headDim
        let f = config.mlpHidden, layerCount = config.numLayers, heads = config.numHeads
        let schedules = Self.schedules(layers: layerCount, loop: features.loop, stackLoops: features.stackLoops,
                                       blockSchedule: features.blockSchedule)
        let mlp = features.mlpActivation

        var expected: [(name: String, shape: [Int])] = [("tok_emb.weight", [v, c])]
        if !config.tieEmbeddings { expected.append(("lm_head.weight", [v, c])) }
        if schedules.skipCount > 0 || weights["skip_weights"] != nil {
            expected.append(("skip_weights", [schedules.skipCount, c]))
        }
        if features.skipGates { expected.append(("skip_gates", [schedules.skipCount, c])) }
        if features.parallelResiduals != nil {
            expected += [("parallel_post_lambdas", [layerCount, 2, 2]), ("parallel_resid_lambdas", [layerCount, 2])]
        }
        if let smear = features.smearGate {
            expected += [("smear_gate.weight", [1, smear.window]), ("smear_lambda", [1])]
        }
        if features.channelSmearGate { expected.append(("smear.gate", [c])) }
        if let bigram = features.bigramHash {
            expected += [("bigram.embed.weight", [bigram.vocab, bigram.dim]), ("bigram.scale", [])]
            if bigram.dim != c { expected.append(("bigram.proj.weight", [c, bigram.dim])) }
        }
        if let ve = features.valueEmbeddings {
            expected += [("ve_shared.embed.weight", [v, ve.dim]), ("ve_shared.scale", [])]
            if ve.dim != kvWidth { expected.append(("ve_shared.proj.weight", [kvWidth, ve.dim])) }
            for k in ve.layers.indices { expected.append(("ve_layer_scales.\(k)", [1])) }
        }
        for i in 0..<layerCount {
            let p = "blocks.\(i)."
            expected += [
                (p + "attn.c_q.weight", [c, c]), (p + "attn.c_k.weight", [kvWidth, c]),
                (p + "attn.c_v.weight", [kvWidth, c]), (p + "attn.proj.weight", [c, c]),
                (p + "attn.q_gain", [heads]),
            ]
            expected += mlp.weights(hidden: f, dim: c).map { (p + "mlp.\($0.name).weight", $0.shape) }
            expected += [(p + "attn_scale", [c]), (p + "mlp_scale", [c]), (p + "resid_mix", [2, c])]
            switch features.attentionGate {
            case .none: break
            case .outputGate(let window, _): expected.append((p + "attn.attn_gate_proj.weight", [heads, window]))
            case .dense: expected.append((p + "attn.attn_gate_w", [heads, c]))
            case .sparse(let window, _): expected.append((p + "attn.attn_gate_w", [heads, window]))
            }
            if let window = features.mlpOutputGateWindow {
                expected.append((p + "mlp.mlp_gate_proj.weight", [1, window]))
            }
        }
        let passes = features.stackLoops
        if let passes, passes.hasAdapters {
            let r = passes.loraRank
            for position in 0..<(passes.count * layerCount) {
                let p = Self.adapterPrefix(position: position, layers: layerCount)
                expected += [(p + "q_A", [c, r]), (p + "q_B", [r, c]), (p + "k_A", [c, r]), (p + "k_B", [r, kvWidth]),
                             (p + "v_A", [c, r]), (p + "v_B", [r, kvWidth]), (p + "proj_A", [c, r]), (p + "proj_B", [r, c])]
            }
        }
        // A schedule's learned vectors: each tensor once, at the shape the code reads it with.
        var vectorShapes: [String: [Int]] = [:]
        for vector in (features.scheduleVectors ?? []).flatMap(\.all) where vectorShapes[vector.tensor] == nil {
            vectorShapes[vector.tensor] = vector.shape
            if let known = expected.first(where: { $0.name == vector.tensor }) {
                // A tensor the model already reads (a row of skip_weights as a shift) is loaded once.
                if known.shape != vector.shape { throw .shapeMismatch(name: vector.tensor, expected: known.shape, actual: vector.shape) }
            } else {
                expected.append((vector.tensor, vector.shape))
            }
        }

        let expectedNames = Set(expected.map(\.name))
        if let extra = weights.keys.sorted().first(where: { !expectedNames.contains($0) }) {
            if let feature = UnsupportedFeature.forTensor(extra) {
                throw .unsupportedTensor(name: extra, feature: feature.description)
            }
            throw .unexpectedTensor(name: extra)
        }
        var total = 0
        for (name, shape) in expected {
            guard let tensor = weights[name] else { throw .missingTensor(name: name) }
            guard tensor.shape == shape else { throw .shapeMismatch(name: name, expected: shape, actual: tensor.shape) }
            if let bad = tensor.data.firstIndex(where: { !$0.isFinite }) {
                throw .nonFinite(name: name, index: bad, value: tensor.data[bad])
            }
            total += tensor.count
        }

        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(total, 1))
        var offsets: [String: Int] = [:]
        var cursor = 0
        for (name, _) in expected {
            let data = weights[name]!.data  // presence checked above
            offsets[name] = cursor
            _ = UnsafeMutableBufferPointer(rebasing: buffer[cursor..<(cursor + data.count)]).initialize(from: data)
            cursor += data.count
        }
        let base = UnsafePointer(buffer.baseAddress!)
        func view(_ name: String) -> UnsafePointer<Float> { base + offsets[name]! }
        func optionalView(_ name: String) -> UnsafePointer<Float>? { offsets[name].map { base + $0 } }
        /// Block `block` of `f` rows of the MLP weight `mlp.{weight}` of the layer at `prefix`.
        func rows(_ prefix: String, _ input: (weight: String, block: Int)) -> UnsafePointer<Float> {
            view(prefix + "mlp.\(input.weight).weight") + input.block * f * c
        }

        self.storage = buffer
        self.config = config
        self.tokenEmbedding = view("tok_emb.weight")
        self.head = config.tieEmbeddings ? view("tok_emb.weight") : view("lm_head.weight")
        self.skipWeights = optionalView("skip_weights")
        self.skipGates = optionalView("skip_gates")
        self.parallelPostLambdas = optionalView("parallel_post_lambdas")
        self.parallelResidLambdas = optionalView("parallel_resid_lambdas")
        self.smearGate = optionalView("smear_gate.weight")
        self.smearLambda = optionalView("smear_lambda")
        self.channelSmear = optionalView("smear.gate")
        self.bigramEmbedding = optionalView("bigram.embed.weight")
        self.bigramProjection = optionalView("bigram.proj.weight")
        self.bigramScale = optionalView("bigram.scale")?.pointee ?? 0
        self.valueEmbedding = optionalView("ve_shared.embed.weight")
        self.valueProjection = optionalView("ve_shared.proj.weight")
        self.valueScale = optionalView("ve_shared.scale")?.pointee ?? 0
        let veLayers = features.valueEmbeddings?.layers ?? []
        self.valueLayerScale = (0..<layerCount).map { i in
            veLayers.firstIndex(of: i).flatMap { optionalView("ve_layer_scales.\($0)")?.pointee }
        }
        self.layers = (0..<layerCount).map { i in
            let p = "blocks.\(i)."
            return Layer(
                q: view(p + "attn.c_q.weight"), k: view(p + "attn.c_k.weight"), v: view(p + "attn.c_v.weight"),
                projection: view(p + "attn.proj.weight"), queryGain: view(p + "attn.q_gain"),
                fc: rows(p, mlp.inputRows.first), mlpProjection: view(p + "mlp.\(mlp.outputProjection).weight"),
                up: mlp.inputRows.up.map { rows(p, $0) },
                attentionScale: view(p + "attn_scale"), mlpScale: view(p + "mlp_scale"),
                residualMix: view(p + "resid_mix"),
                attentionGate: optionalView(p + "attn.attn_gate_proj.weight") ?? optionalView(p + "attn.attn_gate_w"),
                mlpGate: optionalView(p + "mlp.mlp_gate_proj.weight"),
                normScale: features.layerNormScale ? Float(1.0 / Double(i + 1).squareRoot()) : 1,
                exclusiveSelfAttention: i >= layerCount - features.xsaLastN)
        }
        if let passes, passes.hasAdapters {
            self.adapters = (0..<(passes.count * layerCount)).map { position in
                let p = Self.adapterPrefix(position: position, layers: layerCount)
                return Adapter(qA: view(p + "q_A"), qB: view(p + "q_B"), kA: view(p + "k_A"), kB: view(p + "k_B"),
                               vA: view(p + "v_A"), vB: view(p + "v_B"), projA: view(p + "proj_A"), projB: view(p + "proj_B"))
            }
        } else {
            self.adapters = []
        }
        func vector(_ learned: ArchitectureFeatures.LearnedVector?) -> UnsafePointer<Float>? {
            guard let learned else { return nil }
            // Row-major offset of row `index` of the leading axes.
            let row = zip(learned.index, learned.shape).reduce(0) { $0 * $1.1 + $1.0 }
            return view(learned.tensor) + row * c
        }
        self.positionVectors = (features.scheduleVectors ?? []).map {
            PositionVectors(inputShift: vector($0.inputShift), outputScale: vector($0.outputScale), outputShift: vector($0.outputShift))
        }
        let active = features.loop?.active == true ? schedules.looped : schedules.plain
        self.encoderSchedule = active.encoder
        self.decoderSchedule = active.decoder
        self.skipCount = schedules.skipCount
        let rd = features.ropeDims ?? config.headDim
        var ropeBase = config.ropeBase
        if let trained = features.ropeNTKTrainSeqLen, maxPositions > trained {
            // The March records' Rotary: NTK base scaling for windows longer than training.
            ropeBase *= Foundation.pow(Double(maxPositions) / Double(trained), Double(rd) / Double(rd - 2))
        }
        self.rotary = RotaryTable(headDim: rd, positions: maxPositions, base: ropeBase)
        self.rmsEps = config.rmsNormEps.map(Float.init) ?? Float.ulpOfOne
        if let cap = config.logitSoftcap, cap > 0 { self.softcap = Float(cap) } else { self.softcap = nil }
    }

    deinit { storage.deallocate() }

    /// The longest flat sequence this model's rotary tables cover.
    public var maxPositions: Int { rotary.positions }

    /// The records' block order: plain `0..<L/2 | L/2..<L`, or with a loop
    /// `[0..<start] + (count+1)×[start...end] + [end+1..<L]` cut in half (encoder gets the floor);
    /// whole-stack passes run `count`×`[0..<L]`, and a block schedule its own order, cut in half,
    /// whether looping is active or not.
    public static func schedules(layers: Int, loop: ArchitectureFeatures.Loop?,
                                 stackLoops: ArchitectureFeatures.StackLoops? = nil, blockSchedule: [Int]? = nil)
        -> (plain: (encoder: [Int], decoder: [Int]), looped: (encoder: [Int], decoder: [Int]), skipCount: Int)
    {
        if stackLoops != nil || blockSchedule != nil {
            let all = blockSchedule ?? (0..<(stackLoops?.count ?? 1)).flatMap { _ in 0..<layers }
            let stacked = (encoder: Array(all[..<(all.count / 2)]), decoder: Array(all[(all.count / 2)...]))
            return (stacked, stacked, min(stacked.encoder.count, stacked.decoder.count))
        }
        let plain = (encoder: Array(0..<(layers / 2)), decoder: Array((layers / 2)..<layers))
        guard let loop, loop.count > 0 else {
            return (plain, plain, min(plain.encoder.count, plain.decoder.count))
        }
        var all = Array(0..<loop.start)
        for _ in 0...loop.count { all += Array(loop.start...loop.end) }
        all += Array((loop.end + 1)..<layers)
        let half = all.count / 2
        let looped = (encoder: Array(all[..<half]), decoder: Array(all[half...]))
        return (plain, looped, min(looped.encoder.count, looped.decoder.count))
    }

    /// `lora_adapters.{pass}.{block}.` of the schedule position `pass · L + block`.
    static func adapterPrefix(position: Int, layers: Int) -> String {
        "lora_adapters.\(position / layers).\(position % layers)."
    }

    /// What every configuration must satisfy: positive sizes that divide, an even head, a finite rope
    /// base and softcap, a computable MLP activation, whole-stack passes in range.
    static func validate(_ config: GPTConfig) throws(ModelWeightsError) {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(ModelWeightsError) {
            if !condition { throw .invalidConfig(message()) }
        }
        try require(config.vocabSize > 0, "vocab_size must be positive, got \(config.vocabSize)")
        try require(config.numLayers > 0, "num_layers must be positive, got \(config.numLayers)")
        try require(config.modelDim > 0, "model_dim must be positive, got \(config.modelDim)")
        try require(config.numHeads > 0 && config.numKVHeads > 0, "head counts must be positive")
        try require(config.mlpHidden > 0, "MLP width must be positive, got \(config.mlpHidden)")
        try require(config.modelDim % config.numHeads == 0,
                     "model_dim \(config.modelDim) is not divisible by num_heads \(config.numHeads)")
        try require(config.numHeads % config.numKVHeads == 0,
                     "num_heads \(config.numHeads) is not divisible by num_kv_heads \(config.numKVHeads)")
        try require(config.headDim % 2 == 0, "head_dim \(config.headDim) must be even for rotary embeddings")
        try require(config.ropeBase.isFinite && config.ropeBase > 0, "rope_base must be positive")
        if let cap = config.logitSoftcap { try require(cap.isFinite && cap >= 0, "logit_softcap must be ≥ 0") }
        if let invalidity = config.features.mlpActivation.invalidity { throw .invalidConfig(invalidity) }
        if let passes = config.features.stackLoops {
            try require(passes.count >= 1 && passes.count <= 64 && passes.loraRank >= 0 && passes.loraRank <= config.modelDim,
                        "whole-stack passes \(passes.count) (1...64) and LoRA rank \(passes.loraRank) (0...\(config.modelDim))")
        }
        if let schedule = config.features.blockSchedule {
            try require(!schedule.isEmpty && schedule.count <= maxScheduledDepth
                            && schedule.allSatisfy { (0..<config.numLayers).contains($0) },
                        "block schedule of depth \(schedule.count) (1...\(maxScheduledDepth)) must name blocks of 0..<\(config.numLayers)")
        }
        if let positions = config.features.scheduleVectors {
            let depth = config.features.blockSchedule?.count
            try require(depth == positions.count,
                        "learned vectors for \(positions.count) schedule positions, but the block schedule has \(depth.map(String.init) ?? "none")")
            var shapes: [String: [Int]] = [:]
            for vector in positions.flatMap(\.all) {
                let shape = vector.shape
                try require(!vector.tensor.isEmpty && shape.count == vector.index.count + 1
                                && shape.last == config.modelDim && shape.dropLast().allSatisfy { $0 > 0 && $0 <= maxScheduledDepth * 64 }
                                && zip(vector.index, shape).allSatisfy { (0..<$1).contains($0) }
                                && shape.dropLast().reduce(1, *) <= maxScheduledDepth * 64,
                            "learned vector \(vector.spelled) of a tensor \(shape) must be a row of [model_dim = \(config.modelDim)] within its shape")
                try require(shapes[vector.tensor].map { $0 == shape } ?? true,
                            "tensor \(vector.tensor) is read at two shapes, \(shapes[vector.tensor] ?? []) and \(shape)")
                shapes[vector.tensor] = shape
            }
        }
    }

    /// The deepest block schedule run (a bound on the work a configuration can ask for).
    public static let maxScheduledDepth = 1024

    static func validateFeatures(_ config: GPTConfig) throws(ModelWeightsError) {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(ModelWeightsError) {
            if !condition { throw .invalidConfig(message()) }
        }
        let features = config.features, c = config.modelDim
        // The one record with whole-stack passes (2026-03-19) has the baseline's blocks: no record combines them with a family feature.
        try require(features.stackLoops == nil || features.runsOnBaselineModel,
                    "whole-stack passes (NUM_LOOPS without LOOP_START/LOOP_END) run only with the baseline's blocks, not with record-family features")
        try require(features.blockSchedule == nil || (features.runsOnBaselineModel && features.stackLoops == nil),
                    "a block schedule (weight-shared blocks) runs only with the baseline's blocks, not with whole-stack passes or record-family features")
        if let rd = features.ropeDims {
            try require(rd > 0 && rd % 2 == 0 && rd <= config.headDim,
                        "rope_dims \(rd) must be even and in 2...\(config.headDim) (head_dim)")
        }
        try require(features.xsaLastN >= 0, "xsa_last_n must be ≥ 0, got \(features.xsaLastN)")
        if let loop = features.loop {
            try require(loop.count >= 0 && loop.start >= 0 && loop.start <= loop.end && loop.end < config.numLayers,
                        "loop \(loop.start)...\(loop.end) ×\(loop.count) does not fit \(config.numLayers) layers")
        }
        if let smear = features.smearGate {
            try require(smear.window > 0 && smear.window <= c, "smear gate window \(smear.window) must be in 1...\(c)")
        }
        switch features.attentionGate {
        case .outputGate(let window, _), .sparse(let window, _):
            try require(window > 0 && window <= c, "attention gate window \(window) must be in 1...\(c)")
        case .none, .dense: break
        }
        if let window = features.mlpOutputGateWindow {
            try require(window > 0 && window <= c, "MLP gate window \(window) must be in 1...\(c)")
        }
        if let bigram = features.bigramHash {
            try require(bigram.vocab > 1 && bigram.dim > 0, "bigram table [\(bigram.vocab), \(bigram.dim)] must have ≥ 2 rows")
        }
        if let ve = features.valueEmbeddings {
            try require(ve.dim > 0 && ve.layers.allSatisfy { (0..<config.numLayers).contains($0) },
                        "value-embedding layers \(ve.layers) must be blocks of 0..<\(config.numLayers)")
        }
        if let trained = features.ropeNTKTrainSeqLen {
            try require(trained > 0 && (features.ropeDims ?? config.headDim) > 2, "NTK rotary scaling needs rope_dims > 2")
        }
        if case .leakyReluSquared(let slope) = features.mlpActivation {
            try require(slope.isFinite, "leaky_relu slope must be finite")
        }
    }
}
