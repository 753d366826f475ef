import Reference

/// The dequantization shared by the records' int-N formats: `q.float() * s.float()` in float32 — per
/// row (`s.view(rows, 1, ...)`) when the scale has dimensions, by the scalar `float(s.item())`
/// otherwise — then `.to(original dtype)`, kept as the float32 value of the rounded number.
enum RowScaling {
    static func dequantize(values: TensorReference, scale: TensorReference, original: TorchDType) -> [Float] {
        let q = values.floats()
        let s = scale.floats()
        if !scale.shape.isEmpty {
            let inner = s.isEmpty ? 0 : q.count / s.count
            return q.indices.map { FormatSupport.round(q[$0] * s[$0 / inner], to: original) }
        }
        let factor = s[0]
        return q.map { FormatSupport.round($0 * factor, to: original) }
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
