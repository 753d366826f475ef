import Foundation

/// Whether a branch on a setting ran in the submission's logged runs, read from the lines the
/// code prints: a run that printed what its function prints after the branch, but nothing the
/// branch prints (itself or in the function it calls), did not take the branch
/// (`if args.ttt_enabled: log0("ttt:start ..."); ttt_adapt(...)` with logs that hold the final
/// score lines and no `ttt:` line).
extension AnalyzedSource {
    /// A line the code prints: the literal text before the first placeholder of a string or
    /// f-string passed first to a call named as printing or logging (`log0(f"ttt:start lr={lr}")`
    /// prints `ttt:start lr=`).
    struct PrintedText {
        var text: String
        var line: Int
        /// Printed by a statement of the scope itself, not under a further `if` or loop.
        var unconditional: Bool
    }

    /// The note of a finding whose code runs only in a branch on a setting that, by the logs,
    /// no logged run took; nil when the logs do not show that. Each place the code runs from is
    /// judged: the `if` around `event` in `function`, or around every call of `function`.
    public func unloggedBranchNote(for event: FlowEvent, in function: Int) -> String? {
        guard !documents.logs.isEmpty else { return nil }
        let index = analysis.index
        let all = printedTexts(in: tree)
        var citation = skippedBranch(holding: event.line, in: function, callee: nil, all: all)
        if citation == nil {
            var sites: [(caller: Int, line: Int)] = []
            for caller in index.functions.indices {
                for call in analysis.events[caller] where call.via == function
                    && !sites.contains(where: { $0.caller == caller && $0.line == call.line }) {
                    sites.append((caller, call.line))
                }
            }
            let citations = sites.map { skippedBranch(holding: $0.line, in: $0.caller, callee: function, all: all) }
            if !citations.isEmpty, citations.allSatisfy({ $0 != nil }) { citation = citations[0] }
        }
        guard let citation else { return nil }
        return " (the logs show it did not run: they hold \(citation), printed after it, and none of the lines it prints)"
    }

    /// The log line that shows the branch on a setting around `line` in `function` was not
    /// taken (with `callee`'s own lines counted as the branch's), or nil.
    private func skippedBranch(holding line: Int, in function: Int, callee: Int?, all: [PrintedText]) -> String? {
        let body = analysis.index.functions[function].node
        guard let branch = settingBranch(around: line, in: body) else { return nil }
        var inside = printedTexts(in: branch)
        if let callee { inside += printedTexts(in: analysis.index.functions[callee].node) }
        // Something the branch always prints when it runs, and nothing it prints is logged.
        guard inside.contains(where: \.unconditional),
              inside.allSatisfy({ loggedLine(containing: $0.text) == nil }) else { return nil }
        // A line printed after the branch, by nothing else in the module.
        let after = printedTexts(in: body).filter { $0.line > branch.endLine }.filter { text in
            all.filter { $0.text == text.text }.count == 1
        }
        return after.lazy.compactMap { self.loggedLine(containing: $0.text) }.first
    }

    /// Whether a log holds a line the code around `event` prints, so a logged run ran it: the
    /// branch on a setting around it (or the body of `function` when there is none), and at
    /// each call of `function` the branch around the call. Evidence that a setting closes the
    /// code does not outweigh that.
    public func ranInLogs(for event: FlowEvent, in function: Int) -> Bool {
        guard !documents.logs.isEmpty else { return false }
        let index = analysis.index
        let body = index.functions[function].node
        var texts: [PrintedText] = []
        if let branch = settingBranch(around: event.line, in: body) {
            texts += printedTexts(in: branch)
        } else if function != 0 {
            texts += printedTexts(in: body)
        }
        for caller in index.functions.indices {
            for call in analysis.events[caller] where call.via == function {
                if let branch = settingBranch(around: call.line, in: index.functions[caller].node) {
                    texts += printedTexts(in: branch)
                }
            }
        }
        return texts.contains { loggedLine(containing: $0.text) != nil }
    }

    /// The innermost `if` on a setting whose body holds `line`: its test reads a name bound to
    /// an environment read (`if args.ttt_enabled:`, `if args.ttt_mode == "lora":`) or reads the
    /// environment itself.
    private func settingBranch(around line: Int, in function: PyNode) -> PyNode? {
        var branch: PyNode?
        function.walk { node in
            guard node.type == "If", let test = node.child("test"),
                  let first = node.children("body").first, let last = node.children("body").last,
                  first.line <= line, last.endLine >= line, readsSetting(test) else { return }
            if branch == nil || node.line >= branch!.line { branch = node }
        }
        return branch
    }

    private func readsSetting(_ test: PyNode) -> Bool {
        var reads = false
        test.walk { node in
            guard !reads else { return }
            if ["Name", "Attribute"].contains(node.type), let name = node.terminalName,
               analysis.flags.settings.contains(name), !FeatureFlags.launcherSettingNames.contains(name.lowercased()) {
                reads = true
            }
        }
        return reads || FeatureFlags.offByDefaultVariable(in: test, aliases: analysis.index.aliases, defaultIs: { _ in true }) != nil
    }

    /// The texts printed in `node`: the body of an `if` (not its `orelse`, another branch) or of
    /// a function, or a whole module.
    private func printedTexts(in node: PyNode) -> [PrintedText] {
        var found: [PrintedText] = []
        for statement in node.children("body") {
            let direct = statement.type == "Expr" ? statement.child("value")?.line : nil
            statement.walk { inner in
                guard inner.type == "Call", let name = inner.terminalName?.lowercased(),
                      name.contains("print") || name.contains("log"),
                      let first = inner.children("args").first else { return }
                var text: String?
                if let literal = first.stringLiteral {
                    text = literal
                } else if first.type == "JoinedStr" {
                    text = first.children("values").first?.stringLiteral
                }
                guard let head = text?.prefix(while: { $0 != "{" && $0 != "\n" }).trimmingCharacters(in: .whitespaces),
                      head.count >= 6, head.contains(where: \.isLetter) else { return }
                found.append(PrintedText(text: head, line: inner.line,
                                         unconditional: direct == inner.line && statement.child("value")?.type == "Call"))
            }
        }
        return found
    }

    /// `log:line: `text`` for the first log line holding `text` that is not the code itself
    /// printed into the log.
    private func loggedLine(containing text: String) -> String? {
        for log in documents.logs {
            for (number, line) in log.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(text) && !documents.codeLines.contains(line.trimmingCharacters(in: .whitespaces)) {
                return "\(log.name):\(number + 1): `\(line.trimmingCharacters(in: .whitespaces).prefix(120))`"
            }
        }
        return nil
    }
}
