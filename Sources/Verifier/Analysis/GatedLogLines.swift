import Foundation

extension AnalyzedSource {
    /// On, when a log holds a line that the code prints only behind the gate of `variable`: a
    /// print or log call in the body of an `if` whose test opens that gate (or in its `else` arm when
    /// the test is false only with the gate open)
    /// (`if args.ngram_eval_order >= 2: log0(f"ngram_eval:order={...}")`), whose text before its
    /// first substitution (10 characters or more) starts a log line and starts no message printed
    /// outside such a body. The run's own words then show the gate open even where they do not name
    /// the setting. A function called only inside such bodies prints only behind the gate too.
    /// Lines of the folder's code (the script printed into the log) are not evidence.
    func printedOnlyWhenSet(_ variable: String) -> FeatureSetting? {
        guard !documents.logs.isEmpty else { return nil }
        var gatedBodies: [ClosedRange<Int>] = []
        for node in nodes where node.type == "If" {
            guard let test = node.child("test") else { continue }
            // The body when the test opens the gate; the `else` arm when the test must be false for it.
            for (arm, gates) in [("body", analysis.flags.disablingVariables([test])), ("orelse", analysis.flags.requiredWhenFalse(test))]
            where gates.contains(variable) {
                guard let first = node.children(arm).first, let last = node.children(arm).last else { continue }
                gatedBodies.append(first.line...max(first.line, last.endLine))
            }
        }
        guard !gatedBodies.isEmpty else { return nil }
        gatedBodies += functionsCalledOnlyWithin(gatedBodies)
        var gated: [(text: String, line: Int)] = []
        var elsewhere: [String] = []
        for node in nodes where node.type == "Call" && Self.printsMessage(node) {
            guard let text = Self.leadingText(node) else { continue }
            if gatedBodies.contains(where: { $0.contains(node.line) }) {
                gated.append((text, node.line))
            } else if !text.isEmpty {
                elsewhere.append(text)
            }
        }
        let distinctive = gated.filter { message in
            message.text.count >= 10 && message.text.contains(where: \.isLetter)
                && !elsewhere.contains { $0.hasPrefix(message.text) || message.text.hasPrefix($0) }
        }
        guard !distinctive.isEmpty else { return nil }
        for log in documents.logs {
            for (number, line) in log.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.count < 400, !documents.codeLines.contains(trimmed) else { continue }
                if let message = distinctive.first(where: { trimmed.hasPrefix($0.text) }) {
                    return .on(evidence: "\(log.name):\(number + 1): `\(trimmed)`, printed only when \(variable) is set " +
                        "(line \(message.line))")
                }
            }
        }
        return nil
    }

    /// The bodies of the functions (defined once, by name) that are called, by that name, only inside
    /// `bodies`: what they print is printed only behind the same gate (`if mode == "lora":
    /// eval_lora(...)` with `log0("lora_ttt:starting …")` in `eval_lora`).
    func functionsCalledOnlyWithin(_ bodies: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var definitions: [String: [PyNode]] = [:]
        var callLines: [String: [Int]] = [:]
        for node in nodes {
            if node.type == "FunctionDef" || node.type == "AsyncFunctionDef", let name = node.string("name") {
                definitions[name, default: []].append(node)
            } else if node.type == "Call", let callee = node.child("func"), callee.type == "Name", let name = callee.string("id") {
                callLines[name, default: []].append(node.line)
            }
        }
        var ranges: [ClosedRange<Int>] = []
        for (name, found) in definitions where found.count == 1 {
            guard let lines = callLines[name], !lines.isEmpty,
                  lines.allSatisfy({ line in bodies.contains { $0.contains(line) } }),
                  let first = found[0].children("body").first, let last = found[0].children("body").last else { continue }
            ranges.append(first.line...max(first.line, last.endLine))
        }
        return ranges
    }

    /// `print(...)`, `log0(...)`, `logger.info(...)`: a call whose callee names printing or logging.
    static func printsMessage(_ call: PyNode) -> Bool {
        guard let callee = call.child("func")?.dottedName?.lowercased() else { return false }
        return callee.contains("print") || callee.contains("log")
    }

    /// The text of the call's first argument before its first substitution, leading spaces
    /// dropped: a string literal, or the literal start of an f-string.
    static func leadingText(_ call: PyNode) -> String? {
        guard let message = call.children("args").first else { return nil }
        var text: String
        if let literal = message.stringLiteral {
            text = literal
        } else if message.type == "JoinedStr" {
            text = ""
            for part in message.children("values") {
                guard let literal = part.stringLiteral else { break }
                text += literal
            }
        } else {
            return nil
        }
        text = String(text.drop { $0 == " " || $0 == "\t" || $0 == "\n" })
        return text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
    }
}
