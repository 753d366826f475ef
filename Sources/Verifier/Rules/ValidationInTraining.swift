/// PG-VAL-IN-TRAINING — validation data used to build the artifact: calibration, statistics,
/// tokenizer fitting, or choosing a checkpoint by its validation score.
///
/// ## What it flags
/// A dataflow rule on what values derived from validation data may control. The *content* of
/// validation data (its tokens, and the losses, metrics and predictions computed from them) must
/// not reach what the artifact is made of: (a) a calibration/statistics call (`collect_hessians`,
/// `calibrate*`, `gptq*`, `SentencePieceTrainer.train`) given it; (b) an `if` testing it whose
/// body keeps or restores weights (`state_dict`, `load_state_dict`, `deepcopy`: checkpoint
/// selection) or breaks out of a loop that updates weights (early stopping). Its *extent* (sizes,
/// counts, positions: `len(val_tokens)`, `.numel()`, `.shape`, `range(...)`, an `enumerate`
/// counter, `max(val_tokens) + 1` as a vocabulary size) may bound loops or size tables: `if step >= total_val_steps: break` is not a decision made from
/// validation data, and neither is a `break` that leaves a loop without weight updates.
/// A selection whose copies of the state reach only `torch.save` to a file that no code of the
/// folder reads back (and that the README and submission.json do not name) is a warning naming the
/// file: it changes the submission only if that file is what is shipped; copies read only for
/// values the body logs keep nothing (``KeptState``).
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
/// result only printed; stop a loop over validation batches after `len(val_tokens) // n` steps.
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
                guard labels.mayHoldValidation else { continue }
                // Validation data only through a value a default-off setting chooses
                // (`args.val_files if args.calib_on_val else args.train_files`): behind that setting.
                let valueGate = labels.contains(.validation) ? nil : analysis.flags.valueGates.first
                switch event.kind {
                case .calibrate:
                    let gate = source.featureGate(analysis.disablingVariable(for: event, in: function) ?? valueGate)
                    findings.append(finding(source, line: event.line,
                        "\(name): \(event.detail) is given validation data (calibration/statistics must not see it)" + gate.note,
                        severity: gate.severity(descriptor.severity)))
                case .decision:
                    guard let statement = statement(at: event.line, type: "If", in: analysis.index.functions[function].node)
                    else { continue }
                    let gate = source.featureGate(analysis.disablingVariable(for: event, in: function) ?? valueGate)
                    if selectsCheckpoint(statement) {
                        let documents = [source.documents.readme, source.documents.submissionJSON].compactMap { $0 }
                        switch KeptState.of(statement, in: analysis.index.functions[function].node, module: source.tree,
                                            codeLines: source.documents.codeLines, documents: documents) {
                        case .kept:
                            findings.append(finding(source, line: event.line,
                                "\(name): a checkpoint is kept or restored depending on a value computed from validation data" + gate.note,
                                severity: gate.severity(descriptor.severity)))
                        case .savedOnly(let path, let line):
                            findings.append(finding(source, line: event.line,
                                "\(name): a checkpoint chosen by a value computed from validation data is only written to \(path) "
                                    + "(line \(line)), which no code of the folder reads back; an error only if that file is what the "
                                    + "submission ships" + gate.note,
                                severity: gate.severity(.warning)))
                        case .notKept:
                            continue
                        }
                    } else if breaks(statement), let loop = event.loops.last,
                              updatesWeights(in: loop, events: analysis.events[function]) {
                        findings.append(finding(source, line: event.line,
                            "\(name): training (the loop at line \(loop.line), which updates weights) stops depending on a value computed from validation data" + gate.note,
                            severity: gate.severity(descriptor.severity)))
                    }
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
                if node.type == "Call", let name = node.terminalName, selectionCalls.contains(name) { selects = true }
            }
        }
        return selects
    }

    /// Whether the `if` body breaks out of the loop around the `if` (a `break` inside a loop of
    /// its own leaves only that loop).
    private static func breaks(_ statement: PyNode) -> Bool {
        func search(_ nodes: [PyNode]) -> Bool {
            nodes.contains { node in
                switch node.type {
                case "Break": return true
                case "For", "AsyncFor", "While", "FunctionDef", "AsyncFunctionDef", "ClassDef": return false
                case "If": return search(node.children("body")) || search(node.children("orelse"))
                case "With", "AsyncWith": return search(node.children("body"))
                case "Try", "TryStar":
                    return search(node.children("body")) || search(node.children("orelse"))
                        || search(node.children("finalbody")) || node.children("handlers").contains { search($0.children("body")) }
                default: return false
                }
            }
        }
        return search(statement.children("body"))
    }

    /// Whether the loop performs a weight update or an optimizer step (directly or in a call).
    private static func updatesWeights(in loop: FlowEvent.Loop, events: [FlowEvent]) -> Bool {
        events.contains { event in
            (event.kind == .update || event.kind == .optimizerStep) && event.line >= loop.line && event.line <= loop.endLine
        }
    }
}
