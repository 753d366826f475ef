import Reference

/// The records' `{'w': tensors, 'm': meta}` export (zstd, xz or BSHF+brotli outside), written by
/// `mixed_quantize_int6` (03-20 onward) and `gptq_mixed_quantize` (04-xx):
///
/// - `m[name]` = `"passthrough"`, `"passthrough_ctrl"`, `"passthrough_fp16"`, `"passthrough (float16)"`:
///   `w[name]` is stored as is (fp16 for small floats, fp32 for control tensors);
/// - `m[name]` = `{"type": "int6"}` / `{"type": "int8", ...}` / `"gptq (int6)"`: `w[name.q]` int8-held
///   values, `w[name.scale]` fp16 per-row scales (or a 0-d scale);
/// - `m[name]` = `"gate_int8_row"`: `w[name.gq]` int8 rows, `w[name.gs]` one scale per row.
///
/// Dequantization follows the records' `dequantize_mixed(_int6)`: `q.float() * s.float()` per row
/// (or by the scalar), `.to(orig_dtype)`; fp16 passthrough `.to(orig_dtype)` when that is fp32/bf16.
/// The artifact does not record `orig_dtype` — the records take it from the model they build — so it
/// is an input here (``originalDTypes``), float32 where not given. LQER corrections (`+lqer`) and
/// other meta kinds are refused as unsupported, never approximated.
public struct MixedWMFormat: ArtifactFormat {
    enum Stored: Sendable {
        case quantized(values: TensorReference, scale: TensorReference, kind: String)
        case passthrough(TensorReference, kind: String)
    }

    public var name: String { "w/m mixed per-row" }
    public var needsOriginalDTypes: Bool { true }
    let stored: [(name: String, value: Stored)]
    let location: InputLocation

    public init?(root: PickleValue, location: InputLocation) throws(ArtifactError) {
        guard let dict = root.dictValue, Set(dict.keys) == ["w", "m"],
              let weights = dict["w"]?.dictValue, let meta = dict["m"]?.dictValue else { return nil }
        self.location = location
        var stored: [(String, Stored)] = []
        for (key, info) in meta.entries {
            guard let name = key.stringValue else {
                throw .malformedFormat(location, detail: "meta key is a \(key.kind), not a name")
            }
            func tensor(_ suffix: String) throws(ArtifactError) -> TensorReference {
                guard let value = weights[name + suffix]?.tensorValue else {
                    throw .malformedFormat(location, detail: "tensor \(name): w has no tensor '\(name + suffix)'")
                }
                return value
            }
            switch try Self.kind(of: info, name: name, location) {
            case .passthrough(let kind):
                stored.append((name, .passthrough(try tensor(""), kind: kind)))
            case .rows(let kind, let valuesSuffix, let scaleSuffix):
                let values = try tensor(valuesSuffix), scale = try tensor(scaleSuffix)
                guard values.dtype == .int8, scale.dtype.isFloatingPoint else {
                    throw .malformedFormat(location, detail: "tensor \(name): values \(values.dtype.rawValue), scale \(scale.dtype.rawValue); expected int8 and a float scale")
                }
                let perRow = !scale.shape.isEmpty
                if kind == "gate_int8_row" && !perRow {
                    throw .malformedFormat(location, detail: "tensor \(name): gate_int8_row needs one scale per row")
                }
                try RowScaling.check(values: values, scale: scale, name: name, perRow: perRow, location)
                stored.append((name, .quantized(values: values, scale: scale, kind: kind)))
            }
        }
        self.stored = stored.sorted { $0.0 < $1.0 }
    }

    enum Kind {
        case passthrough(String)
        case rows(String, values: String, scale: String)
    }

    /// What a meta entry says, as `dequantize_mixed` reads it; unknown kinds are refused.
    static func kind(of info: PickleValue, name: String, _ location: InputLocation) throws(ArtifactError) -> Kind {
        if let text = info.stringValue {
            if text.contains("lqer") {
                throw .unsupportedFormat(location, detail: "tensor \(name): meta '\(text)' adds an LQER low-rank correction, which pgverify does not dequantize yet")
            }
            if text.contains("passthrough") { return .passthrough(text) }
            if text == "gate_int8_row" { return .rows(text, values: ".gq", scale: ".gs") }
            if text.hasPrefix("gptq (int"), text.hasSuffix(")") { return .rows(text, values: ".q", scale: ".scale") }
            throw .unsupportedFormat(location, detail: "tensor \(name): unknown meta kind '\(text)'")
        }
        if let dict = info.dictValue {
            if dict["passthrough"] != nil { return .passthrough("passthrough") }
            if let type = dict["type"]?.stringValue, type.hasPrefix("int"), Int(type.dropFirst(3)) != nil {
                return .rows(type, values: ".q", scale: ".scale")
            }
            throw .unsupportedFormat(location, detail: "tensor \(name): unknown meta \(dict.keys) with type '\(dict["type"]?.stringValue ?? "?")'")
        }
        throw .malformedFormat(location, detail: "tensor \(name): meta is a \(info.kind)")
    }

    public var tensors: [TensorSummary] {
        stored.map { name, value in
            switch value {
            case .quantized(let values, let scale, let kind):
                let layout = scale.shape.isEmpty ? "per-tensor" : "per-row"
                return TensorSummary(name: name, dtype: values.dtype.rawValue, shape: values.shape,
                                     scheme: "\(kind) \(layout) (\(scale.dtype.rawValue) scale) -> model dtype",
                                     bytes: values.byteCount + scale.byteCount)
            case .passthrough(let tensor, let kind):
                return TensorSummary(name: name, dtype: tensor.dtype.rawValue, shape: tensor.shape,
                                     scheme: "\(kind): \(tensor.dtype.rawValue) -> model dtype", bytes: tensor.byteCount)
            }
        }
    }

    public func dequantize() throws(ArtifactError) -> Weights { try dequantize(originalDTypes: [:]) }

    /// Dequantizes with each parameter's dtype in the model (`orig_dtype`); float32 where absent.
    public func dequantize(originalDTypes: [String: TorchDType]) throws(ArtifactError) -> Weights {
        var weights: Weights = [:]
        for (name, value) in stored {
            let original = originalDTypes[name] ?? .float32
            let shape: [Int], data: [Float]
            switch value {
            case .quantized(let values, let scale, _):
                shape = values.shape
                data = RowScaling.dequantize(values: values, scale: scale, original: original)
            case .passthrough(let tensor, _):
                shape = tensor.shape
                let values = tensor.floats()
                let restores = tensor.dtype == .float16 && (original == .float32 || original == .bfloat16)
                data = restores ? values.map { FormatSupport.round($0, to: original) } : values
            }
            do { weights[name] = try Tensor(shape: shape, data: data) } catch {
                throw .malformedFormat(location, detail: "tensor \(name): \(error.message)")
            }
        }
        return weights
    }
}
