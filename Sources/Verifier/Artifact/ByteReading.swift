import Reference

/// Bounds-checked little-endian reads from a byte buffer; every read past the end is a typed
/// ``ArtifactError/truncated(_:what:needed:available:)`` naming the file and offset.
struct ByteReading {
    let bytes: [UInt8]
    let file: String

    func location(_ offset: Int) -> InputLocation { InputLocation(file: file, offset: offset) }

    /// Throws unless `count` bytes exist at `offset`.
    func require(_ offset: Int, _ count: Int, _ what: String) throws(ArtifactError) {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            let available = offset >= 0 && offset <= bytes.count ? bytes.count - offset : 0
            throw .truncated(location(offset), what: what, needed: count, available: available)
        }
    }

    func uint8(_ offset: Int, _ what: String) throws(ArtifactError) -> UInt8 {
        try require(offset, 1, what)
        return bytes[offset]
    }

    func uint16(_ offset: Int, _ what: String) throws(ArtifactError) -> UInt16 {
        try require(offset, 2, what)
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    func uint32(_ offset: Int, _ what: String) throws(ArtifactError) -> UInt32 {
        try require(offset, 4, what)
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return value
    }

    func uint64(_ offset: Int, _ what: String) throws(ArtifactError) -> UInt64 {
        try require(offset, 8, what)
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return value
    }

    func slice(_ offset: Int, _ count: Int, _ what: String) throws(ArtifactError) -> ArraySlice<UInt8> {
        try require(offset, count, what)
        return bytes[offset..<(offset + count)]
    }

    func matches(_ offset: Int, _ signature: [UInt8]) -> Bool {
        guard offset >= 0, offset <= bytes.count, signature.count <= bytes.count - offset else { return false }
        return bytes[offset..<(offset + signature.count)].elementsEqual(signature)
    }
}

/// Hex rendering of the first bytes of a buffer, for error messages.
func hexPrefix(_ bytes: some Collection<UInt8>, count: Int = 8) -> String {
    bytes.prefix(count).map { byte in
        let hex = String(byte, radix: 16, uppercase: true)
        return hex.count == 1 ? "0" + hex : hex
    }.joined(separator: " ")
}
