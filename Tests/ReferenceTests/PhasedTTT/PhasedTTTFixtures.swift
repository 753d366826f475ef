import Foundation
@testable import Reference

/// Readers for fixtures/ttt/phased/ (tools/phased_ttt_goldens.py: the record's own
/// `eval_val_ttt_phased` on the plain-sp1024 family fixture; see fixtures/ttt/phased/README.md).
enum PhasedTTTFixtures {
    static let family = "plain-sp1024"

    struct Settings: Decodable {
        var ttt_lora_rank: Int
        var ttt_lora_lr: Double
        var ttt_chunk_size, ttt_eval_seq_len, ttt_batch_size, ttt_grad_steps: Int
        var ttt_weight_decay, ttt_beta1, ttt_beta2: Double
        var ttt_k_lora, ttt_mlp_lora, ttt_o_lora: Bool
        var ttt_optimizer: String
        var val_doc_fraction: Double
        var phased_ttt_prefix_docs, phased_ttt_num_phases: Int
        var global_ttt_lr, global_ttt_momentum: Double
        var global_ttt_epochs, global_ttt_chunk_tokens, global_ttt_batch_seqs: Int
        var global_ttt_warmup_start_lr: Double
        var global_ttt_warmup_chunks: Int
        var global_ttt_grad_clip: Double
        var global_ttt_respect_doc_boundaries: Bool
        var eval_seq_len: Int
        /// 2026-04-23 and later (`BatchedLinearLoRA` class knobs); absent in older cases.
        var ttt_lora_alpha: Double?
        var ttt_warm_start_a: Bool?

        /// The record's settings as pgverify's (field by field, nothing derived).
        var phased: PhasedTTTSettings {
            var s = PhasedTTTSettings()
            s.loraRank = ttt_lora_rank
            s.loraLearningRate = ttt_lora_lr
            s.chunkSize = ttt_chunk_size
            s.evalSeqLen = ttt_eval_seq_len
            s.batchSize = ttt_batch_size
            s.gradSteps = ttt_grad_steps
            s.weightDecay = ttt_weight_decay
            s.beta1 = ttt_beta1
            s.beta2 = ttt_beta2
            s.targets = LoRATargets(key: ttt_k_lora, mlp: ttt_mlp_lora, output: ttt_o_lora)
            s.optimizer = PhasedTTTOptimizer(rawValue: ttt_optimizer) ?? .adam
            s.valDocFraction = val_doc_fraction
            s.prefixDocs = phased_ttt_prefix_docs
            s.phases = phased_ttt_num_phases
            s.globalLearningRate = global_ttt_lr
            s.globalMomentum = global_ttt_momentum
            s.globalEpochs = global_ttt_epochs
            s.globalChunkTokens = global_ttt_chunk_tokens
            s.globalBatchSeqs = global_ttt_batch_seqs
            s.globalWarmupStartLearningRate = global_ttt_warmup_start_lr
            s.globalWarmupChunks = global_ttt_warmup_chunks
            s.globalGradClip = global_ttt_grad_clip
            s.globalRespectDocBoundaries = global_ttt_respect_doc_boundaries
            s.globalSeqLen = eval_seq_len
            s.loraAlpha = ttt_lora_alpha
            s.warmStartA = ttt_warm_start_a ?? false
            return s
        }
    }

    struct Batch: Decodable {
        var batch, queue: Int
        var documents: [Int]
        var loss_sum, byte_sum, token_count: Double
    }

    struct Chunk: Decodable {
        var chunk: Int
        var lr: Double
        var losses: [Double]
    }

    struct Phase: Decodable {
        var phase, after_batches, tokens: Int
        /// `[orig_batch_idx, position, doc_start, doc_len]` of each document trained on.
        var documents: [[Int]]
        var chunks: [Chunk]
    }

    struct Case: Decodable {
        var record_sha256: String
        /// The family fixture the case ran on (plain-sp1024 when absent).
        var family: String?
        var settings: Settings
        var val_loss, val_bpb: Double
        var val_tokens: Int
        var documents: [[Int]]
        var batch_queue: [BatchQueueEntry]
        /// Cumulative sums after each batch, in scoring order.
        var batches: [Batch]
        var phases: [Phase]
        var log: [String]
    }

    /// `[orig_batch_idx, [doc indices]]`.
    struct BatchQueueEntry: Decodable {
        var batch: Int
        var documents: [Int]
        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            batch = try c.decode(Int.self)
            documents = try c.decode([Int].self)
        }
    }

    /// The plain-sp1024 cases of 2026-04-14 (gated_warm_start runs 2026-04-27 on sparsegate-smearbos-sp8192).
    static let cases = ["adam_two_phases", "no_adaptation", "sgd_three_phases"]

    static func golden(_ name: String) throws -> Case {
        try JSONDecoder().decode(Case.self, from: Data(contentsOf: Paths.fixture("ttt/phased/\(name).json")))
    }

    struct Helpers: Decodable {
        struct Windows: Decodable {
            var pred_len, chunk_size, eval_seq_len: Int
            var windows: [[Int]]
        }
        struct CuSeqlens: Decodable {
            var bos: [Int]
            var total, max_doc_len: Int
            var cu: [Int]
            var max_seqlen: Int
        }
        struct FindDocs: Decodable {
            var stream: [Int]
            var docs: [[Int]]
        }
        struct GlobalBatches: Decodable {
            struct Case: Decodable {
                var batch_size: Int
                var queue: [BatchQueueEntry]
                /// `ascending=True` (the records' order when TTT_EVAL_BATCHES lists batches).
                var ascending: [BatchQueueEntry]
            }
            var documents: [[Int]]
            var cases: [Case]
        }
        var chunk_windows: [Windows]
        var cu_seqlens: [CuSeqlens]
        var find_docs: FindDocs
        var global_batches: GlobalBatches
    }

    static func helpers() throws -> Helpers {
        try JSONDecoder().decode(Helpers.self, from: Data(contentsOf: Paths.fixture("ttt/phased/helpers.json")))
    }

    /// The family fixture's model, tokens and byte tables.
    static func model(family: String = family, loraAlpha: Double? = nil) throws -> DifferentiableFamilyGPT {
        let golden = try FamilyFixtures.golden(family)
        return try DifferentiableFamilyGPT(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(family),
                                           loraAlpha: loraAlpha)
    }

    static func evaluator(_ settings: PhasedTTTSettings, family: String = family, tokens: [UInt16]? = nil) throws -> PhasedTTTEvaluator {
        let golden = try FamilyFixtures.golden(family)
        return try PhasedTTTEvaluator(settings: settings, byteCounts: .tables(try FamilyFixtures.accounting(golden)),
                                      tokens: tokens ?? FamilyFixtures.tokens(family), vocabulary: golden.hyperparameters.vocab_size)
    }
}
