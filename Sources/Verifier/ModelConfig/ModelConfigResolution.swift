import Reference

/// The resolution of one submission's configuration: shape facts checked against stated values, then
/// the values only code, logs or overrides can give.
struct Resolution {
    let facts: ShapeFacts
    let stated: StatedValues
    var sources: [String: ValueSource] = [:]
    var notes: [String] = []
    /// The submission's code text and path, for what only code shows (the MLP activation, the SmearGate BOS fix).
    var code: (text: String, file: String)?
    /// Whether a stated num_layers above the tensors' blocks is left to the code (``ResolvedModelConfig/statedDepth``)
    /// rather than refused here.
    var acceptsStatedDepth = false

    init(facts: ShapeFacts, stated: StatedValues) {
        self.facts = facts
        self.stated = stated
    }

    mutating func result(weights: Weights = [:]) throws(ModelConfigError) -> ResolvedModelConfig {
        sources = facts.sources
        let vocabSize = try checkFact("vocab_size", facts.vocabSize, kind: .integer)
        let modelDim = try checkFact("model_dim", facts.modelDim, kind: .integer)
        let numLayers: Int
        var statedDepth: ResolvedModelConfig.StatedDepth?
        do {
            numLayers = try checkFact("num_layers", facts.numLayers, kind: .integer)
        } catch {
            // Weight-shared blocks: the depth the run states may exceed the unique blocks the tensors hold.
            guard acceptsStatedDepth, case .contradictsShapes("num_layers", let stated, _, _, _) = error,
                  let depth = Int(stated), depth > facts.numLayers else { throw error }
            statedDepth = .init(depth: depth, refusal: error)
            numLayers = facts.numLayers
        }
        let tieEmbeddings = try checkFact("tie_embeddings", facts.tieEmbeddings, kind: .boolean)
        try checkMLPMultiplier()

        let numHeads: Int
        if let shapeHeads = facts.numHeads {
            numHeads = try checkFact("num_heads", shapeHeads, kind: .integer)
        } else {
            let statement = try required("num_heads", kind: .integer)
            // Heads change the model without changing any shape; a default the run may have changed
            // like it changed others (notes) would give a plausible but wrong model.
            if statement.layer == .code, !notes.isEmpty {
                throw .untrustedCodeDefault(key: "num_heads", value: statement.text, source: statement.source,
                                            evidence: notes)
            }
            numHeads = try positiveInt("num_heads", statement)
            sources["num_heads"] = statement.source
        }
        let numKVHeads = try kvHeads(numHeads: numHeads, modelDim: modelDim)

        let ropeStatement = try required("rope_base", kind: .real)
        let ropeBase = try positiveReal("rope_base", ropeStatement)
        sources["rope_base"] = ropeStatement.source

        let softcapStatement = try required("logit_softcap", kind: .real)
        guard let softcap = softcapStatement.value.pythonFloat(), softcap.isFinite, softcap >= 0 else {
            throw .invalidValue(key: "logit_softcap", value: softcapStatement.text, source: softcapStatement.source,
                                reason: "must be a finite number ≥ 0 (0 disables the softcap)")
        }
        sources["logit_softcap"] = softcapStatement.source

        let seqLen = try sequenceLength()

        let features = try self.features(weights: weights, code: code?.text, codeFile: code?.file, numHeads: numHeads,
                                         modelDim: modelDim, numLayers: numLayers)
        let config = GPTConfig(
            vocabSize: vocabSize, numLayers: numLayers, modelDim: modelDim, numHeads: numHeads,
            numKVHeads: numKVHeads, mlpHidden: facts.mlpHidden, tieEmbeddings: tieEmbeddings,
            ropeBase: ropeBase, logitSoftcap: softcap, features: features)
        var resolved = ResolvedModelConfig(config: config, seqLen: seqLen, sources: sources, notes: notes)
        resolved.statedDepth = statedDepth
        return resolved
    }

    // MARK: - Facts against statements

    /// Checks what code, logs and overrides say about a shape fact: a log or override that disagrees is
    /// an error; a code default that disagrees was changed by the run's environment and becomes a note.
    private mutating func checkFact(_ name: String, _ fact: Int, kind: ValueKind) throws(ModelConfigError) -> Int {
        try checkFact(name, fact, kind: kind) { $0.pythonInt() }
    }

    private mutating func checkFact(_ name: String, _ fact: Bool, kind: ValueKind) throws(ModelConfigError) -> Bool {
        try checkFact(name, fact, kind: kind) { $0.pythonBool() }
    }

    private mutating func checkFact<T: Equatable & CustomStringConvertible>(
        _ name: String, _ fact: T, kind: ValueKind, reading read: (HyperparameterValue) -> T?
    ) throws(ModelConfigError) -> T {
        guard let statement = try stated.statement(name, as: kind) else { return fact }
        if read(statement.value) == fact { return fact }
        let shapeSource = sources[name] ?? .tensorShape(tensor: "?", shape: [])
        if statement.layer == .code {
            notes.append(supersededNote(statement, name: name, fact: "\(fact)", shapeSource: shapeSource))
            return fact
        }
        throw .contradictsShapes(key: name, stated: statement.text, statedBy: statement.source,
                                 shapeValue: fact.description, shapeSource: shapeSource)
    }

    /// "code default NUM_LAYERS=9 at train_gpt.py:66 is superseded by tensor shape …: num_layers = 2".
    private func supersededNote(_ statement: Statement, name: String, fact: String, shapeSource: ValueSource) -> String {
        guard case let .codeDefault(_, variable, _, file, line) = statement.source else {
            return "\(statement.source) is superseded by \(shapeSource): \(name) = \(fact)"
        }
        return "code default \(variable)=\(statement.text) at \(file):\(line) is superseded by \(shapeSource): "
            + "\(name) = \(fact) (the run set it through the environment)"
    }

    /// `mlp_mult` is not in the config (the hidden width is, from the shapes), but a stated multiplier
    /// must agree with it: the baseline builds `mlp_mult * model_dim` hidden units (records with a float
    /// multiplier take `int(mlp_mult * model_dim)`).
    private mutating func checkMLPMultiplier() throws(ModelConfigError) {
        // Without `mlp.fc` (SwiGLU) the code sizes the width from the multiplier its own way
        // (`int(dim · mult · 2/3)` rounded up to 8 in 2026-03-20_SwiGLU_576_SlidingWindow_MuonWD); the
        // width is the tensors', and conformance reads the code's MLP.
        if facts.mlpHiddenFromDownProjection { return }
        guard let statement = try stated.statement("mlp_mult", as: .real),
              let multiplier = statement.value.pythonFloat() else { return }
        let product = multiplier * Double(facts.modelDim)
        if product.isFinite, Int(exactly: product.rounded(.towardZero)) == facts.mlpHidden { return }
        let shapeSource = sources["mlp_hidden"] ?? .tensorShape(tensor: ShapeFacts.mlpIn, shape: [])
        if statement.layer == .code {
            notes.append(supersededNote(statement, name: "mlp_mult",
                                        fact: "\(facts.mlpHidden) hidden / \(facts.modelDim) model_dim",
                                        shapeSource: shapeSource))
            return
        }
        throw .contradictsShapes(key: "mlp_mult", stated: statement.text, statedBy: statement.source,
                                 shapeValue: "\(facts.mlpHidden) / \(facts.modelDim)", shapeSource: shapeSource)
    }

    /// KV heads from the KV width and the head width; a stated value must agree.
    private mutating func kvHeads(numHeads: Int, modelDim: Int) throws(ModelConfigError) -> Int {
        let headSources = [sources["model_dim"], sources["num_heads"]].compactMap { $0 }
        guard modelDim % numHeads == 0 else {
            throw .inconsistent(key: "num_heads", reason: "model_dim \(modelDim) is not divisible by \(numHeads) heads",
                                sources: headSources)
        }
        let headDim = modelDim / numHeads
        guard headDim % 2 == 0 else {
            throw .inconsistent(key: "num_heads", reason: "head_dim \(headDim) is odd; rotary embeddings need it even",
                                sources: headSources)
        }
        let kvSource = sources["num_kv_heads"] ?? .tensorShape(tensor: ShapeFacts.keys, shape: [])
        guard facts.kvDim % headDim == 0 else {
            throw .inconsistent(key: "num_kv_heads",
                                reason: "KV width \(facts.kvDim) is not a multiple of head_dim \(headDim)",
                                sources: [kvSource] + headSources)
        }
        let kvHeads = facts.kvDim / headDim
        guard numHeads % kvHeads == 0 else {
            throw .inconsistent(key: "num_kv_heads", reason: "\(numHeads) heads are not divisible by \(kvHeads) KV heads",
                                sources: [kvSource] + headSources)
        }
        sources["num_kv_heads"] = .derived(rule: "KV width / head_dim = \(facts.kvDim) / \(headDim)",
                                           from: [kvSource] + [sources["num_heads"]].compactMap { $0 })
        return try checkFact("num_kv_heads", kvHeads, kind: .integer)
    }

    // MARK: - Values only code, logs and overrides give

    private func required(_ name: String, kind: ValueKind) throws(ModelConfigError) -> Statement {
        guard let statement = try stated.statement(name, as: kind) else {
            throw .missingValue(key: name, environmentVariable: ModelConfigResolver.environmentVariable(
                for: name, defaults: stated.defaults), detail: stated.absenceDetail(name))
        }
        return statement
    }

    private func positiveInt(_ name: String, _ statement: Statement) throws(ModelConfigError) -> Int {
        guard let value = statement.value.pythonInt(), value > 0 else {
            throw .invalidValue(key: name, value: statement.text, source: statement.source, reason: "must be a positive integer")
        }
        return value
    }

    private func positiveReal(_ name: String, _ statement: Statement) throws(ModelConfigError) -> Double {
        guard let value = statement.value.pythonFloat(), value.isFinite, value > 0 else {
            throw .invalidValue(key: name, value: statement.text, source: statement.source, reason: "must be a positive number")
        }
        return value
    }

    /// An explicit `seq_len` override, else a positive `EVAL_SEQ_LEN`, else `TRAIN_SEQ_LEN` (the records'
    /// `eval_seq_len if eval_seq_len > 0 else train_seq_len`).
    private mutating func sequenceLength() throws(ModelConfigError) -> Int {
        if let (key, text) = stated.overrides[ModelConfigResolver.seqLenOverrideKey] {
            let source = ValueSource.override(key: key, value: text)
            guard let value = PythonNumbers.parseInt(text), value > 0 else {
                throw .invalidValue(key: "seq_len", value: text, source: source, reason: "must be a positive integer")
            }
            try SettingBounds.check("seq_len", .int(value), text: text, source: source)
            sources["seq_len"] = source
            return value
        }
        if let statement = try stated.statement("eval_seq_len", as: .integer),
           let value = statement.value.pythonInt(), value > 0 {
            sources["seq_len"] = statement.source
            return value
        }
        let statement = try required("train_seq_len", kind: .integer)
        let value = try positiveInt("train_seq_len", statement)
        sources["seq_len"] = statement.source
        return value
    }
}
