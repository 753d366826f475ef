/// The no-TTT score the 2026-04 records' logs print after quantization,
/// `diagnostic quantized val_loss:2.35060987 val_bpb:1.07406724 eval_time:11612ms`: their
/// document-segmented `eval_val` of the quantized model over the whole stream, before any test-time
/// training. A sampled evaluation of the artifact (standard mode) estimates exactly this number, so
/// it can be checked where the headline TTT score cannot be sampled.
public enum DiagnosticQuantizedScore {
    static let prefix = "diagnostic quantized val_loss:"

    /// One run per logged run whose log has such a line (the last one), its `valBPB` that line's
    /// val_bpb with its file and line.
    public static func runs(of submission: Submission, runs: [RunResult]) -> [RunResult] {
        runs.compactMap { run in
            guard let log = submission.logs.first(where: { $0.name == run.log }),
                  let index = log.lines.lastIndex(where: { $0.hasPrefix(prefix) }) else { return nil }
            let fields = log.lines[index].split(separator: " ")
            guard let field = fields.first(where: { $0.hasPrefix("val_bpb:") }) else { return nil }
            let literal = String(field.dropFirst("val_bpb:".count))
            guard let value = Double(literal), value.isFinite else { return nil }
            let claim = Claim(kind: .valBPB, value: .number(value, literal: literal), seed: run.seed,
                              qualifier: "diagnostic quantized", source: .line(file: log.name, line: index + 1))
            return RunResult(log: run.log, seed: run.seed, valBPB: claim, valLoss: nil, trainSeconds: nil, evalSeconds: nil)
        }
    }
}
