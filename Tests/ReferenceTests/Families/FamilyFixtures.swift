import Foundation
@testable import Reference

/// Readers for fixtures/families (written by tools/family_goldens.py; see fixtures/families/README.md).
enum FamilyFixtures {
    /// The 2026-04 family (document-segmented eval_val).
    static let names = ["sparsegate-smearbos-sp8192", "sparsegate-bosfix9hp-sp1024", "outgate-smear-sp1024",
                        "gatedattn-sp1024", "plain-sp1024"]
    /// The March family (standard eval_val windows).
    static let marchNames = ["march-bigram-ve-sp1024", "march-trigram-sp1024"]

    struct Golden: Decodable {
        var family: String
        var record: String
        var tokenizer: String
        var hyperparameters: Hyperparameters
        var eval_batch_tokens: Int
        var val_tokens: Int
        var val_loss, val_bpb: Double
        var logits_rows: [String: [Float]]
    }

    /// The record `Hyperparameters` the generator used (names as the records spell them; the
    /// 2026-04-16 record names its gates `gate_attn_out`/`gate_width`/`smear_gate_width`).
    struct Hyperparameters: Decodable {
        var vocab_size, num_layers, model_dim, num_heads, num_kv_heads: Int
        var mlp_mult: Double
        var tie_embeddings: Bool
        var logit_softcap, rope_base: Double
        var rope_dims, xsa_last_n: Int
        var num_loops, loop_start, loop_end, parallel_start_layer: Int?
        var parallel_final_lane: String?
        var ln_scale: Bool
        var skip_gates_enabled: Bool?
        var eval_seq_len: Int
        var bigram_vocab_size, bigram_dim: Int?
        var trigram_enabled, ve_enabled: Bool?
        var ve_dim: Int?
        var ve_layers: String?
        var gate_window: Int?
        var smear_gate_enabled: Bool?
        var smear_gate_width: Int?
        var sparse_attn_gate_enabled: Bool?
        var sparse_attn_gate_scale: Double?
        var gated_attn_enabled: Bool?
        var attn_out_gate_enabled: Bool?
        var attn_out_gate_src: String?
        var gate_attn_out, gate_mlp_out: Bool?
        var gate_attn_src: String?
        var gate_width: Int?

        /// The March records' `GPT(...)` arguments as features.
        var marchConfig: GPTConfig {
            var features = ArchitectureFeatures()
            features.mlpActivation = .leakyReluSquared(slope: 0.5)
            features.ropeDims = rope_dims
            features.xsaLastN = xsa_last_n
            features.layerNormScale = ln_scale
            features.channelSmearGate = true
            features.ropeNTKTrainSeqLen = 1024  // CausalSelfAttention's Rotary(train_seq_len=1024)
            if let vocab = bigram_vocab_size, vocab > 0 {
                features.bigramHash = .init(vocab: vocab, dim: bigram_dim ?? 128, trigram: trigram_enabled ?? false)
            }
            if ve_enabled == true {
                features.valueEmbeddings = .init(layers: (ve_layers ?? "").split(separator: ",").compactMap { Int($0) },
                                                 dim: ve_dim ?? 128)
            }
            return GPTConfig(vocabSize: vocab_size, numLayers: num_layers, modelDim: model_dim, numHeads: num_heads,
                             numKVHeads: num_kv_heads, mlpHidden: Int(mlp_mult * Double(model_dim)),
                             tieEmbeddings: tie_embeddings, ropeBase: rope_base, logitSoftcap: logit_softcap,
                             features: features)
        }

        /// Set from the golden's record folder (the BOS fix is code, not a hyperparameter).
        var smearResetsAtBOS = false

        private enum CodingKeys: String, CodingKey {
            case vocab_size, num_layers, model_dim, num_heads, num_kv_heads, mlp_mult, tie_embeddings, logit_softcap,
                 rope_base, rope_dims, xsa_last_n, num_loops, loop_start, loop_end, parallel_start_layer,
                 parallel_final_lane, ln_scale, skip_gates_enabled, eval_seq_len, bigram_vocab_size, bigram_dim,
                 trigram_enabled, ve_enabled, ve_dim, ve_layers, gate_window, smear_gate_enabled, smear_gate_width,
                 sparse_attn_gate_enabled, sparse_attn_gate_scale, gated_attn_enabled, attn_out_gate_enabled,
                 attn_out_gate_src, gate_attn_out, gate_mlp_out, gate_attn_src, gate_width
        }

        var config: GPTConfig {
            if bigram_vocab_size != nil { return marchConfig }
            var features = ArchitectureFeatures()
            features.mlpActivation = .leakyReluSquared(slope: 0.5)
            features.ropeDims = rope_dims
            features.xsaLastN = xsa_last_n
            features.layerNormScale = ln_scale
            features.skipGates = skip_gates_enabled ?? false
            if let loops = num_loops, loops > 0, let start = loop_start, let end = loop_end {
                features.loop = .init(start: start, end: end, count: loops)
            }
            features.parallelResiduals = .init(startLayer: parallel_start_layer ?? 0,
                                               finalLane: .init(rawValue: parallel_final_lane ?? "mean") ?? .mean)
            let window = gate_window ?? gate_width ?? 12
            if smear_gate_enabled == true {
                // 2026-04-16 has no BOS reset; the 2026-04-27 BOS-fix records reset at BOS (id 1).
                features.smearGate = .init(window: smear_gate_width ?? window, resetToken: smearResetsAtBOS ? 1 : nil)
            }
            if sparse_attn_gate_enabled == true {
                features.attentionGate = .sparse(window: window, scale: sparse_attn_gate_scale ?? 1)
            } else if gated_attn_enabled == true {
                features.attentionGate = .dense
            } else if attn_out_gate_enabled == true || gate_attn_out == true {
                let source = ArchitectureFeatures.GateSource(rawValue: attn_out_gate_src ?? gate_attn_src ?? "proj") ?? .blockInput
                features.attentionGate = .outputGate(window: window, source: source)
            }
            if gate_mlp_out == true { features.mlpOutputGateWindow = window }
            return GPTConfig(vocabSize: vocab_size, numLayers: num_layers, modelDim: model_dim, numHeads: num_heads,
                             numKVHeads: num_kv_heads, mlpHidden: Int(mlp_mult * Double(model_dim)),
                             tieEmbeddings: tie_embeddings, ropeBase: rope_base, logitSoftcap: logit_softcap,
                             features: features)
        }
    }

    static func golden(_ name: String) throws -> Golden {
        var golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("families/\(name)/golden.json")))
        golden.hyperparameters.smearResetsAtBOS = golden.record.contains("BOS")
        return golden
    }

    /// The fixture's CaseOps-style byte sidecar, if it has one (`val_bytes.bin`).
    static func sidecar(_ name: String) throws -> [UInt16]? {
        let url = Paths.fixture("families/\(name)/val_bytes.bin")
        return FileManager.default.fileExists(atPath: url.path) ? try ValidationShard.read(url) : nil
    }

    static func weights(_ name: String) throws -> Weights {
        try RawFloatWeights(contentsOf: Paths.fixture("families/\(name)/model.weights.json")).weights
    }

    static func tokens(_ name: String) throws -> [UInt16] {
        try ValidationShard.read(Paths.fixture("families/\(name)/val_tokens.bin"))
    }

    static func accounting(_ golden: Golden) throws -> ByteAccounting {
        try SentencePieceModel(contentsOf: Paths.shared("tokenizers/\(golden.tokenizer)"))
            .byteAccounting(modelVocabularySize: golden.hyperparameters.vocab_size)
    }
}
