/// A minimal, bounds-checked reader of the protobuf wire format, just enough to decode a SentencePiece
/// `ModelProto` without a protobuf dependency.
///
/// Reads a window `[position, end)` of a byte buffer; nested messages are read by a child reader over
/// their own window, so offsets in errors are always absolute within the file.
struct ProtobufWireReader {
    /// The six wire types of the protobuf encoding.
    enum WireType: Int {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    /// One field key: its number, wire type and where the key starts.
    struct FieldKey {
        var number: Int
        var wireType: WireType
        var offset: Int
    }

    /// Groups are deprecated and never used by SentencePiece; nesting beyond this is hostile.
    static let maximumGroupDepth = 64

    private let bytes: [UInt8]
    let file: String
    private(set) var position: Int
    let end: Int

    init(bytes: [UInt8], file: String) {
        self.init(bytes: bytes, file: file, start: 0, end: bytes.count)
    }

    private init(bytes: [UInt8], file: String, start: Int, end: Int) {
        self.bytes = bytes
        self.file = file
        self.position = start
        self.end = end
    }

    var isAtEnd: Bool { position >= end }

    private func location(_ offset: Int) -> InputLocation { InputLocation(file: file, offset: offset) }

    /// Reads a field key, or `nil` at the end of the window.
    mutating func nextField() throws(SentencePieceModelError) -> FieldKey? {
        guard !isAtEnd else { return nil }
        let offset = position
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else {
            throw .invalidFieldNumber(location(offset), number: number)
        }
        guard let wireType = WireType(rawValue: Int(key & 7)) else {
            throw .invalidWireType(location(offset), field: Int(number), wireType: Int(key & 7))
        }
        return FieldKey(number: Int(number), wireType: wireType, offset: offset)
    }

    /// Reads a base-128 varint of at most 10 bytes.
    mutating func readVarint() throws(SentencePieceModelError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .truncated(location(start), reading: "a varint") }
            let byte = bytes[position]
            position += 1
            // The tenth byte may only contribute the top bit of a 64-bit value.
            if shift == 63 && byte > 1 { throw .malformedVarint(location(start)) }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// Reads a little-endian 32-bit value (wire type `fixed32`).
    mutating func readFixed32() throws(SentencePieceModelError) -> UInt32 {
        guard end - position >= 4 else { throw .truncated(location(position), reading: "a 4-byte fixed32 value") }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[position + index]) << (8 * UInt32(index)) }
        position += 4
        return value
    }

    /// Reads a length prefix and returns the window of bytes it covers, advancing past it.
    mutating func readLengthDelimited() throws(SentencePieceModelError) -> Range<Int> {
        let offset = position
        let length = try readVarint()
        let remaining = end - position
        guard length <= UInt64(remaining) else {
            throw .lengthOutOfBounds(location(offset), length: length, remaining: remaining)
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// A reader over an embedded message's bytes.
    func child(_ range: Range<Int>) -> ProtobufWireReader {
        ProtobufWireReader(bytes: bytes, file: file, start: range.lowerBound, end: range.upperBound)
    }

    /// The bytes of `range` as an array.
    func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { bytes[range] }

    /// Skips the value of a field we do not use, according to its wire type.
    mutating func skipValue(of key: FieldKey) throws(SentencePieceModelError) {
        try skipValue(of: key, depth: 0)
    }

    private mutating func skipValue(of key: FieldKey, depth: Int) throws(SentencePieceModelError) {
        switch key.wireType {
        case .varint:
            _ = try readVarint()
        case .fixed64:
            guard end - position >= 8 else { throw .truncated(location(position), reading: "an 8-byte fixed64 value") }
            position += 8
        case .fixed32:
            _ = try readFixed32()
        case .lengthDelimited:
            _ = try readLengthDelimited()
        case .startGroup:
            guard depth < Self.maximumGroupDepth else { throw .nestingTooDeep(location(key.offset)) }
            while true {
                guard let inner = try nextField() else {
                    throw .truncated(location(key.offset), reading: "the end of group \(key.number)")
                }
                if inner.wireType == .endGroup {
                    guard inner.number == key.number else {
                        throw .unmatchedEndGroup(location(inner.offset), field: inner.number)
                    }
                    return
                }
                try skipValue(of: inner, depth: depth + 1)
            }
        case .endGroup:
            throw .unmatchedEndGroup(location(key.offset), field: key.number)
        }
    }

    /// Checks that `key` carries `expected`, so a field of the right number but wrong encoding is refused.
    func require(_ key: FieldKey, is expected: WireType, field name: String) throws(SentencePieceModelError) {
        guard key.wireType == expected else {
            throw .unexpectedWireType(location(key.offset), field: name, wireType: key.wireType.rawValue)
        }
    }
}
