import Reference

/// Where a resolved configuration value came from, for reports ("num_heads = 4 (tensor shape
/// blocks.0.attn.q_gain [4])").
public indirect enum ValueSource: Sendable, Equatable, CustomStringConvertible {
    /// Read off a tensor's shape (a fact about the weights).
    case tensorShape(tensor: String, shape: [Int])
    /// Established by a tensor's absence (no `lm_head.weight`: tied embeddings).
    case tensorAbsent(tensor: String)
    /// Computed from other values by `rule`.
    case derived(rule: String, from: [ValueSource])
    /// The default of a `class Hyperparameters` declaration in the submission's code.
    case codeDefault(name: String, environmentVariable: String, expression: String, file: String, line: Int)
    /// Stated in a training log or run command.
    case log(file: String, line: Int, text: String)
    /// Given explicitly by the user.
    case override(key: String, value: String)

    public var description: String {
        switch self {
        case let .tensorShape(tensor, shape):
            return "tensor shape \(tensor) \(shape)"
        case let .tensorAbsent(tensor):
            return "no \(tensor) tensor"
        case let .derived(rule, from):
            return from.isEmpty ? rule : "\(rule), from " + from.map(\.description).joined(separator: " and ")
        case let .codeDefault(_, variable, expression, file, line):
            return "code default of \(variable) at \(file):\(line) (\(expression))"
        case let .log(file, line, text):
            let excerpt = text.count > 120 ? String(text.prefix(117)) + "..." : text
            return "log \(file):\(line) (\(excerpt))"
        case let .override(key, value):
            return "override \(key)=\(value)"
        }
    }
}

/// A model configuration with the provenance of each of its values.
public struct ResolvedModelConfig: Sendable, Equatable {
    public var config: GPTConfig
    /// The evaluation sequence length: `EVAL_SEQ_LEN` when the submission sets a positive one,
    /// else `TRAIN_SEQ_LEN`.
    public var seqLen: Int
    /// Where each value came from, keyed by hyperparameter name: `vocab_size`, `num_layers`,
    /// `model_dim`, `num_heads`, `num_kv_heads`, `mlp_hidden`, `tie_embeddings`, `rope_base`,
    /// `logit_softcap`, `seq_len`; for record-family features also `skip_gates`, `smear_gate`,
    /// `attention_gate`, `mlp_gate`, `rope_dims`, `xsa_last_n`, `ln_scale`, `loop`, `parallel_residuals`,
    /// `mlp_activation`, `rope_ntk`, `bigram_hash`, `value_embeddings` (each present when the feature is on).
    public var sources: [String: ValueSource]
    /// Remarks a report should show, such as code defaults that the tensor shapes prove the run changed.
    public var notes: [String]
    /// The architecture the code was matched to before evaluating (``ArchitectureConformance``), or
    /// why it was not checked; `nil` until an evaluation path confirms it.
    public var architecture: String? = nil
    /// A depth a log or override states above the blocks the tensors hold (`NUM_LAYERS=9` on 3 blocks), left
    /// for the code to explain as weight-shared blocks: ``Reevaluation/confirmArchitecture`` accepts it only if
    /// the code's forward runs a block schedule of exactly that depth, else throws `refusal`. Set only when the
    /// resolution was asked to leave it (`acceptsStatedDepth`).
    public var statedDepth: StatedDepth? = nil

    public struct StatedDepth: Sendable, Equatable {
        public var depth: Int
        public var refusal: ModelConfigError
    }

    public init(config: GPTConfig, seqLen: Int, sources: [String: ValueSource], notes: [String] = []) {
        self.config = config
        self.seqLen = seqLen
        self.sources = sources
        self.notes = notes
    }
}
