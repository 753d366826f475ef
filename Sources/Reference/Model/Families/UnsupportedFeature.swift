/// Architecture features seen in the records that the reference model does not implement yet,
/// recognised by their `state_dict` names so a load fails naming the feature rather than a bare key.
public struct UnsupportedFeature: Sendable, Equatable, CustomStringConvertible {
    /// What the feature is and which records build it.
    public var description: String

    /// Name patterns (prefix or `.component`) and the feature they belong to, from the records' model code.
    static let known: [(match: @Sendable (String) -> Bool, feature: String)] = [
        ({ $0.hasPrefix("embed_proj") || $0.hasPrefix("head_proj") }, "factored embeddings (EMBEDDING_DIM ≠ MODEL_DIM)"),
        ({ $0.hasSuffix("_bank") }, "parameter banks (un-bank into blocks.{i}.… names first)"),
        ({ $0.contains("dtg_gate") }, "dynamic token gate (dtg_gate)"),
        ({ $0.contains("vrl_alpha") || $0.contains("vr_lambda") }, "value-residual learning (vrl_alpha / vr_lambda)"),
        ({ $0.contains("tversky") }, "Tversky projection heads"),
        ({ $0.hasPrefix("refiner.") }, "causal conv refiner"),
        ({ $0 == "vocab_bias" || $0 == "lm_head_correction" }, "output-head bias/correction tensors"),
        ({ $0.contains("diff_lambda") }, "differential attention (diff_lambda)"),
        ({ $0.hasSuffix(".attn.attn_gate.weight") }, "nn.Linear attention gate (attn.attn_gate)"),
        ({ $0.contains("lora") }, "LoRA adapters in the artifact"),
        ({ $0.hasPrefix("mtp_heads.") }, "multi-token-prediction heads (MTP_NUM_HEADS > 0)"),
        ({ $0.hasPrefix("smeargate.") || $0.hasPrefix("smear.") && $0 != "smear.gate" }, "a SmearGate variant other than SmearGate(dim)"),
        ({ $0.hasPrefix("value_embeds.") }, "per-layer value embedding tables (value_embeds)"),
    ]

    /// The feature a tensor named `name` belongs to, if it is one we know and do not implement.
    public static func forTensor(_ name: String) -> UnsupportedFeature? {
        known.first { $0.match(name) }.map { UnsupportedFeature(description: $0.feature) }
    }
}
