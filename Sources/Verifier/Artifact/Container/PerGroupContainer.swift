import Reference

/// The `PGRP` container of the 2026-04-27 SP8192_LQER_SparseGate record (its `_serialize_pergroup`):
/// `PGRP`, a u32 stream count, u32 lengths, then the streams —
///
/// 1. seven lrzip streams, one per group of int8 tensors (`_GROUP_ORDER`: `tok_emb.weight.q`, then
///    each block's `attn.c_k/c_q/c_v/proj.weight.q`, `mlp.fc/proj.weight.q`, layers concatenated),
///    each 2-D tensor stored transposed, and the rows of `tok_emb`, `c_q` and `mlp.fc` reordered by an
///    L1-similarity sort;
/// 2. brotli of a torch.save `{'r': other tensors, 'm': meta, 's': shapes per group}`;
/// 3. brotli of the sort permutations (u16 per row, in group order).
///
/// Reading it rebuilds the record's `{'w','m'}` dict (``MixedWMFormat``), exactly as its
/// `_deserialize_pergroup` does.
enum PerGroupContainer {
    static let magic = Array("PGRP".utf8)
    static let groupOrder = [
        "_tok_emb.weight.q", "attn.c_k.weight.q", "attn.c_q.weight.q",
        "attn.c_v.weight.q", "attn.proj.weight.q", "mlp.fc.weight.q", "mlp.proj.weight.q",
    ]
    static let sortedGroups: Set<String> = ["_tok_emb.weight.q", "attn.c_q.weight.q", "mlp.fc.weight.q"]

    static func isPerGroup(_ bytes: [UInt8]) -> Bool { ByteReading(bytes: bytes, file: "").matches(0, magic) }

    /// The streams, bounds-checked.
    static func streams(_ bytes: [UInt8], file: String) throws(ArtifactError) -> [ArraySlice<UInt8>] {
        let reader = ByteReading(bytes: bytes, file: file)
        let count = Int(try reader.uint32(4, "PGRP stream count"))
        guard count == groupOrder.count + 2 else {
            throw .unsupportedFormat(reader.location(4), detail: "PGRP with \(count) streams; the known layout has \(groupOrder.count + 2)")
        }
        var offset = 8 + 4 * count
        var streams: [ArraySlice<UInt8>] = []
        for index in 0..<count {
            let length = Int(try reader.uint32(8 + 4 * index, "PGRP stream length"))
            streams.append(try reader.slice(offset, length, "PGRP stream \(index)"))
            offset += length
        }
        return streams
    }

    /// Reads the container into the `{'w','m'}` root and the remainder's torch archive.
    static func read(_ bytes: [UInt8], file: String, limit: Int,
                     helperLimits: HelperLimits = .defaults) throws(ArtifactError) -> (root: PickleValue, archive: TorchArchive, archiveBytes: Int) {
        let streams = try streams(bytes, file: file)
        let remainderName = "\(file) > PGRP remainder"
        let remainderBytes = try Decompression.decompress(Array(streams[groupOrder.count]), as: .brotli, file: remainderName, limit: limit)
        let archive = try TorchArchive(zip: ZipArchive(bytes: remainderBytes, file: remainderName + " (brotli-decompressed)"))
        let location = InputLocation(file: remainderName)
        guard let root = archive.root.dictValue, let remainder = root["r"]?.dictValue, let meta = root["m"],
              let shapes = root["s"]?.dictValue else {
            throw .malformedFormat(location, detail: "the remainder is not {'r', 'm', 's'}")
        }
        let permutationStream = streams[groupOrder.count + 1]
        let permutationBytes = permutationStream.isEmpty ? [] :
            try Decompression.decompress(Array(permutationStream), as: .brotli, file: "\(file) > PGRP permutations", limit: limit)
        var permutationOffset = 0

        let weights = PickleDict()
        for (key, value) in remainder.entries { weights.set(key, value) }
        var produced = remainderBytes.count
        for (index, group) in groupOrder.enumerated() where !streams[index].isEmpty {
            let groupLocation = InputLocation(file: "\(file) > PGRP stream \(index) (\(group))")
            let raw = try LRZip.decompress(Array(streams[index]), location: groupLocation, limit: limit - produced,
                                           helperLimits: helperLimits)
            produced += raw.count
            guard let groupShapes = shapes[group]?.tupleValue else {
                throw .malformedFormat(location, detail: "no shapes for group \(group)")
            }
            let names = group.hasPrefix("_") ? [String(group.dropFirst())] : groupShapes.indices.map { "blocks.\($0).\(group)" }
            var offset = 0
            for (name, shapeValue) in zip(names, groupShapes) {
                guard let shape = shapeValue.tupleValue?.compactMap(\.intValue),
                      let count = try? Tensor.elementCount(shape), count <= raw.count - offset else {
                    throw .malformedFormat(groupLocation, detail: "tensor \(name): shape does not fit the \(raw.count) decompressed bytes")
                }
                var values = Array(raw[offset..<(offset + count)])
                offset += count
                if shape.count == 2 {
                    let (rows, cols) = (shape[0], shape[1])
                    // Stored transposed: element (r, c) sits at c * rows + r.
                    var restored = [UInt8](repeating: 0, count: count)
                    for r in 0..<rows { for c in 0..<cols { restored[r * cols + c] = values[c * rows + r] } }
                    if sortedGroups.contains(group) {
                        guard permutationBytes.count - permutationOffset >= 2 * rows else {
                            throw .truncated(InputLocation(file: "\(file) > PGRP permutations", offset: permutationOffset),
                                             what: "row permutation of \(name)", needed: 2 * rows,
                                             available: permutationBytes.count - permutationOffset)
                        }
                        var order = [Int](repeating: 0, count: rows)
                        for j in 0..<rows {
                            let at = permutationOffset + 2 * j
                            order[j] = Int(permutationBytes[at]) | Int(permutationBytes[at + 1]) << 8
                        }
                        permutationOffset += 2 * rows
                        guard Set(order).count == rows, order.allSatisfy({ $0 < rows }) else {
                            throw .malformedFormat(groupLocation, detail: "tensor \(name): row order is not a permutation")
                        }
                        // Sorted row j is original row order[j].
                        var unsorted = [UInt8](repeating: 0, count: count)
                        for j in 0..<rows {
                            let source = j * cols, target = order[j] * cols
                            unsorted[target..<(target + cols)] = restored[source..<(source + cols)]
                        }
                        restored = unsorted
                    }
                    values = restored
                }
                let storage = StorageReference(dtype: .int8, key: "PGRP stream \(index)", count: count, bytes: values[...])
                let strides = shape.indices.map { axis in shape[(axis + 1)...].reduce(1, *) }
                let tensor = try TensorReference(storage: storage, storageOffset: 0, shape: shape, strides: strides,
                                                 location: groupLocation)
                weights.set(.string(name), .tensor(tensor))
            }
        }
        let rebuilt = PickleDict()
        rebuilt.set(.string("w"), .dict(weights))
        rebuilt.set(.string("m"), meta)
        return (.dict(rebuilt), archive, remainderBytes.count)
    }
}
