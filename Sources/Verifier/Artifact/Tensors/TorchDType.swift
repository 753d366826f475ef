/// Element types of stored tensors, named as PyTorch names them (`torch.float16` is `float16`).
public enum TorchDType: String, Sendable, CaseIterable, Codable {
    case float32, float16, bfloat16, float64
    case int8, uint8, int16, int32, int64
    case bool
    case float8_e4m3fn

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .float64, .int64: 8
        case .int8, .uint8, .bool, .float8_e4m3fn: 1
        }
    }

    /// Whether values are floating point (as `Tensor.is_floating_point()`).
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64, .float8_e4m3fn: true
        default: false
        }
    }

    /// The dtype of a legacy storage class (`torch.HalfStorage` holds `float16`).
    public init?(storageType name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "ShortStorage": self = .int16
        case "IntStorage": self = .int32
        case "LongStorage": self = .int64
        case "BoolStorage": self = .bool
        case "Float8_e4m3fnStorage": self = .float8_e4m3fn
        default: return nil
        }
    }

    /// The dtype for a `torch.<name>` attribute or a dtype string (`"bfloat16"`, `"half"`, `"torch.float"`).
    public init?(torchName: String) {
        let name = torchName.hasPrefix("torch.") ? String(torchName.dropFirst(6)) : torchName
        switch name {
        case "float32", "float": self = .float32
        case "float16", "half": self = .float16
        case "bfloat16": self = .bfloat16
        case "float64", "double": self = .float64
        case "int8": self = .int8
        case "uint8": self = .uint8
        case "int16", "short": self = .int16
        case "int32", "int": self = .int32
        case "int64", "long": self = .int64
        case "bool": self = .bool
        case "float8_e4m3fn": self = .float8_e4m3fn
        default: return nil
        }
    }
}
