/// The sliding windows of `eval_val_sliding_ttt` (2026-03-23_LeakyReLU_LegalTTT_ParallelMuon) and
/// the chunk each belongs to.
///
/// That record's rule, not the exactly-once rule of ``EvalPlan``: window starts `0, stride, …` below
/// the target count, kept while the window has at least `stride` targets (the first always); each
/// scores from `max(length − stride, 0)` (the first from 0). Near the end of the stream shorter
/// windows score the same last targets again, so a few tail targets count more than once, as in the
/// record. A window belongs to the chunk of its first scored target (the last chunk at most).
public enum TTTWindowPlan {
    /// The windows of each chunk, in order; `chunks = ⌈targets / chunkTokens⌉`.
    public static func chunks(targets: Int, seqLen: Int, stride: Int, chunkTokens: Int) -> [[EvalWindow]] {
        let count = (targets + chunkTokens - 1) / chunkTokens
        var result = [[EvalWindow]](repeating: [], count: count)
        for start in Swift.stride(from: 0, to: targets, by: stride) {
            let length = min(start + seqLen, targets) - start
            guard length >= stride || start == 0 else { continue }
            let scoredFrom = start == 0 ? 0 : max(length - stride, 0)
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
