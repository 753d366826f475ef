import Foundation

/// A Python value a hyperparameter can hold, as far as pgverify reads them: the result of a literal,
/// an `int(...)`, `float(...)` or `bool(...)` conversion, or an environment variable's string.
public enum HyperparameterValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)

    /// Python's `str()` of the value, for messages.
    public var description: String {
        switch self {
        case let .int(value): return String(value)
        case let .float(value): return PythonNumbers.repr(value)
        case let .bool(value): return value ? "True" : "False"
        case let .string(value): return "'\(value)'"
        }
    }

    /// Python's `int(value)`, or `nil` where Python would raise.
    public func pythonInt() -> Int? {
        switch self {
        case let .int(value): return value
        case let .float(value):
            guard value.isFinite, value.magnitude < 9.2e18 else { return nil }
            return Int(value.rounded(.towardZero))
        case let .bool(value): return value ? 1 : 0
        case let .string(text): return PythonNumbers.parseInt(text)
        }
    }

    /// Python's `float(value)`, or `nil` where Python would raise.
    public func pythonFloat() -> Double? {
        switch self {
        case let .int(value): return Double(value)
        case let .float(value): return value
        case let .bool(value): return value ? 1 : 0
        case let .string(text): return PythonNumbers.parseFloat(text)
        }
    }

    /// Python's `bool(value)`: note that any non-empty string, even `"0"`, is true.
    public func pythonBool() -> Bool {
        switch self {
        case let .int(value): return value != 0
        case let .float(value): return value != 0
        case let .bool(value): return value
        case let .string(text): return !text.isEmpty
        }
    }
}

/// Python's number parsing rules, as `int(str)` and `float(str)` apply them.
enum PythonNumbers {
    /// `int(text)`: optional sign, decimal digits with single underscores between digits; surrounding
    /// whitespace allowed.
    static func parseInt(_ text: String) -> Int? {
        var body = Substring(text.trimmingPythonWhitespace())
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard let digits = removingDigitSeparators(body), !digits.isEmpty,
              digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard let magnitude = Int(digits) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// `float(text)`: decimal or exponent notation with optional underscores between digits, or
    /// `inf`/`nan` spellings.
    static func parseFloat(_ text: String) -> Double? {
        let trimmed = text.trimmingPythonWhitespace()
        let lower = trimmed.lowercased()
        let unsigned = lower.hasPrefix("+") || lower.hasPrefix("-") ? String(lower.dropFirst()) : lower
        if ["inf", "infinity"].contains(unsigned) { return lower.hasPrefix("-") ? -.infinity : .infinity }
        if unsigned == "nan" { return .nan }
        guard let plain = removingDigitSeparators(Substring(trimmed)),
              plain.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
              plain.contains(where: { $0.isNumber }) else { return nil }
        return Double(plain)
    }

    /// Removes `_` separators, refusing any that is not between two digits.
    static func removingDigitSeparators(_ text: Substring) -> String? {
        let characters = Array(text)
        var out = ""
        for (index, character) in characters.enumerated() {
            if character == "_" {
                guard index > 0, index + 1 < characters.count,
                      characters[index - 1].isNumber, characters[index + 1].isNumber else { return nil }
                continue
            }
            out.append(character)
        }
        return out
    }

    /// A short decimal rendering close to Python's `repr(float)`.
    static func repr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), value.magnitude < 1e16 { return String(format: "%.1f", value) }
        return "\(value)"
    }
}

extension String {
    func trimmingPythonWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
