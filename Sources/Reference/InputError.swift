/// An error caused by what the user handed us — a truncated, hostile or mis-typed file, a value that
/// cannot be determined — as opposed to a failed check or a bug in pgverify.
///
/// Every area defines its own error enum whose cases carry the evidence (file, byte offset, the
/// offending value) and conforms to this protocol. The CLI ends with exit code 2 on any of them.
public protocol InputError: Error, CustomStringConvertible, Sendable {}

/// Where in the input a problem sits, rendered as `file: at byte N` for messages.
public struct InputLocation: Sendable, Equatable, CustomStringConvertible {
    /// The file's path as the user gave it, or a description such as `data.pkl in model.ptz`.
    public var file: String
    /// Byte offset within `file`, when the problem has one.
    public var offset: Int?

    public init(file: String, offset: Int? = nil) {
        self.file = file
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(file): at byte \(offset)" }
        return file
    }
}
