import Foundation

/// A record-family GPT (the 2026-04 `GPT` of e.g. records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT)
/// that computes gradients: the same function as ``FamilyGPTModel`` (and as the records' varlen
/// `GPT.forward` and `GPT.forward_ttt` with `BatchedTTTLoRA`), in float32, through a reverse-mode
/// ``GradientTape``. Conforms to ``PhasedTTTModel`` and ``ChunkedTTTModel``. With the baseline's features
/// (``init(baseline:weights:)``) it is the baseline GPT that the baseline's score-first TTT trains.
///
/// ``baseParameters`` holds every tensor ``FamilyGPTModel`` loads (the records' `base_model.parameters()`,
/// banks un-banked into per-layer names), in ``parameterEntries`` order: `tok_emb.weight`,
/// `lm_head.weight` (untied only), `skip_weights`, `skip_gates`, `parallel_post_lambdas`,
/// `parallel_resid_lambdas`, `smear_gate.weight`, `smear_lambda` (each when configured), then per block
/// `c_q, c_k, c_v, proj, q_gain, fc, mlp.proj, attn_scale, mlp_scale, resid_mix` and its gate weights.
///
/// The March family's BigramHash, value embeddings and SmearGate(dim) load only through
/// ``init(forBaseGradients:weights:)`` (their records train every parameter and have no LoRA
/// `forward_ttt`); the LoRA initialiser refuses them with
/// ``ModelWeightsError/unsupportedSetting(name:value:feature:)``.
public final class DifferentiableFamilyGPT: PhasedTTTModel {
    public typealias Adapters = FamilyLoRAAdapters

    /// One tensor of ``baseParameters``.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let config: GPTConfig
    /// Every tensor of ``baseParameters``, in buffer order.
    public let parameterEntries: [Entry]
    public let baseParameters: UnsafeMutableBufferPointer<Float>
    public let baseGradients: UnsafeMutableBufferPointer<Float>
    /// `TTT_LORA_ALPHA` of records whose `BatchedLinearLoRA` scales by `alpha / rank` (2026-04-23 on), else `nil`.
    public let loraAlpha: Double?
    /// Blocks run before and after the U-Net turn (the looped schedule when the loop is active).
    public let encoderSchedule: [Int]
    public let decoderSchedule: [Int]
    public let skipCount: Int
    let offsets: [String: Int]
    /// Values the forward reads instead of a tensor's parameters (gradients still go to the
    /// parameters: a straight-through estimator); set only around one training forward/backward.
    var forwardValueOverrides: [String: UnsafePointer<Float>] = [:]
    /// Blocks `0..<gradientFreeBlocks` get no parameter gradients (the backward still runs through them);
    /// set only around one training forward/backward of the chunked TTT, whose frozen blocks need none.
    var gradientFreeBlocks = 0
    /// Whether training steps of the chunked TTT run the `CastedLinear` projections through the
    /// records' late-QAT fake quantisation (see ``accumulateSequenceGradients(stream:sequences:length:frozenBlocks:)``).
    public var lateQATInTraining = false
    let rmsEps: Float
    let softcap: Float?
    private var rotaryCache: RotaryTable?
    /// Threads a forward/backward may use: a TTT batch's rows run side by side (each on its own tape),
    /// a single stream's matrix products and attention segments split in fixed tiles. The numbers
    /// are the same for any count.
    public var threads = 1
    /// Tape memory kept between steps, one pool per worker.
    private var pools: [TapeBufferPool] = []

    /// Loads `weights` (the names and shapes ``FamilyGPTModel`` loads) for the records' phased LoRA TTT
    /// (`forward_ttt`, 2026-04 on), refusing missing, extra, misshapen or non-finite tensors and the
    /// March family's features (its records have no `forward_ttt`/LoRA: use ``init(forBaseGradients:weights:)``).
    public convenience init(config: GPTConfig, weights: Weights, loraAlpha: Double? = nil) throws(ModelWeightsError) {
        let features = config.features
        if let bigram = features.bigramHash {
            throw .unsupportedSetting(name: "BIGRAM_VOCAB_SIZE", value: "\(bigram.vocab)",
                                      feature: "LoRA TTT of the March family (BigramHash; its records have no forward_ttt)")
        }
        if let ve = features.valueEmbeddings {
            throw .unsupportedSetting(name: "VE_LAYERS", value: ve.layers.map(String.init).joined(separator: ","),
                                      feature: "LoRA TTT of the March family (value embeddings; its records have no forward_ttt)")
        }
        if features.channelSmearGate {
            throw .unsupportedSetting(name: "smear.gate", value: "SmearGate(dim)",
                                      feature: "LoRA TTT of the March family (SmearGate(dim); its records have no forward_ttt)")
        }
        try self.init(validated: config, weights: weights, loraAlpha: loraAlpha)
    }

    /// Loads `weights` for base-parameter gradients only (``accumulateBaseGradients(rows:inputs:targets:)``,
    /// ``accumulateBaseGradients(inputs:targets:segmentStarts:)``), accepting every feature
    /// ``FamilyGPTModel`` runs, the March family's included (its records' TTT trains all parameters).
    /// Adapters still work on such a model but have no record counterpart for the March family.
    public convenience init(forBaseGradients config: GPTConfig, weights: Weights) throws(ModelWeightsError) {
        try self.init(validated: config, weights: weights, loraAlpha: nil)
    }

    /// Loads the baseline GPT (`ArchitectureFeatures.baseline`) for the baseline's score-first TTT: the
    /// chunked SGD TTT (``ChunkedTTTModel``) and 2026-03-17's per-document LoRA TTT (``LoRATTTEvaluator``).
    /// Refuses by name every other feature set, the baseline's variants included (another MLP activation,
    /// whole-stack passes, a block schedule): no golden from a record's own code proves their TTT.
    public convenience init(baseline config: GPTConfig, weights: Weights) throws(ModelWeightsError) {
        let f = config.features
        guard f == .baseline else {
            let what = !f.runsOnBaselineModel ? "record-family features"
                : f.stackLoops != nil ? "whole-stack passes (NUM_LOOPS)"
                : f.blockSchedule != nil ? "a block schedule (weight-shared blocks)" : f.mlpActivation.formula + " in its MLP"
            throw .invalidConfig("the baseline's test-time training runs the baseline GPT only (relu² MLP, each block once); "
                + "this configuration has " + what)
        }
        try self.init(validated: config, weights: weights, loraAlpha: nil)
    }

    private init(validated config: GPTConfig, weights: Weights, loraAlpha: Double?) throws(ModelWeightsError) {
        try FamilyGPTModel.validate(config)
        try FamilyGPTModel.validateFeatures(config)
        if config.features.mlpActivation.isSwiGLU {
            throw .invalidConfig("the differentiable family model trains relu², leaky-ReLU(α)² and relu^p MLPs; this configuration has "
                + config.features.mlpActivation.formula + " (SwiGLU) in its MLP")
        }
        if config.features.blockSchedule != nil {
            throw .invalidConfig("a block schedule (weight-shared blocks): the differentiable model runs each block once; it does not train shared blocks")
        }
        if config.features.stackLoops != nil {
            throw .invalidConfig("whole-stack passes (NUM_LOOPS without LOOP_START/LOOP_END): the differentiable model has no per-pass adapters; it does not train them")
        }
        let features = config.features
        let c = config.modelDim, v = config.vocabSize, kvWidth = config.numKVHeads * config.headDim
        let f = config.mlpHidden, layerCount = config.numLayers, heads = config.numHeads
        let schedules = FamilyGPTModel.schedules(layers: layerCount, loop: features.loop)

        var expected: [(name: String, shape: [Int])] = [("tok_emb.weight", [v, c])]
        if !config.tieEmbeddings { expected.append(("lm_head.weight", [v, c])) }
        if schedules.skipCount > 0 || weights["skip_weights"] != nil { expected.append(("skip_weights", [schedules.skipCount, c])) }
        if features.skipGates { expected.append(("skip_gates", [schedules.skipCount, c])) }
        if features.parallelResiduals != nil {
            expected += [("parallel_post_lambdas", [layerCount, 2, 2]), ("parallel_resid_lambdas", [layerCount, 2])]
        }
        if let smear = features.smearGate { expected += [("smear_gate.weight", [1, smear.window]), ("smear_lambda", [1])] }
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
                (p + "attn.c_q.weight", [c, c]), (p + "attn.c_k.weight", [kvWidth, c]), (p + "attn.c_v.weight", [kvWidth, c]),
                (p + "attn.proj.weight", [c, c]), (p + "attn.q_gain", [heads]),
                (p + "mlp.fc.weight", [f, c]), (p + "mlp.proj.weight", [c, f]),
                (p + "attn_scale", [c]), (p + "mlp_scale", [c]), (p + "resid_mix", [2, c]),
            ]
            switch features.attentionGate {
            case .none: break
            case .outputGate(let window, _): expected.append((p + "attn.attn_gate_proj.weight", [heads, window]))
            case .dense: expected.append((p + "attn.attn_gate_w", [heads, c]))
            case .sparse(let window, _): expected.append((p + "attn.attn_gate_w", [heads, window]))
            }
            if let window = features.mlpOutputGateWindow { expected.append((p + "mlp.mlp_gate_proj.weight", [1, window])) }
        }
        let expectedNames = Set(expected.map(\.name))
        if let extra = weights.keys.sorted().first(where: { !expectedNames.contains($0) }) {
            if let feature = UnsupportedFeature.forTensor(extra) { throw .unsupportedTensor(name: extra, feature: feature.description) }
            throw .unexpectedTensor(name: extra)
        }
        var entries: [Entry] = []
        var cursor = 0
        for (name, shape) in expected {
            guard let tensor = weights[name] else { throw .missingTensor(name: name) }
            guard tensor.shape == shape else { throw .shapeMismatch(name: name, expected: shape, actual: tensor.shape) }
            if let bad = tensor.data.firstIndex(where: { !$0.isFinite }) {
                throw .nonFinite(name: name, index: bad, value: tensor.data[bad])
            }
            entries.append(Entry(name: name, shape: shape, offset: cursor))
            cursor += tensor.count
        }
        baseParameters = .allocate(capacity: max(cursor, 1))
        baseParameters.initialize(repeating: 0)
        baseGradients = .allocate(capacity: max(cursor, 1))
        baseGradients.initialize(repeating: 0)
        for entry in entries {
            let data = weights[entry.name]!.data  // presence checked above
            _ = UnsafeMutableBufferPointer(rebasing: baseParameters[entry.offset..<(entry.offset + entry.count)]).initialize(from: data)
        }
        self.config = config
        self.parameterEntries = entries
        self.offsets = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.offset) })
        self.loraAlpha = loraAlpha
        let active = features.loop?.active == true ? schedules.looped : schedules.plain
        self.encoderSchedule = active.encoder
        self.decoderSchedule = active.decoder
        self.skipCount = schedules.skipCount
        self.rmsEps = config.rmsNormEps.map(Float.init) ?? Float.ulpOfOne
        if let cap = config.logitSoftcap, cap > 0 { self.softcap = Float(cap) } else { self.softcap = nil }
    }

    deinit {
        baseParameters.deallocate()
        baseGradients.deallocate()
    }

    /// Active layer passes (the LoRA slots).
    public var slotCount: Int { encoderSchedule.count + decoderSchedule.count }

    /// The entry named `name`, if the model has that tensor.
    public func entry(named name: String) -> Entry? { parameterEntries.first { $0.name == name } }

    // MARK: PhasedTTTModel

    public func makeAdapters(rows: Int, rank: Int, targets: LoRATargets) -> FamilyLoRAAdapters {
        FamilyLoRAAdapters(rows: rows, rank: rank, targets: targets, slots: slotCount, modelDim: config.modelDim,
                           kvWidth: config.numKVHeads * config.headDim, vocab: config.vocabSize,
                           scale: loraAlpha.map { Float($0 / Double(rank)) } ?? 1)
    }

    public func perTokenLosses(_ batch: TokenRows, adapters: FamilyLoRAAdapters) -> [Float] {
        rowByRow(batch, adapters: adapters, lossWeights: nil)
    }

    public func accumulateAdapterGradients(_ batch: TokenRows, adapters: FamilyLoRAAdapters, lossWeights: [Float]) -> [Float] {
        precondition(lossWeights.count == batch.inputs.count)
        return rowByRow(batch, adapters: adapters, lossWeights: lossWeights)
    }

    /// The batch's rows one at a time, each on its own tape with its own row of the adapters: rows share
    /// only the read-only base weights (each row is its own sequence, and a LoRA row adapts only its own
    /// document), so they run on ``threads`` threads, a row without loss weight needs no backward, and
    /// one the caller does not score (``TokenRows/scoredRows``) is skipped. Threads the rows leave idle
    /// (fewer live rows than threads: a batch's last chunks, after its short documents have ended) go to
    /// each row's own tiles and attention, which are fixed, so no number depends on the split.
    private func rowByRow(_ batch: TokenRows, adapters: FamilyLoRAAdapters, lossWeights: [Float]?) -> [Float] {
        let columns = batch.columns
        let table = rotary(positions: columns)
        let live = (0..<batch.rows).filter { batch.scoredRows?[$0] ?? true }
        let workers = parallelWorkers(live.count, threads: threads)
        let threadsPerRow = max(1, threads / workers)
        let workerPools = self.pools(workers)
        let single = AttentionSegments(segments: [.init(start: 0, count: columns, firstPosition: 0)])
        var losses = [Float](repeating: 0, count: batch.inputs.count)
        losses.withUnsafeMutableBufferPointer { lossBuffer in
            let out = lossBuffer.baseAddress!
            parallelFor(live.count, threads: workers) { index, worker in
                let row = live[index]
                let range = (row * columns)..<((row + 1) * columns)
                let weights = lossWeights.map { Array($0[range]) } ?? [Float](repeating: 0, count: columns)
                let tape = GradientTape(threads: threadsPerRow, pool: workerPools[worker])
                let rowLosses = forward(tape: tape, inputs: Array(batch.inputs[range]), targets: Array(batch.targets[range]),
                                        weights: weights, segments: single, smearRowLength: columns,
                                        lora: (adapters, row, 1, columns), baseGradients: false, rotary: table)
                if lossWeights != nil, weights.contains(where: { $0 != 0 }) { tape.backward() }
                rowLosses.withUnsafeBufferPointer { (out + range.lowerBound).update(from: $0.baseAddress!, count: columns) }
            }
        }
        return losses
    }

    /// `count` tape pools (kept for the next steps).
    private func pools(_ count: Int) -> [TapeBufferPool] {
        while pools.count < count { pools.append(TapeBufferPool()) }
        return Array(pools.prefix(count))
    }

    public func zeroBaseGradients() { baseGradients.initialize(repeating: 0) }

    public func accumulateBaseGradients(inputs: [Int32], targets: [Int32], segmentStarts: [Int]) -> Double {
        let n = inputs.count
        precondition(n > 0 && targets.count == n && segmentStarts.first == 0, "segmentStarts must start with 0")
        let bounds = segmentStarts + [n]
        let segments = AttentionSegments(segments: zip(bounds.dropLast(), bounds.dropFirst()).map { start, end in
            precondition(start < end && end <= n, "segment starts must increase inside the stream")
            return .init(start: start, count: end - start, firstPosition: start)
        })
        let tape = GradientTape(threads: threads, pool: pools(1)[0])
        let losses = forward(tape: tape, inputs: inputs, targets: targets,
                             weights: [Float](repeating: 1 / Float(n), count: n), segments: segments, smearRowLength: n,
                             lora: nil, baseGradients: true, rotary: rotary(positions: segments.positions))
        tape.backward()
        return losses.reduce(0.0) { $0 + Double($1) } / Double(n)
    }

    /// Adds to ``baseGradients`` the gradients of the mean loss of `rows` independent rows (`inputs` and
    /// `targets` row-major, `rows × columns`), each with rotary positions from 0 and its own causal
    /// attention: the records' `GPT.forward(input_ids, target_ids)` on `[rows, columns]` (the March
    /// records' TTT and training step). Returns that mean loss.
    public func accumulateBaseGradients(rows: Int, inputs: [Int32], targets: [Int32]) -> Double {
        let n = inputs.count
        precondition(rows > 0 && n > 0 && n % rows == 0 && targets.count == n, "inputs must be rows × columns")
        let columns = n / rows
        let segments = AttentionSegments(segments: (0..<rows).map { .init(start: $0 * columns, count: columns, firstPosition: 0) })
        let tape = GradientTape(threads: threads, pool: pools(1)[0])
        let losses = forward(tape: tape, inputs: inputs, targets: targets,
                             weights: [Float](repeating: 1 / Float(n), count: n), segments: segments, smearRowLength: columns,
                             lora: nil, baseGradients: true, rotary: rotary(positions: segments.positions))
        tape.backward()
        return losses.reduce(0.0) { $0 + Double($1) } / Double(n)
    }

    /// Nothing is cached from the parameters: every forward reads ``baseParameters`` directly.
    public func baseParametersDidChange() {}

    // MARK: Forward

    private func rowSegments(_ batch: TokenRows) -> AttentionSegments {
        AttentionSegments(segments: (0..<batch.rows).map { .init(start: $0 * batch.columns, count: batch.columns, firstPosition: 0) })
    }

    private func parameter(_ name: String, gradients: Bool) -> TapeParameter {
        let offset = offsets[name]!  // every name asked for is in the layout the initialiser checked
        let wanted = gradients && (gradientFreeBlocks == 0 || (Self.block(of: name) ?? .max) >= gradientFreeBlocks)
        return TapeParameter(forwardValueOverrides[name] ?? UnsafePointer(baseParameters.baseAddress! + offset),
                             gradient: wanted ? baseGradients.baseAddress! + offset : nil)
    }

    private func optionalParameter(_ name: String, gradients: Bool) -> TapeParameter? {
        offsets[name] == nil ? nil : parameter(name, gradients: gradients)
    }

    /// Rotary tables covering `positions` (the records' `Rotary(seq_len)`: NTK-scaled when the model
    /// has a training length and the sequence is longer).
    private func rotary(positions: Int) -> RotaryTable {
        let rd = config.features.ropeDims ?? config.headDim
        if let trained = config.features.ropeNTKTrainSeqLen, positions > trained {
            let base = config.ropeBase * Foundation.pow(Double(positions) / Double(trained), Double(rd) / Double(rd - 2))
            return RotaryTable(headDim: rd, positions: positions, base: base)
        }
        if let cached = rotaryCache, cached.positions >= positions { return cached }
        let table = RotaryTable(headDim: rd, positions: max(positions, 256), base: config.ropeBase)
        rotaryCache = table
        return table
    }

    /// Per-token losses of the stream `inputs`; records on `tape` the backward of `Σ weights·loss`.
    /// `lora`: the adapters' rows `firstRow…` for the stream's `rows` rows of `columns`; `rotary` covers
    /// the segments' positions.
    func forward(tape: GradientTape, inputs: [Int32], targets: [Int32], weights: [Float], segments: AttentionSegments,
                 smearRowLength: Int, lora: (adapters: FamilyLoRAAdapters, firstRow: Int, rows: Int, columns: Int)?,
                 baseGradients: Bool, rotary table: RotaryTable) -> [Float] {
        let c = config.modelDim, features = config.features
        func p(_ name: String) -> TapeParameter { parameter(name, gradients: baseGradients) }
        let embedding = p("tok_emb.weight")
        var x = tape.embedding(inputs, table: embedding, width: c)
        var rowStart = [Bool](repeating: false, count: inputs.count)
        for segment in segments.segments { rowStart[segment.start] = true }
        if let bigram = features.bigramHash {
            let rows = bigramHashRows(inputs, rowStart: rowStart, vocab: bigram.vocab, trigram: bigram.trigram)
            var gathered = tape.embedding(rows.bigram, table: p("bigram.embed.weight"), width: bigram.dim)
            if let trigramRows = rows.trigram {
                let trigram = tape.embedding(trigramRows, table: p("bigram.embed.weight"), width: bigram.dim)
                gathered = tape.combination([gathered, trigram], coefficients: [.constant(1), .constant(1)])
            }
            if bigram.dim != c { gathered = tape.linear(gathered, weight: p("bigram.proj.weight"), inFeatures: bigram.dim, outFeatures: c) }
            let scaled = tape.scaleChannels(gathered, by: p("bigram.scale"), width: 1)
            x = tape.combination([x, scaled], coefficients: [.constant(1), .constant(1)])
        }
        if let smear = features.smearGate {
            x = tape.smear(x, tokens: inputs, width: c, rowLength: smearRowLength, window: smear.window,
                           gate: p("smear_gate.weight"), lambda: p("smear_lambda"), resetToken: smear.resetToken)
        }
        x = tape.rmsNorm(x, width: c, eps: rmsEps)
        if features.channelSmearGate {
            x = tape.channelSmear(x, gate: p("smear.gate"), width: c, rowStart: rowStart)
        }
        let x0 = x
        var valueEmbedding: TapeBuffer?
        if let ve = features.valueEmbeddings {
            let kvWidth = config.numKVHeads * config.headDim
            var rows = tape.embedding(inputs, table: p("ve_shared.embed.weight"), width: ve.dim)
            if ve.dim != kvWidth { rows = tape.linear(rows, weight: p("ve_shared.proj.weight"), inFeatures: ve.dim, outFeatures: kvWidth) }
            valueEmbedding = tape.scaleChannels(rows, by: p("ve_shared.scale"), width: 1)
        }
        let context = BlockContext(tape: tape, x0: x0, segments: segments, rotary: table,
                                   lora: lora, baseGradients: baseGradients, valueEmbedding: valueEmbedding)
        var skips: [TapeBuffer] = []
        var slot = 0
        for i in encoderSchedule {
            x = block(i, x: x, slot: slot, context)
            slot += 1
            skips.append(x)
        }
        let parallelStart = features.parallelResiduals?.startLayer ?? 0
        var lanes: (attention: TapeBuffer, mlp: TapeBuffer)?
        for (skipIndex, i) in decoderSchedule.enumerated() {
            let skipWeight = optionalParameter("skip_weights", gradients: baseGradients)?.advanced(by: skipIndex * c)
            let skipGate = optionalParameter("skip_gates", gradients: baseGradients)?.advanced(by: skipIndex * c)
            if features.parallelResiduals != nil && parallelStart > 0 && i >= parallelStart {
                var current = lanes ?? (x, x)
                if skipIndex < skipCount, let skip = skips.popLast(), let skipWeight {
                    current.attention = tape.skip(current.attention, skip, weight: skipWeight, gate: skipGate, width: c)
                }
                lanes = parallelBlock(i, lanes: current, slot: slot, context)
            } else {
                if skipIndex < skipCount, let skip = skips.popLast(), let skipWeight {
                    x = tape.skip(x, skip, weight: skipWeight, gate: skipGate, width: c)
                }
                x = block(i, x: x, slot: slot, context)
            }
            slot += 1
        }
        if let lanes {
            switch features.parallelResiduals?.finalLane ?? .mean {
            case .attention: x = lanes.attention
            case .mlp: x = lanes.mlp
            case .mean: x = tape.combination([lanes.attention, lanes.mlp], coefficients: [.constant(0.5), .constant(0.5)])
            }
        }
        x = tape.rmsNorm(x, width: c, eps: rmsEps)
        let head = config.tieEmbeddings ? embedding : p("lm_head.weight")
        return tape.headLoss(x, head: head, width: c, vocab: config.vocabSize, cap: softcap,
                             lora: lora.map { ($0.adapters.tape($0.adapters.head, firstRow: $0.firstRow), $0.columns) }, targets: targets, weights: weights)
    }

    struct BlockContext {
        let tape: GradientTape
        let x0: TapeBuffer
        let segments: AttentionSegments
        let rotary: RotaryTable
        let lora: (adapters: FamilyLoRAAdapters, firstRow: Int, rows: Int, columns: Int)?
        let baseGradients: Bool
        /// `ve_shared(x)` `[N, G·D]` of the March records, before each layer's `ve_layer_scales[k]`.
        let valueEmbedding: TapeBuffer?
    }

    private func normScale(_ i: Int) -> Float {
        config.features.layerNormScale ? Float(1.0 / Double(i + 1).squareRoot()) : 1
    }

    /// `_block_with_lora` (or `Block.forward` without adapters).
    private func block(_ i: Int, x: TapeBuffer, slot: Int, _ context: BlockContext) -> TapeBuffer {
        let tape = context.tape, c = config.modelDim, prefix = "blocks.\(i)."
        func p(_ name: String) -> TapeParameter { parameter(prefix + name, gradients: context.baseGradients) }
        let mixed = tape.residualMix(x, context.x0, mix: p("resid_mix"), width: c)
        let n = tape.rmsNorm(mixed, width: c, scale: normScale(i), eps: rmsEps)
        let attention = attend(i, n, slot: slot, context)
        let afterAttention = tape.addScaled(mixed, attention, scale: p("attn_scale"), width: c)
        let mlpInput = tape.rmsNorm(afterAttention, width: c, scale: normScale(i), eps: rmsEps)
        let mlp = feedForward(i, mlpInput, slot: slot, context)
        return tape.addScaled(afterAttention, mlp, scale: p("mlp_scale"), width: c)
    }

    /// `_parallel_block_with_lora`: attention reads the mixed attention lane, the MLP the MLP lane.
    private func parallelBlock(_ i: Int, lanes: (attention: TapeBuffer, mlp: TapeBuffer), slot: Int,
                               _ context: BlockContext) -> (attention: TapeBuffer, mlp: TapeBuffer) {
        let tape = context.tape, c = config.modelDim, prefix = "blocks.\(i)."
        func p(_ name: String) -> TapeParameter { parameter(prefix + name, gradients: context.baseGradients) }
        let read = tape.residualMix(lanes.attention, context.x0, mix: p("resid_mix"), width: c)
        let n = tape.rmsNorm(read, width: c, scale: normScale(i), eps: rmsEps)
        let attention = tape.scaleChannels(attend(i, n, slot: slot, context), by: p("attn_scale"), width: c)
        let mlpInput = tape.rmsNorm(lanes.mlp, width: c, scale: normScale(i), eps: rmsEps)
        let mlp = tape.scaleChannels(feedForward(i, mlpInput, slot: slot, context), by: p("mlp_scale"), width: c)
        let post = parameter("parallel_post_lambdas", gradients: context.baseGradients).advanced(by: i * 4)
        let resid = parameter("parallel_resid_lambdas", gradients: context.baseGradients).advanced(by: i * 2)
        let attentionLane = tape.combination(
            [lanes.attention, attention, mlp],
            coefficients: [.parameter(resid), .parameter(post), .parameter(post.advanced(by: 2))])
        let mlpLane = tape.combination(
            [lanes.mlp, attention, mlp],
            coefficients: [.parameter(resid.advanced(by: 1)), .parameter(post.advanced(by: 1)), .parameter(post.advanced(by: 3))])
        return (attentionLane, mlpLane)
    }

    /// The attention of a block on its normed input `n`, with the slot's LoRA on q, k, v and the
    /// output (the output LoRA reads `n`, as the records do).
    private func attend(_ i: Int, _ n: TapeBuffer, slot: Int, _ context: BlockContext) -> TapeBuffer {
        let tape = context.tape, c = config.modelDim, heads = config.numHeads, kvHeads = config.numKVHeads
        let d = config.headDim, kvWidth = kvHeads * d, prefix = "blocks.\(i)."
        func p(_ name: String) -> TapeParameter { parameter(prefix + name, gradients: context.baseGradients) }
        func addLoRA(_ out: TapeBuffer, _ adapter: FamilyLoRAAdapters.Adapter?) {
            guard let lora = context.lora, let adapter else { return }
            tape.addLoRA(into: out, input: n, adapter: lora.adapters.tape(adapter, firstRow: lora.firstRow), batchRows: lora.rows,
                         columns: lora.columns)
        }
        let adapters = context.lora?.adapters
        let q = tape.linear(n, weight: p("attn.c_q.weight"), inFeatures: c, outFeatures: c)
        addLoRA(q, adapters?.query[slot])
        let k = tape.linear(n, weight: p("attn.c_k.weight"), inFeatures: c, outFeatures: kvWidth)
        addLoRA(k, adapters?.key?[slot])
        var v = tape.linear(n, weight: p("attn.c_v.weight"), inFeatures: c, outFeatures: kvWidth)
        addLoRA(v, adapters?.value[slot])
        if let shared = context.valueEmbedding, let k = config.features.valueEmbeddings?.layers.firstIndex(of: i) {
            // v + ve_layer_scales[k] · ve_shared(x): the attention and XSA both read the sum.
            let scaled = tape.scaleChannels(shared, by: parameter("ve_layer_scales.\(k)", gradients: context.baseGradients), width: 1)
            v = tape.combination([v, scaled], coefficients: [.constant(1), .constant(1)])
        }
        var y = tape.attentionCore(q: q, k: k, v: v, gain: p("attn.q_gain"), heads: heads, kvHeads: kvHeads, headDim: d,
                                   ropeDims: config.features.ropeDims ?? d, rotary: context.rotary, segments: context.segments)
        if i >= config.numLayers - config.features.xsaLastN {
            y = tape.exclusiveSelfAttention(y, values: v, heads: heads, kvHeads: kvHeads, headDim: d)
        }
        switch config.features.attentionGate {
        case .none: break
        case .outputGate(let window, let source):
            y = tape.headGate(y, source: source == .queryProjection ? q : n, sourceWidth: c, window: window,
                              weight: p("attn.attn_gate_proj.weight"), heads: heads, headWidth: d, scale: 1, doubled: true)
        case .dense:
            y = tape.headGate(y, source: n, sourceWidth: c, window: c, weight: p("attn.attn_gate_w"), heads: heads,
                              headWidth: d, scale: 1, doubled: false)
        case .sparse(let window, let scale):
            y = tape.headGate(y, source: n, sourceWidth: c, window: window, weight: p("attn.attn_gate_w"), heads: heads,
                              headWidth: d, scale: Float(scale), doubled: false)
        }
        let out = tape.linear(y, weight: p("attn.proj.weight"), inFeatures: c, outFeatures: c)
        addLoRA(out, adapters?.output?[slot])
        return out
    }

    /// `MLP.forward` (activation, optional output gate) on `mlpInput`, plus the slot's MLP LoRA.
    private func feedForward(_ i: Int, _ mlpInput: TapeBuffer, slot: Int, _ context: BlockContext) -> TapeBuffer {
        let tape = context.tape, c = config.modelDim, f = config.mlpHidden, prefix = "blocks.\(i)."
        func p(_ name: String) -> TapeParameter { parameter(prefix + name, gradients: context.baseGradients) }
        let up = tape.linear(mlpInput, weight: p("mlp.fc.weight"), inFeatures: c, outFeatures: f)
        let activated: TapeBuffer
        switch config.features.mlpActivation {
        case .reluSquared: activated = tape.reluSquared(up)
        case .leakyReluSquared(let slope): activated = tape.leakyReluSquared(up, slope: Float(slope))
        case .reluPower(let exponent): activated = tape.reluPower(up, exponent: Float(exponent))
        case .swiGLU, .fusedSwiGLU: preconditionFailure("SwiGLU is refused when the model is built")
        }
        var out = tape.linear(activated, weight: p("mlp.proj.weight"), inFeatures: f, outFeatures: c)
        if let window = config.features.mlpOutputGateWindow {
            out = tape.headGate(out, source: mlpInput, sourceWidth: c, window: window, weight: p("mlp.mlp_gate_proj.weight"),
                                heads: 1, headWidth: c, scale: 1, doubled: true)
        }
        if let lora = context.lora, let adapter = lora.adapters.mlp?[slot] {
            tape.addLoRA(into: out, input: mlpInput, adapter: lora.adapters.tape(adapter, firstRow: lora.firstRow),
                         batchRows: lora.rows, columns: lora.columns)
        }
        return out
    }
}
