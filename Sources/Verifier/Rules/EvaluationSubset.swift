/// PG-EVAL-SUBSET — evaluation that, by default, covers only part of the validation set.
///
/// ## What it flags
/// An environment hyperparameter about validation/evaluation size (`VAL_MAX_TOKENS`,
/// `EVAL_LIMIT`, `VAL_FRACTION`, `VAL_MAX_BATCHES`...) whose literal default limits it (not 0,
/// not -1, not a fraction of 1; not a stride setting such as `EVAL_STRIDE_FRAC`, which sets how
/// windows overlap), and a validation array sliced by a literal bound
/// (`val_tokens[:1_000_000]`, also a module constant bound once to one, `val_tokens[:VAL_CAP]`);
/// a parameter that the module's calls pass validation data counts as validation data.
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
                  !["SECONDS", "TIME", "LEN", "STRIDE"].contains(where: { name.contains($0) }),
                  let number = setting.number, number > 0, !(name.contains("FRAC") && number >= 1) else { continue }
            findings.append(finding(source, line: setting.line,
                "\(setting.name) defaults to \(setting.value): evaluation covers a subset of the validation set unless overridden"))
        }
        let literals = ModuleLiterals(module: source.tree)
        func literalBound(_ node: PyNode) -> Int? {
            node.constant?.intValue ?? literals.binding(of: node)?.constant?.intValue
        }
        for (node, container) in validationSubscripts(source) {
            guard let slice = node.child("slice"), slice.type == "Slice",
                  let upper = slice.child("upper"), let bound = literalBound(upper), bound > 0 else { continue }
            findings.append(finding(source, line: node.line,
                "\(container.dottedName ?? "validation data") is cut to a literal \(bound) tokens"))
        }
        return findings
    }

    /// Subscripts of validation data with their container: a name that says validation, or a
    /// parameter that the module's calls pass validation data.
    static func validationSubscripts(_ source: AnalyzedSource) -> [(node: PyNode, container: PyNode)] {
        var found: [(node: PyNode, container: PyNode)] = []
        var seen: Set<ObjectIdentifier> = []
        for node in source.nodes {
            guard node.type == "Subscript", let container = node.child("value"),
                  DataSourceNames.labels(forIdentifier: container.terminalName ?? "").contains(.validation) else { continue }
            found.append((node, container))
            seen.insert(ObjectIdentifier(node))
        }
        let analysis = source.analysis
        for (position, function) in analysis.index.functions.enumerated() where position > 0 {
            let parameters = Set(function.parameters.indices.filter {
                $0 < analysis.incoming[position].count && analysis.incoming[position][$0].intrinsic.contains(.validation)
            }.map { function.parameters[$0] })
            guard !parameters.isEmpty else { continue }
            function.node.walk { node in
                guard node.type == "Subscript", !seen.contains(ObjectIdentifier(node)), let container = node.child("value"),
                      container.type == "Name", let name = container.string("id"), parameters.contains(name) else { return }
                found.append((node, container))
                seen.insert(ObjectIdentifier(node))
            }
        }
        return found.sorted { $0.node.line < $1.node.line }
    }
}
