import Reference

/// The `BSHF` byte-shuffle block some records put between the compressor and the torch.save archive:
/// `BSHF`, the stride, then byte `i` of every `stride`-byte group stored together (all first bytes,
/// then all second bytes, ...), which helps the compressor on fp16/int8 data.
///
/// Most records write the stride as one byte; one record (2026-03-31) writes it as two little-endian
/// bytes. The header width is chosen by which reading unshuffles to a ZIP archive.
public enum ByteShuffle {
    static let magic = Array("BSHF".utf8)
    static let zipMagic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]

    /// The header found at the start of a buffer.
    public struct Header: Sendable, Equatable {
        /// Bytes in each interleaved group.
        public var stride: Int
        /// 5 or 6: magic plus a 1- or 2-byte stride.
        public var headerLength: Int
    }

    /// Whether `bytes` starts with the `BSHF` magic.
    public static func isShuffled(_ bytes: [UInt8]) -> Bool {
        ByteReading(bytes: bytes, file: "").matches(0, magic)
    }

    /// Reads the header, choosing the stride width whose unshuffled output starts like a ZIP archive.
    public static func header(of bytes: [UInt8], file: String) throws(ArtifactError) -> Header {
        let reader = ByteReading(bytes: bytes, file: file)
        let oneByte = Header(stride: Int(try reader.uint8(4, "BSHF stride")), headerLength: 5)
        if unshuffledPrefix(bytes, oneByte) == zipMagic { return oneByte }
        if let twoBytes = try? Header(stride: Int(reader.uint16(4, "BSHF stride")), headerLength: 6),
           unshuffledPrefix(bytes, twoBytes) == zipMagic {
            return twoBytes
        }
        return oneByte
    }

    /// The first four output bytes under `header`, without unshuffling everything.
    private static func unshuffledPrefix(_ bytes: [UInt8], _ header: Header) -> [UInt8] {
        let n = bytes.count - header.headerLength
        guard n >= 4 else { return [] }
        return (0..<4).compactMap { index in
            let source = sourceIndex(of: index, count: n, stride: header.stride)
            return source.map { bytes[header.headerLength + $0] }
        }
    }

    /// Where output byte `index` sits in the shuffled payload of `count` bytes.
    private static func sourceIndex(of index: Int, count: Int, stride: Int) -> Int? {
        guard stride >= 2 else { return index < count ? index : nil }
        let lane = index % stride
        let base = count / stride, extra = count % stride
        let laneStart = lane * base + min(lane, extra)
        let source = laneStart + index / stride
        return source < count ? source : nil
    }

    /// Removes the header and restores the original byte order. A stride below 2 means the payload
    /// was stored as is.
    public static func unshuffle(_ bytes: [UInt8], file: String) throws(ArtifactError) -> (Header, [UInt8]) {
        let header = try header(of: bytes, file: file)
        return (header, unshuffle(bytes, header: header))
    }

    /// The bytes after `header`, in their original order.
    static func unshuffle(_ bytes: [UInt8], header: Header) -> [UInt8] {
        let n = bytes.count - header.headerLength
        guard header.stride >= 2 else { return Array(bytes[header.headerLength...]) }
        let output = [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            bytes.withUnsafeBufferPointer { source in
                if let destination = buffer.baseAddress, let payload = source.baseAddress {
                    interleave(payload + header.headerLength, count: n, stride: header.stride, into: destination)
                }
            }
            initialized = n
        }
        return output
    }

    /// Output bytes below which splitting the work across cores costs more than it saves.
    static let parallelMinimum = 1 << 20

    /// Writes `count` unshuffled bytes to `output` from the lanes in `payload`. Every output byte is
    /// written exactly once; parts of the output are independent, so they run on several cores.
    private static func interleave(_ payload: UnsafePointer<UInt8>, count n: Int, stride: Int,
                                   into output: UnsafeMutablePointer<UInt8>) {
        let base = n / stride, extra = n % stride
        // Lane `l` starts after the `l` lanes before it, the first `extra` of which hold one more byte.
        let laneStarts = (0..<stride).map { lane in payload + lane * base + min(lane, extra) }
        // Parts split the group index (output / stride); the last, partial group is done at the end.
        ParallelParts.forEach(base, minimumPerPart: parallelMinimum / stride) { groups in
            if stride == 2 {
                // The records' stride: two lanes into little-endian 16-bit words (the compiler
                // vectorizes this loop).
                let low = laneStarts[0], high = laneStarts[1]
                let words = UnsafeMutableRawPointer(output)
                for group in groups {
                    let word = UInt16(low[group]) | UInt16(high[group]) << 8
                    words.storeBytes(of: word.littleEndian, toByteOffset: 2 * group, as: UInt16.self)
                }
            } else {
                for lane in 0..<stride {
                    let source = laneStarts[lane]
                    var destination = output + groups.lowerBound * stride + lane
                    for group in groups {
                        destination.pointee = source[group]
                        destination += stride
                    }
                }
            }
        }
        // The first `extra` lanes each hold one byte of the last, partial group.
        for lane in 0..<extra { output[base * stride + lane] = laneStarts[lane][base] }
    }
}
