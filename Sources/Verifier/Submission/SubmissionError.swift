import Reference

/// Why a submission folder could not be read.
///
/// Missing optional files (no logs, no artifact, no README) are not errors: they are recorded on
/// ``Submission`` and reported by the checks. These cases are for input we cannot read at all.
public enum SubmissionError: InputError, Equatable {
    /// The path does not exist or is not a directory.
    case notADirectory(path: String)
    /// A file exists but could not be read (permissions, a directory where a file was expected).
    case unreadable(file: String, reason: String)
    /// A JSON document is not valid JSON; `location` names the file and the byte offset of the error.
    case malformedJSON(InputLocation, reason: String)
    /// `submission.json` parsed, but its top level is not an object.
    case jsonNotAnObject(file: String)
    /// A text file is not valid UTF-8; `location` points at the first invalid byte.
    case notUTF8(InputLocation)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path): not a submission folder (no such directory)"
        case .unreadable(let file, let reason):
            return "\(file): cannot read: \(reason)"
        case .malformedJSON(let location, let reason):
            return "\(location): malformed JSON: \(reason)"
        case .jsonNotAnObject(let file):
            return "\(file): the top level must be a JSON object"
        case .notUTF8(let location):
            return "\(location): not valid UTF-8 text"
        }
    }
}
