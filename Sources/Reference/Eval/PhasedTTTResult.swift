/// Why a phased TTT evaluation cannot run.
public enum PhasedTTTError: InputError, Equatable {
    /// A setting, the stream's documents or a loss (see ``TTTError``).
    case ttt(TTTError)
    /// The settings ask for something the model or pgverify cannot reproduce.
    case unsupported(feature: String, reason: String)
    /// A global SGD phase made the base weights non-finite (phase numbered from 1).
    case globalPhaseDiverged(phase: Int, chunk: Int, loss: Double)

    public var description: String {
        switch self {
        case .ttt(let error): error.description
        case .unsupported(let feature, let reason): "phased TTT: \(feature) is not supported: \(reason)"
        case .globalPhaseDiverged(let phase, let chunk, let loss):
            "phased TTT: global SGD phase \(phase) diverged at chunk \(chunk) (loss \(loss))"
        }
    }
}

/// One batch of documents, in the order it was scored (the records' `ttp:` line: `bl` is
/// `partial.meanLoss`, `bb` `partial.bitsPerByte`).
public struct PhasedTTTBatchResult: Sendable, Equatable {
    /// The batch's index before the longest-first ordering (`orig_batch_idx`; the log prints it + 1).
    public var batch: Int
    /// Its position in the claim order.
    public var queuePosition: Int
    /// Its documents' ordinals (`doc_entries[i][0]`).
    public var documents: [Int]
    public var partial: EvalPartial
    /// Whether every global phase had run before the batch was scored (`gd:`).
    public var globalDone: Bool
}

/// A trained chunk of a global SGD phase.
public struct PhasedTTTGlobalChunkResult: Sendable, Equatable {
    public var chunk: Int
    public var learningRate: Double
    /// The mean loss of each step, in order (epochs one after another).
    public var losses: [Double]
}

/// One global SGD phase over the documents scored so far.
public struct PhasedTTTPhaseResult: Sendable, Equatable {
    /// Numbered from 1.
    public var phase: Int
    /// Batches scored before the phase ran.
    public var afterBatches: Int
    /// Documents scored before it ran (`pd:`; may pass the boundary by part of a batch).
    public var prefixDone: Int
    /// The documents it trained on, in stream order of their batches (`gd:` is their count).
    public var documents: [Int]
    /// Tokens of their concatenation (each document through the next BOS, as the records cut them).
    public var tokens: Int
    /// Chunks of that stream (the last never trains).
    public var chunks: Int
    public var trained: [PhasedTTTGlobalChunkResult]
}

/// What a phased TTT evaluation measured.
public struct PhasedTTTResult: Sendable, Equatable {
    public var total: EvalPartial
    /// In scoring order.
    public var batches: [PhasedTTTBatchResult]
    public var phases: [PhasedTTTPhaseResult]
    /// The phase boundaries (documents), `phased_ttt_prefix_docs · (p + 1) // phases`.
    public var boundaries: [Int]
    public var documents: Int
    /// LoRA optimizer steps and global SGD steps taken.
    public var adapterSteps: Int
    public var globalSteps: Int
}
