/// PG-EVAL-SUBSET — evaluation that, by default, covers only part of the validation set.
///
/// ## What it flags
/// An environment hyperparameter about validation/evaluation size (`VAL_MAX_TOKENS`,
/// `EVAL_LIMIT`, `VAL_FRACTION`, `VAL_MAX_BATCHES`...) whose literal default limits it (not 0,
/// not -1, not a fraction of 1), and a validation array sliced by a literal bound
/// (`val_tokens[:1_000_000]`).
///
/// ## Why
/// val_bpb is defined over the whole FineWeb validation split; a score on a subset is not
/// comparable and can be cherry-picked.
///
/// ## Source
/// README (evaluation on the full validation set, "prove with certainty that the val_bpb is
/// correctly calculated"); non-record `2026-03-24_106M_Binary...` ships `VAL_MAX_TOKENS=500000`
/// as default.
///
/// ## Legal example
/// `val_tokens = val_tokens[: ((val_tokens.numel() - 1) // seq_len) * seq_len + 1]` (trimming to
/// whole sequences, as the baseline does); `VAL_MAX_TOKENS` defaulting to 0 meaning "all".
///
/// ## Illegal example
/// `max_tok = int(os.environ.get("VAL_MAX_TOKENS", 500000))`.
public enum EvaluationSubset: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-EVAL-SUBSET", name: "evaluation-subset", severity: .warning,
        summary: "Evaluation covers only part of the validation set by default.",
        source: "README (val_bpb over the full validation split)")

    private static let limitWords = ["MAX", "LIMIT", "FRAC", "SUBSET", "SAMPLE", "BATCHES"]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        var findings: [Finding] = []
        for setting in source.environmentDefaults {
            let name = setting.name.uppercased()
            guard name.hasPrefix("VAL") || name.hasPrefix("EVAL"),
                  limitWords.contains(where: { name.contains($0) }),
                  !name.contains("SECONDS") && !name.contains("TIME") && !name.contains("LEN"),
                  let number = setting.number, number > 0, !(name.contains("FRAC") && number >= 1) else { continue }
            findings.append(finding(source, line: setting.line,
                "\(setting.name) defaults to \(setting.value): evaluation covers a subset of the validation set unless overridden"))
        }
        for node in source.nodes {
            guard node.type == "Subscript", let container = node.child("value"),
                  DataSourceNames.labels(forIdentifier: container.terminalName ?? "").contains(.validation),
                  let slice = node.child("slice"), slice.type == "Slice",
                  let upper = slice.child("upper"), let bound = upper.constant?.intValue, bound > 0 else { continue }
            findings.append(finding(source, line: node.line,
                "\(container.dottedName ?? "validation data") is cut to a literal \(bound) tokens"))
        }
        return findings
    }
}
