import Foundation
import Testing
@testable import Reference

/// Readers for fixtures/eval (written by tools/eval_goldens.py; formats in fixtures/eval/README.md).
enum EvalFixtures {
    struct Goldens: Decodable {
        var models: [String: Model]
    }

    struct Model: Decodable {
        var weights: String
        var luts: String
        var config: Config
        var cases: [Case]
        var spot: Spot
    }

    struct Config: Decodable {
        var vocab_size, num_layers, model_dim, num_heads, num_kv_heads, mlp_mult: Int
        var tie_embeddings: Bool
        var logit_softcap, rope_base: Double

        var gptConfig: GPTConfig {
            GPTConfig(vocabSize: vocab_size, numLayers: num_layers, modelDim: model_dim, numHeads: num_heads,
                      numKVHeads: num_kv_heads, mlpHidden: mlp_mult * model_dim, tieEmbeddings: tie_embeddings,
                      ropeBase: rope_base, logitSoftcap: logit_softcap)
        }
    }

    struct Case: Decodable, CustomStringConvertible {
        var mode: String
        var stride: Int?
        var max_tokens: Int?
        var seq_len: Int
        var val_loss, val_bpb: Double
        var tokens, bytes: Int

        var evalMode: EvalMode { mode == "standard" ? .standard : .sliding(stride: stride ?? 0) }
        var description: String { "\(mode) stride=\(stride.map(String.init) ?? "-") max_tokens=\(max_tokens.map(String.init) ?? "-")" }
    }

    struct Spot: Decodable {
        var logits_rows: [Int]
        var logits_columns: Int
        var logits: [[Float]]
        var nll_first: [Float]
    }

    struct LUTs: Decodable {
        var base_bytes: [Int32]
        var has_leading_space: [Bool]
        var is_boundary: [Bool]
    }

    static func goldens() throws -> Goldens {
        try JSONDecoder().decode(Goldens.self, from: Data(contentsOf: Paths.fixture("eval/goldens.json")))
    }

    /// The fixture's weights, through the Reference reader of the raw float32 format.
    static func weights(_ indexFile: String) throws -> Weights {
        try RawFloatWeights(contentsOf: Paths.fixture("eval/" + indexFile)).weights
    }

    static func accounting(_ file: String) throws -> ByteAccounting {
        let luts = try JSONDecoder().decode(LUTs.self, from: Data(contentsOf: Paths.fixture("eval/" + file)))
        return ByteAccounting(baseBytes: luts.base_bytes, hasLeadingSpace: luts.has_leading_space, isBoundary: luts.is_boundary)
    }

    /// The 65,537-token validation shard the goldens were computed on.
    static func smallValidationTokens() throws -> [UInt16] {
        try ValidationShard.read(Paths.shared("val/small/fineweb_val_000000.bin"))
    }

    /// Model, byte accounting and goldens of one fixture model.
    static func load(_ name: String) throws -> (model: FamilyGPTModel, accounting: ByteAccounting, golden: Model) {
        let golden = try #require(try goldens().models[name])
        let model = try FamilyGPTModel(config: golden.config.gptConfig, weights: weights(golden.weights),
                                 maxPositions: golden.cases.map(\.seq_len).max() ?? 1)
        return (model, try accounting(golden.luts), golden)
    }
}
