/// The audit's answer: PASS, FAIL or INCOMPLETE, with the reasons that decided it.
public struct AuditVerdict: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Every check ran; none failed with error severity.
        case pass = "PASS"
        /// At least one error-severity check failed.
        case fail = "FAIL"
        /// Nothing failed, but at least one check could not run (no artifact, no previous record, ...).
        case incomplete = "INCOMPLETE"
    }

    public var outcome: Outcome
    /// One line per deciding check: `ID: summary`. Failures for FAIL; incomplete checks for INCOMPLETE.
    public var reasons: [String]

    /// FAIL when any error-severity check failed; otherwise INCOMPLETE when any check is incomplete;
    /// otherwise PASS. Warnings and skipped checks never decide.
    public static func decide(_ checks: [AuditCheck]) -> AuditVerdict {
        let failures = checks.filter(\.isBlockingFailure)
        if !failures.isEmpty {
            return AuditVerdict(outcome: .fail, reasons: failures.map { "\($0.id): \($0.summary)" })
        }
        let incomplete = checks.filter { $0.status == .incomplete }
        if !incomplete.isEmpty {
            return AuditVerdict(outcome: .incomplete, reasons: incomplete.map { "\($0.id): \($0.summary)" })
        }
        return AuditVerdict(outcome: .pass, reasons: [])
    }

    /// The documented exit status: 0 PASS, 1 FAIL, 3 INCOMPLETE.
    public var exitStatus: ExitStatus {
        switch outcome {
        case .pass: return .pass
        case .fail: return .fail
        case .incomplete: return .incomplete
        }
    }
}
