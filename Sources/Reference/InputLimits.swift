/// The bounds pgverify puts on every size, count and setting it reads from a submission (files,
/// code, logs) or from its own flags, in one place. Each is far above what any record of the
/// challenge uses (the largest in all of the challenge's pull requests are given) and low enough
/// that sizes computed from it fit an `Int` and the buffers sized from it fit in memory; a value
/// outside is refused with an error naming the value and where it was stated.
public enum InputLimits {
    /// How deep pickle containers (tuples, lists, dicts) may nest. torch.save's state dicts nest at
    /// most 5 levels in every committed artifact; releasing or walking a tree is recursive, and 256
    /// levels stay within a 128 KiB thread stack (tested on a 512 KiB one).
    public static let pickleNestingDepth = 256

    /// A sequence length or window stride, in tokens (largest in the challenge: TRAIN_SEQ_LEN 32768).
    public static let sequenceLength = 65_536
    /// A count of tokens: a batch, a TTT chunk, a prefix, `--max-tokens` (largest: TTT_CHUNK_TOKENS
    /// 2,097,152; the whole validation set is 62,021,632 tokens).
    public static let tokenCount = 1 << 27
    /// A batch counted in sequences or documents (largest: EVAL_BATCH_SEQS 1024).
    public static let batchSequences = 65_536
    /// A LoRA or factorisation rank (largest: LORA_RANK 512).
    public static let rank = 4_096
    /// Epochs, phases or steps repeated per chunk (largest: TTT_EPOCHS 100).
    public static let repetitions = 10_000
    /// A vocabulary (largest: VOCAB_SIZE 16384, BIGRAM_VOCAB_SIZE 65536).
    public static let vocabularySize = 1 << 20
    /// Layers or blocks (largest: NUM_LAYERS 21).
    public static let layers = 1_024
    /// Attention heads (largest: NUM_HEADS 32).
    public static let heads = 1_024
    /// A width: model, head, MLP or embedding dimension (largest: MODEL_DIM 2048).
    public static let width = 65_536
    /// Ranks of a distributed run (`WORLD_SIZE`) and gradient-accumulation steps (the challenge: 8).
    public static let ranks = 65_536
    /// Any other integer setting pgverify reads: 2^40, so that no product of two settings overflows
    /// before it is checked.
    public static let otherInteger = 1 << 40
    /// `--threads`: pgverify's worker threads. Fixed rather than a multiple of this machine's cores so
    /// that one command line means the same on every machine; above the cores of any host this runs
    /// on. Each worker holds its own workspace, and OpenBLAS never gets more threads than the cores.
    public static let threads = 512

    /// The largest magnitude allowed for an integer setting, by its attribute or environment name
    /// (`train_seq_len`, `TTT_LORA_RANK`), with what it counts, for messages. Magnitude, because
    /// records use -1 as "off" (`TTT_PREFIX_EPOCHS=-1`); where a value must be positive, its user says so.
    public static func maximum(forSetting name: String) -> (maximum: Int, what: String) {
        let key = name.lowercased()
        if key.contains("seq_len") || key.contains("stride") { return (sequenceLength, "a sequence length") }
        if key.contains("rank") { return (rank, "a rank") }
        if key.contains("epoch") || key.contains("phases") || key.contains("steps_per") { return (repetitions, "a repetition count") }
        if key.contains("vocab") { return (vocabularySize, "a vocabulary size") }
        if key.hasSuffix("layers") || key.hasSuffix("_blocks") { return (layers, "a layer count") }
        if key.contains("heads") { return (heads, "a head count") }
        if key.hasSuffix("_dim") || key.contains("hidden") { return (width, "a width") }
        if key == "world_size" || key.contains("grad_accum") { return (ranks, "a rank or step count") }
        if key.contains("batch_seqs") || key.contains("docs") { return (batchSequences, "a batch of sequences") }
        if key.contains("tokens") || key.contains("batch") || key.contains("chunk") { return (tokenCount, "a token count") }
        return (otherInteger, "an integer setting")
    }
}
