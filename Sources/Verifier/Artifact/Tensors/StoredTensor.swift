import Reference

/// A storage reached through a torch.save persistent id `('storage', StorageType, key, location, numel)`,
/// with its bytes from `data/<key>` in the archive.
public struct StorageReference: Sendable {
    public var dtype: TorchDType
    /// The archive key (`data/<key>`).
    public var key: String
    /// Elements the storage holds (its bytes divided by the element size).
    public var count: Int
    /// The raw little-endian bytes (a slice of the archive buffer: storages are not copied out).
    public var bytes: ArraySlice<UInt8>
}

/// A strided tensor view over a storage, as `torch._utils._rebuild_tensor_v2` describes it.
/// Construction checks that every element of the view lies inside the storage.
public struct TensorReference: Sendable {
    /// The most elements one view may have (1 GiB as float32): a zero-stride view over a tiny
    /// storage could otherwise ask for any amount of memory.
    public static let maxElements = 1 << 28

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
        guard count <= Self.maxElements else {
            throw .malformedPickle(location, detail: "tensor view of \(count) elements exceeds the reader's limit of \(Self.maxElements)")
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

    /// Whether the view's elements are consecutive in storage (row-major, no gaps).
    var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { return false }
            expected *= size
        }
        return true
    }

    /// Storage element indices of the view in row-major order.
    func storageIndices() -> [Int] {
        guard !isContiguous else { return Array(storageOffset..<(storageOffset + count)) }
        var indices = [Int](repeating: storageOffset, count: count)
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
        guard count > 0 else { return [] }
        // Bounds were checked when the view was built; element reads below stay inside the storage.
        let indices: [Int]? = isContiguous ? nil : storageIndices()
        let offset = storageOffset
        // Every element is written below, so the array starts uninitialized (no zeroing pass).
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            storage.bytes.withUnsafeBytes { raw in
                func fill(_ element: (Int) -> Float) {
                    if let indices {
                        for i in out.indices { out[i] = element(indices[i]) }
                    } else {
                        for i in out.indices { out[i] = element(offset + i) }
                    }
                }
                func u16(_ i: Int) -> UInt16 { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
                func u32(_ i: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
                func u64(_ i: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
                switch dtype {
                case .float32: fill { Float(bitPattern: u32($0)) }
                case .float16: fill { FloatBits.halfToFloat(u16($0)) }
                case .bfloat16: fill { FloatBits.bfloat16ToFloat(u16($0)) }
                case .float64: fill { Float(Double(bitPattern: u64($0))) }
                case .float8_e4m3fn: fill { FloatBits.e4m3fnToFloat(raw[$0]) }
                case .int8: fill { Float(Int8(bitPattern: raw[$0])) }
                case .uint8: fill { Float(raw[$0]) }
                case .bool: fill { raw[$0] != 0 ? 1 : 0 }
                case .int16: fill { Float(Int16(bitPattern: u16($0))) }
                case .int32: fill { Float(Int32(bitPattern: u32($0))) }
                case .int64: fill { Float(Int64(bitPattern: u64($0))) }
                }
            }
            initialized = count
        }
    }
}
