/// What a submission says about itself: one number or setting, where it was said, and for which run.
///
/// Claims are extracted, never trusted: checks compare them with what pgverify measures and with
/// each other, and every report cites ``source`` so a reviewer can find the line.
public struct Claim: Equatable, Sendable {
    /// What is claimed.
    public var kind: ClaimKind
    /// The claimed value, with its literal text as written.
    public var value: ClaimValue
    /// The training seed the claim is about, when it is about one run.
    public var seed: Int?
    /// Set when the claim summarizes several runs (a mean, a maximum) instead of describing one.
    public var aggregate: ClaimAggregate?
    /// Extra precision about the claim: the log label of an evaluation (`final_int8_zlib_roundtrip_exact`),
    /// the compression named in a size line (`int6+lzma`), or a setting's name (`ttt_lr`).
    public var qualifier: String?
    /// Where the claim was made.
    public var source: ClaimSource

    public init(
        kind: ClaimKind, value: ClaimValue, seed: Int? = nil, aggregate: ClaimAggregate? = nil,
        qualifier: String? = nil, source: ClaimSource
    ) {
        self.kind = kind
        self.value = value
        self.seed = seed
        self.aggregate = aggregate
        self.qualifier = qualifier
        self.source = source
    }
}

/// The kinds of claims pgverify extracts.
public enum ClaimKind: String, Sendable, CaseIterable, Comparable {
    /// Validation bits per byte (the score).
    case valBPB = "val_bpb"
    /// Validation loss in nats per token.
    case valLoss = "val_loss"
    /// Compressed model bytes (the artifact file without the code).
    case modelBytes = "model_bytes"
    /// Code bytes (the submitted script).
    case codeBytes = "code_bytes"
    /// Code bytes plus compressed model bytes: what the 16,000,000-byte cap applies to.
    case totalBytes = "total_bytes"
    /// Training wallclock in seconds.
    case trainSeconds = "train_seconds"
    /// Evaluation wallclock in seconds.
    case evalSeconds = "eval_seconds"
    /// A training seed that was run.
    case seed = "seed"
    /// The leaderboard track (`10min_16mb`, `non_record_16mb`).
    case track = "track"
    /// The tokenizer (a name or a model path).
    case tokenizer = "tokenizer"
    /// How the score was evaluated (`sliding_window`, `ttt`, `roundtrip`, or the submission's own words).
    case evalMode = "eval_mode"
    /// The sliding-window evaluation stride in tokens.
    case evalStride = "eval_stride"
    /// A test-time-training setting; ``Claim/qualifier`` names it (`ttt_lr`, `ttt_epochs`, ...).
    case tttSetting = "ttt_setting"

    public static func < (lhs: ClaimKind, rhs: ClaimKind) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// How a claim summarizes runs.
public enum ClaimAggregate: String, Sendable {
    /// The mean over the runs (e.g. a top-level `val_bpb` of a multi-seed submission, `artifact_bytes_mean`).
    case mean
    /// The largest value over the runs (e.g. `artifact_bytes_max`).
    case max
}

/// A claimed value: a number (keeping the literal as written) or text.
public enum ClaimValue: Equatable, Sendable, CustomStringConvertible {
    /// A number, in the claim kind's unit (seconds for times, even when written in ms), and its literal as written.
    case number(Double, literal: String)
    /// Text (a track, a tokenizer path, an evaluation mode, a setting such as `True`).
    case text(String)

    /// Builds a number from its literal, or `nil` if the literal is not a finite number.
    public static func number(literal: String) -> ClaimValue? {
        guard let value = Double(literal), value.isFinite else { return nil }
        return .number(value, literal: literal)
    }

    /// The numeric value, if this is a number.
    public var double: Double? {
        if case .number(let value, _) = self { return value }
        return nil
    }

    /// The value as a whole number, if it is one (byte counts, seeds, strides).
    public var integer: Int? {
        guard let value = double, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    public var description: String {
        switch self {
        case .number(_, let literal): return literal
        case .text(let text): return text
        }
    }
}

/// Where a claim was made, rendered as `file:line` or `file: key.path`.
public enum ClaimSource: Equatable, Sendable, CustomStringConvertible, Comparable {
    /// A line of a text file (README, log); `file` is relative to the submission folder, `line` is 1-based.
    case line(file: String, line: Int)
    /// A member of a JSON document, by its dotted key path (`seed_results.42.val_bpb`; array items as `[i]`).
    case jsonKey(file: String, path: String)
    /// The submission folder's own path (the track folder it sits in).
    case folder(String)
    /// A file's name (a log named `train_seed42.log` claims seed 42).
    case fileName(String)

    /// The file the claim is in (the folder for ``folder(_:)``).
    public var file: String {
        switch self {
        case .line(let file, _), .jsonKey(let file, _): return file
        case .folder(let path), .fileName(let path): return path
        }
    }

    public var description: String {
        switch self {
        case .line(let file, let line): return "\(file):\(line)"
        case .jsonKey(let file, let path): return "\(file): \(path)"
        case .folder(let path): return "folder \(path)"
        case .fileName(let name): return "file name \(name)"
        }
    }

    public static func < (lhs: ClaimSource, rhs: ClaimSource) -> Bool {
        func key(_ source: ClaimSource) -> (Int, String, Int, String) {
            switch source {
            case .folder(let path): return (0, path, 0, "")
            case .fileName(let name): return (2, name, 0, "")
            case .jsonKey(let file, let path): return (1, file, 0, path)
            case .line(let file, let line): return (2, file, line, "")
            }
        }
        return key(lhs) < key(rhs)
    }
}
