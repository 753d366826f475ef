import Foundation

/// The optimizer of the per-batch LoRA adapters (`TTT_OPTIMIZER`).
public enum PhasedTTTOptimizer: String, Sendable, Equatable, Codable {
    /// `torch.optim.AdamW(lr, betas=(beta1, beta2), eps=1e-10, weight_decay)`.
    case adam
    /// `torch.optim.SGD(lr, momentum=beta1, weight_decay)` (L2 weight decay in the gradient).
    case sgd
}

/// Every knob `eval_val_ttt_phased` and `train_val_ttt_global_sgd_distributed` read (the
/// `Hyperparameters` of records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT and the
/// eight later records that define them), by the records' attribute names.
public struct PhasedTTTSettings: Sendable, Equatable, Codable {
    /// `ttt_batch_size`: documents adapted together (one adapter set per document).
    public var batchSize: Int = 64
    /// `ttt_chunk_size`: targets per chunk of a document (scored, then trained on).
    public var chunkSize: Int = 48
    /// `ttt_eval_seq_len`: the longest window (a chunk plus its context within the document).
    public var evalSeqLen: Int = 2048
    /// `ttt_lora_rank`.
    public var loraRank: Int = 96
    /// `ttt_lora_lr`: the LoRA optimizer's (constant) learning rate.
    public var loraLearningRate: Double = 0.0001
    /// `ttt_beta1` (Adam β₁, or SGD momentum) and `ttt_beta2`.
    public var beta1: Double = 0
    public var beta2: Double = 0.999
    /// `ttt_weight_decay`: AdamW's decoupled decay, or SGD's L2 term.
    public var weightDecay: Double = 0.5
    /// `ttt_optimizer`.
    public var optimizer: PhasedTTTOptimizer = .adam
    /// `ttt_grad_steps`: optimizer steps per chunk (the first reuses the scoring forward).
    public var gradSteps: Int = 1
    /// `ttt_k_lora`, `ttt_mlp_lora`, `ttt_o_lora`.
    public var targets = LoRATargets()
    /// `TTT_LORA_ALPHA` (2026-04-23 and later, read by `BatchedLinearLoRA` itself): adapter outputs are
    /// scaled by `alpha / rank`; nil where the code has no such scale. The model applies it (it is
    /// built with it, e.g. `DifferentiableFamilyGPT(loraAlpha:)`); the evaluator only carries it.
    public var loraAlpha: Double?
    /// `TTT_WARM_START_A` (2026-04-23 and later): a reset zeroes only `B` and keeps `A` (trained) from
    /// the previous batch; `A` is drawn only when the adapters are built.
    public var warmStartA = false
    /// `phased_ttt_prefix_docs`: how many documents (in claim order) feed the global SGD phases.
    public var prefixDocs: Int = 2000
    /// `phased_ttt_num_phases` (2026-04-13 has one phase and no such setting).
    public var phases: Int = 1
    /// `global_ttt_lr`, `global_ttt_momentum`, `global_ttt_epochs`.
    public var globalLearningRate: Double = 0.001
    public var globalMomentum: Double = 0.9
    public var globalEpochs: Int = 1
    /// `global_ttt_chunk_tokens`: the phase's token stream is cut into chunks of this many targets.
    public var globalChunkTokens: Int = 32_768
    /// `global_ttt_batch_seqs`: sequences of `eval_seq_len` per global SGD step.
    public var globalBatchSeqs: Int = 32
    /// `global_ttt_warmup_chunks` and `global_ttt_warmup_start_lr`: linear warmup over the first chunks.
    public var globalWarmupChunks: Int = 0
    public var globalWarmupStartLearningRate: Double = 0
    /// `global_ttt_grad_clip` (≤ 0: no clipping).
    public var globalGradClip: Double = 1
    /// `global_ttt_respect_doc_boundaries`: attention stays inside documents (varlen), else plain rows.
    public var globalRespectDocBoundaries = true
    /// `eval_seq_len`: the global SGD's sequence length (and its varlen segment cap).
    public var globalSeqLen: Int = 2048
    /// `val_doc_fraction` (only 1 is supported: < 1 samples with Python's `random.Random(seed)`).
    public var valDocFraction: Double = 1
    /// `ttt_doc_limit` (2026-04-13 only; 0: every document).
    public var docLimit: Int = 0
    /// A non-empty `ttt_eval_batches` (which batches the records log) also makes them claim batches
    /// shortest first instead of longest first; every batch is still scored.
    public var ascendingBatchOrder = false

    public init() {}

    /// The AdamW epsilon the records hard-code.
    public static let adamEpsilon = 1e-10

    /// Refuses settings the records' loop could not run with (or that pgverify cannot reproduce).
    public func validate() throws(TTTError) {
        func require(_ ok: Bool, _ name: String, _ value: String) throws(TTTError) {
            if !ok { throw .invalidSetting(name: name, value: value) }
        }
        func finite(_ x: Double) -> Bool { x.isFinite }
        try require(batchSize > 0, "ttt_batch_size", "\(batchSize)")
        try require(chunkSize > 0, "ttt_chunk_size", "\(chunkSize)")
        try require(evalSeqLen >= chunkSize, "ttt_eval_seq_len", "\(evalSeqLen) (must be ≥ ttt_chunk_size \(chunkSize))")
        try require(loraRank > 0, "ttt_lora_rank", "\(loraRank)")
        try require(finite(loraLearningRate) && loraLearningRate >= 0, "ttt_lora_lr", "\(loraLearningRate)")
        try require((0..<1).contains(beta1), "ttt_beta1", "\(beta1)")
        try require((0..<1).contains(beta2), "ttt_beta2", "\(beta2)")
        try require(finite(weightDecay) && weightDecay >= 0, "ttt_weight_decay", "\(weightDecay)")
        try require(gradSteps >= 0, "ttt_grad_steps", "\(gradSteps)")
        if let loraAlpha { try require(finite(loraAlpha), "ttt_lora_alpha", "\(loraAlpha)") }
        try require(prefixDocs >= 0, "phased_ttt_prefix_docs", "\(prefixDocs)")
        try require(finite(globalLearningRate) && globalLearningRate >= 0, "global_ttt_lr", "\(globalLearningRate)")
        try require(finite(globalMomentum) && globalMomentum >= 0, "global_ttt_momentum", "\(globalMomentum)")
        try require(globalChunkTokens > 0, "global_ttt_chunk_tokens", "\(globalChunkTokens)")
        try require(globalBatchSeqs > 0, "global_ttt_batch_seqs", "\(globalBatchSeqs)")
        try require(globalWarmupChunks >= 0, "global_ttt_warmup_chunks", "\(globalWarmupChunks)")
        try require(finite(globalWarmupStartLearningRate), "global_ttt_warmup_start_lr", "\(globalWarmupStartLearningRate)")
        try require(finite(globalGradClip), "global_ttt_grad_clip", "\(globalGradClip)")
        try require(globalSeqLen > 0, "eval_seq_len", "\(globalSeqLen)")
        try require(docLimit >= 0, "ttt_doc_limit", "\(docLimit)")
        try require(valDocFraction == 1, "val_doc_fraction",
                    "\(valDocFraction) (< 1 samples documents with Python's random.Random(seed); pgverify reproduces only 1.0)")
    }

    /// The records' phase count: `max(1, phased_ttt_num_phases)`.
    public var effectivePhases: Int { max(1, phases) }
}
