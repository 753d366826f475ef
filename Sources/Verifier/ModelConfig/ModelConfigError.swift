import Reference

/// Why a submission's model configuration could not be resolved.
public enum ModelConfigError: InputError, Equatable {
    /// A code or log file could not be read.
    case unreadable(file: String, reason: String)
    /// A tensor the baseline architecture needs is not in the weights.
    case missingTensor(String)
    /// A `blocks.` tensor whose name has no block index.
    case unexpectedTensorName(String)
    /// A tensor with a shape that does not fit the architecture.
    case unexpectedShape(tensor: String, shape: [Int], expected: String)
    /// Shapes and hyperparameters that cannot describe one model (e.g. `model_dim` not divisible by heads).
    case inconsistent(key: String, reason: String, sources: [ValueSource])
    /// A log or override states a value that the tensor shapes contradict.
    case contradictsShapes(key: String, stated: String, statedBy: ValueSource, shapeValue: String, shapeSource: ValueSource)
    /// Two logs (or two lines) state different values and no override settles it.
    case conflictingLogValues(key: String, first: String, firstSource: ValueSource, second: String, secondSource: ValueSource)
    /// A value no source provides.
    case missingValue(key: String, environmentVariable: String, detail: String)
    /// A fact that only the code states (an activation, a gate's reset rule), not found in it: no
    /// setting or override can supply it.
    case unreadCodeFact(key: String, detail: String)
    /// A code default that cannot be trusted because the shapes show the run changed other defaults.
    case untrustedCodeDefault(key: String, value: String, source: ValueSource, evidence: [String])
    /// A stated value of the wrong type or range.
    case invalidValue(key: String, value: String, source: ValueSource, reason: String)
    /// A tensor of an architecture feature the reference model does not implement.
    case unsupportedTensor(name: String, feature: String)
    /// A setting that asks for a feature the reference model does not implement.
    case unsupportedFeature(what: String, feature: String, source: ValueSource)
    /// An override key that is not a model hyperparameter we resolve.
    case unknownOverride(key: String, known: [String])
    /// The code's model does not compute what the reference model would run (or pgverify cannot read
    /// it): no score is computed (``ArchitectureConformance``).
    case architectureNotMatched(file: String, line: Int, detail: String, reference: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .missingTensor(name):
            return "the weights have no \(name) tensor, which the baseline architecture needs"
        case let .unexpectedTensorName(name):
            return "tensor \(name) has no block index after 'blocks.'"
        case let .unexpectedShape(tensor, shape, expected):
            return "tensor \(tensor) has shape \(shape), expected \(expected)"
        case let .inconsistent(key, reason, sources):
            return "\(key): \(reason) (" + sources.map(\.description).joined(separator: "; ") + ")"
        case let .contradictsShapes(key, stated, statedBy, shapeValue, shapeSource):
            return "\(key) = \(stated) from \(statedBy) contradicts \(key) = \(shapeValue) from \(shapeSource)"
        case let .conflictingLogValues(key, first, firstSource, second, secondSource):
            return "\(key) is \(first) in \(firstSource) but \(second) in \(secondSource); "
                + "pass an override to choose"
        case let .missingValue(key, variable, detail):
            return "cannot determine \(key) (\(variable)): \(detail); pass it as an override (\(variable)=...)"
        case let .unreadCodeFact(key, detail):
            return "cannot determine \(key): \(detail); it is read from the submission's code, not from a setting, "
                + "so no override can supply it"
        case let .untrustedCodeDefault(key, value, source, evidence):
            return "cannot determine \(key): the weights do not fix it, and \(source) gives \(value), but the run "
                + "changed other code defaults (" + evidence.joined(separator: "; ")
                + "); pass it as an override (e.g. \(key.uppercased())=...) or give the log that states it"
        case let .invalidValue(key, value, source, reason):
            return "\(key) = \(value) from \(source) is not usable: \(reason)"
        case let .unsupportedTensor(name, feature):
            return "unsupported: tensor \(name) — feature \(feature) not implemented"
        case let .unsupportedFeature(what, feature, source):
            return "unsupported: \(what) from \(source) — feature \(feature) not implemented"
        case let .unknownOverride(key, known):
            return "unknown override \(key); known: " + known.joined(separator: ", ")
        case let .architectureNotMatched(file, line, detail, reference):
            return "architecture not matched: \(file)\(line > 0 ? ":\(line)" : ""): \(detail); pgverify would run the \(reference), "
                + "so it computes no score for this code"
        }
    }
}
