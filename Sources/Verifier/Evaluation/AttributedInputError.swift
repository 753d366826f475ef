import Foundation
import Reference

/// An input error of the evaluation whose own message names no file, with the file it is about:
/// the validation shards for the stream's errors (too short, a token outside the vocabulary), the
/// artifact for the weights' and the model configuration's (a missing tensor, a shape).
public struct AttributedInputError: InputError {
    /// The file (or glob) at fault, as the user gave it.
    public var file: String
    public var underlying: any InputError

    public var description: String { "\(file): \(underlying)" }

    /// `error` with the file it is about, unless its message already names one of the files the
    /// command was given (or it is not an evaluation input error). `verify eval` applies this; the
    /// audit names the artifact itself ("could not re-evaluate ...").
    public static func attributing(_ error: any Error, artifact: String, validation: String, otherFiles: [String]) -> any Error {
        guard let input = error as? any InputError else { return error }
        if ([artifact, validation] + otherFiles).contains(where: { input.description.contains($0) }) { return error }
        switch input {
        case is EvalError, is TTTError:
            return AttributedInputError(file: validation, underlying: input)
        case is ModelConfigError, is ModelWeightsError:
            return AttributedInputError(file: artifact, underlying: input)
        default:
            return error
        }
    }
}
