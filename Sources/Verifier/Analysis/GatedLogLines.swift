import Foundation

extension AnalyzedSource {
    /// On, when a log holds a line that the code prints only behind the gate of `variable`: a
    /// print or log call in the body of an `if` whose test opens that gate
    /// (`if args.ngram_eval_order >= 2: log0(f"ngram_eval:order={...}")`), whose text before its
    /// first substitution (10 characters or more) starts a log line and starts no message printed
    /// outside such a body. The run's own words then show the gate open even where they do not name
    /// the setting. Lines of the folder's code (the script printed into the log) are not evidence.
    func printedOnlyWhenSet(_ variable: String) -> FeatureSetting? {
        guard !documents.logs.isEmpty else { return nil }
        var gatedBodies: [ClosedRange<Int>] = []
        for node in nodes where node.type == "If" {
            guard let test = node.child("test"), analysis.flags.disablingVariables([test]).contains(variable),
                  let first = node.children("body").first, let last = node.children("body").last else { continue }
            gatedBodies.append(first.line...max(first.line, last.endLine))
        }
        guard !gatedBodies.isEmpty else { return nil }
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
