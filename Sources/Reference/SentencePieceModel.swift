import Foundation

/// A SentencePiece tokenizer model (`.model`, a serialized protobuf `ModelProto`), read with our own
/// wire-format decoder, and the challenge's byte-accounting tables built from it.
///
/// Only what bits-per-byte needs is decoded: the pieces (string, score, type) and a few trainer and
/// normalizer settings. Every other field is skipped according to its wire type.
public struct SentencePieceModel: Sendable, Equatable {
    /// The kind of a piece (`ModelProto.SentencePiece.Type`).
    public enum PieceType: UInt8, Sendable, Equatable, CaseIterable {
        case normal = 1
        case unknown = 2
        case control = 3
        case userDefined = 4
        case unused = 5
        case byte = 6
    }

    /// One vocabulary entry; its token id is its index in ``pieces``.
    public struct Piece: Sendable, Equatable {
        public var piece: String
        public var score: Float
        public var type: PieceType

        public init(piece: String, score: Float, type: PieceType) {
            self.piece = piece
            self.score = score
            self.type = type
        }
    }

    /// The trainer settings we decode (`ModelProto.trainer_spec`); `nil` when the file omits them.
    public struct TrainerSettings: Sendable, Equatable {
        /// `vocab_size` the model was trained for (field 4).
        public var vocabSize: Int?
        /// `model_type` (field 3): 1 unigram, 2 BPE, 3 word, 4 char.
        public var modelType: Int?
        /// `byte_fallback` (field 35): unknown characters become `<0xNN>` byte pieces.
        public var byteFallback: Bool?

        public init(vocabSize: Int? = nil, modelType: Int? = nil, byteFallback: Bool? = nil) {
            self.vocabSize = vocabSize
            self.modelType = modelType
            self.byteFallback = byteFallback
        }
    }

    /// The normalizer settings we decode (`ModelProto.normalizer_spec`); `nil` when omitted.
    public struct NormalizerSettings: Sendable, Equatable {
        /// Rule name (field 1), e.g. `nmt_nfkc` or `identity`.
        public var name: String?
        /// `add_dummy_prefix` (field 3): a "▁" is prepended to the input.
        public var addDummyPrefix: Bool?

        public init(name: String? = nil, addDummyPrefix: Bool? = nil) {
            self.name = name
            self.addDummyPrefix = addDummyPrefix
        }
    }

    /// The vocabulary, in token-id order.
    public var pieces: [Piece]
    public var trainer: TrainerSettings?
    public var normalizer: NormalizerSettings?

    /// Reads and decodes the model file at `url`.
    public init(contentsOf url: URL) throws(SentencePieceModelError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(file: url.path, reason: error.localizedDescription)
        }
        try self.init(serialized: [UInt8](data), file: url.path)
    }

    /// Decodes a serialized `ModelProto`; `file` names it in errors.
    public init(serialized bytes: [UInt8], file: String) throws(SentencePieceModelError) {
        var reader = ProtobufWireReader(bytes: bytes, file: file)
        var pieces: [Piece] = []
        var trainer: TrainerSettings?
        var normalizer: NormalizerSettings?
        while let key = try reader.nextField() {
            switch key.number {
            case 1:
                try reader.require(key, is: .lengthDelimited, field: "ModelProto.pieces")
                let range = try reader.readLengthDelimited()
                pieces.append(try Self.decodePiece(reader.child(range), index: pieces.count, offset: key.offset))
            case 2:
                try reader.require(key, is: .lengthDelimited, field: "ModelProto.trainer_spec")
                trainer = try Self.decodeTrainer(reader.child(reader.readLengthDelimited()), merging: trainer)
            case 3:
                try reader.require(key, is: .lengthDelimited, field: "ModelProto.normalizer_spec")
                normalizer = try Self.decodeNormalizer(reader.child(reader.readLengthDelimited()), merging: normalizer)
            default:
                try reader.skipValue(of: key)
            }
        }
        guard !pieces.isEmpty else { throw .noPieces(file: file) }
        self.pieces = pieces
        self.trainer = trainer
        self.normalizer = normalizer
    }

    public init(pieces: [Piece], trainer: TrainerSettings? = nil, normalizer: NormalizerSettings? = nil) {
        self.pieces = pieces
        self.trainer = trainer
        self.normalizer = normalizer
    }

    /// Number of pieces, as `SentencePieceProcessor.vocab_size()` reports it.
    public var vocabularySize: Int { pieces.count }

    // MARK: - Byte accounting

    /// The challenge's byte-accounting tables, one entry per piece.
    public var byteAccounting: ByteAccounting { byteAccounting(modelVocabularySize: pieces.count) }

    /// The byte-accounting tables as the challenge's `build_sentencepiece_luts(sp, vocab_size)` builds
    /// them: `max(pieces.count, modelVocabularySize)` entries, the ones past the tokenizer's vocabulary
    /// being 0-byte boundary tokens (a model whose embedding is wider than the tokenizer).
    ///
    /// Control, unknown and unused pieces are 0-byte boundaries; byte pieces count 1 byte; any other
    /// piece counts the UTF-8 bytes of its text after a leading "▁", which is flagged separately.
    public func byteAccounting(modelVocabularySize: Int) -> ByteAccounting {
        let tableSize = max(pieces.count, modelVocabularySize)
        var baseBytes = [Int32](repeating: 0, count: tableSize)
        var hasLeadingSpace = [Bool](repeating: false, count: tableSize)
        var isBoundary = [Bool](repeating: true, count: tableSize)
        for (id, entry) in pieces.enumerated() {
            switch entry.type {
            case .control, .unknown, .unused:
                continue
            case .byte:
                isBoundary[id] = false
                baseBytes[id] = 1
            case .normal, .userDefined:
                isBoundary[id] = false
                var utf8 = Substring(entry.piece).utf8
                if utf8.starts(with: Self.leadingSpaceMarker) {
                    hasLeadingSpace[id] = true
                    utf8 = utf8.dropFirst(Self.leadingSpaceMarker.count)
                }
                baseBytes[id] = Int32(utf8.count)
            }
        }
        return ByteAccounting(baseBytes: baseBytes, hasLeadingSpace: hasLeadingSpace, isBoundary: isBoundary)
    }

    /// UTF-8 of "▁" (U+2581), SentencePiece's whitespace marker.
    static let leadingSpaceMarker: [UInt8] = Array("\u{2581}".utf8)

    // MARK: - Decoding

    private static func decodePiece(
        _ reader: ProtobufWireReader, index: Int, offset: Int
    ) throws(SentencePieceModelError) -> Piece {
        var reader = reader
        var text = ""
        var score: Float = 0
        var type = PieceType.normal
        while let key = try reader.nextField() {
            switch key.number {
            case 1:
                try reader.require(key, is: .lengthDelimited, field: "SentencePiece.piece")
                let range = try reader.readLengthDelimited()
                let raw = reader.slice(range)
                let decoded = String(decoding: raw, as: UTF8.self)
                // Decoding replaces invalid sequences, so a changed byte sequence means invalid UTF-8.
                guard decoded.utf8.elementsEqual(raw) else {
                    throw .invalidUTF8(InputLocation(file: reader.file, offset: range.lowerBound), pieceIndex: index)
                }
                text = decoded
            case 2:
                try reader.require(key, is: .fixed32, field: "SentencePiece.score")
                score = Float(bitPattern: try reader.readFixed32())
            case 3:
                try reader.require(key, is: .varint, field: "SentencePiece.type")
                let value = try reader.readVarint()
                guard value <= UInt64(UInt8.max), let decoded = PieceType(rawValue: UInt8(value)) else {
                    throw .unknownPieceType(InputLocation(file: reader.file, offset: key.offset),
                                            pieceIndex: index, value: value)
                }
                type = decoded
            default:
                try reader.skipValue(of: key)
            }
        }
        return Piece(piece: text, score: score, type: type)
    }

    private static func decodeTrainer(
        _ reader: ProtobufWireReader, merging existing: TrainerSettings?
    ) throws(SentencePieceModelError) -> TrainerSettings {
        var reader = reader
        var settings = existing ?? TrainerSettings()
        while let key = try reader.nextField() {
            switch key.number {
            case 3:
                try reader.require(key, is: .varint, field: "TrainerSpec.model_type")
                settings.modelType = Int(truncatingIfNeeded: Int32(truncatingIfNeeded: try reader.readVarint()))
            case 4:
                try reader.require(key, is: .varint, field: "TrainerSpec.vocab_size")
                settings.vocabSize = Int(Int32(truncatingIfNeeded: try reader.readVarint()))
            case 35:
                try reader.require(key, is: .varint, field: "TrainerSpec.byte_fallback")
                settings.byteFallback = try reader.readVarint() != 0
            default:
                try reader.skipValue(of: key)
            }
        }
        return settings
    }

    private static func decodeNormalizer(
        _ reader: ProtobufWireReader, merging existing: NormalizerSettings?
    ) throws(SentencePieceModelError) -> NormalizerSettings {
        var reader = reader
        var settings = existing ?? NormalizerSettings()
        while let key = try reader.nextField() {
            switch key.number {
            case 1:
                try reader.require(key, is: .lengthDelimited, field: "NormalizerSpec.name")
                let range = try reader.readLengthDelimited()
                settings.name = String(decoding: reader.slice(range), as: UTF8.self)
            case 3:
                try reader.require(key, is: .varint, field: "NormalizerSpec.add_dummy_prefix")
                settings.addDummyPrefix = try reader.readVarint() != 0
            default:
                try reader.skipValue(of: key)
            }
        }
        return settings
    }
}
