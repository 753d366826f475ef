import Reference

/// An unquantized `torch.save(model.state_dict())`: a dict whose every value is a tensor, read as
/// float32 with `tensor.float()` semantics.
public struct PlainStateDictFormat: ArtifactFormat {
    public var name: String { "state_dict" }
    let stored: [(name: String, tensor: TensorReference)]
    let location: InputLocation

    /// Reads the dict, or returns `nil` unless every key is a string and every value a tensor.
    public init?(root: PickleValue, location: InputLocation) throws(ArtifactError) {
        guard let dict = root.dictValue, !dict.entries.isEmpty else { return nil }
        var stored: [(String, TensorReference)] = []
        for (key, value) in dict.entries {
            guard let name = key.stringValue, let tensor = value.tensorValue else { return nil }
            stored.append((name, tensor))
        }
        self.stored = stored.sorted { $0.0 < $1.0 }
        self.location = location
    }

    public var tensors: [TensorSummary] {
        stored.map { name, tensor in
            TensorSummary(name: name, dtype: tensor.dtype.rawValue, shape: tensor.shape,
                          scheme: "unquantized \(tensor.dtype.rawValue)", bytes: tensor.byteCount)
        }
    }

    public func dequantize() throws(ArtifactError) -> Weights {
        var weights: Weights = [:]
        for (name, tensor) in stored {
            do { weights[name] = try Tensor(shape: tensor.shape, data: tensor.floats()) } catch {
                throw .malformedFormat(location, detail: "tensor \(name): \(error.message)")
            }
        }
        return weights
    }
}
