/// The outcome of one audit check.
public enum AuditStatus: String, Sendable, CaseIterable {
    /// The check ran and found nothing wrong.
    case pass
    /// The check ran and found a rule broken (an error-severity finding): the verdict is FAIL.
    case fail
    /// The check ran and found something a reviewer should look at; the verdict does not change.
    case warn
    /// The check could not establish pass or fail (no artifact, no values to compare, not built yet).
    case incomplete
    /// The check does not apply to this submission (e.g. time limits on the non-record track).
    case skipped
}

/// How much a finding or a failed check weighs (the same scale as rules.md).
public enum AuditSeverity: String, Sendable, Comparable, CaseIterable {
    case error
    case warning
    case note

    public static func < (lhs: AuditSeverity, rhs: AuditSeverity) -> Bool {
        let order: [AuditSeverity] = [.error, .warning, .note]
        return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }
}

/// A place in the submission folder: a file, with a 1-based line or a JSON key path when known.
public struct AuditLocation: Sendable, Equatable, CustomStringConvertible {
    /// Relative to the submission folder.
    public var file: String
    public var line: Int?
    /// A dotted JSON key path (`seed_results.42.val_bpb`) for claims in submission.json.
    public var keyPath: String?

    public init(file: String, line: Int? = nil, keyPath: String? = nil) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
    }

    /// The location of a claim.
    public init(_ source: ClaimSource) {
        switch source {
        case .line(let file, let line): self.init(file: file, line: line)
        case .jsonKey(let file, let path): self.init(file: file, keyPath: path)
        case .folder(let path), .fileName(let path): self.init(file: path)
        }
    }

    /// `file:line`, `file: key.path` or `file`.
    public var description: String {
        if let line { return "\(file):\(line)" }
        if let keyPath { return "\(file): \(keyPath)" }
        return file
    }
}

/// One line of evidence behind a check's status, with where it was read.
public struct AuditEvidence: Sendable, Equatable {
    public var text: String
    public var location: AuditLocation?

    public init(_ text: String, at location: AuditLocation? = nil) {
        self.text = text
        self.location = location
    }
}

/// A number a check measured, computed or compared (e.g. reproduced against claimed val_bpb).
public struct AuditMeasurement: Sendable, Equatable {
    /// A short stable name (`train_seconds`, `p_value`).
    public var name: String
    public var value: Double
    /// The unit (`s`, `bytes`, `nats`, `bpb`), empty for plain numbers.
    public var unit: String
    /// The run it is about, when one seed's.
    public var seed: Int?
    public var location: AuditLocation?

    public init(_ name: String, _ value: Double, unit: String = "", seed: Int? = nil, at location: AuditLocation? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
        self.seed = seed
        self.location = location
    }
}

/// A problem found by a check or by the static analyzer: the shape `verify lint` findings map onto.
public struct AuditFinding: Sendable, Equatable {
    /// The rule ID documented in rules.md (`SIZE-CAP`, `TIME-TRAIN`).
    public var rule: String
    public var severity: AuditSeverity
    /// The file relative to the submission folder, when the finding is about one.
    public var file: String?
    public var line: Int?
    public var message: String

    public init(rule: String, severity: AuditSeverity, file: String? = nil, line: Int? = nil, message: String) {
        self.rule = rule
        self.severity = severity
        self.file = file
        self.line = line
        self.message = message
    }

    /// A finding located at a claim's source.
    public init(rule: String, severity: AuditSeverity, at location: AuditLocation?, message: String) {
        self.init(rule: rule, severity: severity, file: location?.file, line: location?.line, message: message)
    }

    /// `file:line`, `file` or nil.
    public var locationText: String? {
        guard let file else { return nil }
        return line.map { "\(file):\($0)" } ?? file
    }
}

/// A series of values for a plot (e.g. bpb along the validation stream).
public struct AuditSeries: Sendable, Equatable {
    public var name: String
    /// (x, y) points in order.
    public var points: [(x: Double, y: Double)]

    public init(name: String, points: [(x: Double, y: Double)]) {
        self.name = name
        self.points = points
    }

    public static func == (lhs: AuditSeries, rhs: AuditSeries) -> Bool {
        lhs.name == rhs.name && lhs.points.count == rhs.points.count
            && zip(lhs.points, rhs.points).allSatisfy { $0.x == $1.x && $0.y == $1.y }
    }
}

/// One check of the audit: what was checked, its outcome, and why.
public struct AuditCheck: Sendable, Equatable {
    /// A stable ID documented in rules.md ("Submission checks (audit)"): `SIZE`, `TIME-TRAIN`, ...
    public var id: String
    public var title: String
    public var status: AuditStatus
    /// The weight of a failure of this check (an error-severity check that fails makes the verdict FAIL).
    public var severity: AuditSeverity
    /// One sentence saying why the status is what it is.
    public var summary: String
    public var evidence: [AuditEvidence]
    public var findings: [AuditFinding]
    public var measurements: [AuditMeasurement]
    public var series: [AuditSeries]

    public init(
        id: String, title: String, status: AuditStatus, severity: AuditSeverity, summary: String,
        evidence: [AuditEvidence] = [], findings: [AuditFinding] = [], measurements: [AuditMeasurement] = [],
        series: [AuditSeries] = []
    ) {
        self.id = id
        self.title = title
        self.status = status
        self.severity = severity
        self.summary = summary
        self.evidence = evidence
        self.findings = findings
        self.measurements = measurements
        self.series = series
    }

    /// Whether this check makes the verdict FAIL.
    public var isBlockingFailure: Bool { status == .fail && severity == .error }
}
