import Reference

/// The baseline's export, `__quant_format__ = "int8_clean_per_row_v1"`, written by
/// `quantize_state_dict_int8` in the challenge's `train_gpt.py`:
///
/// - `quantized[name]`: int8 values; `scales[name]`: a per-row scale vector (fp16, one per row of a
///   matrix, `qmeta[name].scheme == "per_row"`) or a 0-d per-tensor scale (fp32);
///   `dtypes[name]`: the original dtype the dequantized tensor is cast back to.
/// - `passthrough[name]`: small float tensors stored as fp16 (or fp32 control tensors) and non-float
///   tensors; `passthrough_orig_dtypes[name]`: the dtype an fp16-stored tensor is cast back to.
///
/// Dequantization follows `dequantize_state_dict_int8` operation by operation: `q.float() * s.float()`
/// in float32 (per row, or by the scalar), then `.to(original dtype)` — for bfloat16 that is a
/// round-to-nearest-even to bfloat16, kept here as the float32 value of the rounded number.
public struct Int8CleanFormat: ArtifactFormat {
    /// The markers of this layout: the baseline's, and the 2026-03-21 DepthRecurrence record's
    /// `mixed_int8_int6_v1` (int6 values in the same dict; its `dequantize_state_dict_int6` is the
    /// baseline's dequantizer unchanged).
    public static let markers = ["int8_clean_per_row_v1", "mixed_int8_int6_v1"]

    enum Stored: Sendable {
        case quantized(values: TensorReference, scale: TensorReference, perRow: Bool, original: TorchDType)
        case passthrough(TensorReference, original: TorchDType?)
    }

    public var name: String { marker }
    let marker: String
    let stored: [(name: String, value: Stored)]
    let location: InputLocation

    /// Reads the dict, or returns `nil` when `root` does not carry this format's marker.
    public init?(root: PickleValue, location: InputLocation) throws(ArtifactError) {
        guard let dict = root.dictValue, let marker = dict["__quant_format__"]?.stringValue,
              Self.markers.contains(marker) else { return nil }
        self.marker = marker
        self.location = location
        guard let quantized = try FormatSupport.dict(dict, "quantized", location),
              let scales = try FormatSupport.dict(dict, "scales", location),
              let dtypes = try FormatSupport.dict(dict, "dtypes", location),
              let passthrough = try FormatSupport.dict(dict, "passthrough", location) else { return nil }
        let qmeta = try FormatSupport.dict(dict, "qmeta", location, optional: true)
        let originals = try FormatSupport.dict(dict, "passthrough_orig_dtypes", location, optional: true)

        var stored: [(String, Stored)] = []
        for (key, value) in quantized.entries {
            guard let name = key.stringValue, let values = value.tensorValue else {
                throw .malformedFormat(location, detail: "quantized entry \(key.kind) -> \(value.kind) is not name -> tensor")
            }
            guard values.dtype == .int8 else {
                throw .malformedFormat(location, detail: "quantized tensor \(name) is \(values.dtype.rawValue), not int8")
            }
            guard let scale = scales[name]?.tensorValue, scale.dtype.isFloatingPoint else {
                throw .malformedFormat(location, detail: "quantized tensor \(name) has no float scale tensor")
            }
            guard let dtypeName = dtypes[name]?.stringValue else {
                throw .malformedFormat(location, detail: "quantized tensor \(name) has no original dtype")
            }
            let original = try FormatSupport.dtype(named: dtypeName, for: name, location)
            let scheme = qmeta?[name]?.dictValue?["scheme"]?.stringValue
            let perRow = scheme == "per_row" || !scale.shape.isEmpty
            try RowScaling.check(values: values, scale: scale, name: name, perRow: perRow, location)
            stored.append((name, .quantized(values: values, scale: scale, perRow: perRow, original: original)))
        }
        for (key, value) in passthrough.entries {
            guard let name = key.stringValue, let tensor = value.tensorValue else {
                throw .malformedFormat(location, detail: "passthrough entry \(key.kind) -> \(value.kind) is not name -> tensor")
            }
            var original: TorchDType?
            if let dtypeName = originals?[name]?.stringValue {
                original = try FormatSupport.dtype(named: dtypeName, for: name, location)
            }
            if stored.contains(where: { $0.0 == name }) {
                throw .malformedFormat(location, detail: "tensor \(name) is both quantized and passthrough")
            }
            stored.append((name, .passthrough(tensor, original: original)))
        }
        self.stored = stored.sorted { $0.0 < $1.0 }
    }

    public var tensors: [TensorSummary] {
        stored.map { name, value in
            switch value {
            case .quantized(let values, let scale, let perRow, let original):
                let layout = perRow ? "per-row" : "per-tensor"
                return TensorSummary(name: name, dtype: values.dtype.rawValue, shape: values.shape,
                                     scheme: "int8 \(layout) (\(scale.dtype.rawValue) scale) -> \(original.rawValue)",
                                     bytes: values.byteCount + scale.byteCount)
            case .passthrough(let tensor, let original):
                let target = original.map { " -> \($0.rawValue)" } ?? ""
                return TensorSummary(name: name, dtype: tensor.dtype.rawValue, shape: tensor.shape,
                                     scheme: "passthrough \(tensor.dtype.rawValue)\(target)", bytes: tensor.byteCount)
            }
        }
    }

    public func dequantize() throws(ArtifactError) -> Weights {
        // Tensors are independent: dequantize them in parallel, each into its own slot, then
        // assemble in the stored order (so any error is the one a sequential pass would raise).
        var results = [[Float]](repeating: [], count: stored.count)
        results.withUnsafeMutableBufferPointer { slots in
            guard let slot = slots.baseAddress else { return }
            ParallelParts.forEachIndex(stored.count) { index in
                slot[index] = Self.dequantize(stored[index].value)
            }
        }
        var weights: Weights = [:]
        for ((name, value), data) in zip(stored, results) {
            let shape: [Int]
            switch value {
            case .quantized(let values, _, _, _): shape = values.shape
            case .passthrough(let tensor, _): shape = tensor.shape
            }
            do { weights[name] = try Tensor(shape: shape, data: data) } catch {
                throw .malformedFormat(location, detail: "tensor \(name): \(error.message)")
            }
        }
        return weights
    }

    private static func dequantize(_ value: Stored) -> [Float] {
        switch value {
        case .quantized(let values, let scale, _, let original):
            // The scale shape decides; a per_row qmeta over a 0-d scale passed the check only with one row, where both agree.
            return RowScaling.dequantize(values: values, scale: scale, original: original, splitRows: false)
        case .passthrough(let tensor, let original):
            let values = tensor.floats()
            return original.map { target in values.map { FormatSupport.round($0, to: target) } } ?? values
        }
    }
}
