import Reference

/// One stored parameter as an export format keeps it, for `verify inspect`.
public struct TensorSummary: Sendable, Equatable, Codable {
    /// The parameter's name in the model's state dict.
    public var name: String
    /// The element type of the stored values (`int8` for quantized rows, `float16` for passthrough).
    public var dtype: String
    /// The parameter's shape.
    public var shape: [Int]
    /// How the values are encoded and what they become (`int8 per-row, float16 scales -> bfloat16`).
    public var scheme: String
    /// Bytes of stored tensor data for this parameter, scales included.
    public var bytes: Int
}

/// An export format: recognizes its unpickled object, describes the stored tensors and dequantizes
/// them to float32 exactly as the format's own Python code does.
///
/// New formats (ternary/binary packs, LQER corrections, PGRP groups, ...) conform and join
/// ``ArtifactFormats/all``; the first whose initializer accepts the root wins.
public protocol ArtifactFormat: Sendable {
    /// The format's name as `verify inspect` prints it.
    var name: String { get }
    /// Every stored parameter, in a stable (sorted) order.
    var tensors: [TensorSummary] { get }
    /// Float32 weights by parameter name.
    func dequantize() throws(ArtifactError) -> Weights
    /// Float32 weights, given each parameter's dtype in the model (`orig_dtype`) for formats that do
    /// not record it themselves (their Python dequantizer casts to the model's dtype).
    func dequantize(originalDTypes: [String: TorchDType]) throws(ArtifactError) -> Weights
    /// Whether the artifact lacks the parameters' original dtypes, so ``dequantize(originalDTypes:)``
    /// needs them from the model for bit-exact bfloat16 parameters.
    var needsOriginalDTypes: Bool { get }
    /// Reads `root` as this format; `nil` when it is not this format, an error when it claims to be
    /// but is inconsistent.
    init?(root: PickleValue, location: InputLocation) throws(ArtifactError)
}

/// The formats pgverify reads, tried in order.
public enum ArtifactFormats {
    public static let all: [any ArtifactFormat.Type] = [
        Int8CleanFormat.self, MixedWMFormat.self, PackedDictFormat.self, PlainStateDictFormat.self,
    ]

    /// The format of `root`, or an unsupported-format error naming what was found.
    public static func recognize(_ root: PickleValue, location: InputLocation) throws(ArtifactError) -> any ArtifactFormat {
        for format in all {
            if let recognized = try format.init(root: root, location: location) { return recognized }
        }
        guard let dict = root.dictValue else {
            throw .unsupportedFormat(location, detail: "the archive holds a \(root.kind), not a dict of tensors")
        }
        let keys = dict.keys.prefix(12).joined(separator: ", ")
        let more = dict.entries.count > 12 ? ", ... (\(dict.entries.count) keys)" : ""
        let marker = dict["__quant_format__"]?.stringValue.map { " with __quant_format__ '\($0)'" } ?? ""
        throw .unsupportedFormat(location, detail: "no dequantizer for a dict\(marker) with top-level keys [\(keys)\(more)]")
    }
}

extension ArtifactFormat {
    /// Formats that record their own dtypes ignore a template.
    public func dequantize(originalDTypes: [String: TorchDType]) throws(ArtifactError) -> Weights { try dequantize() }
    public var needsOriginalDTypes: Bool { false }
}

/// Shared helpers for formats.
enum FormatSupport {
    /// Reads `dict[key]` as a dict of string → value, or throws naming the key.
    static func dict(_ dict: PickleDict, _ key: String, _ location: InputLocation, optional: Bool = false) throws(ArtifactError) -> PickleDict? {
        guard let value = dict[key] else {
            if optional { return nil }
            throw .malformedFormat(location, detail: "missing key '\(key)'")
        }
        guard let result = value.dictValue else {
            throw .malformedFormat(location, detail: "'\(key)' is a \(value.kind), not a dict")
        }
        return result
    }

    /// A value of `dtype` (float32) rounded to `target` and back, as `tensor.to(target)` then `.float()` does.
    static func round(_ value: Float, to target: TorchDType) -> Float {
        switch target {
        case .bfloat16: FloatBits.bfloat16ToFloat(FloatBits.floatToBFloat16(value))
        case .float16: FloatBits.halfToFloat(FloatBits.floatToHalf(value))
        default: value
        }
    }

    /// The dtype named by a string such as `"bfloat16"`, or an error naming the tensor.
    static func dtype(named name: String, for tensor: String, _ location: InputLocation) throws(ArtifactError) -> TorchDType {
        guard let dtype = TorchDType(torchName: name), dtype.isFloatingPoint else {
            throw .malformedFormat(location, detail: "tensor \(tensor): unsupported original dtype '\(name)'")
        }
        return dtype
    }

    static func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}
