/// Which sliding windows a chunked TTT scores; the records differ.
public enum TTTWindowRule: String, Sendable, Equatable, Codable, CaseIterable {
    /// Window starts `0, stride, …` below the target count, kept while the window has at least
    /// `stride` targets (the first always); each scores from `max(length − stride, 0)` (the first
    /// from 0). Near the end of the stream shorter windows score the same last targets again, so a
    /// few tail targets count more than once. Records 2026-03-23_LeakyReLU_LegalTTT_ParallelMuon
    /// (`eval_val_sliding_ttt`) and 2026-04-04_SP4096_DepthRecurrence_ParallelResid_MuonEqR (`eval_val_ttt`).
    case rescoreTail = "tail"
    /// Windows kept while `start + seq_len − stride < targets`, each scoring from `seq_len − stride`
    /// (the first from 0): every target exactly once, as ``EvalMode/sliding(stride:)``. Record
    /// 2026-04-08_SP8192_ParallelResid_ScoreFirstTTT (`eval_val_sliding_ttt`, in its compressed code).
    case exactlyOnce = "once"
}

/// The sliding windows of a chunked TTT and the chunk each belongs to: the chunk of its first
/// scored target (the last chunk at most), as every record with chunked TTT assigns them.
public enum TTTWindowPlan {
    /// The windows of each chunk, in order; `chunks = ⌈targets / chunkTokens⌉`.
    public static func chunks(
        targets: Int, seqLen: Int, stride: Int, chunkTokens: Int, rule: TTTWindowRule = .rescoreTail
    ) -> [[EvalWindow]] {
        let count = (targets + chunkTokens - 1) / chunkTokens
        let context = seqLen - stride
        var result = [[EvalWindow]](repeating: [], count: count)
        for start in Swift.stride(from: 0, to: targets, by: stride) {
            let length = min(start + seqLen, targets) - start
            let scoredFrom: Int
            switch rule {
            case .rescoreTail:
                guard length >= stride || start == 0 else { continue }
                scoredFrom = start == 0 ? 0 : max(length - stride, 0)
            case .exactlyOnce:
                guard start + context < targets else { continue }
                scoredFrom = start == 0 ? 0 : context
            }
            let chunk = min((start + scoredFrom) / chunkTokens, count - 1)
            result[chunk].append(EvalWindow(start: start, length: length, scoredFrom: scoredFrom))
        }
        return result
    }
}

extension EvalPlan {
    /// A plan of explicit windows (a TTT chunk's), named after the sliding mode with `stride`.
    init(windows: [EvalWindow], stride: Int, seqLen: Int, streamLength: Int) {
        self.mode = .sliding(stride: stride)
        self.seqLen = seqLen
        self.streamLength = streamLength
        self.windows = windows
    }
}
