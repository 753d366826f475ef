import Foundation
import Reference

/// The record-family features (``ArchitectureFeatures``): tensor names and shapes decide which
/// optional modules exist (skip gates, parallel lambdas, SmearGate, attention/MLP gates and their
/// windows); the records' `Hyperparameters` (code defaults, logs, overrides) give what no shape shows
/// (rope_dims, xsa_last_n, ln_scale, the loop, parallel_start_layer, the sparse gate's scale); the
/// code's text gives what is not a hyperparameter (the MLP activation, the SmearGate BOS fix).
extension Resolution {
    /// Feature hyperparameters read from code, logs and overrides, with the records' env names.
    static let featureKeys: [(name: String, environmentVariable: String)] = [
        ("rope_dims", "ROPE_DIMS"), ("xsa_last_n", "XSA_LAST_N"), ("ln_scale", "LN_SCALE"),
        ("num_loops", "NUM_LOOPS"), ("loop_start", "LOOP_START"), ("loop_end", "LOOP_END"),
        ("parallel_start_layer", "PARALLEL_START_LAYER"), ("parallel_final_lane", "PARALLEL_FINAL_LANE"),
        ("sparse_attn_gate_enabled", "SPARSE_ATTN_GATE_ENABLED"), ("sparse_attn_gate_scale", "SPARSE_ATTN_GATE_SCALE"),
        ("gated_attn_enabled", "GATED_ATTN_ENABLED"),
        ("attn_out_gate_src", "ATTN_OUT_GATE_SRC"), ("gate_attn_src", "GATE_ATTN_SRC"),
        ("rope_yarn", "ROPE_YARN"), ("trigram_enabled", "TRIGRAM"), ("ve_layers", "VE_LAYERS"),
        ("lora_rank", "LORA_RANK"),
    ]

    mutating func features(weights: Weights, code: String?, codeFile: String?, numHeads: Int, modelDim: Int,
                           numLayers: Int) throws(ModelConfigError) -> ArchitectureFeatures {
        var features = ArchitectureFeatures()
        func shape(_ name: String) -> ValueSource { .tensorShape(tensor: name, shape: weights[name]?.shape ?? []) }
        let headDim = modelDim / numHeads

        // Optional modules, by tensor.
        if weights["skip_gates"] != nil {
            features.skipGates = true
            sources["skip_gates"] = shape("skip_gates")
        }
        if let smear = weights["smear_gate.weight"] {
            guard smear.shape.count == 2, smear.shape[0] == 1, (1...modelDim).contains(smear.shape[1]) else {
                throw .unexpectedShape(tensor: "smear_gate.weight", shape: smear.shape, expected: "[1, window ≤ \(modelDim)]")
            }
            let reset = try smearReset(code: code, codeFile: codeFile)
            features.smearGate = .init(window: smear.shape[1], resetToken: reset.token)
            sources["smear_gate"] = .derived(rule: "window from the shape; BOS reset \(reset.token.map(String.init) ?? "none")",
                                             from: [shape("smear_gate.weight"), reset.source])
        }
        let gateProj = "blocks.0.attn.attn_gate_proj.weight", gateW = "blocks.0.attn.attn_gate_w"
        if let gate = weights[gateProj] {
            guard gate.shape.count == 2, gate.shape[0] == numHeads, (1...modelDim).contains(gate.shape[1]) else {
                throw .unexpectedShape(tensor: gateProj, shape: gate.shape, expected: "[\(numHeads), window]")
            }
            var src = try stated.statement("attn_out_gate_src", as: .text)
            if src == nil { src = try stated.statement("gate_attn_src", as: .text) }
            let sourceText = src.flatMap { if case .string(let s) = $0.value { s } else { nil } } ?? "proj"
            guard let gateSource = ArchitectureFeatures.GateSource(rawValue: sourceText) else {
                throw .invalidValue(key: "attn_out_gate_src", value: sourceText, source: src?.source ?? shape(gateProj),
                                    reason: "must be 'proj' or 'q'")
            }
            features.attentionGate = .outputGate(window: gate.shape[1], source: gateSource)
            sources["attention_gate"] = .derived(rule: "attention output gate 2·σ(W·src[:\(gate.shape[1])]), src \(sourceText)",
                                                 from: [shape(gateProj)] + (src.map { [$0.source] } ?? []))
        } else if let gate = weights[gateW] {
            guard gate.shape.count == 2, gate.shape[0] == numHeads, (1...modelDim).contains(gate.shape[1]) else {
                throw .unexpectedShape(tensor: gateW, shape: gate.shape, expected: "[\(numHeads), window or \(modelDim)]")
            }
            let sparse = try stated.statement("sparse_attn_gate_enabled", as: .boolean)
            if sparse?.value.pythonBool() == true || gate.shape[1] != modelDim {
                let scaleStatement = try stated.statement("sparse_attn_gate_scale", as: .real)
                guard let scaleStatement, let scale = scaleStatement.value.pythonFloat(), scale.isFinite else {
                    throw .missingValue(key: "sparse_attn_gate_scale", environmentVariable: "SPARSE_ATTN_GATE_SCALE",
                                        detail: "the sparse attention gate's scale: " + stated.absenceDetail("sparse_attn_gate_scale"))
                }
                features.attentionGate = .sparse(window: gate.shape[1], scale: scale)
                sources["attention_gate"] = .derived(rule: "sparse attention gate σ(scale·W·x[:\(gate.shape[1])])",
                                                     from: [shape(gateW), scaleStatement.source])
            } else {
                features.attentionGate = .dense
                sources["attention_gate"] = .derived(rule: "dense gated attention σ(W·x)", from: [shape(gateW)])
            }
        }
        let mlpGate = "blocks.0.mlp.mlp_gate_proj.weight"
        if let gate = weights[mlpGate] {
            guard gate.shape.count == 2, gate.shape[0] == 1, (1...modelDim).contains(gate.shape[1]) else {
                throw .unexpectedShape(tensor: mlpGate, shape: gate.shape, expected: "[1, window]")
            }
            features.mlpOutputGateWindow = gate.shape[1]
            sources["mlp_gate"] = shape(mlpGate)
        }
        try resolveMarchModules(&features, weights: weights, modelDim: modelDim, numHeads: numHeads, numLayers: numLayers)
        let isFamily = features != ArchitectureFeatures() || weights["parallel_post_lambdas"] != nil

        // Stated values no shape shows.
        if let yarn = try stated.statement("rope_yarn", as: .boolean), yarn.value.pythonBool() == true {
            throw .unsupportedFeature(what: "ROPE_YARN=1", feature: "YaRN rotary scaling", source: yarn.source)
        }
        if let statement = try stated.statement("rope_dims", as: .integer), let dims = statement.value.pythonInt(), dims > 0,
           dims < headDim {
            guard dims % 2 == 0 else {
                throw .invalidValue(key: "rope_dims", value: statement.text, source: statement.source, reason: "must be even")
            }
            features.ropeDims = dims
            sources["rope_dims"] = statement.source
        }
        if let statement = try stated.statement("xsa_last_n", as: .integer), let n = statement.value.pythonInt(), n > 0 {
            features.xsaLastN = min(n, numLayers)
            sources["xsa_last_n"] = statement.source
        }
        if let statement = try stated.statement("ln_scale", as: .boolean), statement.value.pythonBool() {
            features.layerNormScale = true
            sources["ln_scale"] = statement.source
        }
        try resolveLoop(&features, weights: weights, numLayers: numLayers)
        if weights["parallel_post_lambdas"] != nil || weights["parallel_resid_lambdas"] != nil {
            let start = try stated.statement("parallel_start_layer", as: .integer)
            guard let start, let layer = start.value.pythonInt() else {
                throw .missingValue(key: "parallel_start_layer", environmentVariable: "PARALLEL_START_LAYER",
                                    detail: stated.absenceDetail("parallel_start_layer"))
            }
            let lane = try stated.statement("parallel_final_lane", as: .text)
            let laneText = lane.flatMap { if case .string(let s) = $0.value { s.lowercased() } else { nil } } ?? "mean"
            // The records fall back to the mean for any other text.
            features.parallelResiduals = .init(startLayer: layer, finalLane: .init(rawValue: laneText) ?? .mean)
            sources["parallel_residuals"] = .derived(rule: "lanes from layer \(layer), final lane \(laneText)",
                                                     from: [shape("parallel_post_lambdas"), start.source] + (lane.map { [$0.source] } ?? []))
        }
        if isFamily || !features.runsOnBaselineModel {
            let activation = try mlpActivation(code: code, codeFile: codeFile)
            features.mlpActivation = activation.activation
            sources["mlp_activation"] = activation.source
            if let code, let file = codeFile, let ntk = Self.ntkTrainSeqLen(code) {
                features.ropeNTKTrainSeqLen = ntk
                sources["rope_ntk"] = .derived(rule: "code \(file): Rotary(train_seq_len=\(ntk)) rescales longer windows", from: [])
            }
        }
        return features
    }

    /// The loop from NUM_LOOPS/LOOP_START/LOOP_END, checked against the skip_weights rows the looped
    /// schedule implies (a shape fact). The records switch looping on before every eval.
    private mutating func resolveLoop(_ features: inout ArchitectureFeatures, weights: Weights, numLayers: Int)
        throws(ModelConfigError)
    {
        guard let loops = try stated.statement("num_loops", as: .integer), let count = loops.value.pythonInt(), count > 0
        else { return }
        // Code that declares NUM_LOOPS but no LOOP_START/LOOP_END (2026-03-19_SlidingWindowEval) counts passes
        // over every block: one pass is the plain model; more repeat the whole stack (``ArchitectureFeatures/StackLoops``).
        let declarations = stated.defaults.declarations
        if declarations["num_loops"] != nil, declarations["loop_start"] == nil, declarations["loop_end"] == nil {
            try resolveStackLoops(&features, count: count, loops: loops, weights: weights, numLayers: numLayers)
            return
        }
        guard let startStatement = try stated.statement("loop_start", as: .integer), let start = startStatement.value.pythonInt(),
              let endStatement = try stated.statement("loop_end", as: .integer), let end = endStatement.value.pythonInt()
        else {
            throw .missingValue(key: "loop_start/loop_end", environmentVariable: "LOOP_START/LOOP_END",
                                detail: stated.absenceDetail("loop_start"))
        }
        guard start >= 0, start <= end, end < numLayers else {
            throw .inconsistent(key: "num_loops", reason: "loop \(start)...\(end) does not fit \(numLayers) layers",
                                sources: [startStatement.source, endStatement.source])
        }
        let loop = ArchitectureFeatures.Loop(start: start, end: end, count: count)
        let schedule = FamilyGPTModel.schedules(layers: numLayers, loop: loop)
        if let skips = weights["skip_weights"], skips.shape.first != schedule.skipCount {
            throw .contradictsShapes(key: "num_loops", stated: "\(count) (loop \(start)...\(end))", statedBy: loops.source,
                                     shapeValue: "\(skips.shape.first ?? 0) skip weights, the loop implies \(schedule.skipCount)",
                                     shapeSource: .tensorShape(tensor: "skip_weights", shape: skips.shape))
        }
        features.loop = loop
        sources["loop"] = .derived(rule: "blocks \(start)...\(end) ×\(count + 1), active at eval",
                                   from: [loops.source, startStatement.source, endStatement.source])
    }

    /// NUM_LOOPS passes over the whole stack, with LORA_RANK adapters per pass; the skip weights' rows
    /// (min of the encoder and decoder halves of the effective depth) and the adapters' shapes must agree.
    private mutating func resolveStackLoops(_ features: inout ArchitectureFeatures, count: Int, loops: Statement,
                                            weights: Weights, numLayers: Int) throws(ModelConfigError) {
        let rankStatement = try stated.statement("lora_rank", as: .integer)
        let rank = rankStatement?.value.pythonInt() ?? 0
        let passes = ArchitectureFeatures.StackLoops(count: count, loraRank: max(rank, 0))
        let depth = numLayers * count
        let skipRows = min(depth / 2, depth - depth / 2)
        if let skips = weights["skip_weights"], skips.shape.first != skipRows {
            throw .contradictsShapes(key: "num_loops", stated: "\(count) (whole-stack passes)", statedBy: loops.source,
                                     shapeValue: "\(skips.shape.first ?? 0) skip weights, \(count) passes over \(numLayers) blocks imply \(skipRows)",
                                     shapeSource: .tensorShape(tensor: "skip_weights", shape: skips.shape))
        }
        let adapter = weights["lora_adapters.0.0.q_A"]
        if passes.hasAdapters != (adapter != nil) || (adapter != nil && adapter!.shape.last != rank) {
            throw .contradictsShapes(key: "lora_rank", stated: "\(rank)", statedBy: rankStatement?.source ?? loops.source,
                                     shapeValue: adapter.map { "lora_adapters.0.0.q_A \($0.shape)" } ?? "no lora_adapters tensors",
                                     shapeSource: adapter.map { .tensorShape(tensor: "lora_adapters.0.0.q_A", shape: $0.shape) }
                                         ?? .tensorAbsent(tensor: "lora_adapters.0.0.q_A"))
        }
        if count == 1 { return }  // one pass is the plain model
        features.stackLoops = passes
        sources["stack_loops"] = .derived(rule: "all \(numLayers) blocks ×\(count)" + (passes.hasAdapters ? ", LoRA rank \(rank) per pass" : ""),
                                          from: [loops.source] + (rankStatement.map { [$0.source] } ?? []))
    }

    /// `F.leaky_relu(…, negative_slope=s)` in the code's MLP → leaky-ReLU² with slope s; `torch.relu`
    /// → relu². No code: the activation is unknown for a record family.
    private func mlpActivation(code: String?, codeFile: String?) throws(ModelConfigError)
        -> (activation: ArchitectureFeatures.MLPActivation, source: ValueSource)
    {
        guard let code, let file = codeFile else {
            throw .unreadCodeFact(key: "mlp_activation",
                                  detail: "the MLP activation is code, not a hyperparameter, and no code was given")
        }
        if let match = code.firstMatch(of: /leaky_relu\([^\n]*?negative_slope\s*=\s*([0-9.]+)\)/),
           let slope = Double(match.1) {
            return (.leakyReluSquared(slope: slope), .derived(rule: "code \(file): \(match.0)", from: []))
        }
        if code.contains("torch.relu(") || code.contains("F.relu(") {
            return (.reluSquared, .derived(rule: "code \(file): relu", from: []))
        }
        throw .unreadCodeFact(key: "mlp_activation",
                              detail: "\(file) shows neither leaky_relu(negative_slope=…) nor relu (compressed code?)")
    }

    /// The SmearGate BOS fix (records 2026-04-27 on): the code masks the gate where the current
    /// input token is 1 (`bos_mask = (input_ids[:, 1:] == 1)…; g.masked_fill(bos_mask, 0.0)`).
    private func smearReset(code: String?, codeFile: String?) throws(ModelConfigError)
        -> (token: Int?, source: ValueSource)
    {
        guard let code, let file = codeFile else {
            throw .unreadCodeFact(key: "smear_bos_reset",
                                  detail: "whether SmearGate resets at BOS is code, and no code was given")
        }
        if let match = code.firstMatch(of: /bos_mask\s*=\s*\(input_ids\[:,\s*1:\]\s*==\s*(\d+)\)/), let token = Int(match.1),
           code.contains("masked_fill(bos_mask") {
            return (token, .derived(rule: "code \(file): \(match.0)", from: []))
        }
        // Record #1 (…_BOSSmearFix_9HpStack): `not_bos = (input_ids[:, 1:] != BOS_ID)`, BOS_ID set to 1 by eval_val.
        if let match = code.firstMatch(of: /not_bos\s*=\s*\(input_ids\[:,\s*1:\]\s*!=\s*BOS_ID\)/),
           code.contains("BOS_ID = 1") {
            return (1, .derived(rule: "code \(file): \(match.0) (BOS_ID = 1)", from: []))
        }
        return (nil, .derived(rule: "code \(file) has no SmearGate BOS mask", from: []))
    }

    /// The March modules: BigramHash (`bigram.*`), value embeddings (`ve_shared.*`, `ve_layer_scales.k`)
    /// and `SmearGate(dim)` (`smear.gate`).
    private mutating func resolveMarchModules(_ features: inout ArchitectureFeatures, weights: Weights, modelDim: Int,
                                              numHeads: Int, numLayers: Int) throws(ModelConfigError) {
        func shape(_ name: String) -> ValueSource { .tensorShape(tensor: name, shape: weights[name]?.shape ?? []) }
        if let gate = weights["smear.gate"] {
            guard gate.shape == [modelDim] else {
                throw .unexpectedShape(tensor: "smear.gate", shape: gate.shape, expected: "[\(modelDim)]")
            }
            features.channelSmearGate = true
            sources["smear_gate"] = shape("smear.gate")
        }
        if let table = weights["bigram.embed.weight"] {
            guard table.shape.count == 2, table.shape[0] > 1, table.shape[1] > 0 else {
                throw .unexpectedShape(tensor: "bigram.embed.weight", shape: table.shape, expected: "[buckets ≥ 2, dim]")
            }
            let trigram = try stated.statement("trigram_enabled", as: .boolean)
            features.bigramHash = .init(vocab: table.shape[0], dim: table.shape[1], trigram: trigram?.value.pythonBool() ?? false)
            sources["bigram_hash"] = .derived(rule: "BigramHash \(table.shape[0])×\(table.shape[1]), trigram \(trigram?.value.pythonBool() ?? false)",
                                              from: [shape("bigram.embed.weight")] + (trigram.map { [$0.source] } ?? []))
        }
        if let table = weights["ve_shared.embed.weight"] {
            guard table.shape.count == 2, table.shape[1] > 0 else {
                throw .unexpectedShape(tensor: "ve_shared.embed.weight", shape: table.shape, expected: "[vocab, ve_dim]")
            }
            let scales = weights.keys.filter { $0.hasPrefix("ve_layer_scales.") }.count
            guard let statement = try stated.statement("ve_layers", as: .text),
                  case .string(let text) = statement.value else {
                throw .missingValue(key: "ve_layers", environmentVariable: "VE_LAYERS",
                                    detail: "which blocks take value embeddings: " + stated.absenceDetail("ve_layers"))
            }
            let layers = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard layers.count == scales, layers.allSatisfy({ (0..<numLayers).contains($0) }) else {
                throw .contradictsShapes(key: "ve_layers", stated: text, statedBy: statement.source,
                                         shapeValue: "\(scales) ve_layer_scales for \(numLayers) blocks",
                                         shapeSource: shape("ve_shared.embed.weight"))
            }
            features.valueEmbeddings = .init(layers: layers, dim: table.shape[1])
            sources["value_embeddings"] = .derived(rule: "value embeddings at blocks \(layers)",
                                                   from: [shape("ve_shared.embed.weight"), statement.source])
        }
    }

    /// A `Rotary` that rescales its base for windows longer than a literal `train_seq_len` (the
    /// March records: `Rotary(…, train_seq_len=1024)` and an unconditional `if seq_len > self.train_seq_len:`).
    static func ntkTrainSeqLen(_ code: String) -> Int? {
        guard code.contains("if seq_len > self.train_seq_len:"),
              let match = code.firstMatch(of: /Rotary\([^)\n]*train_seq_len=(\d+)/) else { return nil }
        return Int(match.1)
    }
}
