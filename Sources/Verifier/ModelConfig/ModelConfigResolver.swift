import Foundation
import Reference

/// Resolves the model configuration of a submission from its weights, code, logs and the user's
/// overrides — without executing any of its code.
///
/// Tensor shapes are facts: vocabulary, width, layers, KV width, MLP width, tying and (from `q_gain`)
/// heads. The other values come from, in decreasing precedence: explicit overrides, values stated in
/// logs or run commands, and the defaults of the code's `class Hyperparameters`. A log or override that
/// contradicts a shape is an error; a code default that does is only a default the run changed through
/// its environment, and is reported in ``ResolvedModelConfig/notes``.
public struct ModelConfigResolver {
    /// Hyperparameters read from code, logs and overrides, with their environment variables.
    public static let statedKeys: [(name: String, environmentVariable: String)] = baseKeys + Resolution.featureKeys
    static let baseKeys: [(name: String, environmentVariable: String)] = [
        ("vocab_size", "VOCAB_SIZE"), ("num_layers", "NUM_LAYERS"), ("model_dim", "MODEL_DIM"),
        ("num_heads", "NUM_HEADS"), ("num_kv_heads", "NUM_KV_HEADS"), ("mlp_mult", "MLP_MULT"),
        ("tie_embeddings", "TIE_EMBEDDINGS"), ("rope_base", "ROPE_BASE"), ("logit_softcap", "LOGIT_SOFTCAP"),
        ("train_seq_len", "TRAIN_SEQ_LEN"), ("eval_seq_len", "EVAL_SEQ_LEN"),
    ]
    /// An override-only key: the evaluation sequence length itself.
    public static let seqLenOverrideKey = "seq_len"

    /// Resolves the configuration.
    ///
    /// - Parameters:
    ///   - weights: the dequantized state dict (names and shapes are what matter).
    ///   - code: the submission's training script, whose `class Hyperparameters` gives defaults.
    ///   - logs: training logs or files with run commands, scanned for stated hyperparameters.
    ///   - overrides: values by attribute name (`num_heads`) or environment variable (`NUM_HEADS`),
    ///     plus `seq_len` for the evaluation sequence length.
    /// With `acceptsStatedDepth`, a num_layers a log or override states above the tensors' blocks is left to
    /// the code (``ResolvedModelConfig/statedDepth``); the caller must confirm it (``Reevaluation/confirmArchitecture``).
    public static func resolve(
        weights: Weights, code: URL?, logs: [URL], overrides: [String: String], acceptsStatedDepth: Bool = false
    ) throws(ModelConfigError) -> ResolvedModelConfig {
        // A tensor of a feature we do not implement is named before anything else is read. Per-pass
        // `lora_adapters.*` are read where the code declares whole-stack passes with a LORA_RANK
        // (``ArchitectureFeatures/StackLoops``, checked against NUM_LOOPS and LORA_RANK there).
        let unsupported = weights.keys.sorted().filter { UnsupportedFeature.forTensor($0) != nil }
        func refuse(_ name: String) -> ModelConfigError {
            .unsupportedTensor(name: name, feature: UnsupportedFeature.forTensor(name)?.description ?? name)
        }
        if let name = unsupported.first(where: { !$0.hasPrefix("lora_adapters.") }) { throw refuse(name) }
        let codeText = try code.map { url throws(ModelConfigError) in try SubmissionCodeText.read(url) }
        let defaults = codeText.map { HyperparameterDefaults.parse(source: $0, file: SubmissionCodeText.sourceName(code!)) }
            ?? HyperparameterDefaults()
        let declarations = defaults.declarations
        let passAdapters = declarations["num_loops"] != nil && declarations["lora_rank"] != nil
            && declarations["loop_start"] == nil && declarations["loop_end"] == nil
        if let name = unsupported.first, !passAdapters { throw refuse(name) }
        let facts = try ShapeFacts(weights)
        let keyNames = Set(statedKeys.map(\.name))
        var logged: [LoggedHyperparameter] = []
        for url in logs {
            logged += LogHyperparameters.scan(try read(url), file: url.path, keys: keyNames)
        }
        let statements = StatedValues(defaults: defaults, logged: logged,
                                      overrides: try normalize(overrides, defaults: defaults))
        var resolution = Resolution(facts: facts, stated: statements)
        resolution.code = codeText.map { ($0, code!.path) }
        resolution.acceptsStatedDepth = acceptsStatedDepth
        return try resolution.result(weights: weights)
    }

    static func read(_ url: URL) throws(ModelConfigError) -> String {
        do {
            let data = try Data(contentsOf: url)
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw .unreadable(file: url.path, reason: error.localizedDescription)
        }
    }

    /// Maps override keys (attribute names or environment variables, any case) to attribute names.
    static func normalize(
        _ overrides: [String: String], defaults: HyperparameterDefaults
    ) throws(ModelConfigError) -> [String: (key: String, value: String)] {
        var result: [String: (key: String, value: String)] = [:]
        for (key, value) in overrides {
            guard let name = attributeName(for: key, defaults: defaults) ?? (
                key.lowercased() == seqLenOverrideKey ? seqLenOverrideKey : nil) else {
                throw .unknownOverride(key: key, known: statedKeys.map(\.environmentVariable) + ["SEQ_LEN"])
            }
            result[name] = (key, value)
        }
        return result
    }

    /// The attribute name for `key`, an attribute name or environment variable we resolve, or an
    /// environment variable the code itself declares (a switch of its model, such as
    /// `SMEAR_GATE_ENABLED`, which the conformance check reads at the value the run used).
    static func attributeName(for key: String, defaults: HyperparameterDefaults) -> String? {
        // Several settings may read one variable: the one named after it, else the first by name.
        let readers = defaults.declarations.values.filter { $0.environmentVariable == key }.map(\.name).sorted()
        if let name = readers.first(where: { $0 == key.lowercased() }) ?? readers.first { return name }
        let lower = key.lowercased()
        return statedKeys.first { $0.name == lower }?.name
    }

    static func environmentVariable(for name: String, defaults: HyperparameterDefaults) -> String {
        defaults.declarations[name]?.environmentVariable
            ?? statedKeys.first { $0.name == name }?.environmentVariable ?? name.uppercased()
    }
}

/// One stated value and where it was stated.
struct Statement {
    enum Layer: Int, Comparable {
        case code = 0, log, override
        static func < (lhs: Layer, rhs: Layer) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    var value: HyperparameterValue
    var text: String
    var source: ValueSource
    var layer: Layer
}

/// The values code, logs and overrides state, looked up by attribute name with their precedence.
struct StatedValues {
    let defaults: HyperparameterDefaults
    let logged: [LoggedHyperparameter]
    let overrides: [String: (key: String, value: String)]

    /// The highest-precedence statement of `name`, or `nil`; logs that disagree among themselves are
    /// an error unless an override settles the value.
    func statement(_ name: String, as kind: ValueKind) throws(ModelConfigError) -> Statement? {
        guard let statement = try unboundedStatement(name, as: kind) else { return nil }
        try SettingBounds.check(name, statement.value, text: statement.text, source: statement.source)
        return statement
    }

    private func unboundedStatement(_ name: String, as kind: ValueKind) throws(ModelConfigError) -> Statement? {
        if let (key, text) = overrides[name] {
            let source = ValueSource.override(key: key, value: text)
            guard let value = kind.parse(text) else {
                throw .invalidValue(key: name, value: text, source: source, reason: "not \(kind.noun)")
            }
            return Statement(value: value, text: text, source: source, layer: .override)
        }
        var chosen: Statement?
        for entry in logged where ModelConfigResolver.attributeName(for: entry.key, defaults: defaults) == name {
            let source = ValueSource.log(file: entry.file, line: entry.line, text: entry.lineText)
            let converted: HyperparameterValue?
            if entry.isEnvironmentAssignment, let declaration = defaults.declarations[name] {
                converted = declaration.value(environment: entry.text)
            } else {
                converted = kind.parse(entry.text)
            }
            guard let value = converted else {
                throw .invalidValue(key: name, value: entry.text, source: source, reason: "not \(kind.noun)")
            }
            let statement = Statement(value: value, text: entry.text, source: source, layer: .log)
            if let first = chosen {
                guard kind.same(first.value, value) else {
                    throw .conflictingLogValues(key: name, first: first.text, firstSource: first.source,
                                                second: entry.text, secondSource: source)
                }
            } else {
                chosen = statement
            }
        }
        if let chosen { return chosen }
        if let declaration = defaults.declarations[name] {
            let source = ValueSource.codeDefault(
                name: name, environmentVariable: declaration.environmentVariable ?? name,
                expression: declaration.expression, file: declaration.file, line: declaration.line)
            let rawOverrides = Dictionary(overrides.values.map { ($0.key, $0.value) }) { first, _ in first }
            let others = defaults.statedEnvironment(of: declaration, overrides: rawOverrides, logged: logged)
            guard let value = declaration.value(others: others) else {
                throw .invalidValue(key: name, value: declaration.expression, source: source,
                                    reason: "Python would raise evaluating the default")
            }
            return Statement(value: value, text: value.description, source: source, layer: .code)
        }
        return nil
    }

    /// Why `name` has no statement, for the missing-value error.
    func absenceDetail(_ name: String) -> String {
        guard let file = defaults.file else {
            return "no code was given, and no log or override states it"
        }
        if let unreadable = defaults.unreadableDetail(name) {
            return unreadable + ", and no log states it"
        }
        if !defaults.foundClass {
            return "\(file) has no class Hyperparameters that pgverify can read (the code may be compressed "
                + "or generated), and no log states it"
        }
        return "neither the class Hyperparameters of \(file) nor any log states it"
    }
}

/// The range check every integer setting passes before it is used (``InputLimits``).
enum SettingBounds {
    /// Refuses an integer `value` of `name` whose magnitude is over its ``InputLimits`` maximum.
    static func check(_ name: String, _ value: HyperparameterValue, text: String, source: ValueSource) throws(ModelConfigError) {
        guard case .int(let number) = value else { return }
        let (maximum, what) = InputLimits.maximum(forSetting: name)
        guard number.magnitude <= UInt(maximum) else {
            throw .invalidValue(key: name, value: text, source: source,
                                reason: "\(what) must be at most \(maximum) in magnitude (pgverify's input limits)")
        }
    }
}

/// How a hyperparameter's text is read and compared.
enum ValueKind {
    case integer, real, boolean, text

    var noun: String {
        switch self {
        case .text: return "a string"
        case .integer: return "an integer"
        case .real: return "a number"
        case .boolean: return "a boolean (True/False/1/0)"
        }
    }

    func parse(_ text: String) -> HyperparameterValue? {
        let trimmed = text.trimmingPythonWhitespace()
        switch self {
        case .text: return .string(trimmed)
        case .integer:
            if let value = PythonNumbers.parseInt(trimmed) { return .int(value) }
            if let value = PythonNumbers.parseFloat(trimmed), value.isFinite, value == value.rounded(),
               value.magnitude < 9.2e18 { return .int(Int(value)) }
            return nil
        case .real:
            guard let value = PythonNumbers.parseFloat(trimmed), value.isFinite else { return nil }
            return .float(value)
        case .boolean:
            switch trimmed.lowercased() {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: return nil
            }
        }
    }

    func same(_ lhs: HyperparameterValue, _ rhs: HyperparameterValue) -> Bool {
        switch self {
        case .integer: return lhs.pythonInt() == rhs.pythonInt()
        case .real: return lhs.pythonFloat() == rhs.pythonFloat()
        case .boolean: return lhs.pythonBool() == rhs.pythonBool()
        case .text: return lhs.description == rhs.description
        }
    }
}

extension ModelConfigResolver {
    /// Every hyperparameter the code's `class Hyperparameters` declares, at the value the run used as
    /// far as pgverify can tell (an override, else a log, else the code default): what the model code
    /// reads beyond the resolved configuration (an activation's slope, a gain), for
    /// ``ArchitectureConformance``. Values that cannot be read are left out.
    public static func statedSettings(code: URL, logs: [URL], overrides: [String: String]) throws(ModelConfigError)
        -> [String: HyperparameterValue]
    {
        let text = try SubmissionCodeText.read(code)
        let defaults = HyperparameterDefaults.parse(source: text, file: SubmissionCodeText.sourceName(code))
        let names = Set(defaults.declarations.keys)
        var logged: [LoggedHyperparameter] = []
        for url in logs { logged += LogHyperparameters.scan(try read(url), file: url.path, keys: names) }
        let known = (try? normalize(overrides.filter { attributeName(for: $0.key, defaults: defaults) != nil }, defaults: defaults)) ?? [:]
        let stated = StatedValues(defaults: defaults, logged: logged, overrides: known)
        var values: [String: HyperparameterValue] = [:]
        for (name, declaration) in defaults.declarations {
            guard let typed = declaration.value(others: defaults.statedEnvironment(of: declaration, overrides: overrides, logged: logged))
            else { continue }
            let kind: ValueKind
            switch typed {
            case .int: kind = .integer
            case .float: kind = .real
            case .bool: kind = .boolean
            case .string: kind = .text
            }
            if let statement = try? stated.statement(name, as: kind) { values[name] = statement.value }
        }
        return values
    }
}
