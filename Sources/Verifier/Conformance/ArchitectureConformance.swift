import Foundation
import Reference

/// The architecture a submission's code was matched to, for reports.
public struct ArchitectureMatch: Sendable, Equatable {
    /// What the matched reference model computes, in words.
    public var architecture: String
    /// The file whose model code was read.
    public var file: String
    /// The MLP activation of the matched forward: the configuration's, or the code's when the check
    /// read it from the code (`readsActivation`).
    public var mlpActivation: ArchitectureFeatures.MLPActivation
    /// Where the activation was read from the code (`train_gpt.py:720`), when it was.
    public var activationRead: String? = nil
    /// The order the forward runs weight-shared blocks in, when it is not each block once
    /// (``BlockScheduleReading``; the baseline's blocks only).
    public var blockSchedule: [Int]? = nil
    /// Learned vectors around each position of ``blockSchedule``, where the forward reads them (``ScheduleVectorReading``).
    public var scheduleVectors: [ArchitectureFeatures.ScheduleVectors]? = nil
    /// The per-row fake quantization the forward applies to its weights at evaluation, when it does
    /// (``WeightFakeQuantReading``), and where it was read (`train_gpt.py:631`).
    public var weightFakeQuantization: WeightFakeQuantization? = nil
    public var fakeQuantizationRead: String? = nil
    /// The records' test-time-training forward (`forward_ttt(input_ids, target_ids, lora)`), checked
    /// against the matched forward (``TestTimeTrainingPathCheck``); `.absent` for the baseline's code.
    public var testTimeTrainingPath: TestTimeTrainingPath = .absent
}

/// What the check found of the model's test-time-training forward.
public enum TestTimeTrainingPath: Sendable, Equatable {
    /// The model class defines no `forward_ttt` (or the reference has no logits to compare it with).
    case absent
    /// With every adapter's output zero, `forward_ttt` computes the matched forward's logits and scores them
    /// per token against the targets; each adapter reads the input of the projection it adapts and is added
    /// to that projection's output.
    case matched
    /// Where and why it is not: the refusal to give when the TTT re-evaluation would run it.
    case refused(line: Int, detail: String)
}

/// Conformance before evaluation: pgverify loads a submission's weights into its own model, so before
/// it prints a score it reads the submission's model code (the model class, its modules, every helper
/// their `forward` calls) into a ``ForwardGraph`` and checks it computes exactly what the reference
/// model will run — operation by operation, including the constants (activation, norms and their eps,
/// softcap, rotary base and width, q/k norm and gain, attention scale, skip and residual-mix placement,
/// head tying). Anything not matched is an error naming the file, line and construct; no number is
/// computed for an architecture that was not matched. See docs/conformance.md.
public enum ArchitectureConformance {
    /// What reports call the reference the baseline's code is matched to.
    static let baselineReferenceName = "baseline GPT (FamilyGPTModel, baseline features)"

    /// Checks the code at `code` against the baseline GPT (``FamilyGPTModel`` with the baseline's features) for `config`.
    /// `settings` are the code's other hyperparameters (``ModelConfigResolver/statedSettings(code:logs:overrides:)``).
    /// With `readsActivation`, the reference's MLP activation is the one the code's forward computes
    /// (``MLPActivationReading``) rather than `config`'s; the match says which.
    /// `blockList`: the attribute the code registers its blocks under when the artifact saves them under it
    /// (``BlockListNaming``): its parameters are read as the `blocks.N.…` the reference loads.
    public static func checkBaseline(code: URL, config: GPTConfig, parameterShapes: [String: [Int]],
                                     settings: [String: HyperparameterValue] = [:], readsActivation: Bool = false,
                                     blockList: String? = nil)
        throws(ModelConfigError) -> ArchitectureMatch
    {
        let text = try SubmissionCodeText.read(code)
        let name = SubmissionCodeText.sourceName(code)
        return try checkBaseline(source: text, file: name, config: config, parameterShapes: parameterShapes, settings: settings,
                                 readsActivation: readsActivation, blockList: blockList)
    }

    /// Checks `source` (named `file` in messages) against the baseline GPT for `config`.
    public static func checkBaseline(source: String, file: String, config: GPTConfig, parameterShapes: [String: [Int]],
                                     settings: [String: HyperparameterValue] = [:], readsActivation: Bool = false,
                                     blockList: String? = nil)
        throws(ModelConfigError) -> ArchitectureMatch {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        func refuse(_ failure: ConformanceFailure) -> ModelConfigError {
            var detail = failure.function.isEmpty ? "" : failure.function + ": "
            if failure.line > 0, failure.line <= lines.count {
                let text = lines[failure.line - 1].trimmingCharacters(in: .whitespaces)
                detail += "`" + (text.count > 140 ? String(text.prefix(137)) + "..." : text) + "`: "
            }
            detail += failure.message
            return .architectureNotMatched(file: file, line: failure.line, detail: detail, reference: baselineReferenceName)
        }
        let tree: PyNode
        do {
            let parser = try cachedParser()
            guard let parsed = try parser.parse([.source(name: file, text: source)]).first else {
                throw refuse(ConformanceFailure(line: 0, function: "", message: "the code could not be parsed"))
            }
            tree = parsed
        } catch let error as ModelConfigError {
            throw error
        } catch {
            throw refuse(ConformanceFailure(line: 0, function: "", message: "the model code cannot be read: \(error)"))
        }
        return try checkBaseline(tree: tree, lines: lines, file: file, config: config, parameterShapes: parameterShapes,
                                 settings: settings, readsActivation: readsActivation, blockList: blockList)
    }

    /// The check on an already parsed `tree` of the code whose `lines` messages quote.
    static func checkBaseline(tree: PyNode, lines: [Substring], file: String, config: GPTConfig,
                              parameterShapes: [String: [Int]], settings: [String: HyperparameterValue] = [:],
                              readsActivation: Bool = false, blockList: String? = nil)
        throws(ModelConfigError) -> ArchitectureMatch {
        // The baseline's code returns its loss from `forward` (it has no `forward_logits`): the description is compared at its loss.
        func describe(_ config: GPTConfig) throws(ModelConfigError) -> ForwardDescription {
            do {
                var description = try FamilyGPTModel.forwardDescription(config)
                description.logits = nil
                return description
            } catch {
                throw .architectureNotMatched(file: file, line: 0, detail: error.description, reference: baselineReferenceName)
            }
        }
        return try check(tree: tree, lines: lines, file: file, config: config, describe: describe,
                         referenceName: baselineReferenceName, parameterShapes: parameterShapes, settings: settings,
                         readsActivation: readsActivation, blockList: blockList)
    }

    /// Checks the code at `code` against ``FamilyGPTModel`` for `config` (its features): the model's
    /// `forward_logits` (what the records' evaluation calls) against the description's logits; a model
    /// class without `forward_logits` is refused.
    public static func checkFamily(code: URL, config: GPTConfig, parameterShapes: [String: [Int]],
                                   settings: [String: HyperparameterValue] = [:], readsActivation: Bool = false)
        throws(ModelConfigError) -> ArchitectureMatch {
        let text = try SubmissionCodeText.read(code)
        return try checkFamily(source: text, file: SubmissionCodeText.sourceName(code), config: config,
                               parameterShapes: parameterShapes, settings: settings, readsActivation: readsActivation)
    }

    public static func checkFamily(source: String, file: String, config: GPTConfig, parameterShapes: [String: [Int]],
                                   settings: [String: HyperparameterValue] = [:], readsActivation: Bool = false)
        throws(ModelConfigError) -> ArchitectureMatch {
        let referenceName = "record-family GPT (FamilyGPTModel)"
        func describe(_ config: GPTConfig) throws(ModelConfigError) -> ForwardDescription {
            do {
                return try FamilyGPTModel.forwardDescription(config)
            } catch {
                throw .architectureNotMatched(file: file, line: 0, detail: error.description, reference: referenceName)
            }
        }
        _ = try describe(config)  // a configuration the family model cannot describe is refused before the code is parsed
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let tree = try parse(source, file: file, lines: lines, referenceName: referenceName)
        return try check(tree: tree, lines: lines, file: file, config: config, describe: describe, referenceName: referenceName,
                         parameterShapes: parameterShapes, settings: settings, readsActivation: readsActivation)
    }

    static func parse(_ source: String, file: String, lines: [Substring], referenceName: String) throws(ModelConfigError) -> PyNode {
        do {
            let parser = try cachedParser()
            guard let parsed = try parser.parse([.source(name: file, text: source)]).first else {
                throw ModelConfigError.architectureNotMatched(file: file, line: 0, detail: "the code could not be parsed", reference: referenceName)
            }
            return parsed
        } catch let error as ModelConfigError {
            throw error
        } catch {
            throw .architectureNotMatched(file: file, line: 0, detail: "the model code cannot be read: \(error)", reference: referenceName)
        }
    }

    static func check(tree: PyNode, lines: [Substring], file: String, config: GPTConfig,
                      describe: (GPTConfig) throws(ModelConfigError) -> ForwardDescription,
                      referenceName: String, parameterShapes: [String: [Int]], settings: [String: HyperparameterValue],
                      readsActivation: Bool = false, blockList: String? = nil)
        throws(ModelConfigError) -> ArchitectureMatch {
        func refuse(_ failure: ConformanceFailure) -> ModelConfigError {
            var detail = failure.function.isEmpty ? "" : failure.function + ": "
            if failure.line > 0, failure.line <= lines.count {
                let text = lines[failure.line - 1].trimmingCharacters(in: .whitespaces)
                detail += "`" + (text.count > 140 ? String(text.prefix(137)) + "..." : text) + "`: "
            }
            detail += failure.message
            return .architectureNotMatched(file: file, line: failure.line, detail: detail, reference: referenceName)
        }
        // Weight-shared blocks: the tensors hold the unique blocks only, so when the code at that depth
        // computes the reference's function on fewer skips than the weights hold, or is not matched, its own
        // stated depth (NUM_LAYERS) is read as the depth of a block schedule.
        func reading(_ depth: Int) throws(ModelConfigError) -> Reading {
            try read(tree: tree, lines: lines, file: file, config: config, depth: depth, describe: describe,
                     parameterShapes: parameterShapes, settings: settings, readsActivation: readsActivation, blockList: blockList,
                     refuse: refuse)
        }
        let refusal: ModelConfigError, onlyTheDepthDiffers: Bool
        do {
            switch try reading(config.numLayers) {
            case .matched(let match): return match
            case .otherSkipCount(let error): (refusal, onlyTheDepthDiffers) = (error, true)
            }
        } catch {
            (refusal, onlyTheDepthDiffers) = (error, false)
        }
        guard readsActivation, config.features.runsOnBaselineModel, config.features.stackLoops == nil,
              case .int(let depth)? = settings["num_layers"], depth > config.numLayers, depth <= FamilyGPTModel.maxScheduledDepth
        else { throw refusal }
        let deeper: Reading
        do {
            deeper = try reading(depth)
        } catch {
            // Where the code at the tensors' depth differed only in its skips, the deeper reading says what else differs.
            throw onlyTheDepthDiffers ? error : refusal
        }
        switch deeper {
        case .matched(let match) where match.blockSchedule?.count == depth: return match
        case .matched: throw refusal
        // The code's own depth computes the reference's function, on other skips than the weights hold.
        case .otherSkipCount(let error): throw error
        }
    }

    /// A reading that computes the reference's function: matched, or on another number of U-Net skips
    /// than the artifact's skip_weights holds (the refusal to give).
    private enum Reading {
        case matched(ArchitectureMatch)
        case otherSkipCount(ModelConfigError)
    }

    /// One reading of the code with `num_layers` at `depth`, compared with the reference for `config` (its
    /// activation and block schedule read from the code's graph when `readsActivation`).
    private static func read(tree: PyNode, lines: [Substring], file: String, config: GPTConfig, depth: Int,
                             describe: (GPTConfig) throws(ModelConfigError) -> ForwardDescription,
                             parameterShapes: [String: [Int]], settings: [String: HyperparameterValue], readsActivation: Bool,
                             blockList: String?,
                             refuse: (ConformanceFailure) -> ModelConfigError) throws(ModelConfigError) -> Reading {
        var hyperparameters = Self.hyperparameters(config)
        hyperparameters["num_layers"] = .int(depth)
        for (name, value) in settings where hyperparameters[name] == nil {
            switch value {
            case .int(let n): hyperparameters[name] = .int(n)
            case .float(let x): hyperparameters[name] = .real(x)
            case .bool(let flag): hyperparameters[name] = .bool(flag)
            case .string(let text): hyperparameters[name] = .string(text)
            }
        }
        let interpreter = ForwardInterpreter(module: tree, hyperparameters: hyperparameters, parameterShapes: parameterShapes)
        interpreter.blockList = blockList
        var reference = try describe(config)
        let root: Int
        var model: (instance: ModuleInstance, className: String)?
        do {
            if reference.logits != nil {
                let read = try extractOutputAndModel(interpreter, tree: tree, config: config)
                (root, model) = (read.root, (read.model, read.className))
            } else {
                root = try extractLoss(interpreter, tree: tree)
            }
        } catch let failure as ConformanceFailure {
            throw refuse(failure)
        } catch {
            throw refuse(ConformanceFailure(line: 0, function: "", message: "\(error)"))
        }
        // The activation and the block schedule are parameters of the reference: the code's, when asked,
        // described and compared like the rest.
        var described = config
        var activationRead: String?
        if readsActivation, let read = MLPActivationReading.read(interpreter.graph, root: root) {
            activationRead = "\(file):\(read.line)"
            described.features.mlpActivation = read.activation
        }
        var blockSchedule: [Int]?
        if readsActivation, config.features.runsOnBaselineModel, config.features.stackLoops == nil, config.features.blockSchedule == nil,
           let schedule = BlockScheduleReading.read(interpreter.graph, root: root), schedule != Array(0..<config.numLayers) {
            blockSchedule = schedule
            described.features.blockSchedule = schedule
        }
        var fakeQuantizationRead: String?
        if readsActivation, config.features.weightFakeQuantization == nil,
           let read = WeightFakeQuantReading.read(interpreter.graph, root: root) {
            fakeQuantizationRead = "\(file):\(read.line)"
            described.features.weightFakeQuantization = read.quantization
        }
        if described != config { reference = try describe(described) }
        if let schedule = blockSchedule {
            let known = Set(reference.graph.nodes.compactMap { node -> String? in
                guard node.op == "param", case .text(let name)? = node.attribute("name") else { return nil }
                return name
            })
            if let vectors = ScheduleVectorReading.read(interpreter.graph, root: root, depth: schedule.count, modelDim: config.modelDim,
                                                        referenceParameters: known, parameterShapes: parameterShapes) {
                described.features.scheduleVectors = vectors
                reference = try describe(described)
            }
        }
        let referenceRoot = reference.logits ?? reference.loss
        var comparison = ForwardGraphComparison(code: interpreter.graph, reference: reference.graph)
        if comparison.equal(root, referenceRoot) {
            // The code reads parameters at the artifact's shapes; the skips it pops must be the rows the weights hold.
            let f = described.features
            let skipRows = FamilyGPTModel.schedules(layers: config.numLayers, loop: f.loop, stackLoops: f.stackLoops,
                                                    blockSchedule: f.blockSchedule).skipCount
            if let rows = parameterShapes["skip_weights"]?.first, rows != skipRows {
                return .otherSkipCount(refuse(ConformanceFailure(line: 0, function: "", message: "read with num_layers=\(depth), the forward runs "
                    + "\(f.blockSchedule?.count ?? config.numLayers) blocks with \(skipRows) U-Net skips, but the artifact's skip_weights holds \(rows) rows")))
            }
            var testTimeTrainingPath = TestTimeTrainingPath.absent
            if let model {
                testTimeTrainingPath = TestTimeTrainingPathCheck.check(interpreter, model: model.instance, className: model.className,
                                                                        logits: root, refuse: refuse)
            }
            return .matched(ArchitectureMatch(architecture: reference.summary, file: file, mlpActivation: described.features.mlpActivation,
                                              activationRead: activationRead, blockSchedule: blockSchedule,
                                              scheduleVectors: described.features.scheduleVectors,
                                              weightFakeQuantization: described.features.weightFakeQuantization,
                                              fakeQuantizationRead: fakeQuantizationRead,
                                              testTimeTrainingPath: testTimeTrainingPath))
        }
        var failure = difference(interpreter.graph, root: root, reference: reference.graph, referenceRoot: referenceRoot,
                                 comparison: &comparison)
        if let hint = WeightFakeQuantReading.hint(interpreter.graph, root: root, line: failure.line) { failure.message += "; " + hint }
        throw refuse(failure)
    }

    nonisolated(unsafe) private static var parser: PythonParser?
    private static let parserLock = NSLock()

    /// Finding the interpreter probes several (a second with pyenv): done once per process.
    static func cachedParser() throws -> PythonParser {
        parserLock.lock()
        defer { parserLock.unlock() }
        if let parser { return parser }
        let found = try PythonParser()
        parser = found
        return found
    }

    /// The hyperparameters the model is built from, as the reference configuration states them.
    static func hyperparameters(_ config: GPTConfig) -> [String: SymbolicValue] {
        var values: [String: SymbolicValue] = [
            "vocab_size": .int(config.vocabSize), "num_layers": .int(config.numLayers), "model_dim": .int(config.modelDim),
            "num_heads": .int(config.numHeads), "num_kv_heads": .int(config.numKVHeads), "mlp_hidden": .int(config.mlpHidden),
            "tie_embeddings": .bool(config.tieEmbeddings), "rope_base": .real(config.ropeBase),
            "logit_softcap": .real(config.logitSoftcap ?? 0),
        ]
        values["mlp_mult"] = config.mlpHidden % config.modelDim == 0
            ? .int(config.mlpHidden / config.modelDim) : .real(Double(config.mlpHidden) / Double(config.modelDim))
        return values
    }

    /// Builds the model as the code's construction (`GPT(vocab_size=args.vocab_size, …)`) does, then
    /// runs its forward on symbolic `input_ids`, `target_ids` of shape `[B, T]`.
    static func extractLoss(_ interpreter: ForwardInterpreter, tree: PyNode) throws -> Int {
        let (instance, className, construction, enclosing) = try buildModel(interpreter, tree: tree)
        guard let (forward, owner) = interpreter.method("forward", of: className) else {
            throw ConformanceFailure(line: construction.line, function: enclosing, message: "\(className) has no forward")
        }
        let shape: [SymbolicDim] = [.sym("B"), .sym("T")]
        let ids = SymbolicValue.tensor(interpreter.graph.input("input_ids"), shape)
        let targets = SymbolicValue.tensor(interpreter.graph.input("target_ids"), shape)
        let frame = ForwardInterpreter.Frame(function: enclosing, className: nil, receiver: nil)
        let loss = try callTwice(interpreter, forward, qualifiedName: owner + ".forward", owner: owner, instance: instance,
                                 positional: [ids, targets], frame)
        guard case .tensor(let id, _) = loss else {
            throw ConformanceFailure(line: forward.line, function: owner + ".forward",
                                     message: "returns a \(loss.kind) given input_ids and target_ids, not the loss")
        }
        return id
    }

    /// The records' evaluation scores `forward_logits(input_ids)`: its output. The model is read in
    /// its evaluation state: a record-family loop is
    /// switched on before every evaluation (`looping_active = True`, the resolver's rule for `loop`).
    static func extractOutput(_ interpreter: ForwardInterpreter, tree: PyNode, config: GPTConfig) throws -> Int {
        try extractOutputAndModel(interpreter, tree: tree, config: config).root
    }

    static func extractOutputAndModel(_ interpreter: ForwardInterpreter, tree: PyNode, config: GPTConfig) throws
        -> (root: Int, model: ModuleInstance, className: String) {
        let (instance, className, construction, enclosing) = try buildModel(interpreter, tree: tree)
        if let loop = config.features.loop, instance.attributes["looping_active"] != nil {
            instance.attributes["looping_active"] = .bool(loop.active)
            interpreter.pinnedAttributes.insert("looping_active")
        }
        guard let (forward, owner) = interpreter.method("forward_logits", of: className) else {
            throw ConformanceFailure(line: construction.line, function: enclosing,
                                     message: "\(className) has no forward_logits, the method the records' evaluation scores")
        }
        let ids = SymbolicValue.tensor(interpreter.graph.input("input_ids"), [.sym("B"), .sym("T")])
        let frame = ForwardInterpreter.Frame(function: enclosing, className: nil, receiver: nil)
        let logits = try callTwice(interpreter, forward, qualifiedName: owner + ".forward_logits", owner: owner, instance: instance,
                                   positional: [ids], frame)
        guard case .tensor(let id, _) = logits else {
            throw ConformanceFailure(line: forward.line, function: owner + ".forward_logits",
                                     message: "returns a \(logits.kind) given input_ids, not the logits")
        }
        return (id, instance, className)
    }

    /// The value of the model's scoring method, called twice on the same inputs: the evaluation calls it on
    /// batch after batch, with the state the earlier calls left on the modules. A forward that keeps state
    /// across calls and computes something else with it (a counter, a cache refilled with other values,
    /// weights changed in place) scores later batches with another function than the first call shows, so it
    /// is refused, at the first operation of the second call the first did not compute. A cache that hands
    /// back what it was filled with (the rotary tables) gives the same graph, node for node.
    static func callTwice(_ interpreter: ForwardInterpreter, _ method: PyNode, qualifiedName: String, owner: String,
                          instance: ModuleInstance, positional: [SymbolicValue], _ frame: ForwardInterpreter.Frame) throws -> SymbolicValue {
        let first = try interpreter.call(method, qualifiedName: qualifiedName, className: owner, receiver: instance,
                                         positional: positional, keywords: [:], at: method, frame)
        let second = try interpreter.call(method, qualifiedName: qualifiedName, className: owner, receiver: instance,
                                          positional: positional, keywords: [:], at: method, frame)
        guard case .tensor(let a, _) = first, case .tensor(let b, _) = second, a != b else { return first }
        let origin = interpreter.graph[firstOperation(interpreter.graph, of: b, notIn: a)].origin
        throw ConformanceFailure(line: origin?.line ?? method.line, function: origin?.function ?? qualifiedName,
                                 message: "\(qualifiedName) computes another function when called again (the evaluation calls it on "
                                     + "every batch): state it keeps on the modules across calls changes what it computes, which "
                                     + "pgverify does not follow")
    }

    static func buildModel(_ interpreter: ForwardInterpreter, tree: PyNode) throws -> (ModuleInstance, String, PyNode, String) {
        guard let (className, construction, enclosing) = modelConstruction(interpreter, tree: tree) else {
            throw ConformanceFailure(line: 0, function: "", message: "no model class is constructed where pgverify can find it "
                + "(a class with a forward, built with the hyperparameters, such as `GPT(vocab_size=args.vocab_size, …)`)")
        }
        var frame = ForwardInterpreter.Frame(function: enclosing, className: nil, receiver: nil)
        for name in hyperparameterReceivers(construction, interpreter) { frame.locals[name] = .hyperparameters }
        if enclosing == "main" { interpreter.hyperparameterReceivers = hyperparameterReceivers(construction, interpreter) }
        interpreter.graph.currentOrigin = ForwardOrigin(line: construction.line, function: enclosing)
        let model = try interpreter.evaluate(construction, &frame)
        guard case .module(let instance) = model else {
            throw ConformanceFailure(line: construction.line, function: enclosing, message: "\(className)(…) is not a module")
        }
        instance.setPath("")
        return (instance, className, construction, enclosing)
    }

    /// The model class and the call that builds it: `GPT(...)` when the code defines a GPT, else the
    /// first class with a `forward` built with a `num_layers` or `vocab_size` argument. Calls in `main`
    /// come first.
    static func modelConstruction(_ interpreter: ForwardInterpreter, tree: PyNode) -> (String, PyNode, String)? {
        var calls: [(className: String, call: PyNode, function: String)] = []
        func visit(_ node: PyNode, function: String, insideClass: String?) {
            switch node.type {
            case "FunctionDef", "AsyncFunctionDef":
                let name = node.string("name") ?? "?"
                for child in node.childNodes { visit(child, function: insideClass.map { $0 + "." + name } ?? name, insideClass: nil) }
                return
            case "ClassDef":
                for child in node.childNodes { visit(child, function: function, insideClass: node.string("name")) }
                return
            case "Call":
                if let callee = node.child("func"), callee.type == "Name", let name = callee.string("id"),
                   interpreter.classes[name] != nil, interpreter.method("forward", of: name) != nil {
                    calls.append((name, node, function))
                }
            default: break
            }
            for child in node.childNodes { visit(child, function: function, insideClass: insideClass) }
        }
        visit(tree, function: "<module>", insideClass: nil)
        func isModelCall(_ entry: (className: String, call: PyNode, function: String)) -> Bool {
            entry.call.children("keywords").contains { ["num_layers", "vocab_size"].contains($0.string("arg") ?? "") }
        }
        let candidates = calls.filter { $0.className == "GPT" }.isEmpty ? calls.filter(isModelCall) : calls.filter { $0.className == "GPT" }
        let chosen = candidates.first { $0.function == "main" } ?? candidates.first
        return chosen.map { ($0.className, $0.call, $0.function) }
    }

    /// Names used as `name.attribute` in the construction's arguments that are not classes, functions or
    /// imports: the `Hyperparameters` instance (`args`).
    static func hyperparameterReceivers(_ call: PyNode, _ interpreter: ForwardInterpreter) -> Set<String> {
        var names: Set<String> = []
        // `GPT(h)`: the Hyperparameters instance passed whole.
        for argument in call.children("args") + call.children("keywords").compactMap({ $0.child("value") })
        where argument.type == "Name" {
            if let name = argument.string("id"), interpreter.classes[name] == nil, interpreter.functions[name] == nil,
               interpreter.aliases.resolve(name) == name {
                names.insert(name)
            }
        }
        call.walk { node in
            guard node.type == "Attribute", let receiver = node.child("value"), receiver.type == "Name",
                  let name = receiver.string("id") else { return }
            if interpreter.classes[name] == nil, interpreter.functions[name] == nil, interpreter.aliases.resolve(name) == name,
               !["torch", "math", "F", "nn", "self"].contains(name) {
                names.insert(name)
            }
        }
        return names
    }

    /// The first operation (in creation order) of `id`'s graph not in `other`'s whose inputs all are: where two
    /// readings of one forward start to differ.
    static func firstOperation(_ graph: ForwardGraph, of id: Int, notIn other: Int) -> Int {
        var known = Set<Int>()
        var stack = [other]
        while let next = stack.popLast() { if known.insert(next).inserted { stack += graph[next].inputs } }
        var new = Set<Int>()
        stack = [id]
        while let next = stack.popLast() { if !known.contains(next), new.insert(next).inserted { stack += graph[next].inputs } }
        return new.sorted().first { graph[$0].inputs.allSatisfy(known.contains) } ?? id
    }

    /// The first operation (in the order the code computes) whose inputs the reference computes too but
    /// which it does not: where the code stops matching.
    static func difference(_ code: ForwardGraph, root: Int, reference: ForwardGraph, referenceRoot: Int,
                           comparison: inout ForwardGraphComparison) -> ConformanceFailure {
        let codeHashes = ForwardGraphFingerprint.hashes(code)
        let referenceHashes = ForwardGraphFingerprint.hashes(reference)
        let known = Set(referenceHashes)
        var reachable = Set<Int>()
        var stack = [root]
        while let id = stack.popLast() {
            if reachable.insert(id).inserted { stack += code[id].inputs }
        }
        for id in reachable.sorted() where !known.contains(codeHashes[id]) {
            guard code[id].inputs.allSatisfy({ known.contains(codeHashes[$0]) }) else { continue }
            // A scalar constant is one node wherever the code writes it (the graph shares identical nodes), so its
            // own origin is the first line that wrote it anywhere: name the line of the first operation here that
            // uses it. (A computed table such as rotary's inv_freq keeps the line that computed it.)
            let user = code[id].op == "const" ? reachable.sorted().first { code[$0].inputs.contains(id) } : nil
            let origin = user.flatMap { code[$0].origin } ?? code[id].origin
            let inputHashes = Set(code[id].inputs.map { codeHashes[$0] })
            // The reference's operation on the same inputs, preferring the same operation.
            let candidates = reference.nodes.indices.filter { r in
                !reference[r].inputs.isEmpty && reference[r].inputs.contains { inputHashes.contains(referenceHashes[$0]) }
            }
            let counterpart = candidates.first { reference[$0].op == code[id].op } ?? candidates.first
            var message = "computes \(describe(code, id))"
            if let counterpart {
                message += ", where the reference computes \(describe(reference, counterpart))"
            } else if code[id].inputs.isEmpty {
                message += ", which the reference model does not use"
            } else {
                message += ", which the reference model does not compute"
            }
            return ConformanceFailure(line: origin?.line ?? 0, function: origin?.function ?? "", message: message)
        }
        // Every operation exists in the reference, but not assembled the same way (e.g. arguments swapped).
        if let (c, r) = comparison.firstDifference(root, referenceRoot) {
            let origin = code[c].origin
            return ConformanceFailure(line: origin?.line ?? 0, function: origin?.function ?? "",
                                      message: "computes \(describe(code, c)), where the reference computes \(describe(reference, r))")
        }
        return ConformanceFailure(line: 0, function: "", message: "the forward pass differs from the reference")
    }

    /// An operation and, one level down, its inputs: `relu of (linear)`.
    static func describe(_ graph: ForwardGraph, _ id: Int) -> String {
        let inputs = graph[id].inputs
        guard !inputs.isEmpty else { return graph.describe(id) }
        return graph.describe(id) + " of (" + inputs.map { graph.describe($0) }.joined(separator: ", ") + ")"
    }
}

/// Structural hashes of every node of a graph (unordered inputs of `sum`/`prod` sorted, numbers
/// rounded to 6 significant digits): equal operations of two graphs get equal hashes, used to find
/// where they part.
enum ForwardGraphFingerprint {
    static func hashes(_ graph: ForwardGraph) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(graph.nodes.count)
        for node in graph.nodes {
            var hasher = Hasher()
            hasher.combine(node.op)
            for attribute in node.attributes {
                hasher.combine(attribute.name)
                switch attribute.value {
                case .real(let x): hasher.combine(String(format: "%.6g", x))
                case .reals(let xs): for x in xs { hasher.combine(String(format: "%.6g", x)) }
                default: hasher.combine(attribute.value)
                }
            }
            var inputs = node.inputs.map { result[$0] }
            if ForwardGraph.commutative.contains(node.op) { inputs.sort() }
            hasher.combine(inputs)
            result.append(hasher.finalize())
        }
        return result
    }
}
