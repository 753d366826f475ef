import Foundation
import Testing
@testable import Reference

@Suite("SentencePiece model and byte accounting against the challenge's tables")
struct SentencePieceModelTests {
    static let tokenizers = ["fineweb_1024_bpe", "fineweb_2048_bpe", "fineweb_4096_bpe", "fineweb_8192_bpe"]

    static func model(_ name: String) throws -> SentencePieceModel {
        try SentencePieceModel(contentsOf: Paths.shared("tokenizers/\(name).model"))
    }

    @Test("full tables equal build_sentencepiece_luts", arguments: tokenizers)
    func tablesMatchGolden(name: String) throws {
        let golden = try TokenizerGolden.load(name)
        let model = try Self.model(name)
        #expect(model.vocabularySize == golden.sp_vocab_size)
        let tables = model.byteAccounting
        #expect(tables.vocabularySize == golden.table_size)
        #expect(tables.baseBytes == golden.base_bytes)
        #expect(tables.hasLeadingSpace == golden.byteAccounting.hasLeadingSpace)
        #expect(tables.isBoundary == golden.byteAccounting.isBoundary)
        #expect(tables == golden.byteAccounting)
        #expect(tables.isBoundary.filter { $0 }.count == golden.counts.boundary)
        #expect(tables.hasLeadingSpace.filter { $0 }.count == golden.counts.leading_space)
        #expect(tables.baseBytes.reduce(0) { $0 + Int($1) } == golden.counts.base_bytes_sum)
        #expect(model.pieces.filter { $0.type == .byte }.count == golden.counts.byte_pieces)
    }

    @Test("sampled pieces, scores and types equal SentencePieceProcessor's", arguments: tokenizers)
    func piecesMatchGolden(name: String) throws {
        let golden = try TokenizerGolden.load(name)
        let model = try Self.model(name)
        for sample in golden.samples {
            let piece = model.pieces[sample.id]
            #expect(piece.piece == sample.piece, "piece \(sample.id)")
            #expect(piece.score == Float(sample.score), "score of piece \(sample.id)")
            switch sample.type {
            case "unknown": #expect(piece.type == .unknown)
            case "control": #expect(piece.type == .control)
            case "unused": #expect(piece.type == .unused)
            case "byte": #expect(piece.type == .byte)
            default: #expect(piece.type == .normal || piece.type == .userDefined, "type of piece \(sample.id)")
            }
        }
    }

    @Test("a model vocabulary wider than the tokenizer pads with 0-byte boundary tokens")
    func paddedTableMatchesGolden() throws {
        let golden = try TokenizerGolden.load("fineweb_1024_bpe_vocab1100")
        let tables = try Self.model("fineweb_1024_bpe").byteAccounting(modelVocabularySize: golden.model_vocab_size)
        #expect(tables.vocabularySize == 1100)
        #expect(tables == golden.byteAccounting)
    }

    @Test("a narrower model vocabulary keeps the tokenizer's table size")
    func narrowerVocabularyKeepsTokenizerSize() throws {
        let model = try Self.model("fineweb_1024_bpe")
        #expect(model.byteAccounting(modelVocabularySize: 512) == model.byteAccounting)
    }

    @Test("trainer settings: only the 8192 model uses byte fallback (PROVENANCE_WARNING.md)")
    func trainerSettings() throws {
        for name in Self.tokenizers {
            let model = try Self.model(name)
            let expectedFallback = name == "fineweb_8192_bpe"
            #expect(model.trainer?.byteFallback ?? false == expectedFallback, "\(name)")
            #expect(model.trainer?.vocabSize == model.vocabularySize, "\(name)")
            #expect(model.trainer?.modelType == 2, "\(name) is BPE")
        }
    }

    @Test("the leading-space rule: ▁ counts one byte unless the previous token is a boundary")
    func leadingSpaceRule() throws {
        let model = try Self.model("fineweb_8192_bpe")
        let tables = model.byteAccounting
        // Ids from the golden samples: 1 = <s> (control), 267 = "▁the", 4 = <0x00> (byte).
        #expect(model.pieces[267].piece == "▁the")
        #expect(tables.bytes(target: 267, previous: 1) == 3)
        #expect(tables.bytes(target: 267, previous: 4) == 4)
        #expect(tables.bytes(target: 4, previous: 267) == 1)
    }
}
