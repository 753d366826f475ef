// The baseline model's side of the chunked TTT seam (ChunkedTTTModel.swift).

extension TrainableGPT: ChunkedTTTModel {
    public typealias TrainingWorkspace = TrainingCache

    public var tensors: [ChunkedTTTTensor] {
        layout.entries.map { ChunkedTTTTensor(name: $0.name, range: $0.offset..<($0.offset + $0.count), block: $0.block) }
    }

    public func makeTrainingWorkspace(maxSequences: Int, length: Int) -> TrainingCache {
        TrainingCache(model: self, maxRows: maxSequences * length, maxLength: length)
    }

    /// Forward and backward through the cache; weight gradients of the first `frozenBlocks` blocks are skipped.
    public func accumulateSequenceGradients(_ workspace: TrainingCache, stream: UnsafePointer<UInt16>, sequences: Int,
                                            length: Int, frozenBlocks: Int) {
        forward(inputs: stream, targets: stream + 1, sequences: sequences, length: length, cache: workspace)
        zeroGradients()
        backward(workspace, weightGradientsFrom: frozenBlocks)
    }

    /// The reference forward pass (``FamilyGPTModel`` with a snapshot of the weights: it runs the last
    /// block and the head only for the scored rows).
    public func scoreWindows(_ plan: EvalPlan, tokens: [UInt16], accounting: ByteAccounting, seqLen: Int,
                             threads: Int) throws(ChunkedTTTScoringError) -> EvalPartial {
        let snapshot: FamilyGPTModel
        do {
            snapshot = try FamilyGPTModel(config: config, weights: weights(), maxPositions: seqLen)
        } catch {
            throw .unusableWeights(error.description)
        }
        do {
            return try Evaluator(model: snapshot, accounting: accounting, tokens: tokens, plan: plan).evaluate(threads: threads)
        } catch {
            throw .evaluation(error)
        }
    }
}
