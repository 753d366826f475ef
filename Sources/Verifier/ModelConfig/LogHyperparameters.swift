import Foundation

/// A hyperparameter value stated in a training log (or run command), with where it was stated.
public struct LoggedHyperparameter: Sendable, Equatable {
    /// The attribute name (`num_heads`) or environment variable (`NUM_HEADS`) as written.
    public var key: String
    /// The value as written (`8`, `4.0`, `True`).
    public var text: String
    /// Whether it was written `ENV=VALUE` (an environment variable, converted like the code converts it)
    /// rather than `name: value` (a printed Python value).
    public var isEnvironmentAssignment: Bool
    public var file: String
    public var line: Int
    /// The whole log line, trimmed, for reports.
    public var lineText: String
}

/// Finds hyperparameters that training logs state, in the forms the challenge's records print:
///
/// - a `Hyperparameters:` block of `  name: value` lines (the 04-xx records);
/// - inline `name:value` tokens (`attention_mode:gqa num_heads:8 num_kv_heads:4`, baseline-style);
/// - `ENV=VALUE` tokens of a run command (`NUM_LAYERS=10 torchrun ...`).
///
/// Only `keys` are collected, and only with a literal value (number or True/False), so source code that
/// a log echoes (`num_heads: int,`, `num_heads:{args.num_heads}`) does not match.
public enum LogHyperparameters {
    /// Scans `text`, the content of `file`.
    public static func scan(_ text: String, file: String, keys: Set<String>) -> [LoggedHyperparameter] {
        var found: [LoggedHyperparameter] = []
        let environmentKeys = Set(keys.map { $0.uppercased() })
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = String(line).trimmingPythonWhitespace()
            guard !trimmed.isEmpty, trimmed.count < 4000 else { continue }
            func record(_ key: String, _ value: String, environment: Bool) {
                found.append(LoggedHyperparameter(key: key, text: value, isEnvironmentAssignment: environment,
                                                  file: file, line: index + 1, lineText: trimmed))
            }
            // `name: value` as the whole line (a Hyperparameters block).
            if let colon = trimmed.firstIndex(of: ":") {
                let key = String(trimmed[..<colon])
                let value = String(trimmed[trimmed.index(after: colon)...]).trimmingPythonWhitespace()
                if keys.contains(key), isLiteral(value) {
                    record(key, value, environment: false)
                    continue
                }
            }
            for rawToken in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                // Markdown and prose wrap commands in backticks, parentheses and punctuation.
                let token = rawToken.trimmingCharacters(in: Self.wrappers)
                if let colon = token.firstIndex(of: ":") {
                    let key = String(token[..<colon])
                    let value = String(token[token.index(after: colon)...])
                    if keys.contains(key), isLiteral(value) { record(key, value, environment: false) }
                } else if let equals = token.firstIndex(of: "=") {
                    let key = String(token[..<equals])
                    var value = Substring(token[token.index(after: equals)...])
                    if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                        value = value.dropFirst().dropLast()
                    }
                    if environmentKeys.contains(key), isLiteral(String(value)) {
                        record(key, String(value), environment: true)
                    }
                }
            }
        }
        return found
    }

    static let wrappers = CharacterSet(charactersIn: "`()[],;")

    /// A number (Python syntax, underscores allowed) or a boolean spelled as Python prints it.
    static func isLiteral(_ value: String) -> Bool {
        guard !value.isEmpty else { return false }
        if value == "True" || value == "False" { return true }
        return PythonNumbers.parseInt(value) != nil
            || (PythonNumbers.parseFloat(value).map { $0.isFinite } ?? false)
    }
}
