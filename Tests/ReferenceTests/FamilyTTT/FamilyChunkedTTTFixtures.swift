import Foundation
@testable import Reference

/// Readers for fixtures/ttt/family-chunked (written by tools/family_chunked_ttt_goldens.py; see its README):
/// the records' own `eval_val_sliding_ttt` on tiny family models, one folder per case.
enum FamilyChunkedTTTFixtures {
    /// 2026-03-23 on a banked March-family model (tail windows rescored; frozen blocks keep only their scalars).
    static let parallelMuon = "parallelmuon-0323"
    /// 2026-04-06 on the looped 2026-04 core (windows scoring each target once; frozen blocks freeze whole).
    static let looped = "looped-0406"

    struct Golden: Decodable {
        var name = ""
        var record: String
        var tokenizer: String
        var hyperparameters: FamilyFixtures.Hyperparameters
        var ttt: Settings
        var stride: Int
        var banked: Bool
        var windowRule: TTTWindowRule
        var runs: [String: Run]

        private enum CodingKeys: String, CodingKey {
            case record, tokenizer, hyperparameters, stride, banked, window_rule, pre_ttt, ttt, ttt_late_qat
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            record = try c.decode(String.self, forKey: .record)
            tokenizer = try c.decode(String.self, forKey: .tokenizer)
            hyperparameters = try c.decode(FamilyFixtures.Hyperparameters.self, forKey: .hyperparameters)
            ttt = try c.decode(Settings.self, forKey: .hyperparameters)
            stride = try c.decode(Int.self, forKey: .stride)
            banked = try c.decode(Bool.self, forKey: .banked)
            windowRule = try c.decode(String.self, forKey: .window_rule) == "once" ? .exactlyOnce : .rescoreTail
            runs = [:]
            for key in [CodingKeys.pre_ttt, .ttt, .ttt_late_qat] where c.contains(key) {
                runs[key.rawValue] = try c.decode(Run.self, forKey: key)
            }
        }

        /// The model as the record builds it: the March `GPT(...)` arguments, or the 2026-04 core with
        /// looping on and no parallel lanes (2026-04-06 has none).
        var config: GPTConfig {
            if banked { return hyperparameters.config }
            var config = hyperparameters.config
            config.features.parallelResiduals = nil
            return config
        }
    }

    /// The record's TTT hyperparameters (read from the same `hyperparameters` object).
    struct Settings: Decodable {
        var ttt_lr: Double
        var ttt_epochs, ttt_chunk_tokens, ttt_freeze_blocks: Int
        var ttt_momentum: Double
        var ttt_batch_seqs: Int
        var ttt_grad_clip: Double
        var train_seq_len: Int
    }

    struct Run: Decodable {
        var val_loss, val_bpb: Double
        var chunks: [TTTFixtures.Chunk]
        var log: [String]
        /// Per tensor (un-banked names) after the run: Σw, Σ|w| and 9 spread values.
        var final_weights: [String: WeightSummary]?
    }

    struct WeightSummary: Decodable {
        var sum, abs_sum: Double
        var indices: [Int]
        var values: [Double]
    }

    static func golden(_ name: String) throws -> Golden {
        var golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("ttt/family-chunked/\(name)/golden.json")))
        golden.name = name
        return golden
    }

    static func weights(_ golden: Golden) throws -> Weights {
        try RawFloatWeights(contentsOf: Paths.fixture("ttt/family-chunked/\(golden.name)/model.weights.json")).weights
    }

    static func tokens(_ golden: Golden) throws -> [UInt16] {
        try ValidationShard.read(Paths.fixture("ttt/family-chunked/\(golden.name)/val_tokens.bin"))
    }

    static func accounting(_ golden: Golden) throws -> ByteAccounting {
        try SentencePieceModel(contentsOf: Paths.shared("tokenizers/\(golden.tokenizer)"))
            .byteAccounting(modelVocabularySize: golden.hyperparameters.vocab_size)
    }

    static func model(_ golden: Golden) throws -> DifferentiableFamilyGPT {
        try DifferentiableFamilyGPT(forBaseGradients: golden.config, weights: weights(golden))
    }

    /// The golden's settings, with the record's window rule and freeze rule (banked: block scalars only).
    static func settings(_ golden: Golden, epochs: Int? = nil) -> ChunkedTTTSettings {
        let t = golden.ttt
        return ChunkedTTTSettings(seqLen: t.train_seq_len, stride: golden.stride, chunkTokens: t.ttt_chunk_tokens,
                                  epochs: epochs ?? t.ttt_epochs, learningRate: t.ttt_lr, momentum: t.ttt_momentum,
                                  freezeBlocks: t.ttt_freeze_blocks, batchSequences: t.ttt_batch_seqs,
                                  gradientClip: t.ttt_grad_clip, windowRule: golden.windowRule,
                                  freezeScope: golden.banked ? .blockScalars : .wholeBlocks)
    }
}
