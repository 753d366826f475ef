import Foundation

/// Settings of the chunked score-first SGD test-time training (the `TTT_*` hyperparameters of
/// records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon and its descendants).
public struct ChunkedTTTSettings: Sendable, Equatable, Codable {
    /// `train_seq_len`: window length when scoring, sequence length when training.
    public var seqLen: Int
    /// `eval_stride`: sliding-window stride of the scoring phase.
    public var stride: Int
    /// `ttt_chunk_tokens`: validation targets per chunk (scored, then trained on).
    public var chunkTokens: Int
    /// `ttt_epochs`: passes over each chunk (0: score only, no adaptation).
    public var epochs: Int
    /// `ttt_lr`: base SGD learning rate, cosine-decayed across chunks.
    public var learningRate: Double
    /// `ttt_momentum`: SGD momentum (no nesterov, no dampening, no weight decay).
    public var momentum: Double
    /// `ttt_freeze_blocks`: the first this many blocks are frozen (which of their tensors: ``freezeScope``).
    public var freezeBlocks: Int
    /// `ttt_batch_seqs`: sequences per training step.
    public var batchSequences: Int
    /// `ttt_grad_clip`: max total gradient norm.
    public var gradientClip: Double
    /// Which windows the scoring phase uses (the records differ).
    public var windowRule: TTTWindowRule
    /// Which tensors of a frozen block stay fixed (the records freeze by `named_parameters()` name, and
    /// banked records keep their matrices outside the blocks).
    public var freezeScope: TTTFreezeScope

    public init(seqLen: Int, stride: Int, chunkTokens: Int = 32_768, epochs: Int = 3, learningRate: Double = 0.002,
                momentum: Double = 0.9, freezeBlocks: Int = 2, batchSequences: Int = 32, gradientClip: Double = 1,
                windowRule: TTTWindowRule = .rescoreTail, freezeScope: TTTFreezeScope = .wholeBlocks) {
        self.seqLen = seqLen
        self.stride = stride
        self.chunkTokens = chunkTokens
        self.epochs = epochs
        self.learningRate = learningRate
        self.momentum = momentum
        self.freezeBlocks = freezeBlocks
        self.batchSequences = batchSequences
        self.gradientClip = gradientClip
        self.windowRule = windowRule
        self.freezeScope = freezeScope
    }

    /// Refuses settings the record's loop could not run with.
    public func validate() throws(TTTError) {
        func require(_ ok: Bool, _ name: String, _ value: String) throws(TTTError) {
            if !ok { throw .invalidSetting(name: name, value: value) }
        }
        try require(seqLen > 0, "train_seq_len", "\(seqLen)")
        try require(stride > 0 && stride <= seqLen, "eval_stride", "\(stride) (must be in 1...\(seqLen))")
        try require(chunkTokens > 0, "ttt_chunk_tokens", "\(chunkTokens)")
        try require(epochs >= 0, "ttt_epochs", "\(epochs)")
        try require(learningRate.isFinite && learningRate >= 0, "ttt_lr", "\(learningRate)")
        try require(momentum.isFinite && momentum >= 0, "ttt_momentum", "\(momentum)")
        try require(freezeBlocks >= 0, "ttt_freeze_blocks", "\(freezeBlocks)")
        try require(batchSequences > 0, "ttt_batch_seqs", "\(batchSequences)")
        try require(gradientClip.isFinite && gradientClip > 0, "ttt_grad_clip", "\(gradientClip)")
    }

    /// The learning rate of chunk `chunk` of `chunks`: `lr · ½(1 + cos(π · chunk / max(chunks − 1, 1)))`.
    public func learningRate(chunk: Int, of chunks: Int) -> Double {
        learningRate * 0.5 * (1 + cos(Double.pi * Double(chunk) / Double(max(chunks - 1, 1))))
    }
}

/// Which parameters of the first `ttt_freeze_blocks` blocks `eval_val_sliding_ttt` freezes. The records
/// freeze every parameter whose `named_parameters()` name contains `blocks.{i}.`; where that name
/// lives depends on the code.
public enum TTTFreezeScope: String, Sendable, Codable, CaseIterable {
    /// Every tensor of the block (the baseline and 2026-04-0x records: `blocks.{i}.attn.c_q.weight` …
    /// are the block's own modules).
    case wholeBlocks = "blocks"
    /// Only the block's own small tensors (`attn_scale`, `mlp_scale`, `resid_mix`, `attn.q_gain`):
    /// the Parallel-Muon records (2026-03-23, 2026-03-31) keep every block's attention and MLP
    /// matrices in model-level banks (`qo_bank`, `kv_bank`, `mlp_up_bank`, `mlp_down_bank`), which
    /// no `blocks.{i}.` name matches, so they keep training.
    case blockScalars = "block-scalars"

    /// The un-banked names of the tensors that banked records keep outside their blocks.
    public static let bankedSuffixes = ["attn.c_q.weight", "attn.c_k.weight", "attn.c_v.weight", "attn.proj.weight",
                                        "mlp.fc.weight", "mlp.proj.weight"]

    /// Whether the tensor `name` (un-banked, `state_dict` spelling) of block `block` stays fixed when
    /// the first `freezeBlocks` blocks are frozen.
    public func freezes(name: String, block: Int?, freezeBlocks: Int) -> Bool {
        guard let block, block < freezeBlocks else { return false }
        switch self {
        case .wholeBlocks: return true
        case .blockScalars: return !Self.bankedSuffixes.contains { name == "blocks.\(block).\($0)" }
        }
    }
}
