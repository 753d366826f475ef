/// How serious a finding is. Ordered: `note < warning < error`.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    /// Information for the reviewer.
    case note
    /// A likely problem or a reproducibility risk; does not fail the run.
    case warning
    /// The code breaks a rule; `verify lint` exits 1.
    case error

    private var rank: Int {
        switch self {
        case .note: return 0
        case .warning: return 1
        case .error: return 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One rule violation at one place.
public struct Finding: Sendable, Codable, Equatable, Hashable {
    /// The rule's ID (`PG-TARGET-IN-HASH`).
    public var rule: String
    public var severity: Severity
    /// The path as given on the command line (or found in a given folder).
    public var file: String
    /// 1-based line; in the decoded source when `decodedFromLine` is set.
    public var line: Int
    public var message: String
    /// When the code was decoded from a self-extracting wrapper: the wrapper's line in `file`.
    public var decodedFromLine: Int?

    public init(rule: String, severity: Severity, file: String, line: Int, message: String, decodedFromLine: Int? = nil) {
        self.rule = rule
        self.severity = severity
        self.file = file
        self.line = line
        self.message = message
        self.decodedFromLine = decodedFromLine
    }

    /// The order findings are reported in: by file, line, rule, message.
    public static func reportOrder(_ lhs: Finding, _ rhs: Finding) -> Bool {
        (lhs.file, lhs.decodedFromLine ?? 0, lhs.line, lhs.rule, lhs.message)
            < (rhs.file, rhs.decodedFromLine ?? 0, rhs.line, rhs.rule, rhs.message)
    }
}
