import Reference

/// The dequantization shared by the records' int-N formats: `q.float() * s.float()` in float32 — per
/// row (`s.view(rows, 1, ...)`) when the scale has dimensions, by the scalar `float(s.item())`
/// otherwise — then `.to(original dtype)`, kept as the float32 value of the rounded number.
enum RowScaling {
    /// Elements below which a tensor is not worth splitting across cores.
    static let parallelMinimum = 1 << 17

    /// - Parameter splitRows: spread the rows over the cores (off when the caller already runs
    ///   tensors in parallel).
    static func dequantize(values: TensorReference, scale: TensorReference, original: TorchDType,
                           splitRows: Bool = true) -> [Float] {
        let s = scale.floats()
        let perRow = !scale.shape.isEmpty
        if perRow, s.isEmpty { return values.floats() }
        let count = values.count
        let rows = perRow ? s.count : 1
        let inner = rows > 0 ? count / rows : 0
        // Rounding each product to the original dtype gives the same bits as rounding after the
        // whole float32 product, so one pass does both.
        let rounds = original == .bfloat16 || original == .float16
        let factors: [Float]? = perRow ? s : s.first.map { [$0] }
        guard values.dtype == .int8, values.isContiguous, let factors, rows * inner == count else {
            return slowDequantize(values: values, factors: factors, perRow: perRow, original: original)
        }
        // int8 stored contiguously (every export here): read, scale and round in one pass, rows
        // split across cores.
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            values.storage.bytes.withUnsafeBufferPointer { raw in
                guard let out = output.baseAddress, let base = raw.baseAddress else {
                    // Only an empty tensor gets here (views were checked against their storage).
                    for index in output.indices { output[index] = 0 }
                    return
                }
                let source = UnsafeRawPointer(base + values.storageOffset).assumingMemoryBound(to: Int8.self)
                factors.withUnsafeBufferPointer { factor in
                    ParallelParts.forEach(rows, minimumPerPart: splitRows ? max(1, parallelMinimum / max(1, inner)) : rows + 1) { rowRange in
                        for row in rowRange {
                            let f = factor[perRow ? row : 0]
                            let start = row * inner
                            if rounds {
                                for i in start..<(start + inner) {
                                    out[i] = FormatSupport.round(Float(source[i]) * f, to: original)
                                }
                            } else {
                                for i in start..<(start + inner) { out[i] = Float(source[i]) * f }
                            }
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// Any other dtype or layout: convert first, then scale and round.
    private static func slowDequantize(values: TensorReference, factors: [Float]?, perRow: Bool,
                                       original: TorchDType) -> [Float] {
        var out = values.floats()
        out.withUnsafeMutableBufferPointer { q in
            if perRow, let factors {
                let inner = q.count / factors.count
                for row in 0..<factors.count {
                    let factor = factors[row]
                    for index in (row * inner)..<((row + 1) * inner) { q[index] *= factor }
                }
            } else if let factor = factors?.first {
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
