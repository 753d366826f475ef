/// PG-TTT-LAST-CHUNK — score-first TTT without a visible last-chunk guard.
///
/// ## What it flags
/// A score-first TTT loop (scores a chunk under no_grad/inference_mode, then trains on it) in
/// which no test for the last iteration appears before the update: no name containing `last`,
/// no comparison with `n - 1` or of `ci + 1` with a count.
///
/// ## Why
/// Training on the final chunk after scoring it is harmless for the score but wasted evaluation
/// time, and reviewers read the guard as evidence the author reasoned about chunk order; its
/// absence deserves a look, not a rejection.
///
/// ## Source
/// The score-first recipe of PR #549 / #1413 (`is_last_chunk` guard); review checklist in
/// the Agora reviews (Issue #1017 discussion).
///
/// ## Legal example
/// `is_last_chunk = ci == num_chunks - 1` and `if not is_last_chunk: train(chunk)`.
///
/// ## Illegal example (warning)
/// The same loop training on every chunk, the last one included.
public enum TTTLastChunkGuard: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-TTT-LAST-CHUNK", name: "ttt-last-chunk-guard", severity: .warning,
        summary: "Score-first TTT loop without a visible guard against training on the last chunk.",
        source: "PR #549 / #1413 score-first recipe")

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        source.validationUpdates.compactMap { update in
            guard case .scoreFirst(let loop, let guarded) = update.timing, !guarded, update.slotVariable == nil
            else { return nil }
            let name = source.analysis.index.functions[update.function].qualifiedName
            return finding(source, line: update.event.line,
                "\(name): score-first TTT loop at line \(loop.line) trains without a visible last-chunk guard" + source.featureGate(update.disabledBy).note,
                severity: source.featureGate(update.disabledBy).severity(descriptor.severity))
        }
    }
}
