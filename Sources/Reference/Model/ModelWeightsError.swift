/// Weights that do not fit the model they are meant for.
public enum ModelWeightsError: InputError, Equatable {
    /// The configuration itself is impossible (e.g. heads that do not divide the width).
    case invalidConfig(String)
    /// A tensor the model needs is absent.
    case missingTensor(name: String)
    /// A tensor the model does not use is present (a different architecture, or a renamed key).
    case unexpectedTensor(name: String)
    /// A tensor belongs to an architecture feature the reference model does not implement.
    case unsupportedTensor(name: String, feature: String)
    /// A setting asks for a feature the reference model does not implement.
    case unsupportedSetting(name: String, value: String, feature: String)
    /// A tensor's shape differs from the one the configuration implies.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A tensor holds NaN or ±infinity.
    case nonFinite(name: String, index: Int, value: Float)

    public var description: String {
        switch self {
        case .invalidConfig(let message):
            "invalid model configuration: \(message)"
        case .missingTensor(let name):
            "weights: missing tensor \(name)"
        case .unexpectedTensor(let name):
            "weights: unexpected tensor \(name) (not part of the baseline GPT with this configuration)"
        case .unsupportedTensor(let name, let feature):
            "unsupported: tensor \(name) — feature \(feature) not implemented"
        case .unsupportedSetting(let name, let value, let feature):
            "unsupported: \(name)=\(value) — feature \(feature) not implemented"
        case .shapeMismatch(let name, let expected, let actual):
            "weights: tensor \(name) has shape \(actual), the configuration needs \(expected)"
        case .nonFinite(let name, let index, let value):
            "weights: tensor \(name) holds \(value) at element \(index)"
        }
    }
}
