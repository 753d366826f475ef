import Reference

/// Why `verify lint` could not analyse its input: bad paths, unparsable or undecodable code, no
/// Python interpreter to parse with. Each case carries the evidence for the message.
public enum LintError: InputError, Equatable {
    /// `python3` is needed as the parser (never to run submission code) and was not on PATH.
    case pythonNotFound(searchPath: String)
    /// The parser subprocess ended abnormally.
    case parserFailed(status: Int32, detail: String)
    /// The parser's output could not be read (a bug or an incompatible Python).
    case parserOutputUnreadable(detail: String)
    /// A given path does not exist.
    case pathNotFound(String)
    /// A folder holds no `.py` file.
    case noPythonFiles(String)
    /// A file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not valid Python (to the interpreter used: `olderPython` says so when it predates 3.12).
    case syntax(file: String, line: Int, message: String, olderPython: String? = nil)
    /// A self-extracting wrapper whose payload cannot be decoded.
    case undecodableWrapper(file: String, line: Int, reason: String)
    /// A code file larger than the parser accepts; refused before parsing.
    case fileTooLarge(file: String, bytes: Int, limit: Int)
    /// The parser process was stopped by one of its ``HelperLimits`` while parsing `file`.
    case parserLimitExceeded(file: String, limit: HelperLimit)
    /// A setting in the environment is not valid.
    case invalidSetting(String)

    /// A syntax error from an interpreter older than 3.12: the code may be valid, so nothing was checked
    /// (an incomplete analysis, not bad input).
    public var mayBeNewerSyntax: Bool {
        if case .syntax(_, _, _, let olderPython) = self { return olderPython != nil }
        return false
    }

    public var description: String {
        switch self {
        case .pythonNotFound(let path):
            return "python3 not found on PATH (\(path)); verify lint uses CPython's ast module to parse (it never runs the code)"
        case .parserFailed(let status, let detail):
            return "the Python parser subprocess failed with status \(status): \(detail)"
        case .parserOutputUnreadable(let detail):
            return "the Python parser's output could not be decoded: \(detail)"
        case .pathNotFound(let path):
            return "\(path): no such file or folder"
        case .noPythonFiles(let path):
            return "\(path): no .py files inside"
        case .unreadable(let file, let reason):
            return "\(file): cannot be read: \(reason)"
        case .syntax(let file, let line, let message, let olderPython):
            guard let olderPython else { return "\(file):\(line): not valid Python: \(message)" }
            return "\(file):\(line): cannot be parsed: \(message); \(olderPython)"
        case .undecodableWrapper(let file, let line, let reason):
            return "\(file):\(line): self-extracting code cannot be decoded: \(reason)"
        case .fileTooLarge(let file, let bytes, let limit):
            return "\(file): \(bytes) bytes of code, more than the parser accepts (\(limit) bytes, \(PythonParser.maxSourceBytesVariable)); refused before parsing"
        case .parserLimitExceeded(let file, let limit):
            return "\(file): the Python parser reached \(limit) while parsing this file and was stopped"
        case .invalidSetting(let detail):
            return detail
        }
    }
}
