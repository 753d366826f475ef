/// PG-VAL-IN-TRAINING — validation data used to build the artifact: calibration, statistics,
/// tokenizer fitting, or choosing a checkpoint by its validation score.
///
/// ## What it flags
/// (a) A calibration/statistics call (`collect_hessians`, `calibrate*`, `gptq*`,
/// `SentencePieceTrainer.train`) whose arguments derive from validation data; (b) an `if` on a
/// validation-derived value whose body keeps or restores a state dict, deep-copies the model
/// or stops training (`best_sd = model.state_dict()` when `val_bpb < best`).
///
/// ## Why
/// "You CANNOT access validation data during training" (README). Hessians, statistics or a
/// checkpoint chosen with validation tokens put validation information into the artifact.
///
/// ## Source
/// README FAQ; PR #1019 (val-calibrated GPTQ questioned; the merged version switched to
/// self-generated calibration); PR #1077 review (val-based `best_sd` selection missed).
///
/// ## Legal example
/// Calibrate GPTQ on training batches or self-generated text; evaluate periodically with the
/// result only printed.
///
/// ## Illegal example
/// `hessians = collect_hessians(model, val_tokens[:calib_tokens])`, or
/// `if val_bpb < best: best_sd = copy.deepcopy(model.state_dict())`.
public enum ValidationInTraining: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-VAL-IN-TRAINING", name: "validation-in-training", severity: .error,
        summary: "Validation data feeds calibration, statistics, tokenizer fitting or checkpoint choice.",
        source: "README FAQ; PR #1019; PR #1077 review")

    private static let selectionCalls: Set<String> = ["state_dict", "load_state_dict", "deepcopy"]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        let analysis = source.analysis
        var findings: [Finding] = []
        for function in analysis.index.functions.indices {
            let name = analysis.index.functions[function].qualifiedName
            for event in analysis.events[function] where event.via == nil {
                let labels = analysis.effective(event.labels, in: function)
                guard labels.contains(.validation) else { continue }
                switch event.kind {
                case .calibrate:
                    findings.append(finding(source, line: event.line,
                        "\(name): \(event.detail) is given validation data (calibration/statistics must not see it)"))
                case .decision:
                    guard let statement = statement(at: event.line, type: "If", in: analysis.index.functions[function].node),
                          selectsCheckpoint(statement) else { continue }
                    findings.append(finding(source, line: event.line,
                        "\(name): a checkpoint is kept, restored or training stopped depending on a validation score"))
                default:
                    continue
                }
            }
        }
        return findings
    }

    private static func statement(at line: Int, type: String, in function: PyNode) -> PyNode? {
        var found: PyNode?
        function.walk { node in if found == nil, node.line == line, node.type == type { found = node } }
        return found
    }

    private static func selectsCheckpoint(_ statement: PyNode) -> Bool {
        var selects = false
        for child in statement.children("body") {
            child.walk { node in
                if node.type == "Break" { selects = true }
                if node.type == "Call", let name = node.terminalName, selectionCalls.contains(name) { selects = true }
            }
        }
        return selects
    }
}
