/// Why a SentencePiece `.model` file could not be read.
public enum SentencePieceModelError: InputError, Equatable {
    /// The file could not be opened or read at all.
    case unreadable(file: String, reason: String)
    /// The data ends in the middle of a value.
    case truncated(InputLocation, reading: String)
    /// A varint longer than 10 bytes or overflowing 64 bits.
    case malformedVarint(InputLocation)
    /// A field key whose number is 0 or beyond the protobuf maximum.
    case invalidFieldNumber(InputLocation, number: UInt64)
    /// A field key whose wire type is not one of the six protobuf wire types.
    case invalidWireType(InputLocation, field: Int, wireType: Int)
    /// A known field encoded with a wire type that does not fit its declared type.
    case unexpectedWireType(InputLocation, field: String, wireType: Int)
    /// A length prefix that reaches past the end of its enclosing message.
    case lengthOutOfBounds(InputLocation, length: UInt64, remaining: Int)
    /// Groups nested more deeply than any real file would.
    case nestingTooDeep(InputLocation)
    /// An end-group key without its matching start.
    case unmatchedEndGroup(InputLocation, field: Int)
    /// A piece string that is not valid UTF-8.
    case invalidUTF8(InputLocation, pieceIndex: Int)
    /// A piece type outside NORMAL…BYTE.
    case unknownPieceType(InputLocation, pieceIndex: Int, value: UInt64)
    /// The model declares no pieces.
    case noPieces(file: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read SentencePiece model: \(reason)"
        case let .truncated(location, reading):
            return "\(location): SentencePiece model is truncated while reading \(reading)"
        case let .malformedVarint(location):
            return "\(location): malformed protobuf varint (longer than 10 bytes or over 64 bits)"
        case let .invalidFieldNumber(location, number):
            return "\(location): invalid protobuf field number \(number)"
        case let .invalidWireType(location, field, wireType):
            return "\(location): invalid protobuf wire type \(wireType) for field \(field)"
        case let .unexpectedWireType(location, field, wireType):
            return "\(location): field \(field) has wire type \(wireType), which does not fit its type"
        case let .lengthOutOfBounds(location, length, remaining):
            return "\(location): length \(length) exceeds the \(remaining) bytes left in the enclosing message"
        case let .nestingTooDeep(location):
            return "\(location): protobuf groups nested too deeply"
        case let .unmatchedEndGroup(location, field):
            return "\(location): end of group \(field) without a matching start"
        case let .invalidUTF8(location, pieceIndex):
            return "\(location): piece \(pieceIndex) is not valid UTF-8"
        case let .unknownPieceType(location, pieceIndex, value):
            return "\(location): piece \(pieceIndex) has unknown type \(value) (expected 1…6)"
        case let .noPieces(file):
            return "\(file): SentencePiece model has no pieces"
        }
    }
}
