import Foundation

extension PhasedTTTSettings {
    /// The settings of `eval_val_ttt_lora` as 2026-04-10_VarLenAttn and
    /// 2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT define it, for ``PhasedTTTEvaluator``.
    ///
    /// That function is `eval_val_ttt_phased`'s loop (the same `_find_docs`,
    /// `_build_ttt_global_batches` claim queue, `_compute_chunk_window` windows, `BatchedTTTLoRA`
    /// adapters, optimizer, resets and `_accumulate_bpb`) with no global SGD phases: the phased loop
    /// with `phased_ttt_prefix_docs = 0` (`global_ttt_done` from the start). It reads no
    /// `ttt_doc_limit` either, so every document is kept.
    public var withoutGlobalPhases: PhasedTTTSettings {
        var s = self
        s.prefixDocs = 0
        s.phases = 1
        s.docLimit = 0
        return s
    }

    /// Whether `code` defines the batched `eval_val_ttt_lora` that ``withoutGlobalPhases`` runs
    /// (the claim queue and the chunk windows of the phased records), rather than 2026-03-17's
    /// per-document loop, which ``LoRATTTEvaluator`` runs on the baseline model.
    public static func definesBatchedLoRATTT(_ code: String) -> Bool {
        code.contains("def eval_val_ttt_lora(") && code.contains("def _build_ttt_global_batches(")
            && code.contains("def _compute_chunk_window(") && code.contains("class BatchedTTTLoRA(")
    }
}
