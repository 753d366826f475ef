/// PG-MULTIPASS-RESCORE — validation tokens scored only in the last of several passes that also
/// train on them ("3 epochs, score on the final epoch").
///
/// ## What it flags
/// A scoring statement on validation data (loss/NLL accumulation, a gradient-free loss) guarded
/// by a test on a pass loop's variable (`if epoch == epochs - 1:`), or on a name computed from
/// it (`final_pass = p + 1 == passes`), where the same pass loop also updates weights on
/// validation data. A pass loop repeats the same work: its variable is named as epochs, or it
/// iterates over a plain count (`range(passes)`), not over validation data or positions in it
/// (a collection or a stepped range walks through items).
/// `range(n)` with `n` an environment setting whose default is 1 (`TTT_EPOCHS`) is one pass unless
/// a log, README command or submission.json states more (then an error citing it; nothing
/// stated: a warning). Settings guarding the scoring are read as for the other gated rules (a
/// default-off feature: its evidence decides; a default-on one stated off, or a branch the logs
/// show not taken: a note), and the lower severity applies. Passes in a function that trains
/// before the artifact is serialized score a model that is exported and scored again: no finding
/// (PG-PREQUANT-TTT covers the training).
///
/// ## Why
/// Each validation token must contribute exactly one BPB term from a single left-to-right pass
/// (Issue #1017, C4). Scoring in the final epoch uses weights already trained on those tokens
/// in the earlier epochs.
///
/// ## Source
/// Issue #677 (@valerio-oai: multi-epoch TTT reporting the final pass is invalid); Issue #1017
/// C4; dexhunter's review of PR #713 ("scoring happens only on the final epoch"); closure of
/// PR #991 (re-scored after training).
///
/// ## Legal example
/// One pass: score each chunk under `no_grad`, then train on it for several epochs.
///
/// ## Illegal example
/// `for epoch in range(3): for chunk in chunks: if epoch == 2: loss_sum += nll(chunk)` then
/// `loss.backward()` on the same chunk.
public enum MultiPassRescoring: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-MULTIPASS-RESCORE", name: "multi-pass-rescoring", severity: .error,
        summary: "Validation tokens are scored in a later pass after earlier passes trained on them.",
        source: "Issue #677 (@valerio-oai); Issue #1017 C4; PR #713 review")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        let analysis = source.analysis
        var findings: [Finding] = []
        for function in analysis.index.functions.indices {
            let events = analysis.events[function]
            let updates = events.filter { $0.kind == .update && $0.labels.intrinsic.contains(.validation) }
            // Passes that train before the artifact is serialized score a model the submission
            // then quantizes: the reported score comes later, from the artifact (the training
            // itself is PG-PREQUANT-TTT's finding).
            guard !updates.isEmpty, !trainsBeforeSerialization(function, source) else { continue }
            var reported: Set<Int> = []
            let body = analysis.index.functions[function].node
            for score in events where score.kind == .score && score.labels.intrinsic.isSuperset(of: [.validation, .target]) {
                for loop in score.loops where isPassLoop(loop, in: function, analysis) {
                    let derived = namesDerived(from: loop, in: body)
                    guard updates.contains(where: { $0.loops.contains(loop) }),
                          score.conditions.contains(where: { mentions($0, derived) }),
                          !reported.contains(loop.line) else { continue }
                    reported.insert(loop.line)
                    let name = analysis.index.functions[function].qualifiedName
                    let count = passCount(of: loop, in: body, source)
                    if case .stated(let passes, _) = count, passes <= 1 { continue }
                    // Settings that gate the scoring pass, read as for the other gated rules.
                    let gate = source.featureGate(analysis.disablingVariable(for: score, in: function))
                    let closed = source.ranInLogs(for: score, in: function) ? nil : source.closedGateNote(analysis.defaultOnGates(for: score, in: function),
                                                      disabledBy: analysis.disablingVariable(for: score, in: function))
                        ?? source.unloggedBranchNote(for: score, in: function)
                    findings.append(finding(source, line: score.line,
                        "\(name): validation tokens are scored in a chosen pass of the epoch loop at line \(loop.line), " +
                        "which also trains on them" + count.note + gate.note + (closed ?? ""),
                        severity: closed == nil ? min(count.severity, gate.severity(descriptor.severity)) : .note))
                }
            }
        }
        return findings
    }

    /// How many passes a loop `for epoch in range(n)` makes when `n` is a setting read from the
    /// environment with a default of one pass (`TTT_EPOCHS`, default 1): a single pass scores each
    /// token before training on it, so only a stated count above one makes the loop multi-pass.
    enum PassCount {
        case unknown
        /// The default of one pass, and nothing beside the code states the setting.
        case defaultSingle(variable: String)
        case stated(Int, evidence: String)

        var severity: Severity {
            if case .defaultSingle = self { return .warning }
            return descriptor.severity
        }

        var note: String {
            switch self {
            case .unknown: return ""
            case .defaultSingle(let variable):
                return " (only when \(variable) is above 1; its default is 1, a single pass, and no log, README command or submission.json beside the code states it)"
            case .stated(let passes, let evidence):
                return " (\(passes) passes in this submission: \(evidence))"
            }
        }
    }

    static func passCount(of loop: FlowEvent.Loop, in function: PyNode, _ source: AnalyzedSource) -> PassCount {
        var count: PyNode?
        function.walk { node in
            guard count == nil, ["For", "AsyncFor"].contains(node.type), node.line == loop.line,
                  let iterable = node.child("iter"), iterable.type == "Call",
                  iterable.child("func")?.dottedName == "range", iterable.children("args").count == 1 else { return }
            count = iterable.children("args")[0]
        }
        // `range(args.ttt_epochs)`, `range(max(args.ttt_epochs, 1))`.
        if let inner = count, inner.type == "Call", inner.child("func")?.dottedName == "max", let first = inner.children("args").first {
            count = first
        }
        guard let identifier = count?.terminalName, count?.type != "Call",
              let variable = singlePassDefault(of: identifier, in: source) else { return .unknown }
        if let stated = source.documents.statedCount(of: variable, identifier: identifier) {
            return .stated(stated.value, evidence: stated.evidence)
        }
        return .defaultSingle(variable: variable)
    }

    /// The environment variable behind `identifier` when the module assigns it
    /// `int(os.environ.get("TTT_EPOCHS", 1))` (a default of one).
    private static func singlePassDefault(of identifier: String, in source: AnalyzedSource) -> String? {
        source.environmentVariable(assignedTo: identifier) { arguments in
            arguments.count >= 2 && EnvironmentDefault.literalText(arguments[1]).flatMap(Double.init) == 1
        }
    }

    /// Whether `function` trains on validation data before the artifact is serialized: it holds
    /// such an update, or a call made before serializing reaches it.
    static func trainsBeforeSerialization(_ function: Int, _ source: AnalyzedSource) -> Bool {
        source.validationUpdates.contains { update in
            guard case .beforeSerialization = update.timing else { return false }
            if update.function == function { return true }
            return update.event.via.map { ValidationUpdate.reachable(from: $0, in: source.analysis).contains(function) } ?? false
        }
    }

    /// A loop that repeats the same work: named as epochs, or iterating over a plain count (not
    /// over validation data or positions in it).
    private static func isPassLoop(_ loop: FlowEvent.Loop, in function: Int, _ analysis: ModuleAnalysis) -> Bool {
        ValidationUpdate.isPassLoop(loop, in: function, analysis)
    }

    /// The loop's variables and the names assigned inside the loop from them
    /// (`final_pass = epoch + 1 == epochs`).
    private static func namesDerived(from loop: FlowEvent.Loop, in function: PyNode) -> [String] {
        var names = Set(loop.targets)
        for _ in 0..<4 {
            var added = false
            function.walk { node in
                guard node.type == "Assign", node.line > loop.line, node.line <= loop.endLine,
                      let value = node.child("value"), mentions(value, Array(names)) else { return }
                for target in node.children("targets") {
                    if let id = target.string("id"), names.insert(id).inserted { added = true }
                }
            }
            if !added { break }
        }
        return Array(names)
    }

    private static func mentions(_ test: PyNode, _ names: [String]) -> Bool {
        var found = false
        test.walk { node in if node.type == "Name", let id = node.string("id"), names.contains(id) { found = true } }
        return found
    }
}
