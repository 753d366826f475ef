import Foundation
import Testing
@testable import Reference

/// Readers for fixtures/ttt (written by tools/ttt_goldens.py; see fixtures/ttt/README.md).
enum TTTFixtures {
    struct Gradients: Decodable {
        var cases: [GradientCase]
    }

    struct GradientCase: Decodable {
        var name: String
        var tie_embeddings: Bool
        var batch, seq_len, token_offset: Int
        var loss: Double
        var gradients: [String: GradientSummary]
    }

    struct GradientSummary: Decodable {
        var shape: [Int]
        var sum, abs_sum, max_abs: Double
        var indices: [Int]
        var values: [Double]
    }

    struct Optimizers: Decodable {
        var initial: [Float]
        var gradients: [[Float]]
        var cases: [OptimizerCase]
    }

    struct OptimizerCase: Decodable {
        var name, optimizer: String
        var options: [String: JSONNumberOrList]
        var trajectory: [[Double]]
    }

    /// Optimizer options are numbers, booleans or `[β₁, β₂]`.
    enum JSONNumberOrList: Decodable {
        case number(Double), list([Double]), flag(Bool)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) { self = .flag(flag) }
            else if let number = try? container.decode(Double.self) { self = .number(number) }
            else { self = .list(try container.decode([Double].self)) }
        }
        var number: Double? { if case .number(let v) = self { v } else { nil } }
        var list: [Double]? { if case .list(let v) = self { v } else { nil } }
        var flag: Bool? { if case .flag(let v) = self { v } else { nil } }
    }

    struct TTTGolden: Decodable {
        var settings: Settings
        var pre_ttt: Run
        var ttt: Run
        /// 2026-04-08's function (windows scoring every target once), same settings as `ttt`.
        var ttt_exactly_once: Run
    }

    struct Settings: Decodable {
        var ttt_lr: Double
        var ttt_epochs, ttt_chunk_tokens, ttt_freeze_blocks: Int
        var ttt_momentum: Double
        var ttt_batch_seqs: Int
        var ttt_grad_clip: Double
        var train_seq_len, stride: Int
    }

    struct Run: Decodable {
        var val_loss, val_bpb: Double
        var chunks: [Chunk]
    }

    struct Chunk: Decodable {
        var chunk: Int
        var loss_sum, tokens, bytes, loss: Double
    }

    static func decode<T: Decodable>(_ type: T.Type, _ file: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: Paths.fixture("ttt/" + file)))
    }

    /// The tiny model of fixtures/eval (its config and raw weights), optionally re-tied, as the baseline
    /// GPT the baseline's TTT trains.
    static func tinyModel(tied: Bool = false) throws -> DifferentiableFamilyGPT {
        let raw = try RawFloatWeights(contentsOf: Paths.fixture("eval/tiny.weights.json"))
        var config = try #require(raw.config)
        var weights = raw.weights
        if tied {
            config.tieEmbeddings = true
            weights["lm_head.weight"] = nil
        }
        return try DifferentiableFamilyGPT(baseline: config, weights: weights)
    }

    /// The 8,193 tokens of fixtures/ttt/val_slice.bin (six documents).
    static func sliceTokens() throws -> [UInt16] {
        try ValidationShard.read(Paths.fixture("ttt/val_slice.bin"))
    }

    static func accounting() throws -> ByteAccounting { try EvalFixtures.accounting("tiny.luts.json") }
}
