// The seam between phased test-time training (Eval/PhasedTTTEvaluator) and a differentiable
// record-family model: the orchestration needs per-token losses with per-row LoRA adapters, their
// gradients, and gradients of every base parameter for the global SGD phases.

/// Which projections carry LoRA adapters (the records' `BatchedTTTLoRA`): query, value and the
/// output head always; key, MLP output and attention output when switched on
/// (`TTT_K_LORA`, `TTT_MLP_LORA`, `TTT_O_LORA`).
public struct LoRATargets: Sendable, Equatable, Codable {
    public var key: Bool
    public var mlp: Bool
    public var output: Bool

    public init(key: Bool = true, mlp: Bool = true, output: Bool = true) {
        self.key = key
        self.mlp = mlp
        self.output = output
    }
}

/// A `rows × columns` batch of token ids, row-major. Each row is its own causal sequence whose
/// positions start at 0 (the records' `forward_ttt` on `[bsz, context]`).
public struct TokenRows: Sendable, Equatable {
    public var inputs: [Int32]
    public var targets: [Int32]
    public var rows: Int
    public var columns: Int
    /// The rows whose losses the caller reads (`nil`: all). A model may skip the others (a finished
    /// document's padding row) and report 0 for their losses; they carry no loss weight.
    public var scoredRows: [Bool]?

    public init(inputs: [Int32], targets: [Int32], rows: Int, columns: Int, scoredRows: [Bool]? = nil) {
        precondition(inputs.count == rows * columns && targets.count == rows * columns)
        precondition(scoredRows.map { $0.count == rows } ?? true)
        self.inputs = inputs
        self.targets = targets
        self.rows = rows
        self.columns = columns
        self.scoredRows = scoredRows
    }
}

/// LoRA adapters for a batch of rows (one independent set per row), in two flat buffers that an
/// optimizer updates in place.
public protocol BatchedLoRAAdapters: AnyObject {
    /// Batch rows (the records' `bsz`).
    var rows: Int { get }
    var rank: Int { get }
    var parameters: UnsafeMutableBufferPointer<Float> { get }
    /// Same layout as ``parameters``; accumulated until ``zeroGradients()``.
    var gradients: UnsafeMutableBufferPointer<Float> { get }
    /// Row `row` for a new document: every `B` zero, every `A` uniform in `±1/√in` from
    /// ``LoRAInit`` with `document`, and adapter indices in the records' reset order: the head, then
    /// per slot the queries, the values, the keys, the MLPs, the outputs (absent kinds skipped).
    func reset(row: Int, document: Int)
    func zeroGradients()
}

/// A differentiable model that phased TTT can adapt.
public protocol PhasedTTTModel: AnyObject {
    associatedtype Adapters: BatchedLoRAAdapters

    /// Adapters for `rows` rows on every active layer pass ("slot") and the head, every value zero.
    func makeAdapters(rows: Int, rank: Int, targets: LoRATargets) -> Adapters

    /// Per-token cross-entropy losses `[rows × columns]` of the model plus `adapters`.
    func perTokenLosses(_ batch: TokenRows, adapters: Adapters) -> [Float]

    /// The losses of ``perTokenLosses(_:adapters:)``; adds to `adapters.gradients` the gradient of
    /// `Σᵢ lossWeights[i] · loss[i]` (base parameters are not touched).
    func accumulateAdapterGradients(_ batch: TokenRows, adapters: Adapters, lossWeights: [Float]) -> [Float]

    /// Every base parameter (the records' `base_model.parameters()`), flat.
    var baseParameters: UnsafeMutableBufferPointer<Float> { get }
    /// Same layout as ``baseParameters``; accumulated until ``zeroBaseGradients()``.
    var baseGradients: UnsafeMutableBufferPointer<Float> { get }
    func zeroBaseGradients()

    /// The mean cross-entropy of the base model (no adapters) over one flat stream, attention kept
    /// inside the segments that start at `segmentStarts` (the records' `cu_seqlens`; must start
    /// with 0) and rotary positions counted along the whole stream, as the records' varlen forward;
    /// adds its gradient to ``baseGradients`` and returns the mean.
    func accumulateBaseGradients(inputs: [Int32], targets: [Int32], segmentStarts: [Int]) -> Double

    /// Must be called after ``baseParameters`` changed, before the next forward.
    func baseParametersDidChange()
}
