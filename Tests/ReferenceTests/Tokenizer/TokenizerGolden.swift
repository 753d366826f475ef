import Foundation
@testable import Reference

/// One `fixtures/tokenizers/*.json` golden, written by `tools/tokenizer_goldens.py` from the
/// challenge's own `build_sentencepiece_luts`.
struct TokenizerGolden: Decodable {
    struct Counts: Decodable {
        var boundary: Int
        var leading_space: Int
        var byte_pieces: Int
        var base_bytes_sum: Int
    }

    struct Sample: Decodable {
        var id: Int
        var piece: String
        var score: Double
        var type: String
    }

    var tokenizer: String
    var sp_vocab_size: Int
    var model_vocab_size: Int
    var table_size: Int
    var counts: Counts
    var base_bytes: [Int32]
    var has_leading_space: String
    var is_boundary: String
    var samples: [Sample]

    static func load(_ name: String) throws -> TokenizerGolden {
        let data = try Data(contentsOf: Paths.fixture("tokenizers/\(name).json"))
        return try JSONDecoder().decode(TokenizerGolden.self, from: data)
    }

    /// The golden tables as our type, flags decoded from their "0101…" strings.
    var byteAccounting: ByteAccounting {
        ByteAccounting(baseBytes: base_bytes,
                       hasLeadingSpace: has_leading_space.map { $0 == "1" },
                       isBoundary: is_boundary.map { $0 == "1" })
    }
}
