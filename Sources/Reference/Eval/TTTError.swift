/// Why a TTT evaluation cannot run.
public enum TTTError: InputError, Equatable {
    case invalidSetting(name: String, value: String)
    case evaluation(EvalError)
    /// Training made the weights unusable (non-finite) before chunk `chunk` was scored.
    case adaptedWeightsUnusable(chunk: Int, reason: String)
    /// A BOS at `position` with nothing after it to predict (LoRA TTT's documents).
    case emptyDocument(position: Int)
    /// No BOS in the stream: LoRA TTT has no document to score.
    case noDocuments

    public var description: String {
        switch self {
        case .invalidSetting(let name, let value): "TTT setting \(name) is invalid: \(value)"
        case .evaluation(let error): error.description
        case .adaptedWeightsUnusable(let chunk, let reason):
            "test-time training diverged before chunk \(chunk) was scored: \(reason)"
        case .emptyDocument(let position): "the document starting at token \(position) (a BOS) has no target"
        case .noDocuments: "the validation stream has no BOS token (1): no document for per-document TTT"
        }
    }
}
