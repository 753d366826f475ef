import Reference

/// A storage reached through a torch.save persistent id `('storage', StorageType, key, location, numel)`,
/// with its bytes from `data/<key>` in the archive.
public struct StorageReference: Sendable {
    public var dtype: TorchDType
    /// The archive key (`data/<key>`).
    public var key: String
    /// Elements the storage holds (its bytes divided by the element size).
    public var count: Int
    /// The raw little-endian bytes.
    public var bytes: [UInt8]
}

/// A strided tensor view over a storage, as `torch._utils._rebuild_tensor_v2` describes it.
/// Construction checks that every element of the view lies inside the storage.
public struct TensorReference: Sendable {
    public let storage: StorageReference
    public let storageOffset: Int
    public let shape: [Int]
    public let strides: [Int]
    /// Elements in the view.
    public let count: Int

    /// Checks the view against the storage; `location` is where the pickle built it.
    init(storage: StorageReference, storageOffset: Int, shape: [Int], strides: [Int],
         location: InputLocation) throws(ArtifactError) {
        guard shape.count == strides.count else {
            throw .malformedPickle(location, detail: "tensor has \(shape.count) sizes but \(strides.count) strides")
        }
        guard storageOffset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw .malformedPickle(location, detail: "negative size, stride or offset in tensor view \(shape) / \(strides) + \(storageOffset)")
        }
        let count: Int
        do { count = try Tensor.elementCount(shape) } catch {
            throw .malformedPickle(location, detail: error.message)
        }
        if count > 0 {
            // The furthest element the view touches, computed without overflow.
            var last = storageOffset
            for (size, stride) in zip(shape, strides) {
                let (step, overflow1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflow2) = last.addingReportingOverflow(step)
                guard !overflow1, !overflow2 else {
                    throw .storageTooShort(location, storage: storage.key, neededElements: Int.max, availableElements: storage.count)
                }
                last = sum
            }
            guard last < storage.count else {
                throw .storageTooShort(location, storage: storage.key, neededElements: last + 1, availableElements: storage.count)
            }
        }
        self.storage = storage
        self.storageOffset = storageOffset
        self.shape = shape
        self.strides = strides
        self.count = count
    }

    public var dtype: TorchDType { storage.dtype }

    /// Bytes the view's elements occupy (`numel * element_size`), as `tensor_nbytes` counts them.
    public var byteCount: Int { count * dtype.size }

    /// Storage element indices of the view in row-major order.
    func storageIndices() -> [Int] {
        var indices = [Int](repeating: storageOffset, count: count)
        guard count > 0 else { return indices }
        // Contiguous fast path.
        var contiguous = true, expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { contiguous = false; break }
            expected *= size
        }
        if contiguous {
            for i in 0..<count { indices[i] = storageOffset + i }
            return indices
        }
        var position = [Int](repeating: 0, count: shape.count)
        var current = storageOffset
        for i in 0..<count {
            indices[i] = current
            var axis = shape.count - 1
            while axis >= 0 {
                position[axis] += 1
                current += strides[axis]
                if position[axis] < shape[axis] { break }
                current -= strides[axis] * shape[axis]
                position[axis] = 0
                axis -= 1
            }
        }
        return indices
    }

    /// The elements converted to float32 in row-major order: exact for every dtype whose values
    /// float32 represents (fp16, bf16, fp8, int8/16, uint8, bool); int32/int64/float64 round to nearest,
    /// as `tensor.float()` does.
    public func floats() -> [Float] {
        let bytes = storage.bytes
        let size = dtype.size
        return storageIndices().map { index in
            let at = index * size
            switch dtype {
            case .float32: return Float(bitPattern: littleEndian32(bytes, at))
            case .float16: return FloatBits.halfToFloat(UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)
            case .bfloat16: return FloatBits.bfloat16ToFloat(UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)
            case .float64: return Float(Double(bitPattern: littleEndian64(bytes, at)))
            case .float8_e4m3fn: return FloatBits.e4m3fnToFloat(bytes[at])
            case .int8: return Float(Int8(bitPattern: bytes[at]))
            case .uint8: return Float(bytes[at])
            case .bool: return bytes[at] != 0 ? 1 : 0
            case .int16: return Float(Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8))
            case .int32: return Float(Int32(bitPattern: littleEndian32(bytes, at)))
            case .int64: return Float(Int64(bitPattern: littleEndian64(bytes, at)))
            }
        }
    }

    /// The raw 16-bit patterns of a float16/bfloat16 view in row-major order.
    func halfBits() -> [UInt16] {
        let bytes = storage.bytes
        return storageIndices().map { UInt16(bytes[2 * $0]) | UInt16(bytes[2 * $0 + 1]) << 8 }
    }
}

@inline(__always)
private func littleEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
}

@inline(__always)
private func littleEndian64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
    UInt64(littleEndian32(bytes, at)) | UInt64(littleEndian32(bytes, at + 4)) << 32
}
