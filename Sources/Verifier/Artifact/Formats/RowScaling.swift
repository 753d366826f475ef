import Reference

/// The dequantization shared by the records' int-N formats: `q.float() * s.float()` in float32 — per
/// row (`s.view(rows, 1, ...)`) when the scale has dimensions, by the scalar `float(s.item())`
/// otherwise — then `.to(original dtype)`, kept as the float32 value of the rounded number.
enum RowScaling {
    static func dequantize(values: TensorReference, scale: TensorReference, original: TorchDType) -> [Float] {
        var out = values.floats()
        let s = scale.floats()
        // The float32 product first, in tight loops; then the rounding to the original dtype, which
        // gives the same bits as rounding each product on the way.
        out.withUnsafeMutableBufferPointer { q in
            if !scale.shape.isEmpty {
                guard !s.isEmpty else { return }
                let inner = q.count / s.count
                for row in 0..<s.count {
                    let factor = s[row]
                    for index in (row * inner)..<((row + 1) * inner) { q[index] *= factor }
                }
            } else if let factor = s.first {
                for index in q.indices { q[index] *= factor }
            }
            switch original {
            case .bfloat16, .float16:
                for index in q.indices { q[index] = FormatSupport.round(q[index], to: original) }
            default:
                break
            }
        }
        return out
    }

    /// Checks the scale fits the values: one per row (`q.shape[0]`), or a single element.
    static func check(values: TensorReference, scale: TensorReference, name: String,
                      perRow: Bool, _ location: InputLocation) throws(ArtifactError) {
        if perRow {
            guard let rows = values.shape.first, scale.count == rows, rows == 0 || values.count % rows == 0 else {
                throw .malformedFormat(location, detail: "tensor \(name): \(scale.count) row scales for shape \(FormatSupport.shapeText(values.shape))")
            }
        } else {
            guard scale.count == 1 else {
                throw .malformedFormat(location, detail: "tensor \(name): per-tensor scale has \(scale.count) elements")
            }
        }
    }
}
