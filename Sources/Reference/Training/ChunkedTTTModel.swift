// The seam between the chunked score-first SGD TTT (Eval/ChunkedTTTEvaluator) and a differentiable
// model: the orchestration needs the parameters as one flat buffer with their gradients, which of them
// the record trains, a score of sliding windows under the current parameters, and the gradient of the
// mean loss of whole sequences (the records' `base_model(x, y)`).

/// One flat tensor of a ``ChunkedTTTModel``: its `state_dict` name, where it lies in
/// ``ChunkedTTTModel/parameters`` and the block it belongs to (`nil` outside the blocks).
public struct ChunkedTTTTensor: Sendable, Equatable {
    public var name: String
    public var range: ParameterRange
    public var block: Int?

    public init(name: String, range: ParameterRange, block: Int?) {
        self.name = name
        self.range = range
        self.block = block
    }
}

/// Why a chunk's windows could not be scored.
public enum ChunkedTTTScoringError: Error, Sendable {
    /// The adapted parameters no longer load as a model (e.g. non-finite after a step).
    case unusableWeights(String)
    case evaluation(EvalError)
}

/// A model that `eval_val_sliding_ttt` can adapt: ``DifferentiableFamilyGPT``, with the baseline's
/// features or a record family's.
public protocol ChunkedTTTModel: AnyObject {
    /// Threads a training step may use; no number may depend on the count.
    var threads: Int { get set }
    /// Every parameter (the records' `base_model.parameters()`), flat.
    var parameters: UnsafeMutableBufferPointer<Float> { get }
    /// Same layout as ``parameters``; written by ``accumulateSequenceGradients(stream:sequences:length:frozenBlocks:)``.
    var gradients: UnsafeMutableBufferPointer<Float> { get }
    /// Every tensor of ``parameters``, in buffer order.
    var tensors: [ChunkedTTTTensor] { get }

    /// Sets ``gradients`` to the gradient of the mean cross-entropy of `sequences` consecutive
    /// sequences of `length` tokens from `stream` (targets: the next tokens, so `stream` holds
    /// `sequences · length + 1` readable tokens), each sequence with positions from 0 and its own causal
    /// attention (the records' `base_model(x, y)` on `[sequences, length]` in training mode). Gradients of
    /// the first `frozenBlocks` blocks may be left unwritten when the model can skip them; the evaluator
    /// never reads them.
    func accumulateSequenceGradients(stream: UnsafePointer<UInt16>, sequences: Int, length: Int, frozenBlocks: Int)

    /// Scores `plan` over `tokens` with the current parameters (the records' `forward_logits` in
    /// eval mode), windows spread over `threads` workers.
    func scoreWindows(_ plan: EvalPlan, tokens: [UInt16], accounting: ByteAccounting, seqLen: Int,
                      threads: Int) throws(ChunkedTTTScoringError) -> EvalPartial
}

extension ChunkedTTTModel {
    /// The parameter runs the record trains: every tensor but those `scope` freezes in the first
    /// `freezeBlocks` blocks, adjacent tensors merged.
    public func trainableRanges(freezeBlocks: Int, scope: TTTFreezeScope) -> [ParameterRange] {
        var ranges: [ParameterRange] = []
        for tensor in tensors where !tensor.range.isEmpty {
            if scope.freezes(name: tensor.name, block: tensor.block, freezeBlocks: freezeBlocks) { continue }
            if let previous = ranges.last, previous.upperBound == tensor.range.lowerBound {
                ranges[ranges.count - 1] = previous.lowerBound..<tensor.range.upperBound
            } else {
                ranges.append(tensor.range)
            }
        }
        return ranges
    }
}
