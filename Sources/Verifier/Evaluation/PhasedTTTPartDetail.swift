import Foundation
import Reference

/// What `verify eval --mode ttt-phased` reports besides the score, for the batches one part scored:
/// the score without adaptation, each batch's sums, the global phases the part ran (only the prefix
/// part runs them) and the step counts. Parts joined in claim order (``merged(_:)``) give exactly
/// what the unsharded run reports: every sum is exact, every other value is copied.
public struct PhasedTTTPartDetail: Codable, Sendable, Equatable {
    /// One scored batch (the records' `ttp:` line).
    public struct Batch: Codable, Sendable, Equatable {
        /// `orig_batch_idx`.
        public var batch: Int
        public var documents: Int
        public var minDocLength: Int
        public var maxDocLength: Int
        public var partial: EvalPartial
        /// Whether every global phase had run before it (`gd:`).
        public var globalDone: Bool
    }

    /// One global SGD phase (the records' `ttpp:` line).
    public struct Phase: Codable, Sendable, Equatable {
        public var phase: Int
        public var afterBatches: Int
        public var prefixDone: Int
        public var tokens: Int
        public var chunks: Int
        /// Ordinals of the documents it trained on.
        public var documents: [Int]
        /// Each trained chunk's learning rate and mean step loss.
        public var learningRates: [Double]
        public var meanLosses: [Double]
    }

    /// The same batches without adaptation (no adapter steps, no global phases).
    public var before: EvalPartial
    /// In claim order.
    public var batches: [Batch]
    public var phases: [Phase]
    public var adapterSteps: Int
    public var globalSteps: Int
    /// Documents of the whole evaluation and its phase boundaries.
    public var documents: Int
    public var boundaries: [Int]
    /// Where each phased TTT setting came from, and where the byte counts came from.
    public var sources: [String: String]
    public var bytesFrom: String

    /// The detail of `result` (with `before`, the same batches unadapted) from `evaluator`.
    public init(result: PhasedTTTResult, before: PhasedTTTResult, evaluator: PhasedTTTEvaluator,
                sources: [String: String], bytesFrom: String) {
        let lengths = Dictionary(uniqueKeysWithValues: evaluator.documents.map { ($0.index, $0.length) })
        self.before = before.total
        batches = result.batches.map { batch in
            let docLengths = batch.documents.map { lengths[$0] ?? 0 }
            return Batch(batch: batch.batch, documents: batch.documents.count, minDocLength: docLengths.min() ?? 0,
                         maxDocLength: docLengths.max() ?? 0, partial: batch.partial, globalDone: batch.globalDone)
        }
        phases = result.phases.map { phase in
            Phase(phase: phase.phase, afterBatches: phase.afterBatches, prefixDone: phase.prefixDone, tokens: phase.tokens,
                  chunks: phase.chunks, documents: phase.documents, learningRates: phase.trained.map(\.learningRate),
                  meanLosses: phase.trained.map { $0.losses.reduce(0, +) / Double(max($0.losses.count, 1)) })
        }
        adapterSteps = result.adapterSteps
        globalSteps = result.globalSteps
        documents = result.documents
        boundaries = result.boundaries
        self.sources = sources
        self.bytesFrom = bytesFrom
    }

    /// The parts' details joined, given in claim order of their batches.
    static func merged(_ parts: [PhasedTTTPartDetail]) -> PhasedTTTPartDetail? {
        guard var whole = parts.first else { return nil }
        for part in parts.dropFirst() {
            whole.before += part.before
            whole.batches += part.batches
            whole.phases += part.phases
            whole.adapterSteps += part.adapterSteps
            whole.globalSteps += part.globalSteps
        }
        return whole
    }
}
