import Reference

/// The ternary records' packed dict (F6; `q_sd` / `deq_sd` in
/// 2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon), lzma preset 9 outside:
/// `{name: {"type": ..., ...}}` with
///
/// - `"ternary"`: `packed` bytes of base-3 digits (5 trits per byte, value + 1, lowest digit first),
///   `n_trits`, fp16 `scale` per group of `group_size`, `shape` (rows, cols), `padded_cols`, `orig_shape`;
/// - `"ternary_bitmask"`: the same with `packed` = packbits(nonzero) then packbits(positive) of the
///   nonzeros (most significant bit first);
/// - `"binary"` (the 03-24 binary non-record's `q_sd`): `packed` bits, lowest bit first, 1 → +1 and
///   0 → −1, `n_bits`, and the ternary keys; dequantized as `q * scale` (no mean division);
/// - `"fp8"`: `data` a float8_e4m3fn tensor; `"fp4"`: `packed` uint8 nibble pairs (value + 8, low
///   nibble first), fp16 `scale` per row, `shape`; `"fp16"` / `"bf16"`: `data` an fp16 / bf16 tensor.
///
/// The 03-26 JEPA/Mamba2 non-record adds `"int<N>"`: `packed` bytes of `n_vals` N-bit values, each
/// `value + qmax` with its bits lowest first (`np.packbits(bitorder='little')`), and a bf16 `scale`
/// per row: `(v - qmax) * scale[row]`, then `.bfloat16()`.
///
/// The 04-05 XNOR-Net non-record writes the same dict (binary with bf16 or fp8 group scales, fp8, bf16)
/// behind a method byte.
///
/// `deq_sd` follows each exactly: a ternary group is `q * (scale / mean(|q|))` in float32, with the
/// mean clamped at 1e-8; fp4 is `q * scale` per row; and every tensor ends `.to(bfloat16)` (its default
/// `target_dtype`, the one the record loads with), kept here as the float32 value of the bfloat16.
public struct PackedDictFormat: ArtifactFormat {
    enum Entry: Sendable {
        /// Ternary or binary values in groups of `groupSize` over rows padded to `paddedCols`.
        case grouped(values: [Int8], scale: TensorReference, rows: Int, cols: Int, paddedCols: Int,
                     groupSize: Int, shape: [Int], packedBytes: Int, type: String)
        case fp4(packed: TensorReference, scale: TensorReference, shape: [Int])
        /// `bits`-bit values (value + qmax, bit planes lowest first) with one scale per row.
        case intN(values: [Int32], scale: TensorReference, shape: [Int], bits: Int, packedBytes: Int)
        case float(TensorReference, type: String)
    }

    public var name: String { "packed ternary/binary/fp8/fp4 dict" }
    let stored: [(name: String, entry: Entry)]
    let location: InputLocation

    public init?(root: PickleValue, location: InputLocation) throws(ArtifactError) {
        guard let dict = root.dictValue, !dict.entries.isEmpty,
              dict.entries.allSatisfy({ $0.value.dictValue?["type"]?.stringValue != nil }) else { return nil }
        self.location = location
        var stored: [(String, Entry)] = []
        for (key, value) in dict.entries {
            guard let name = key.stringValue, let entry = value.dictValue, let type = entry["type"]?.stringValue else {
                throw .malformedFormat(location, detail: "entry \(key.kind) is not name -> {type: ...}")
            }
            stored.append((name, try Self.entry(entry, type: type, name: name, location)))
        }
        self.stored = stored.sorted { $0.0 < $1.0 }
    }

    private static func entry(_ entry: PickleDict, type: String, name: String, _ location: InputLocation) throws(ArtifactError) -> Entry {
        func bad(_ detail: String) -> ArtifactError { .malformedFormat(location, detail: "tensor \(name) (\(type)): \(detail)") }
        func tensor(_ key: String) throws(ArtifactError) -> TensorReference {
            guard let value = entry[key]?.tensorValue else { throw bad("no tensor '\(key)'") }
            return value
        }
        func int(_ key: String) throws(ArtifactError) -> Int {
            guard let value = entry[key]?.intValue, value >= 0 else { throw bad("no count '\(key)'") }
            return value
        }
        func shape(_ key: String) throws(ArtifactError) -> [Int] {
            guard let items = entry[key]?.tupleValue else { throw bad("no shape '\(key)'") }
            let dims = items.compactMap(\.intValue)
            guard dims.count == items.count, dims.allSatisfy({ $0 >= 0 }) else { throw bad("'\(key)' is not a shape") }
            return dims
        }
        switch type {
        case "ternary", "ternary_bitmask", "binary":
            guard case .bytes(let packed) = entry["packed"] else { throw bad("'packed' is not bytes") }
            let count = try int(type == "binary" ? "n_bits" : "n_trits"), groupSize = try int("group_size"), paddedCols = try int("padded_cols")
            let scale = try tensor("scale")
            let size = try shape("shape")
            let original = entry["orig_shape"] == nil ? size : try shape("orig_shape")
            guard size.count == 2, groupSize > 0, paddedCols > 0, count % groupSize == 0, count % paddedCols == 0,
                  size[0] <= count / paddedCols, size[1] <= paddedCols, scale.count == count / groupSize,
                  scale.dtype.isFloatingPoint,
                  (try? Tensor.elementCount(original)) == size[0] * size[1],
                  count <= TensorReference.maxElements else {
                throw bad("n_trits \(count), group \(groupSize), padded cols \(paddedCols), shape \(size), \(scale.count) scales do not fit together")
            }
            let values = switch type {
            case "ternary": try base3Trits(packed, count: count, bad)
            case "binary": try binaryValues(packed, count: count, bad)
            default: try bitmaskTrits(packed, count: count, bad)
            }
            return .grouped(values: values, scale: scale, rows: size[0], cols: size[1], paddedCols: paddedCols,
                            groupSize: groupSize, shape: original, packedBytes: packed.count, type: type)
        case "fp4":
            let packed = try tensor("packed"), scale = try tensor("scale"), size = try shape("shape")
            guard let count = try? Tensor.elementCount(size), packed.dtype == .uint8, scale.dtype.isFloatingPoint, count <= 2 * packed.count,
                  let last = size.last, last > 0, size.count == 2, scale.count == count / last else {
                throw bad("packed \(packed.dtype.rawValue) \(packed.count) bytes, \(scale.count) scales for shape \(size)")
            }
            return .fp4(packed: packed, scale: scale, shape: size)
        case "fp8", "fp16", "bf16":
            let data = try tensor("data")
            let expected: TorchDType = type == "fp8" ? .float8_e4m3fn : type == "fp16" ? .float16 : .bfloat16
            guard data.dtype == expected else { throw bad("data is \(data.dtype.rawValue)") }
            return .float(data, type: type)
        case _ where type.hasPrefix("int") && Int(type.dropFirst(3)) != nil:
            guard case .bytes(let packed) = entry["packed"] else { throw bad("'packed' is not bytes") }
            let bits = try int("bits"), count = try int("n_vals"), scale = try tensor("scale"), size = try shape("shape")
            let last = size.last ?? 1
            guard (2...16).contains(bits), type == "int\(bits)", size.count <= 2, last > 0,
                  (try? Tensor.elementCount(size)) == count, count <= TensorReference.maxElements,
                  packed.count * 8 >= count * bits, scale.dtype.isFloatingPoint,
                  scale.count == (size.count == 2 ? count / last : 1) else {
                throw bad("\(packed.count) bytes, \(count) values of \(bits) bits, \(scale.count) scales for shape \(size)")
            }
            let qmax = (1 << (bits - 1)) - 1
            let values: [Int32] = (0..<count).map { i in
                var value = 0
                for b in 0..<bits {
                    let bit = i * bits + b
                    value |= Int((packed[bit / 8] >> UInt8(bit % 8)) & 1) << b
                }
                return Int32(value - qmax)
            }
            return .intN(values: values, scale: scale, shape: size, bits: bits, packedBytes: packed.count)
        default:
            throw .unsupportedFormat(location, detail: "tensor \(name): packed entry type '\(type)' is not read yet")
        }
    }

    /// `unpack_ternary`: each byte gives five digits `v % 3; v //= 3`, minus one; the first `count` are kept.
    private static func base3Trits(_ packed: [UInt8], count: Int, _ bad: (String) -> ArtifactError) throws(ArtifactError) -> [Int8] {
        guard packed.count * 5 >= count else { throw bad("\(packed.count) bytes hold fewer than \(count) trits") }
        var trits = [Int8](repeating: 0, count: count)
        var index = 0
        for byte in packed where index < count {
            var v = Int(byte)
            for _ in 0..<5 where index < count {
                trits[index] = Int8(v % 3) - 1
                v /= 3
                index += 1
            }
        }
        return trits
    }

    /// `unpack_ternary_bitmask`: `count` nonzero bits, then one sign bit per nonzero (1 → +1), MSB first.
    private static func bitmaskTrits(_ packed: [UInt8], count: Int, _ bad: (String) -> ArtifactError) throws(ArtifactError) -> [Int8] {
        let maskBytes = (count + 7) / 8
        guard packed.count >= maskBytes else { throw bad("\(packed.count) bytes hold no \(count)-bit mask") }
        func bit(_ i: Int, from start: Int) -> Bool { packed[start + i / 8] & (0x80 >> UInt8(i % 8)) != 0 }
        var trits = [Int8](repeating: 0, count: count)
        var signIndex = 0
        let signBits = (packed.count - maskBytes) * 8
        for i in 0..<count where bit(i, from: 0) {
            guard signIndex < signBits else { throw bad("fewer sign bits than nonzero trits") }
            trits[i] = bit(signIndex, from: maskBytes) ? 1 : -1
            signIndex += 1
        }
        return trits
    }

    /// `unpack_binary`: bit `i` of each byte (lowest first) is one value, `2 * bit - 1`.
    private static func binaryValues(_ packed: [UInt8], count: Int, _ bad: (String) -> ArtifactError) throws(ArtifactError) -> [Int8] {
        guard packed.count * 8 >= count else { throw bad("\(packed.count) bytes hold fewer than \(count) bits") }
        return (0..<count).map { i in (packed[i / 8] >> UInt8(i % 8)) & 1 == 1 ? 1 : -1 }
    }

    public var tensors: [TensorSummary] {
        stored.map { name, entry in
            switch entry {
            case .grouped(_, let scale, _, _, _, let groupSize, let shape, let packedBytes, let type):
                let packing = ["ternary": "base-3 ternary", "ternary_bitmask": "bitmask ternary"][type] ?? "packed-bit binary"
                return TensorSummary(name: name, dtype: type, shape: shape,
                                     scheme: "\(packing), group \(groupSize) (\(scale.dtype.rawValue) scale) -> bfloat16",
                                     bytes: packedBytes + scale.byteCount)
            case .fp4(let packed, let scale, let shape):
                return TensorSummary(name: name, dtype: "fp4", shape: shape,
                                     scheme: "fp4 nibbles per-row (\(scale.dtype.rawValue) scale) -> bfloat16",
                                     bytes: packed.byteCount + scale.byteCount)
            case .intN(_, let scale, let shape, let bits, let packedBytes):
                return TensorSummary(name: name, dtype: "int\(bits)", shape: shape,
                                     scheme: "\(bits)-bit packed per-row (\(scale.dtype.rawValue) scale) -> bfloat16",
                                     bytes: packedBytes + scale.byteCount)
            case .float(let data, let type):
                return TensorSummary(name: name, dtype: data.dtype.rawValue, shape: data.shape,
                                     scheme: "\(type) -> bfloat16", bytes: data.byteCount)
            }
        }
    }

    public func dequantize() throws(ArtifactError) -> Weights {
        var weights: Weights = [:]
        for (name, entry) in stored {
            let shape: [Int], data: [Float]
            switch entry {
            case .grouped(let values, let scaleTensor, let rows, let cols, let paddedCols, let groupSize, let original, _, let type):
                shape = original
                let scales = scaleTensor.floats()
                var padded = [Float](repeating: 0, count: values.count)
                for group in 0..<scales.count {
                    let range = (group * groupSize)..<((group + 1) * groupSize)
                    let factor: Float
                    if type == "binary" {
                        factor = scales[group]
                    } else {
                        // q * (scale / q.abs().mean().clamp(min=1e-8)), all in float32.
                        var nonzero: Float = 0
                        for i in range { nonzero += Float(abs(values[i])) }
                        factor = scales[group] / max(nonzero / Float(groupSize), Float(1e-8))
                    }
                    for i in range { padded[i] = Float(values[i]) * factor }
                }
                var cropped: [Float] = []
                cropped.reserveCapacity(rows * cols)
                for row in 0..<rows {
                    cropped.append(contentsOf: padded[(row * paddedCols)..<(row * paddedCols + cols)])
                }
                data = cropped.map { FormatSupport.round($0, to: .bfloat16) }
            case .fp4(let packedTensor, let scaleTensor, let size):
                shape = size
                let packed = packedTensor.floats(), scales = scaleTensor.floats()
                let count = scales.count * size[1], rowLength = size[1]
                data = (0..<count).map { i in
                    let byte = UInt8(packed[i / 2])
                    let nibble = i % 2 == 0 ? byte & 0x0F : byte >> 4
                    return FormatSupport.round(Float(Int(nibble) - 8) * scales[i / rowLength], to: .bfloat16)
                }
            case .intN(let values, let scaleTensor, let size, _, _):
                shape = size
                let scales = scaleTensor.floats()
                let rowLength = size.count == 2 ? size[1] : max(values.count, 1)
                data = values.indices.map { FormatSupport.round(Float(values[$0]) * scales[$0 / rowLength], to: .bfloat16) }
            case .float(let tensor, _):
                shape = tensor.shape
                data = tensor.floats().map { FormatSupport.round($0, to: .bfloat16) }
            }
            do { weights[name] = try Tensor(shape: shape, data: data) } catch {
                throw .malformedFormat(location, detail: "tensor \(name): \(error.message)")
            }
        }
        return weights
    }
}
