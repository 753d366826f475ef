import Foundation
import Reference

/// An input error of the evaluation whose own message names no file, with the file it is about.
public struct AttributedInputError: InputError {
    /// The file (or glob) at fault, as the user gave it.
    public var file: String
    public var underlying: any InputError

    public var description: String { "\(file): \(underlying)" }

    /// The files `verify eval` was given, as the user wrote them.
    public struct Inputs: Sendable {
        public var artifact: String
        public var code: String?
        public var logs: [String]
        public var validation: String
        public var tokenizer: String
        public var byteSidecar: String?

        public init(artifact: String, code: String?, logs: [String], validation: String, tokenizer: String, byteSidecar: String?) {
            self.artifact = artifact
            self.code = code
            self.logs = logs
            self.validation = validation
            self.tokenizer = tokenizer
            self.byteSidecar = byteSidecar
        }

        var all: [String] { [artifact, validation, tokenizer] + (code.map { [$0] } ?? []) + logs + (byteSidecar.map { [$0] } ?? []) }
    }

    /// `error` with the file it is about, unless its message already names one of the given files
    /// (or it is not an input error). `verify eval` applies this; the audit names the artifact itself
    /// ("could not re-evaluate ...").
    public static func attributing(_ error: any Error, inputs: Inputs) -> any Error {
        guard let input = error as? any InputError else { return error }
        if inputs.all.contains(where: { input.description.contains($0) }) { return error }
        guard let fault = EvaluationInput.atFault(input) else { return error }
        return AttributedInputError(file: fault.file(in: inputs), underlying: input)
    }
}

/// Which of an evaluation's inputs a refusal is about.
enum EvaluationInput: Equatable {
    /// The weights (the artifact's tensors, or what evaluating them gave).
    case artifact
    /// The model code and the logs its settings are read from (the artifact when no code was given).
    case settings
    case validation
    case tokenizer
    /// The CaseOps byte sidecar (the validation shards when none was named: it is found beside them).
    case byteSidecar

    func file(in inputs: AttributedInputError.Inputs) -> String {
        switch self {
        case .artifact: inputs.artifact
        case .settings: inputs.code ?? inputs.logs.first ?? inputs.artifact
        case .validation: inputs.validation
        case .tokenizer: inputs.tokenizer
        case .byteSidecar: inputs.byteSidecar ?? inputs.validation
        }
    }

    /// The input `error` is about; nil for errors that name their own file (or flag) in every case.
    /// Exhaustive per case, so a new case must say which input it blames.
    static func atFault(_ error: any InputError) -> EvaluationInput? {
        switch error {
        case let error as EvalError: atFault(error)
        case let error as TTTError: atFault(error)
        case let error as PhasedTTTError:
            switch error {
            case .ttt(let inner): atFault(inner)
            case .unsupported: .settings
            case .globalPhaseDiverged: .artifact
            }
        case let error as ModelConfigError: atFault(error)
        case is ModelWeightsError, is ShapeError: .artifact
        case let error as CaseOpsSidecarError:
            switch error {
            case .missing, .shard: nil
            case .tooShort: .byteSidecar
            }
        default: nil
        }
    }

    static func atFault(_ error: EvalError) -> EvaluationInput? {
        switch error {
        // Settings: the sequence length, stride and token limit come from flags, the code or the logs.
        case .invalidSequenceLength, .invalidStride, .invalidMaxTokens: .settings
        case .sequenceLongerThanModel: .settings
        case .streamTooShort, .tokenOutOfRange, .planDoesNotMatchStream: .validation
        case .byteTablesTooSmall: .tokenizer
        case .byteSidecarTooShort: .byteSidecar
        case .nonFiniteLoss: .artifact
        // `--shard` names itself.
        case .invalidShard, .unreadableShard: nil
        }
    }

    static func atFault(_ error: TTTError) -> EvaluationInput? {
        switch error {
        case .invalidSetting: .settings
        case .evaluation(let inner): atFault(inner)
        case .adaptedWeightsUnusable: .artifact
        case .emptyDocument, .noDocuments: .validation
        }
    }

    static func atFault(_ error: ModelConfigError) -> EvaluationInput? {
        switch error {
        case .missingTensor, .unexpectedTensorName, .unexpectedShape, .unsupportedTensor: .artifact
        case .missingValue, .unreadCodeFact: .settings
        // These cite where each value came from: a code line, a log line or `--set` name themselves;
        // values from tensor shapes alone are the artifact's.
        case .untrustedCodeDefault: nil
        case .inconsistent(_, _, let sources): sources.contains(where: \.namesItsOrigin) ? nil : .artifact
        case .contradictsShapes(_, _, let statedBy, _, _): statedBy.namesItsOrigin ? nil : .artifact
        case .invalidValue(_, _, let source, _), .unsupportedFeature(_, _, let source): source.namesItsOrigin ? nil : .artifact
        case .conflictingLogValues: nil
        // A file of its own, or `--set`.
        case .unreadable, .architectureNotMatched, .unknownOverride: nil
        }
    }
}

extension ValueSource {
    /// Whether the source's description names where the value was written: a code line, a log line,
    /// an override (`--set`); a tensor's shape or absence names only the tensor.
    var namesItsOrigin: Bool {
        switch self {
        case .codeDefault, .log, .override: true
        case .tensorShape, .tensorAbsent: false
        case .derived(_, let from): from.contains(where: \.namesItsOrigin)
        }
    }
}
