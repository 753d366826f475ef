import Foundation

/// PG-TTT-UNSCORED — test-time training on validation tokens that have not been scored yet.
///
/// ## What it flags
/// A weight update from validation data (after serialization) with no scoring of validation
/// data under `torch.no_grad()`/`torch.inference_mode()` earlier in any enclosing loop: e.g.
/// several epochs over all validation tokens, then one scoring pass. Scoring also counts as an
/// accumulation into the score the function returns from the same forward pass as the update
/// (outside any pass loop: one named as epochs or over `range(n)`, not over a collection), a gradient-free accumulation of validation content, or an earlier
/// loop that scored everything when nothing is scored after the update (a second pass), or
/// training, first in a loop's body, on what the previous iteration scored and kept
/// (`prev_x = x`, or a copy such as `x.clone()`, after the score). An
/// update in a function nothing in its script, nor any other file of its folder, calls or names
/// is a note (it does not run). Behind a default-off feature, the evidence beside the code
/// decides the severity; behind a test that passes by default (a default-on flag, a negated
/// default-off flag), a statement that closes it, or logs that show the branch not taken, make
/// it a note.
///
/// ## Why
/// "You are only allowed to test-time train on validation set tokens you've already evaluated
/// your model on" (README). Training first lets the model memorise the tokens it then scores.
///
/// ## Source
/// README FAQ; Issues #402, #677 (@valerio-oai, 2026-03-27); Issue #1017 C3; the legal
/// score-first pattern of PR #549 / the ruling around PR #1413.
///
/// ## Legal example
/// `for ci in range(num_chunks):` score chunk `ci` under `torch.inference_mode()`, then
/// `if ci < num_chunks - 1:` train on chunk `ci`.
///
/// ## Illegal example
/// `for epoch in range(3): for chunk in chunks: model(chunk).backward(); opt.step()` then
/// `eval_val(model, val_tokens)`.
public enum TTTOnUnscoredTokens: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-TTT-UNSCORED", name: "ttt-on-unscored-tokens", severity: .error,
        summary: "Weights are updated on validation tokens before those tokens are scored.",
        source: "README FAQ; Issues #402, #677 (@valerio-oai); PR #1413 ruling")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        source.validationUpdates.compactMap { update in
            guard update.timing == .unscored, update.slotVariable == nil else { return nil }
            let name = source.analysis.index.functions[update.function].qualifiedName
            let what = update.event.via.map { "calls \(source.analysis.index.functions[$0].qualifiedName), which updates weights," }
                ?? "updates weights (\(update.event.detail))"
            // Another file of the folder may import and call it (`from train_gpt import ttt_adapt`).
            let definition = source.analysis.index.functions[update.function].node.line
            if update.neverUsed, !FolderNameSearch.isNamed(
                source.analysis.index.functions[update.function].name,
                inFolder: (source.file as NSString).deletingLastPathComponent,
                except: (source.file, definition), otherFilesOnly: true) {
                return finding(source, line: update.event.line,
                    "\(name) \(what) on validation data that no enclosing loop has scored (no_grad/inference_mode) first; " +
                    "\(name) is never called or named elsewhere in this file or its folder, so it does not run", severity: .note)
            }
            let gate = source.featureGate(update.disabledBy)
            // Code a default-on setting lets run, which the submission states closed, did not run.
            let closed = source.ranInLogs(for: update.event, in: update.function) ? nil : source.closedGateNote(source.analysis.defaultOnGates(for: update.event, in: update.function),
                                              disabledBy: update.disabledBy)
                ?? source.unloggedBranchNote(for: update.event, in: update.function)
            return finding(source, line: update.event.line,
                "\(name) \(what) on validation data that no enclosing loop has scored (no_grad/inference_mode) first" + gate.note + (closed ?? ""),
                severity: closed == nil ? gate.severity(descriptor.severity) : .note)
        }
    }
}
