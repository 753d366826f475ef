import Foundation
import Reference

/// What one run of `verify eval --partial-out` writes: the exact sums of the items it scored and
/// everything that must agree for parts to be added (``PartialEvaluation/Identity``).
///
/// Parts whose identities are equal and whose item ranges cover the evaluation exactly once add up
/// (``PartialEvaluation/merge(_:)``) to bit for bit what the unsharded run gives: the loss sum is an
/// ``ExactLossSum`` and the token and byte counts are integers.
public struct PartialEvaluation: Codable, Sendable, Equatable {
    public static let formatName = "pgverify-eval-partial"
    public static let currentVersion = 1

    /// Everything a part's number depends on. Two parts merge only when these are equal.
    public struct Identity: Codable, Sendable, Equatable {
        public var inputs: EvaluationInputDigests
        /// `standard` or `sliding`.
        public var mode: String
        public var stride: Int?
        public var seqLen: Int
        public var maxTokens: Int?
        /// The caller's `--set` overrides.
        public var overrides: [String: String]
        /// For record families, the submission's evaluation that was reproduced.
        public var evaluation: String?
        /// Items (windows or batches) in the whole evaluation, and which kind.
        public var itemKind: String
        public var totalItems: Int
        /// `ttt-phased`: the resolved settings (what the code, logs and overrides gave).
        public var phasedSettings: PhasedTTTSettings? = nil
        /// `ttt-phased` parts of a sharded run: SHA-256 of the prefix state file (the weights after the
        /// global phases) the suffix parts started from and the prefix part wrote.
        public var prefixState: String? = nil

        public init(inputs: EvaluationInputDigests, mode: String, stride: Int?, seqLen: Int, maxTokens: Int?,
                    overrides: [String: String], evaluation: String?, itemKind: String, totalItems: Int,
                    phasedSettings: PhasedTTTSettings? = nil, prefixState: String? = nil) {
            self.inputs = inputs
            self.mode = mode
            self.stride = stride
            self.seqLen = seqLen
            self.maxTokens = maxTokens
            self.overrides = overrides
            self.evaluation = evaluation
            self.itemKind = itemKind
            self.totalItems = totalItems
            self.phasedSettings = phasedSettings
            self.prefixState = prefixState
        }
    }

    public var format = formatName
    public var version = currentVersion
    public var identity: Identity
    /// Where each model configuration value came from, as `verify eval` reports it. Not part of the
    /// identity: it names file paths, which differ between machines; the inputs' digests decide.
    public var config: [String: String]
    /// The architecture the code was matched to before evaluating (``ResolvedModelConfig/architecture``).
    public var architecture: String? = nil
    /// The shard this part was asked for (`nil`: the whole evaluation as one part).
    public var shard: EvalShard?
    /// The items scored: `lower ..< upper` of ``Identity/totalItems``.
    public var lower: Int
    public var upper: Int
    public var lossSum: ExactLossSum
    public var tokens: Int
    public var bytes: Int
    /// Wall-clock seconds of this part's evaluation.
    public var seconds: Double
    /// The OpenBLAS kernel set that computed it (``BLAS/kernel``). Parts from machines with different
    /// kernels still add exactly, but their per-token losses may differ from a one-machine run in the
    /// last bits; ``Merged/kernels`` lists them so the output can say so.
    public var blasKernel: String
    /// `ttt-phased`: the per-batch and per-phase detail of this part's batches.
    public var phased: PhasedTTTPartDetail? = nil

    public init(identity: Identity, config: [String: String], shard: EvalShard?, scored: ScoredItems, score: EvalPartial, seconds: Double) {
        self.identity = identity
        self.config = config
        self.shard = shard
        lower = scored.lower
        upper = scored.upper
        lossSum = score.lossSum
        tokens = score.tokens
        bytes = score.bytes
        self.seconds = seconds
        blasKernel = BLAS.kernel
    }

    public var score: EvalPartial { EvalPartial(lossSum: lossSum, tokens: tokens, bytes: bytes) }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    /// Reads a part written by ``write(to:)``; anything else is a ``PartialEvaluationError``.
    public static func read(_ url: URL) throws(PartialEvaluationError) -> PartialEvaluation {
        let bytes: [UInt8]
        do { bytes = try FileBytes.read(url.path, upTo: maximumFileBytes + 1) } catch {
            if case .unreadable(_, let detail) = error { throw .unreadable(file: url.path, detail: detail) }
            throw .unreadable(file: url.path, detail: error.description)
        }
        guard bytes.count <= maximumFileBytes else {
            throw .unreadable(file: url.path, detail: "larger than \(maximumFileBytes) bytes; not a partial result")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let part: PartialEvaluation
        do { part = try decoder.decode(PartialEvaluation.self, from: Data(bytes)) } catch {
            throw .unreadable(file: url.path, detail: "not a \(formatName) file (\(error))")
        }
        guard part.format == formatName, part.version == currentVersion else {
            throw .unreadable(file: url.path, detail: "format \(part.format) version \(part.version); expected \(formatName) version \(currentVersion)")
        }
        guard part.identity.totalItems >= 0, part.lower >= 0, part.lower <= part.upper, part.upper <= part.identity.totalItems,
              part.tokens >= 0, part.bytes >= 0 else {
            throw .unreadable(file: url.path, detail: "items \(part.lower)..<\(part.upper) of \(part.identity.totalItems), "
                              + "\(part.tokens) tokens, \(part.bytes) bytes: not a consistent part")
        }
        return part
    }

    /// A phased TTT part lists each of its batches (about 330 bytes each: some 3,000 batches of 16
    /// documents on the whole validation set) and the documents of each phase.
    static let maximumFileBytes = 32 << 20

    /// The whole evaluation from its parts: refuses parts that do not belong together or do not
    /// cover every item exactly once, naming the files.
    public static func merge(_ parts: [(file: String, part: PartialEvaluation)]) throws(PartialEvaluationError) -> Merged {
        guard let (firstFile, first) = parts.first else { throw .noParts }
        for (file, part) in parts.dropFirst() where part.identity != first.identity {
            throw .differentEvaluation(file: file, reference: firstFile, fields: first.identity.differences(from: part.identity))
        }
        let ordered = parts.sorted { ($0.part.lower, $0.part.upper) < ($1.part.lower, $1.part.upper) }
        var covered = 0
        var previousFile: String?
        var score = EvalPartial()
        var seconds = 0.0
        for (file, part) in ordered where part.upper > part.lower {
            if part.lower < covered {
                throw .overlap(file: file, other: previousFile ?? file, items: part.lower ..< min(covered, part.upper))
            }
            if part.lower > covered { throw .gap(items: covered ..< part.lower, total: first.identity.totalItems) }
            covered = part.upper
            previousFile = file
            score += part.score
            seconds += part.seconds
        }
        guard covered == first.identity.totalItems else {
            throw .gap(items: covered ..< first.identity.totalItems, total: first.identity.totalItems)
        }
        var merged = Merged(identity: first.identity, config: first.config, architecture: first.architecture,
                            score: score, parts: parts.count, seconds: seconds,
                            kernels: Array(Set(parts.map(\.part.blasKernel))).sorted())
        if first.identity.mode == "ttt-phased" {
            guard parts.allSatisfy({ $0.part.phased != nil }) else {
                throw .unreadable(file: parts.first { $0.part.phased == nil }?.file ?? firstFile,
                                  detail: "a ttt-phased part without its per-batch detail")
            }
            merged.phased = PhasedTTTPartDetail.merged(ordered.compactMap(\.part.phased))
        }
        return merged
    }

    /// Merged parts: the whole evaluation's score.
    public struct Merged: Sendable, Equatable {
        public var identity: Identity
        public var config: [String: String]
        public var architecture: String?
        public var score: EvalPartial
        public var parts: Int
        /// Seconds summed over the parts (machine time, not wall-clock).
        public var seconds: Double
        /// The OpenBLAS kernel sets the parts were computed with; more than one means the result may
        /// differ from a one-machine run in the last bits.
        public var kernels: [String]
        /// `ttt-phased`: the parts' detail joined in claim order.
        public var phased: PhasedTTTPartDetail? = nil
    }
}

extension PartialEvaluation.Identity {
    /// The names of the fields that differ, for messages.
    func differences(from other: Self) -> [String] {
        var names: [String] = []
        let a = inputs, b = other.inputs
        if a.artifact != b.artifact { names.append("artifact") }
        if a.code != b.code { names.append("code") }
        if a.logs != b.logs { names.append("logs") }
        if a.tokenizer != b.tokenizer { names.append("tokenizer") }
        if a.validationTokens != b.validationTokens { names.append("validation tokens") }
        if a.byteCounts != b.byteCounts { names.append("byte counts") }
        if mode != other.mode { names.append("mode") }
        if stride != other.stride { names.append("stride") }
        if seqLen != other.seqLen { names.append("seq_len") }
        if maxTokens != other.maxTokens { names.append("max tokens") }
        if overrides != other.overrides { names.append("--set overrides") }
        if evaluation != other.evaluation { names.append("evaluation") }
        if itemKind != other.itemKind || totalItems != other.totalItems { names.append("items") }
        if phasedSettings != other.phasedSettings { names.append("phased TTT settings") }
        if prefixState != other.prefixState { names.append("prefix state") }
        return names
    }
}

/// Parts that cannot be read or merged.
public enum PartialEvaluationError: InputError, Equatable {
    case unreadable(file: String, detail: String)
    case noParts
    case differentEvaluation(file: String, reference: String, fields: [String])
    case overlap(file: String, other: String, items: Range<Int>)
    case gap(items: Range<Int>, total: Int)

    public var description: String {
        switch self {
        case .unreadable(let file, let detail): "\(file): \(detail)"
        case .noParts: "no partial results to merge"
        case .differentEvaluation(let file, let reference, let fields):
            "\(file) is a part of another evaluation than \(reference): its \(fields.joined(separator: ", ")) differ"
        case .overlap(let file, let other, let items):
            "\(file) scores items \(items.lowerBound)..<\(items.upperBound) that \(other) scores too; each item must be in exactly one part"
        case .gap(let items, let total):
            "no part scores items \(items.lowerBound)..<\(items.upperBound) of \(total); the parts must cover the evaluation"
        }
    }
}
