import Foundation

/// PG-TARGET-GATED-EXPERT — an eval-time expert whose hint at position i is emitted or withheld
/// by a property of the token at i, the token the hint predicts.
///
/// ## What it flags
/// In a loop over token positions (Python `for i, tok in enumerate(tokens)` / `for i in range(n)`,
/// or a C/C++/CUDA `for` loop in a source file of the folder), an output written at the loop's
/// position (`within_valid[i] = 1`, `top_token[i] = table[ctx].top`) only under a condition that
/// reads a property of the current token looked up in a table (`is_boundary = boundary_lut[tok]`,
/// directly or through names computed from it, or an earlier `if …: continue` on it), while that
/// token enters the loop's state only after the write (`token_push(st, tok)`,
/// `self.counts[(ctx, tok)] += 1`): so the hint at i is a prediction of that very token. A value
/// computed from the token itself (`bytes[i] = base_bytes[tok] + 1`) is not a hint and is not
/// flagged, nor is a comparison with the hint (`hit[i] = tok == hint`, no table lookup).
/// A warning: whether this expert's hints reach the score in the submitted run (its thresholds
/// and boosts) is not resolved; a note when nothing in the folder's code names the function.
///
/// ## Why
/// p(t) may depend only on the artifact and the tokens before t (Issue #1017, C1). A gate that
/// emits a hint only where the realized token is, say, inside a word tells the scorer something
/// about the token it is scoring, even when the hint's content comes from the prefix.
///
/// ## Source
/// Compliance guide §14: leon2k2k2k's review of PRs #1967 and #2018 (`online_ngram_state.c`,
/// `is_boundary = boundary_lut[tokens[i]]` deciding `within_valid[i]`), accepted by #2018's author,
/// who kept only the token-level expert, as the merged PR #1514 had.
///
/// ## Legal example
/// A token-level n-gram expert: `top_token[i]` from the table of the context hash, written when the
/// context is long enough, then `token_push(st, tokens[i])`.
///
/// ## Illegal example (warning)
/// `tok = tokens[i]; is_boundary = boundary_lut[tok]; if (!is_boundary && len > 0) { valid[i] = 1; ... }
/// ... token_push(st, tok);`
public enum TargetGatedExpert: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-TARGET-GATED-EXPERT", name: "target-gated-expert", severity: .warning,
        summary: "An eval-time expert emits its hint at a position only when a property of the token it predicts holds.",
        source: "compliance guide §14; leon2k2k2k's review of PRs #1967/#2018; PR #1514")

    /// Native sources read by the C scanner, and the most bytes read of each.
    static let scannedExtensions: Set<String> = ["c", "cc", "cpp", "cxx", "cu", "cuh", "h", "hpp"]
    static let maximumNativeBytes = 4 << 20

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        var findings: [Finding] = []
        let folder = (source.file as NSString).deletingLastPathComponent
        // Each loop is judged once, in its innermost function (module-level code runs on import).
        func visit(_ node: PyNode, function: PyNode?) {
            var function = function
            if node.type == "FunctionDef" || node.type == "AsyncFunctionDef" { function = node }
            if node.type == "For", let (_, statements) = PythonLoopStatements.describe(node) {
                for gated in TargetGatedLoops.gatedWrites(statements) {
                    let name = function?.string("name") ?? "module-level code"
                    let called = function.map { FolderNameSearch.isNamed(name, inFolder: folder, except: (source.file, $0.line)) } ?? true
                    findings.append(finding(source, line: gated.writeLine,
                        message(gated, function: name, called: called), severity: called ? nil : .note))
                }
            }
            for child in node.childNodes { visit(child, function: function) }
        }
        visit(source.tree, function: nil)
        // An inner loop's statements are part of its outer loop's too: one finding per condition.
        var seen: Set<Int> = []
        return findings.filter { seen.insert($0.line).inserted }
    }

    /// The findings in the native sources `names` (relative to `folder`).
    static func nativeFindings(folder: String, names: [String]) -> [Finding] {
        var findings: [Finding] = []
        for name in names where scannedExtensions.contains((name as NSString).pathExtension.lowercased()) {
            let path = folder.isEmpty ? name : folder + "/" + name
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            defer { try? handle.close() }
            guard let data = try? handle.read(upToCount: maximumNativeBytes) else { continue }
            let scanner = CLoopScanner(source: String(decoding: data, as: UTF8.self))
            var seen: Set<Int> = []
            for loop in scanner.loops() {
                for gated in TargetGatedLoops.gatedWrites(loop.statements) where seen.insert(gated.writeLine).inserted {
                    let called = FolderNameSearch.isNamed(loop.function, inFolder: folder, except: (path, loop.definitionLine))
                    findings.append(Finding(
                        rule: descriptor.id, severity: called ? descriptor.severity : .note, file: path, line: gated.writeLine,
                        message: message(gated, function: loop.function, called: called)))
                }
            }
        }
        return findings
    }

    static func message(_ gated: TargetGatedWrite, function: String, called: Bool) -> String {
        let outputs = gated.arrays.map { "`\($0)[i]`" }.joined(separator: ", ")
        let text = "\(function) writes \(outputs) only when the condition at line \(gated.conditionLine) holds, "
            + "which reads a property of the token at position i (line \(gated.propertyLine)); that token enters the "
            + "expert's state only after the write (line \(gated.stateLine)), so it is the token the hint at i predicts: "
            + "the hint's gate reads the target"
        if !called { return text + "; nothing else in the folder's code names \(function), so it does not run" }
        return text + " (whether this expert's hints reach the score in the submitted run, through its thresholds "
            + "and boosts, was not resolved)"
    }
}
