import Reference

/// The documented exit codes of every `verify` command (see README, "Exit codes").
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Every check passed.
    case pass = 0
    /// The submission fails at least one check (an error-severity finding).
    case fail = 1
    /// Bad input or usage: a file we cannot read safely, a missing argument.
    case badInput = 2
    /// A check could not run (no artifact, unsupported architecture); no verdict either way.
    case incomplete = 3

    /// The status a command ends with when it stops on `error`.
    ///
    /// Errors that are not ``Reference/InputError`` are treated as bad input too: pgverify never
    /// reports a pass or a fail it did not establish.
    public static func forError(_ error: any Error) -> ExitStatus {
        if let status = error as? ExitStatus { return status }
        return .badInput
    }
}

extension ExitStatus: Error {}
