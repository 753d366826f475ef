import Foundation
import Testing
@testable import Verifier

/// The evaluation procedures found by structure in real submissions, beside what the retired text
/// rules found (the whitespace-free patterns of the old FamilySlidingResolver and TTT window-rule
/// search, restated here only to compare). A survey, run by hand:
/// `PGVERIFY_PROCEDURE_SURVEY=out.tsv swift test --filter EvaluationProcedureCorpusSurvey` reads every
/// train_gpt*.py of /work/prcorpus whose text mentions eval_val_sliding or ttt.
@Suite struct EvaluationProcedureCorpusSurvey {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PGVERIFY_PROCEDURE_SURVEY"] != nil))
    func survey() throws {
        let output = ProcessInfo.processInfo.environment["PGVERIFY_PROCEDURE_SURVEY"]!
        let root = URL(fileURLWithPath: "/work/prcorpus")
        var files: [URL] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.lastPathComponent.hasPrefix("train_gpt"), url.pathExtension == "py" { files.append(url) }
        }
        var rows = ["file\told_sliding\tnew_sliding\told_ttt_rule\tnew_ttt_rule\told_eval_len\tnew_eval_len\tprocedures"]
        var texts: [(url: URL, text: String)] = []
        for url in files.sorted(by: { $0.path < $1.path }) {
            guard let text = try? SubmissionCodeText.read(url), text.contains("eval_val_sliding") || text.lowercased().contains("ttt")
            else { continue }
            texts.append((url, text))
        }
        // Parsed in batches: one interpreter start per batch, not per file.
        let parser = try ArchitectureConformance.cachedParser()
        for start in stride(from: 0, to: texts.count, by: 64) {
            let batch = Array(texts[start..<min(start + 64, texts.count)])
            let trees: [PyNode?] = (try? parser.parse(batch.map { .source(name: $0.url.path, text: $0.text) }))
                ?? batch.map { try? parser.parse([.source(name: $0.url.path, text: $0.text)]).first }
            for ((url, text), tree) in zip(batch, trees) {
                let compact = text.filter { !$0.isWhitespace }
                let oldSliding = Self.oldSliding(text)
                let oldRule = Self.oldWindowRule(compact)
                let oldEvalLength = Self.functionsUsing("seq_len=h.eval_seq_len", in: compact).contains { $0.lowercased().contains("ttt") }
                var newSliding = "-", newRule = "-", newEvalLength = "-", summary = "ERROR unparsed"
                if let tree {
                    let procedures = EvaluationProcedureReader.procedures(in: tree)
                    newSliding = procedures.contains { $0.isSliding && $0.windowRule == .exactlyOnce && $0.scoredPositions == .afterContext
                                                       && $0.segmentsDocuments && $0.batchSequences != nil } ? "doc-sliding" : "no"
                    let ttt = procedures.filter(\.isTestTimeTraining)
                    newRule = ttt.first(where: { $0.windowRule != nil })
                        .map { "\($0.windowRule!.rawValue)\($0.updateOrder == .scoreBeforeUpdate ? "" : "!order")" }
                        ?? (ttt.contains { $0.unknownWindows != nil } ? "unknown" : "none")
                    newEvalLength = ttt.contains { $0.usesEvalSeqLen } ? "yes" : "no"
                    summary = procedures.map(\.summary).joined(separator: " | ")
                }
                rows.append([url.path, oldSliding ? "doc-sliding" : "no", newSliding, oldRule, newRule,
                             oldEvalLength ? "yes" : "no", newEvalLength, summary].joined(separator: "\t"))
            }
        }
        try rows.joined(separator: "\n").write(toFile: output, atomically: true, encoding: .utf8)
    }

    /// The retired FamilySlidingResolver rule: a top-level `def eval_val_sliding(` whose text holds five
    /// signals and a `batch_seqs=N` default.
    static func oldSliding(_ text: String) -> Bool {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("def eval_val_sliding(") }) else { return false }
        var end = start + 1
        while end < lines.count, lines[end].isEmpty || lines[end].first == " " || lines[end].first == "\t"
                || lines[end].hasPrefix(")") { end += 1 }
        let compact = lines[start..<end].joined(separator: "\n").filter { !$0.isWhitespace }
        let signals = ["ifws+context_size<total_tokens", "bos_pos", "cu_seqlens=cu_seqlens",
                       "s=0ifws==0elsecontext_size", "x_parts.append(chunk[:-1])"]
        guard signals.allSatisfy(compact.contains), let range = compact.range(of: "batch_seqs=") else { return false }
        return Int(compact[range.upperBound...].prefix { $0.isNumber }) != nil
    }

    /// The retired TTT window-rule search: a pattern inside a function whose name mentions ttt.
    static func oldWindowRule(_ compact: String) -> String {
        let rules: [(String, String)] = [("tail", "min(ws+seq_len,total_tokens)-ws>=strideorws==0]"),
                                         ("once", "ifws+context_size<total_tokens]")]
        for (rule, pattern) in rules where functionsUsing(pattern, in: compact).contains(where: { $0.lowercased().contains("ttt") }) {
            return rule
        }
        return "none"
    }

    static func functionsUsing(_ pattern: String, in compact: String) -> [String] {
        var names: [String] = []
        var searchStart = compact.startIndex
        while let hit = compact.range(of: pattern, range: searchStart..<compact.endIndex) {
            if let def = compact.range(of: "def", options: .backwards, range: compact.startIndex..<hit.lowerBound) {
                names.append(String(compact[def.upperBound...].prefix { $0 != "(" }))
            }
            searchStart = hit.upperBound
        }
        return names
    }
}
