import Reference

/// The records' `{'w': tensors, 'm': meta}` export (zstd, xz or BSHF+brotli outside), written by
/// `mixed_quantize_int6` (03-20 onward) and `gptq_mixed_quantize` (04-xx):
///
/// - `m[name]` = `"passthrough"`, `"passthrough_ctrl"`, `"passthrough_fp16"`, `"passthrough (float16)"`:
///   `w[name]` is stored as is (fp16 for small floats, fp32 for control tensors);
/// - `m[name]` = `{"type": "int6"}` / `{"type": "int8", ...}` / `"gptq (int6)"`: `w[name.q]` int8-held
///   values, `w[name.scale]` fp16 per-row scales (or a 0-d scale);
/// - `m[name]` = `"gate_int8_row"`: `w[name.gq]` int8 rows, `w[name.gs]` one scale per row;
/// - `m[name]` ending `+lqer`: a low-rank correction `W += (qA * sA[row]) @ (qB * sB[row])` from
///   `.lqA/.lqAs/.lqB/.lqBs` (04-2x records); ending `+lqer_asym`: `W += (qA * sA) @ qB'` with a scalar
///   `.lqAs_a` and `qB'` scaled per group of `numel / len(.lqBs_a)` over the flattened `.lqB_a`.
///
/// Dequantization follows the records' `dequantize_mixed(_int6)`: `q.float() * s.float()` per row
/// (or by the scalar), `.to(orig_dtype)`; fp16 passthrough `.to(orig_dtype)` when that is fp32/bf16.
/// The artifact does not record `orig_dtype` — the records take it from the model they build — so it
/// is an input here (``originalDTypes``), float32 where not given. The LQER product is computed as
/// PyTorch's CPU matmul (MKL) computes it for these small ranks: for each element, one fused
/// multiply-add per rank step in order — checked bit for bit against the record's own dequantizer.
/// Other meta kinds are refused as unsupported, never approximated.
public struct MixedWMFormat: ArtifactFormat {
    /// A low-rank correction added to a dequantized matrix.
    enum Correction: Sendable {
        /// `(qA * sA[row]) @ (qB * sB[row])`.
        case symmetric(a: TensorReference, aScale: TensorReference, b: TensorReference, bScale: TensorReference)
        /// `(qA * sA) @ (qB * sB[group])`, groups over the flattened `qB`.
        case asymmetric(a: TensorReference, aScale: TensorReference, b: TensorReference, bScale: TensorReference)
    }

    enum Stored: Sendable {
        case quantized(values: TensorReference, scale: TensorReference, kind: String, correction: Correction?)
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
            case .rowsWithCorrection(let kind, let asymmetric):
                let values = try tensor(".q"), scale = try tensor(".scale")
                guard values.dtype == .int8, scale.dtype.isFloatingPoint, values.shape.count == 2, !scale.shape.isEmpty else {
                    throw .malformedFormat(location, detail: "tensor \(name): an LQER base must be an int8 matrix with row scales")
                }
                try RowScaling.check(values: values, scale: scale, name: name, perRow: true, location)
                let suffix = asymmetric ? "_a" : ""
                let a = try tensor(".lqA" + suffix), aScale = try tensor(".lqAs" + suffix)
                let b = try tensor(".lqB" + suffix), bScale = try tensor(".lqBs" + suffix)
                try Self.checkCorrection(rows: values.shape[0], cols: values.shape[1], a: a, aScale: aScale, b: b,
                                         bScale: bScale, asymmetric: asymmetric, name: name, location)
                let correction: Correction = asymmetric
                    ? .asymmetric(a: a, aScale: aScale, b: b, bScale: bScale)
                    : .symmetric(a: a, aScale: aScale, b: b, bScale: bScale)
                stored.append((name, .quantized(values: values, scale: scale, kind: kind, correction: correction)))
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
                stored.append((name, .quantized(values: values, scale: scale, kind: kind, correction: nil)))
            }
        }
        self.stored = stored.sorted { $0.0 < $1.0 }
    }

    /// Shapes of an LQER correction: A (rows × r), B (r × cols), and their scales.
    static func checkCorrection(rows: Int, cols: Int, a: TensorReference, aScale: TensorReference, b: TensorReference,
                                bScale: TensorReference, asymmetric: Bool, name: String,
                                _ location: InputLocation) throws(ArtifactError) {
        let rank = a.shape.count == 2 ? a.shape[1] : -1
        let factorsFit = a.shape.count == 2 && b.shape.count == 2 && a.shape[0] == rows && b.shape == [rank, cols] && cols > 0
            && a.dtype == .int8 && b.dtype == .int8 && aScale.dtype.isFloatingPoint && bScale.dtype.isFloatingPoint
        let scalesFit = asymmetric
            ? aScale.count == 1 && bScale.count > 0 && b.count % bScale.count == 0
            : aScale.count == rows && bScale.count == rank
        guard factorsFit, scalesFit else {
            throw .malformedFormat(location, detail: "tensor \(name): LQER factors \(a.shape) @ \(b.shape) with \(aScale.count)/\(bScale.count) scales do not fit [\(rows), \(cols)]")
        }
    }

    enum Kind {
        case passthrough(String)
        case rows(String, values: String, scale: String)
        /// Rows plus an LQER correction (`asymmetric` for `+lqer_asym`).
        case rowsWithCorrection(String, asymmetric: Bool)
    }

    /// What a meta entry says, as `dequantize_mixed` reads it; unknown kinds are refused.
    static func kind(of info: PickleValue, name: String, _ location: InputLocation) throws(ArtifactError) -> Kind {
        if let text = info.stringValue {
            if text.contains("passthrough") { return .passthrough(text) }
            if text.hasPrefix("gptq (int"), text.hasSuffix(")+lqer_asym") { return .rowsWithCorrection(text, asymmetric: true) }
            if text.hasPrefix("gptq (int"), text.hasSuffix(")+lqer") { return .rowsWithCorrection(text, asymmetric: false) }
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
            case .quantized(let values, let scale, let kind, let correction):
                let layout = scale.shape.isEmpty ? "per-tensor" : "per-row"
                var bytes = values.byteCount + scale.byteCount
                switch correction {
                case .symmetric(let a, let aScale, let b, let bScale), .asymmetric(let a, let aScale, let b, let bScale):
                    bytes += a.byteCount + aScale.byteCount + b.byteCount + bScale.byteCount
                case nil: break
                }
                return TensorSummary(name: name, dtype: values.dtype.rawValue, shape: values.shape,
                                     scheme: "\(kind) \(layout) (\(scale.dtype.rawValue) scale) -> model dtype",
                                     bytes: bytes)
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
            case .quantized(let values, let scale, _, let correction):
                shape = values.shape
                if let correction {
                    // W is kept in float32 until the correction is added, then cast once.
                    let base = RowScaling.dequantize(values: values, scale: scale, original: .float32)
                    data = Self.add(correction, to: base, cols: values.shape[1]).map { FormatSupport.round($0, to: original) }
                } else {
                    data = RowScaling.dequantize(values: values, scale: scale, original: original)
                }
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

    /// `W + qA @ qB` with the factors dequantized as the records do; each product element accumulates
    /// one fused multiply-add per rank step, in order (PyTorch's CPU matmul for these shapes).
    static func add(_ correction: Correction, to base: [Float], cols: Int) -> [Float] {
        let a: [Float], b: [Float], rank: Int
        switch correction {
        case .symmetric(let qa, let sa, let qb, let sb):
            rank = qa.shape[1]
            let aScales = sa.floats(), bScales = sb.floats()
            let qaValues = qa.floats(), qbValues = qb.floats()
            a = qaValues.indices.map { qaValues[$0] * aScales[$0 / rank] }
            b = qbValues.indices.map { qbValues[$0] * bScales[$0 / cols] }
        case .asymmetric(let qa, let sa, let qb, let sb):
            rank = qa.shape[1]
            let aScale = sa.floats()[0], bScales = sb.floats()
            let group = qb.count / bScales.count
            let qbValues = qb.floats()
            a = qa.floats().map { $0 * aScale }
            b = qbValues.indices.map { qbValues[$0] * bScales[$0 / group] }
        }
        var output = base
        let rows = base.count / cols
        for row in 0..<rows {
            for col in 0..<cols {
                var sum: Float = 0
                for k in 0..<rank { sum.addProduct(a[row * rank + k], b[k * cols + col]) }
                output[row * cols + col] = base[row * cols + col] + sum
            }
        }
        return output
    }
}
