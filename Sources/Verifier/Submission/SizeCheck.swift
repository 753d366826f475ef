/// The IDs of the size findings, documented in rules.md ("Submission checks (audit)").
public enum SizeCheckID: String, Sendable, CaseIterable {
    /// Measured code bytes + measured artifact bytes exceed the cap.
    case cap = "SIZE-CAP"
    /// The submission's own figures exceed the cap: a claimed total, or measured code + a claimed model size.
    case claimedOverCap = "SIZE-CLAIMED-OVER-CAP"
    /// A claimed size differs from the measured one.
    case claimMismatch = "SIZE-CLAIM-MISMATCH"
    /// One source's code + model figures do not add up to the total it states.
    case claimArithmetic = "SIZE-CLAIM-ARITHMETIC"
    /// No artifact in the folder: model bytes are claimed, not measured.
    case artifactMissing = "SIZE-ARTIFACT-MISSING"
    /// Several candidate artifacts and no rule to pick one.
    case artifactAmbiguous = "SIZE-ARTIFACT-AMBIGUOUS"
    /// No script to measure (no `train_gpt.py`, or several `train*.py`).
    case codeMissing = "SIZE-CODE-MISSING"
    /// The script names other code files of the folder whose bytes are not counted.
    case uncountedCode = "SIZE-UNCOUNTED-CODE"
    /// The submission counts its code as a compressed form that the folder does not ship.
    case codeCountedCompressed = "SIZE-CODE-COUNTED-COMPRESSED"
    /// A symbolic link resolves outside the folder (or to nothing); it was not read.
    case linkOutside = "SIZE-LINK-OUTSIDE"
}

/// One finding of the size check.
public struct SizeFinding: Sendable, Equatable {
    /// How much a finding weighs.
    public enum Severity: String, Sendable, Comparable {
        /// Breaks the cap rule: the check fails.
        case error
        /// Likely wrong or unverifiable figures; the verdict does not change.
        case warning
        /// Information for the reviewer.
        case note

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            let order: [Severity] = [.error, .warning, .note]
            return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
        }
    }

    /// The check that found it (documented in rules.md).
    public var id: SizeCheckID
    /// How much it weighs.
    public var severity: Severity
    /// One sentence with the numbers and where they come from.
    public var message: String
}

/// A claimed size that disagrees with a measured size or with another figure.
public struct SizeMismatch: Sendable, Equatable {
    /// What differs (``ClaimKind/codeBytes``, ``ClaimKind/modelBytes`` or ``ClaimKind/totalBytes``).
    public var quantity: ClaimKind
    /// The reference figure: measured from a file, or (for arithmetic) the sum of two claims.
    public var expected: Int
    /// Where ``expected`` comes from: a file name for measured figures, claim sources for sums.
    public var expectedSource: String
    /// Whether ``expected`` was measured on disk.
    public var expectedIsMeasured: Bool
    /// The claimed figure.
    public var claimed: Int
    /// Where the claim was made.
    public var claimSource: ClaimSource
    /// Error when the claim hides a cap excess (claimed under the cap, the reference over it).
    public var severity: SizeFinding.Severity
}

/// The outcome of a check that can also fail to run.
public enum CheckStatus: String, Sendable {
    /// Everything needed was measured and no error-severity finding was made.
    case pass
    /// At least one error-severity finding.
    case fail
    /// The check could not establish pass or fail (e.g. no artifact to measure).
    case incomplete
}
