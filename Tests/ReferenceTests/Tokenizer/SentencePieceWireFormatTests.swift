import Foundation
import Testing
@testable import Reference

// MARK: encoding helpers (protobuf wire format)

fileprivate func varint(_ value: UInt64) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7F)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        out.append(byte)
    } while value != 0
    return out
}

fileprivate func key(_ field: Int, _ wireType: Int) -> [UInt8] { varint(UInt64(field << 3 | wireType)) }

fileprivate func lengthDelimited(_ field: Int, _ payload: [UInt8]) -> [UInt8] {
    key(field, 2) + varint(UInt64(payload.count)) + payload
}

fileprivate func piece(_ text: String, score: Float, type: UInt64? = nil) -> [UInt8] {
    var body = lengthDelimited(1, Array(text.utf8))
    let bits = score.bitPattern
    body += key(2, 5) + (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt32($0))) }
    if let type { body += key(3, 0) + varint(type) }
    return lengthDelimited(1, body)
}

fileprivate func decode(_ bytes: [UInt8]) throws(SentencePieceModelError) -> SentencePieceModel {
    try SentencePieceModel(serialized: bytes, file: "test.model")
}

/// Hand-built protobuf bytes: unknown fields of every wire type, and malformed or hostile input.
@Suite("SentencePiece protobuf decoding of hostile and unusual input")
struct SentencePieceWireFormatTests {
    // MARK: tests

    @Test("pieces decode, the type defaults to NORMAL, and unknown fields of every wire type are skipped")
    func decodesAndSkipsUnknownFields() throws {
        let unknownFields: [UInt8] =
            key(9, 0) + varint(300)                              // varint
            + key(10, 1) + [1, 2, 3, 4, 5, 6, 7, 8]             // fixed64
            + lengthDelimited(11, [0xFF, 0x00, 0x7F])           // bytes
            + key(12, 5) + [9, 9, 9, 9]                         // fixed32
            + key(13, 3) + key(1, 0) + varint(5) + key(13, 4)  // a (deprecated) group
        let trainer = lengthDelimited(2, key(4, 0) + varint(3) + key(35, 0) + varint(1) + key(99, 0) + varint(1))
        let normalizer = lengthDelimited(3, lengthDelimited(1, Array("identity".utf8)) + key(3, 0) + varint(0))
        let bytes = unknownFields
            + piece("<unk>", score: 0, type: 2)
            + lengthDelimited(1, lengthDelimited(1, Array("▁héllo".utf8)) + key(7, 0) + varint(1))
            + trainer + normalizer
            + piece("<0x41>", score: -1.5, type: 6)
        let model = try decode(bytes)
        #expect(model.pieces == [
            .init(piece: "<unk>", score: 0, type: .unknown),
            .init(piece: "▁héllo", score: 0, type: .normal),
            .init(piece: "<0x41>", score: -1.5, type: .byte),
        ])
        #expect(model.trainer == .init(vocabSize: 3, modelType: nil, byteFallback: true))
        #expect(model.normalizer == .init(name: "identity", addDummyPrefix: false))
        let tables = model.byteAccounting
        #expect(tables.baseBytes == [0, 6, 1])          // "héllo" is 6 UTF-8 bytes
        #expect(tables.hasLeadingSpace == [false, true, false])
        #expect(tables.isBoundary == [true, false, false])
    }

    @Test("a length reaching past the end is refused with its offset")
    func lengthOutOfBounds() {
        let bytes = piece("a", score: 0) + key(1, 2) + varint(50) + [1, 2, 3]
        let offset = piece("a", score: 0).count + 1
        #expect(throws: SentencePieceModelError.lengthOutOfBounds(
            InputLocation(file: "test.model", offset: offset), length: 50, remaining: 3)) {
            try decode(bytes)
        }
    }

    @Test("an invalid wire type is refused")
    func invalidWireType() {
        #expect(throws: SentencePieceModelError.invalidWireType(
            InputLocation(file: "test.model", offset: 0), field: 1, wireType: 7)) {
            try decode(key(1, 7) + [0])
        }
    }

    @Test("a known field with the wrong wire type is refused")
    func wrongWireTypeForKnownField() {
        #expect(throws: SentencePieceModelError.unexpectedWireType(
            InputLocation(file: "test.model", offset: 0), field: "ModelProto.pieces", wireType: 0)) {
            try decode(key(1, 0) + varint(1))
        }
    }

    @Test("an unknown piece type is refused")
    func unknownPieceType() {
        let bytes = piece("a", score: 0, type: 9)
        // Outer key + length (2 bytes), piece text (3), score (5): the type key is at byte 10.
        #expect(throws: SentencePieceModelError.unknownPieceType(
            InputLocation(file: "test.model", offset: 10), pieceIndex: 0, value: 9)) {
            try decode(bytes)
        }
    }

    @Test("a piece that is not UTF-8 is refused")
    func invalidUTF8() {
        let bytes = lengthDelimited(1, lengthDelimited(1, [0x61, 0xC3]))
        #expect(throws: SentencePieceModelError.invalidUTF8(
            InputLocation(file: "test.model", offset: 4), pieceIndex: 0)) {
            try decode(bytes)
        }
    }

    @Test("an over-long varint is refused")
    func overlongVarint() {
        let bytes = key(9, 0) + [UInt8](repeating: 0xFF, count: 9) + [0x7F]
        #expect(throws: SentencePieceModelError.malformedVarint(InputLocation(file: "test.model", offset: 1))) {
            try decode(bytes)
        }
    }

    @Test("an end-group without a start and an unterminated group are refused")
    func malformedGroups() {
        #expect(throws: SentencePieceModelError.unmatchedEndGroup(
            InputLocation(file: "test.model", offset: 0), field: 13)) {
            try decode(key(13, 4))
        }
        #expect(throws: SentencePieceModelError.truncated(
            InputLocation(file: "test.model", offset: 0), reading: "the end of group 13")) {
            try decode(key(13, 3) + key(1, 0) + varint(1))
        }
        let deep = [UInt8]((0..<100).flatMap { _ in key(13, 3) })
        #expect(throws: SentencePieceModelError.nestingTooDeep(
            InputLocation(file: "test.model", offset: 64))) {
            try decode(deep)
        }
    }

    @Test("a model without pieces is refused")
    func noPieces() {
        #expect(throws: SentencePieceModelError.noPieces(file: "test.model")) { try decode([]) }
    }

    @Test("every truncation of a real model fails with a typed error or decodes fewer pieces")
    func truncationsOfRealModel() throws {
        let url = Paths.shared("tokenizers/fineweb_1024_bpe.model")
        let bytes = [UInt8](try Data(contentsOf: url))
        let full = try decode(bytes)
        for cut in stride(from: 1, to: bytes.count, by: 997) {
            do {
                let partial = try decode(Array(bytes[..<cut]))
                #expect(partial.pieces.count < full.pieces.count)
                #expect(partial.pieces == Array(full.pieces.prefix(partial.pieces.count)))
            } catch {
                #expect(error.description.hasPrefix("test.model: at byte"), "cut at \(cut): \(error)")
            }
        }
    }

    @Test("a missing file is a typed error naming it")
    func missingFile() {
        #expect {
            try SentencePieceModel(contentsOf: URL(fileURLWithPath: "/nonexistent/x.model"))
        } throws: { error in
            guard case let .unreadable(file, _) = error as? SentencePieceModelError else { return false }
            return file == "/nonexistent/x.model"
        }
    }
}
