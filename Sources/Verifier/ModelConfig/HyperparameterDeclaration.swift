/// One `name = conversion(os.environ.get("ENV", default))` line of a submission's `class Hyperparameters`,
/// read without executing anything.
public struct HyperparameterDeclaration: Sendable, Equatable {
    /// A conversion applied to the environment value, outermost first (`bool(int(...))` is `[.bool, .int]`).
    public enum Conversion: String, Sendable, Equatable {
        case int, float, bool
    }

    /// The attribute name (`num_heads`).
    public var name: String
    /// The environment variable that overrides it (`NUM_HEADS`).
    public var environmentVariable: String
    /// The conversions, outermost first.
    public var conversions: [Conversion]
    /// The literal default passed to `os.environ.get`.
    public var defaultLiteral: HyperparameterValue
    /// Where the declaration is: file path and 1-based line.
    public var file: String
    public var line: Int
    /// The declaration's right-hand side as written.
    public var expression: String

    /// The attribute's value when the environment variable holds `environment` (or is unset: `nil`),
    /// or `nil` where Python would raise.
    public func value(environment: String? = nil) -> HyperparameterValue? {
        var value: HyperparameterValue = environment.map { .string($0) } ?? defaultLiteral
        for conversion in conversions.reversed() {
            switch conversion {
            case .int:
                guard let converted = value.pythonInt() else { return nil }
                value = .int(converted)
            case .float:
                guard let converted = value.pythonFloat() else { return nil }
                value = .float(converted)
            case .bool:
                value = .bool(value.pythonBool())
            }
        }
        return value
    }
}

/// Reads the `class Hyperparameters` of a training script: the declarations we understand, and the
/// names of those we could not read (so a missing value can say why).
public struct HyperparameterDefaults: Sendable, Equatable {
    public var declarations: [String: HyperparameterDeclaration]
    /// Attribute names assigned in the class with a form we do not evaluate, with their line.
    public var unreadable: [String: Int]
    /// Whether the file had a `class Hyperparameters` at all.
    public var foundClass: Bool
    /// The file parsed, `nil` when there was no code.
    public var file: String?

    public init(declarations: [String: HyperparameterDeclaration] = [:], unreadable: [String: Int] = [:],
                foundClass: Bool = false, file: String? = nil) {
        self.declarations = declarations
        self.unreadable = unreadable
        self.foundClass = foundClass
        self.file = file
    }

    /// Parses `source` (the text of `file`).
    public static func parse(source: String, file: String) -> HyperparameterDefaults {
        var result = HyperparameterDefaults(file: file)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        guard let classIndex = lines.firstIndex(where: { isClassHeader($0) }) else { return result }
        result.foundClass = true
        func declare(_ content: Substring, line: Int) {
            for statement in splitStatements(content) {
                guard let (name, expression) = splitAssignment(statement) else { continue }
                if let declaration = HyperparameterExpression.declaration(
                    name: name, expression: expression, file: file, line: line) {
                    result.declarations[name] = declaration
                    result.unreadable[name] = nil
                } else {
                    result.unreadable[name] = line
                    result.declarations[name] = nil
                }
            }
        }
        // Minified code (the records' decoded wrappers) puts the whole body on the header line:
        // `class Hyperparameters:a=...;b=...`.
        let header = lines[classIndex]
        if let colon = header.firstIndex(of: ":") {
            let rest = header[header.index(after: colon)...]
            let body = String(rest).trimmingPythonWhitespace()
            if !body.isEmpty, !body.hasPrefix("#") {
                declare(rest, line: classIndex + 1)
                return result
            }
        }
        var bodyIndent: Int?
        for index in (classIndex + 1)..<lines.count {
            let line = lines[index]
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            let content = line.dropFirst(indent)
            if content.isEmpty || content.hasPrefix("#") { continue }
            if indent == 0 { break }
            if bodyIndent == nil { bodyIndent = indent }
            // Only statements of the class body itself, not of methods nested in it.
            guard indent == bodyIndent else { continue }
            declare(content, line: index + 1)
        }
        return result
    }

    /// The `;`-separated statements of one line, splitting outside strings and brackets.
    static func splitStatements(_ content: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = content.startIndex
        var depth = 0
        var quote: Character?
        var escaped = false
        var index = content.startIndex
        while index < content.endIndex {
            let c = content[index]
            if let open = quote {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == open { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "#" {
                break  // the rest is a comment: it stays with the last statement, as before
            } else if "([{".contains(c) {
                depth += 1
            } else if ")]}".contains(c) {
                depth = max(0, depth - 1)
            } else if c == ";" && depth == 0 {
                parts.append(content[start..<index])
                start = content.index(after: index)
            }
            index = content.index(after: index)
        }
        parts.append(content[start...])
        return parts.map { Substring(String($0).trimmingPythonWhitespace()) }.filter { !$0.isEmpty }
    }

    private static func isClassHeader(_ line: Substring) -> Bool {
        guard line.hasPrefix("class Hyperparameters") else { return false }
        let rest = line.dropFirst("class Hyperparameters".count)
        guard let next = rest.first else { return false }
        return next == ":" || next == "(" || next == " "
    }

    /// `name = expression` (a plain, single-target assignment); `nil` for anything else.
    private static func splitAssignment(_ content: Substring) -> (String, String)? {
        guard let equals = content.firstIndex(of: "=") else { return nil }
        var target = content[..<equals]
        // An annotated assignment `name: int = ...` keeps its name.
        if let colon = target.firstIndex(of: ":") { target = target[..<colon] }
        let name = String(target).trimmingPythonWhitespace()
        guard !name.isEmpty, name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }),
              !(name.first?.isNumber ?? true) else { return nil }
        let after = content[content.index(after: equals)...]
        // `==`, `+=` and friends are not assignments.
        if after.hasPrefix("=") { return nil }
        if let last = content[..<equals].last, "+-*/%&|^<>!".contains(last) { return nil }
        return (name, String(after).trimmingPythonWhitespace())
    }
}
