import ArgumentParser
import Foundation
import Reference
import Verifier

// `verify eval --mode ttt-phased`, whole or in parts: the prefix (batches up to the last global
// phase, and the phases) once with --prefix-state-out, then the suffix batches in --shard K/N parts
// from that state (docs/sharded-evaluation.md).

/// The `ttt_phased` object of `verify eval --mode ttt-phased --json` (and of `verify merge` on its parts).
struct PhasedTTTReport: Encodable {
    struct Batch: Encodable {
        /// `orig_batch_idx` (the records' log prints it + 1), in scoring order.
        var batch: Int
        var documents: Int
        var min_doc_length, max_doc_length: Int
        var tokens, bytes: Int
        /// The batch's mean loss and bits per byte (the records' `ttp:` `bl`, `bb`).
        var bl, bb: Double
        /// Whether every global phase had run before it (`gd:`).
        var gd: Bool
    }

    struct Phase: Encodable {
        var phase, after_batches, prefix_done, tokens, chunks: Int
        /// Ordinals of the documents it trained on.
        var documents: [Int]
        /// Learning rate of each trained chunk, and its mean step loss.
        var learning_rates: [Double]
        var mean_losses: [Double]
    }

    var settings: PhasedTTTSettings
    var sources: [String: String]
    /// `tokenizer` (the byte tables) or `sidecar (why)` (the CaseOps per-token byte sidecar).
    var bytes_from: String
    var val_loss_before: Double
    var val_bpb_before: Double
    var bpb_gain: Double
    var documents: Int
    var adapter_steps: Int
    var global_steps: Int
    var boundaries: [Int]
    var batches: [Batch]
    var phases: [Phase]
    /// What the single-rank reproduction cannot match exactly.
    var limits: [String]
    /// Batches of the whole evaluation (`batches` may be one part's): the `Y` of `ttp: bX/Y`.
    var totalBatches: Int
    /// CPU seconds of the adapted run, all threads (`seconds` is its wall time); absent with `--partial-out`
    /// and for merged parts.
    var cpu_seconds: Double?

    private enum CodingKeys: String, CodingKey {
        case settings, sources, bytes_from, val_loss_before, val_bpb_before, bpb_gain, documents, adapter_steps, global_steps
        case boundaries, batches, phases, limits, cpu_seconds
    }

    static let limits = [
        "single rank: the records' 8 GPUs claim batches from a shared counter in a timing-dependent order "
            + "and pause for each phase wherever they are; one rank's order is deterministic and is what this reproduces",
        "LoRA A draws: pgverify's LoRAInit (document = ordinal in the stream) instead of torch's RNG",
    ]

    /// The report of `detail` (one run's, or merged parts') whose adapted score is `total`, of an
    /// evaluation of `totalBatches` batches.
    init(_ detail: PhasedTTTPartDetail, settings: PhasedTTTSettings, total: EvalPartial, totalBatches: Int) {
        self.totalBatches = totalBatches
        self.settings = settings
        sources = detail.sources
        bytes_from = detail.bytesFrom
        val_loss_before = detail.before.meanLoss
        val_bpb_before = detail.before.bitsPerByte
        bpb_gain = detail.before.bitsPerByte - total.bitsPerByte
        documents = detail.documents
        adapter_steps = detail.adapterSteps
        global_steps = detail.globalSteps
        boundaries = detail.boundaries
        batches = detail.batches.map { batch in
            Batch(batch: batch.batch, documents: batch.documents, min_doc_length: batch.minDocLength, max_doc_length: batch.maxDocLength,
                  tokens: batch.partial.tokens, bytes: batch.partial.bytes, bl: batch.partial.meanLoss, bb: batch.partial.bitsPerByte,
                  gd: batch.globalDone)
        }
        phases = detail.phases.map { phase in
            Phase(phase: phase.phase, after_batches: phase.afterBatches, prefix_done: phase.prefixDone, tokens: phase.tokens,
                  chunks: phase.chunks, documents: phase.documents, learning_rates: phase.learningRates, mean_losses: phase.meanLosses)
        }
        limits = Self.limits
    }

    /// The records' `ttp:` and `ttpp:` lines and the gain, as text.
    func printText() {
        for batch in batches {
            print(String(format: "ttp: b%d/%d bl:%.4f bb:%.4f dl:%d-%d gd:%d", batch.batch + 1, totalBatches,
                         batch.bl, batch.bb, batch.min_doc_length, batch.max_doc_length, batch.gd ? 1 : 0))
        }
        for phase in phases {
            print("ttpp: phase:\(phase.phase)/\(boundaries.count) pd:\(phase.prefix_done) gd:\(phase.documents.count) "
                  + "tokens:\(phase.tokens) trained chunks:\(phase.learning_rates.count)/\(phase.chunks)")
        }
        print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d documents, %d LoRA steps, %d global SGD steps)",
                     val_loss_before, val_bpb_before, bpb_gain, documents, adapter_steps, global_steps))
    }
}

extension Eval {
    /// The flags of a phased run in parts go together (called from `validate()`).
    func validatePhasedSharding() throws {
        if prefixStateOut != nil || prefixState != nil {
            guard mode == .tttPhased else { throw ValidationError("--prefix-state and --prefix-state-out are for --mode ttt-phased") }
            guard partialOut != nil else { throw ValidationError("--prefix-state-out and --prefix-state need --partial-out FILE for `verify merge`") }
        }
        if prefixStateOut != nil {
            guard shard == nil, prefixState == nil else {
                throw ValidationError("--prefix-state-out runs the prefix on its own; the suffix parts take --prefix-state with --shard K/N")
            }
        }
        if mode == .tttPhased, shard != nil, prefixState == nil {
            throw ValidationError("--shard in ttt-phased mode splits the suffix: run the prefix once with --prefix-state-out STATE, "
                                  + "then each part with --prefix-state STATE --shard K/N")
        }
        if prefixState != nil, shard == nil { throw ValidationError("--prefix-state needs --shard K/N (use 0/1 for the whole suffix)") }
    }

    /// Writes a phased run's part (`--partial-out`) and says which batches it scored.
    func writePartial(_ result: TTTReevaluationResult, scope: PhasedTTTPartScope) throws {
        guard let partialOut, let part = result.partial else { return }
        try part.write(to: URL(fileURLWithPath: partialOut))
        guard !json else { return }
        let what = switch scope.part {
        case .whole: "whole evaluation"
        case .prefix: "prefix"
        case .suffix(_, let shard): "suffix part \(shard.index)/\(shard.count)"
        }
        print("\(what): batches \(scope.batches.lowerBound)..<\(scope.batches.upperBound) of \(scope.totalBatches) "
              + "(prefix: 0..<\(scope.prefixBatches)), written to \(partialOut)"
              + (prefixStateOut.map { "; weights after the global phases written to \($0)" } ?? "")
              + "; add the parts with `verify merge`")
    }
}
