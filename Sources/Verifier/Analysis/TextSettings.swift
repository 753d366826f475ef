import Foundation

/// Text settings read from the environment (``AnalyzedSource/environmentRead(assignedTo:where:)``),
/// worked out from the code and what a submission states: the logs as
/// ``SubmissionDocuments/statedInLogs(_:)`` reads them, then README run commands, then submission.json.
struct TextSettings {
    let source: AnalyzedSource

    /// The value a README run command, a log or submission.json states for `variable` (or its
    /// code `identifier`), lowercased, with where.
    func stated(_ variable: String, identifier: String? = nil) -> (value: String, evidence: String)? {
        let keys = [variable.lowercased()] + (identifier.map { [$0.lowercased()] } ?? [])
        if let stated = source.documents.statedInLogs(keys) { return stated }
        if let readme = source.documents.readme {
            var inFence = false
            for (number, rawLine) in readme.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") { inFence.toggle(); continue }
                guard inFence || line.contains("torchrun") || line.contains("python "), line.contains(variable + "=") else { continue }
                if let text = SubmissionDocuments.statedValue(in: Substring(line), names: keys) { return (text, "README.md:\(number + 1): `\(line)`") }
            }
        }
        if let json = source.documents.submissionJSON,
           let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] {
            for key in object.keys.sorted() where keys.contains(key.lowercased()) {
                if let text = object[key] as? String { return (text.lowercased(), "submission.json: `\(key)`") }
            }
        }
        return nil
    }

    /// The text `expression` evaluates to with every setting it reads at its stated value or
    /// else its code default; nil when anything else decides it (a launcher variable such as
    /// `WORLD_SIZE`, a computation, a setting stated in a form not read here).
    func evaluate(_ expression: PyNode, depth: Int = 0) -> String? {
        guard depth < 8 else { return nil }
        switch expression.type {
        case "Constant":
            return EnvironmentDefault.literalText(expression)
        case "IfExp":
            guard let test = expression.child("test"), let chosen = truth(test, depth: depth + 1),
                  let branch = expression.child(chosen ? "body" : "orelse") else { return nil }
            return evaluate(branch, depth: depth + 1)
        case "Name", "Attribute":
            guard let identifier = expression.terminalName, let read = source.environmentRead(assignedTo: identifier) else { return nil }
            return evaluate(read.value, depth: depth + 1)
        case "Call":
            guard let function = expression.child("func") else { return nil }
            if let callee = source.analysis.index.aliases.resolve(function), ImportAliases.environmentReaders.contains(callee) {
                let arguments = expression.children("args")
                guard let name = arguments.first?.stringLiteral, !FeatureFlags.launcherVariables.contains(name) else { return nil }
                // A log's `slot_enabled: True` is the parsed setting, not the text it was read from.
                if let stated = stated(name) { return Self.booleanWords.contains(stated.value) ? nil : stated.value }
                return arguments.count >= 2 ? evaluate(arguments[1], depth: depth + 1) : nil
            }
            // `.lower()`, `.strip()` on a setting; `str(...)` of one.
            if function.type == "Attribute", ["lower", "strip"].contains(function.string("attr") ?? ""),
               let receiver = function.child("value"), expression.children("args").isEmpty {
                return evaluate(receiver, depth: depth + 1).map { function.string("attr") == "lower" ? $0.lowercased() : $0.trimmingCharacters(in: .whitespaces) }
            }
            if function.dottedName == "str", expression.children("args").count == 1 {
                return evaluate(expression.children("args")[0], depth: depth + 1)
            }
            return nil
        default:
            return nil
        }
    }

    private static let booleanWords: Set<String> = ["true", "false", "enabled", "disabled", "on", "off", "yes", "no"]

    /// Whether a test of texts (`==`, `!=`, `and`, `or`, `not`) holds, as ``evaluate(_:depth:)``.
    private func truth(_ test: PyNode, depth: Int) -> Bool? {
        switch test.type {
        case "Compare":
            guard test.children("ops").count == 1, let operation = test.children("ops").first?.type,
                  operation == "Eq" || operation == "NotEq",
                  let left = test.child("left").flatMap({ evaluate($0, depth: depth) }),
                  let right = test.children("comparators").first.flatMap({ evaluate($0, depth: depth) }) else { return nil }
            return (left == right) == (operation == "Eq")
        case "BoolOp":
            let values = test.children("values").map { truth($0, depth: depth) }
            guard !values.contains(where: { $0 == nil }) else { return nil }
            return test.child("op")?.type == "And" ? values.allSatisfy { $0 == true } : values.contains { $0 == true }
        case "UnaryOp" where test.child("op")?.type == "Not":
            return test.child("operand").flatMap { truth($0, depth: depth) }.map { !$0 }
        default:
            return nil
        }
    }
}
