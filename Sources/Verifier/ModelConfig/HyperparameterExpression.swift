/// A tiny reader for the right-hand sides of `class Hyperparameters` lines. It recognises exactly
///
///     [int|float|bool](...)( os.environ.get("ENV", LITERAL) | os.getenv("ENV", LITERAL) )
///
/// with LITERAL a number (underscores allowed), a string, or True/False, and returns `nil` for any other
/// form. Nothing is executed; helpers defined by the submission (e.g. `_e(...)`) are not trusted.
enum HyperparameterExpression {
    enum Token: Equatable {
        case name(String)       // identifiers, dotted: os.environ.get
        case number(String)
        case string(String)
        case open, close, comma
    }

    static func declaration(name: String, expression: String, file: String, line: Int)
        -> HyperparameterDeclaration? {
        guard let tokens = tokenize(expression) else { return nil }
        var position = 0
        var conversions: [HyperparameterDeclaration.Conversion] = []
        // Conversions: int( float( bool( ...
        while position + 1 < tokens.count, case let .name(function) = tokens[position],
              let conversion = HyperparameterDeclaration.Conversion(rawValue: function),
              tokens[position + 1] == .open {
            conversions.append(conversion)
            position += 2
        }
        guard position + 5 < tokens.count,
              case let .name(getter) = tokens[position],
              ["os.environ.get", "os.getenv", "environ.get"].contains(getter),
              tokens[position + 1] == .open,
              case let .string(variable) = tokens[position + 2],
              tokens[position + 3] == .comma,
              let literal = literal(tokens[position + 4]),
              tokens[position + 5] == .close else { return nil }
        position += 6
        // One closing parenthesis per conversion, then the end.
        for _ in conversions {
            guard position < tokens.count, tokens[position] == .close else { return nil }
            position += 1
        }
        guard position == tokens.count else { return nil }
        return HyperparameterDeclaration(
            name: name, environmentVariable: variable, conversions: conversions, defaultLiteral: literal,
            file: file, line: line, expression: expression)
    }

    static func literal(_ token: Token) -> HyperparameterValue? {
        switch token {
        case let .string(text): return .string(text)
        case let .number(text):
            if let value = PythonNumbers.parseInt(text) { return .int(value) }
            if let value = PythonNumbers.parseFloat(text) { return .float(value) }
            return nil
        case .name("True"): return .bool(true)
        case .name("False"): return .bool(false)
        default: return nil
        }
    }

    /// Splits an expression into tokens, dropping a trailing `# comment`; `nil` on anything unexpected.
    static func tokenize(_ text: String) -> [Token]? {
        let characters = Array(text)
        var tokens: [Token] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case " ", "\t":
                index += 1
            case "#":
                return tokens
            case "(":
                tokens.append(.open); index += 1
            case ")":
                tokens.append(.close); index += 1
            case ",":
                tokens.append(.comma); index += 1
            case "\"", "'":
                var value = ""
                index += 1
                while index < characters.count, characters[index] != character {
                    // Escapes and prefixed (f-, b-) strings are not plain literals we read.
                    if characters[index] == "\\" { return nil }
                    value.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { return nil }
                index += 1
                tokens.append(.string(value))
            default:
                if character.isNumber || ((character == "-" || character == "+" || character == ".")
                                          && index + 1 < characters.count && characters[index + 1].isNumber) {
                    var value = String(character)
                    index += 1
                    while index < characters.count {
                        let next = characters[index]
                        let isExponentSign = (next == "-" || next == "+") && "eE".contains(characters[index - 1])
                        guard next.isNumber || next == "_" || next == "." || next == "e" || next == "E"
                                || isExponentSign else { break }
                        value.append(next)
                        index += 1
                    }
                    tokens.append(.number(value))
                } else if character == "_" || (character.isASCII && character.isLetter) {
                    var value = ""
                    while index < characters.count,
                          characters[index] == "_" || characters[index] == "."
                            || (characters[index].isASCII && (characters[index].isLetter || characters[index].isNumber)) {
                        value.append(characters[index])
                        index += 1
                    }
                    // A prefixed string (f"...", b'...') is not a plain literal.
                    if index < characters.count, characters[index] == "\"" || characters[index] == "'" { return nil }
                    tokens.append(.name(value))
                } else {
                    return nil
                }
            }
        }
        return tokens
    }
}
