/// How the validation stream is cut into windows.
public enum EvalMode: Sendable, Equatable {
    /// Non-overlapping windows of `seq_len`, every target scored: the baseline's `eval_val`.
    case standard
    /// Windows of `seq_len` advanced by `stride`; the first window scores all its targets, every
    /// later one only those past its first `seq_len − stride` (its context), so each target is
    /// scored once with the longest context the scheme gives it. A window is kept while it still has
    /// a target to score (`start + seq_len − stride < total`), which makes the last one shorter.
    ///
    /// This is the rule of records 2026-04-01_Vocab4096_MLPMult4_WD085, 2026-04-10_VarLenAttn and
    /// later (and of the taleef7 fork's `build_sliding_window_plan`). Earlier records keep every
    /// window with ≥ 1 target and score from `max(wlen − stride, 0)`, which scores a few tail
    /// targets more than once; see tools/README.md ("## eval_goldens.py").
    case sliding(stride: Int)

    /// `"standard"` or `"sliding"`.
    public var name: String {
        switch self {
        case .standard: "standard"
        case .sliding: "sliding"
        }
    }
}

/// One forward pass: inputs `tokens[start ..< start+length]`, targets one further, scored from
/// position `scoredFrom` within the window.
public struct EvalWindow: Sendable, Equatable {
    public var start: Int
    public var length: Int
    public var scoredFrom: Int

    public init(start: Int, length: Int, scoredFrom: Int) {
        self.start = start
        self.length = length
        self.scoredFrom = scoredFrom
    }
}

/// An evaluation that cannot be set up from the given settings and inputs, or whose model
/// produced a non-finite loss.
public enum EvalError: InputError, Equatable {
    case invalidSequenceLength(Int)
    case invalidStride(stride: Int, seqLen: Int)
    case invalidMaxTokens(Int)
    case streamTooShort(tokens: Int, seqLen: Int)
    case tokenOutOfRange(position: Int, token: Int, vocabulary: Int)
    case byteTablesTooSmall(tables: Int, vocabulary: Int)
    case sequenceLongerThanModel(seqLen: Int, modelPositions: Int)
    case nonFiniteLoss(position: Int, value: Float)
    case planDoesNotMatchStream(planned: Int, actual: Int)
    /// A CaseOps byte sidecar with fewer entries than the token stream it must cover.
    case byteSidecarTooShort(entries: Int, tokens: Int)
    /// A shard outside `0 ≤ index < count ≤ EvalShard.maximumCount`.
    case invalidShard(index: Int, count: Int)
    /// A shard not written `K/N`.
    case unreadableShard(String)

    public var description: String {
        switch self {
        case .invalidSequenceLength(let n): "sequence length must be positive, got \(n)"
        case .invalidStride(let stride, let seqLen): "stride must be in 1...\(seqLen) (the sequence length), got \(stride)"
        case .invalidMaxTokens(let n): "max tokens must be positive, got \(n)"
        case .streamTooShort(let tokens, let seqLen):
            "validation stream of \(tokens) tokens is too short for one window of \(seqLen) (plus one target)"
        case .tokenOutOfRange(let position, let token, let vocabulary):
            "validation token \(token) at position \(position) is outside the model's vocabulary of \(vocabulary)"
        case .byteTablesTooSmall(let tables, let vocabulary):
            "byte-accounting tables cover \(tables) tokens, the model's vocabulary has \(vocabulary)"
        case .sequenceLongerThanModel(let seqLen, let positions):
            "sequence length \(seqLen) exceeds the \(positions) positions the model was prepared for"
        case .planDoesNotMatchStream(let planned, let actual):
            "the evaluation plan was made for \(planned) tokens, the stream has \(actual)"
        case .byteSidecarTooShort(let entries, let tokens):
            "the CaseOps byte sidecar has \(entries) entries, the validation stream \(tokens) tokens"
        case .invalidShard(let index, let count):
            "shard \(index)/\(count) is not one of N parts: need 0 ≤ K < N ≤ \(EvalShard.maximumCount) (K counts from 0)"
        case .unreadableShard(let text): "shard '\(text)' is not K/N (e.g. 0/4 for the first of four parts)"
        case .nonFiniteLoss(let position, let value):
            "the model's loss for the target at stream position \(position) is \(value); the weights do not evaluate"
        }
    }
}

/// The windows of one evaluation over a prepared token stream.
public struct EvalPlan: Sendable, Equatable {
    public let mode: EvalMode
    public let seqLen: Int
    /// Tokens in the stream (targets + 1).
    public let streamLength: Int
    public let windows: [EvalWindow]

    /// Plans `mode` over a stream of `streamLength` tokens (already cut by ``EvalTokens/prepare``).
    public init(mode: EvalMode, seqLen: Int, streamLength: Int) throws(EvalError) {
        guard seqLen > 0 else { throw .invalidSequenceLength(seqLen) }
        let total = streamLength - 1
        guard total >= 1 else { throw .streamTooShort(tokens: streamLength, seqLen: seqLen) }
        var windows: [EvalWindow] = []
        switch mode {
        case .standard:
            // eval_val: (N − 1) / seq_len whole sequences; x = tokens[i·T ..< (i+1)·T], y shifted by one.
            for i in 0..<(total / seqLen) {
                windows.append(EvalWindow(start: i * seqLen, length: seqLen, scoredFrom: 0))
            }
        case .sliding(let stride):
            guard stride >= 1, stride <= seqLen else { throw .invalidStride(stride: stride, seqLen: seqLen) }
            let context = seqLen - stride
            var start = 0
            while start < total && start + context < total {
                let length = min(start + seqLen, total) - start
                windows.append(EvalWindow(start: start, length: length, scoredFrom: start == 0 ? 0 : context))
                start += stride
            }
        }
        guard !windows.isEmpty else { throw .streamTooShort(tokens: streamLength, seqLen: seqLen) }
        self.mode = mode
        self.seqLen = seqLen
        self.streamLength = streamLength
        self.windows = windows
    }

    /// Targets the whole plan scores.
    public var scoredTokens: Int { windows.reduce(0) { $0 + $1.length - $1.scoredFrom } }
}

/// The validation stream as the challenge evaluates it.
public enum EvalTokens {
    /// `load_validation_tokens`: the first `usable + 1` tokens, `usable` the largest multiple of
    /// `seqLen` not above `count − 1`. With `maxTokens`, the stream is first cut to its first
    /// `maxTokens + 1` tokens (a prefix of `maxTokens` targets), then the same rule applies, in
    /// both modes (the records' sliding evaluators also run on `load_validation_tokens`' output).
    public static func prepare(_ tokens: [UInt16], seqLen: Int, maxTokens: Int? = nil) throws(EvalError) -> [UInt16] {
        guard seqLen > 0 else { throw .invalidSequenceLength(seqLen) }
        var count = tokens.count
        if let maxTokens {
            guard maxTokens > 0 else { throw .invalidMaxTokens(maxTokens) }
            if maxTokens < count { count = maxTokens + 1 }  // never `maxTokens + 1`, which overflows at Int.max
        }
        let usable = count > 0 ? (count - 1) / seqLen * seqLen : 0
        guard usable > 0 else { throw .streamTooShort(tokens: count, seqLen: seqLen) }
        return Array(tokens[0...usable])
    }
}
