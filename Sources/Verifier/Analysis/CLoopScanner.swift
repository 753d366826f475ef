/// Reads C/C++/CUDA source far enough to describe its `for` loops as ``LoopStatement``s: a
/// lexer (comments, strings and preprocessor lines dropped), function bodies found by their
/// braces, and statements split at `;` and braces. It understands no types and no macros; a
/// construct it cannot split becomes an `other` statement, which can hide a finding but never
/// makes one.
struct CLoopScanner {
    struct Token: Equatable {
        enum Kind { case identifier, number, punctuation }
        var kind: Kind
        var text: String
        var line: Int
    }

    /// One `for` loop of a function.
    struct Loop {
        var function: String
        /// The line of the function's name in its definition.
        var definitionLine: Int
        var line: Int
        var statements: [LoopStatement]
    }

    static let keywords: Set<String> = [
        "if", "else", "for", "while", "do", "switch", "case", "default", "return", "break", "continue", "goto",
        "sizeof", "const", "static", "inline", "volatile", "unsigned", "signed", "struct", "union", "enum",
        "int", "char", "short", "long", "float", "double", "void", "bool", "auto", "register", "extern",
        "true", "false", "NULL", "nullptr", "__restrict__", "__restrict", "restrict", "__device__", "__global__",
        "__host__", "__forceinline__", "constexpr", "typename", "template", "new", "delete", "this",
    ]

    /// Longest first, so `->` is not read as `-` `>`.
    static let operators = ["<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
                            "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "::"]
    static let operatorBytes = operators.map { (text: $0, bytes: Array($0.utf8)) }
    static let singleCharacters = (0..<256).map { String(decoding: [UInt8($0)], as: UTF8.self) }
    static let assignments: Set<String> = ["=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="]

    let tokens: [Token]
    /// For each opening bracket the index of its closing one (and back), -1 when unmatched:
    /// computed once, so finding a block's end never rescans the file.
    let partner: [Int]
    /// Deeper nesting than this (blocks, `else if` chains, loops in loops) is not described:
    /// hostile input must not exhaust the stack.
    static let maximumDepth = 64

    init(source: String) {
        self.init(tokens: Self.lex(Array(source.utf8)))
    }

    init(tokens: [Token]) {
        self.tokens = tokens
        var partner = Array(repeating: -1, count: tokens.count)
        var open: [Int] = []
        let pairs = [")": "(", "]": "[", "}": "{"]
        for (index, token) in tokens.enumerated() where token.kind == .punctuation {
            if token.text == "(" || token.text == "[" || token.text == "{" {
                open.append(index)
            } else if let opener = pairs[token.text] {
                // A stray closer ends every bracket it skips: they stay unmatched.
                while let last = open.last, tokens[last].text != opener { open.removeLast() }
                if let last = open.popLast() { partner[last] = index; partner[index] = last }
            }
        }
        self.partner = partner
    }

    static func lex(_ bytes: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var index = 0, line = 1
        var lineStart = true
        func isIdentifierByte(_ byte: UInt8) -> Bool {
            (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 95
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 10 { line += 1; index += 1; lineStart = true; continue }
            if byte == 32 || byte == 9 || byte == 13 || byte == 12 || byte == 11 { index += 1; continue }
            // Preprocessor lines, continued by a trailing backslash.
            if byte == 35 && lineStart {
                while index < bytes.count && bytes[index] != 10 {
                    if bytes[index] == 92 && index + 1 < bytes.count && bytes[index + 1] == 10 { line += 1; index += 1 }
                    index += 1
                }
                continue
            }
            lineStart = false
            if byte == 47 && index + 1 < bytes.count && bytes[index + 1] == 47 {
                while index < bytes.count && bytes[index] != 10 { index += 1 }
                continue
            }
            if byte == 47 && index + 1 < bytes.count && bytes[index + 1] == 42 {
                index += 2
                while index < bytes.count && !(bytes[index] == 42 && index + 1 < bytes.count && bytes[index + 1] == 47) {
                    if bytes[index] == 10 { line += 1 }
                    index += 1
                }
                index += 2
                continue
            }
            if byte == 34 || byte == 39 {
                let quote = byte
                index += 1
                while index < bytes.count && bytes[index] != quote && bytes[index] != 10 {
                    if bytes[index] == 92 { index += 1 }
                    index += 1
                }
                index += 1
                tokens.append(Token(kind: .number, text: "0", line: line))
                continue
            }
            if isIdentifierByte(byte) {
                let start = index
                while index < bytes.count && (isIdentifierByte(bytes[index]) || (byte >= 48 && byte <= 57 && bytes[index] == 46)) {
                    index += 1
                }
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                tokens.append(Token(kind: byte >= 48 && byte <= 57 ? .number : .identifier, text: text, line: line))
                continue
            }
            var matched: (text: String, length: Int)?
            for candidate in operatorBytes where candidate.bytes[0] == byte && index + candidate.bytes.count <= bytes.count {
                if candidate.bytes.indices.allSatisfy({ bytes[index + $0] == candidate.bytes[$0] }) {
                    matched = (candidate.text, candidate.bytes.count)
                    break
                }
            }
            let text = matched?.text ?? singleCharacters[Int(byte)]
            tokens.append(Token(kind: .punctuation, text: text, line: line))
            index += matched?.length ?? 1
        }
        return tokens
    }

    /// The index of the token closing the bracket opened at `open`, or nil when unbalanced.
    func closing(_ open: Int) -> Int? {
        guard open >= 0, open < partner.count, partner[open] > open else { return nil }
        return partner[open]
    }

    /// Every `for` loop in every function body, with the function's name.
    func loops() -> [Loop] {
        var result: [Loop] = []
        var index = 0
        while index < tokens.count {
            // A function definition: `name ( ... ) {` at the top level (after qualifiers such as `const`).
            if tokens[index].text == "(", index > 0, tokens[index - 1].kind == .identifier,
               !Self.keywords.contains(tokens[index - 1].text), let close = closing(index) {
                var body = close + 1
                while body < tokens.count, tokens[body].kind == .identifier, Self.keywords.contains(tokens[body].text) { body += 1 }
                if body < tokens.count, tokens[body].text == "{", let end = closing(body) {
                    let name = tokens[index - 1].text
                    collectLoops(in: body + 1..<end, function: name, definitionLine: tokens[index - 1].line, into: &result)
                    index = end + 1
                    continue
                }
            }
            // A struct, namespace or `extern "C"` body is read through: functions may be inside.
            index += 1
        }
        return result
    }

    private func collectLoops(in range: Range<Int>, function: String, definitionLine: Int, into result: inout [Loop],
                              depth: Int = 0) {
        guard depth < Self.maximumDepth else { return }
        var index = range.lowerBound
        while index < range.upperBound {
            if tokens[index].text == "for", index + 1 < range.upperBound, tokens[index + 1].text == "(",
               let headerEnd = closing(index + 1), headerEnd < range.upperBound {
                let header = Array(tokens[index + 2..<headerEnd])
                let body = statementRange(from: headerEnd + 1, limit: range.upperBound)
                if let variable = loopVariable(header) {
                    var statements: [LoopStatement] = []
                    describe(body, loopVariable: variable, gates: [], into: &statements, depth: depth)
                    TargetGatedLoops.markCarriedNames(&statements)
                    result.append(Loop(function: function, definitionLine: definitionLine, line: tokens[index].line,
                                       statements: statements))
                }
                // Inner loops are loops of their own too.
                collectLoops(in: body, function: function, definitionLine: definitionLine, into: &result, depth: depth + 1)
                index = body.upperBound
                continue
            }
            index += 1
        }
    }

    /// `int64_t i = 0; i < n; ++i` → `i` (the name assigned in the first clause).
    private func loopVariable(_ header: [Token]) -> String? {
        guard let semicolon = header.firstIndex(where: { $0.text == ";" }) else { return nil }
        let initial = header[..<semicolon]
        if let equals = initial.firstIndex(where: { $0.text == "=" }), equals > initial.startIndex,
           header[equals - 1].kind == .identifier {
            return header[equals - 1].text
        }
        return nil
    }

    /// The tokens of the statement starting at `start`: a braced block (without its braces'
    /// outside), or up to and including its `;`, or an `if`/`for`/`while` with its body.
    private func statementRange(from start: Int, limit: Int, depth: Int = 0) -> Range<Int> {
        guard start < limit else { return start..<start }
        // Too deep an `if`/`else if` chain: the rest of the block is one opaque statement.
        guard depth < Self.maximumDepth else { return start..<limit }
        let text = tokens[start].text
        if text == "{" { return start..<min((closing(start) ?? limit - 1) + 1, limit) }
        if ["if", "for", "while", "switch"].contains(text), start + 1 < limit, tokens[start + 1].text == "(",
           let close = closing(start + 1), close < limit {
            var end = statementRange(from: close + 1, limit: limit, depth: depth + 1).upperBound
            if text == "if", end < limit, tokens[end].text == "else" {
                end = statementRange(from: end + 1, limit: limit, depth: depth + 1).upperBound
            }
            return start..<end
        }
        if text == "do" {
            var end = statementRange(from: start + 1, limit: limit, depth: depth + 1).upperBound
            while end < limit && tokens[end].text != ";" { end += 1 }
            return start..<min(end + 1, limit)
        }
        var index = start
        var depth = 0
        while index < limit {
            let token = tokens[index].text
            if token == "(" || token == "[" || token == "{" { depth += 1 }
            if token == ")" || token == "]" || token == "}" { depth -= 1 }
            if token == ";" && depth <= 0 { return start..<index + 1 }
            index += 1
        }
        return start..<limit
    }

    /// Appends the statements of `range` (a statement or a block) under `gates`. Returns
    /// whether the range always leaves the iteration (`continue`, `break`, `return`).
    @discardableResult
    private func describe(_ range: Range<Int>, loopVariable: String, gates: [LoopCondition],
                          into statements: inout [LoopStatement], depth: Int) -> Bool {
        guard !range.isEmpty, depth < Self.maximumDepth else { return false }
        var index = range.lowerBound
        var end = range.upperBound
        if tokens[index].text == "{" { index += 1; end -= 1 }
        var gates = gates
        var leaves = false
        while index < end {
            let statement = statementRange(from: index, limit: end)
            guard !statement.isEmpty else { break }
            let first = tokens[statement.lowerBound].text
            if first == "{" {
                if describe(statement, loopVariable: loopVariable, gates: gates, into: &statements, depth: depth + 1) { leaves = true }
            } else if first == "if" || first == "while" || first == "switch" || first == "for",
                      let close = closing(statement.lowerBound + 1) {
                let header = Array(tokens[statement.lowerBound + 2..<close])
                var inner = gates
                if first != "for" {
                    let (reads, lookups) = names(header, loopVariable: loopVariable)
                    inner.append(LoopCondition(line: tokens[statement.lowerBound].line, reads: reads, lookups: lookups))
                }
                let thenRange = statementRange(from: close + 1, limit: statement.upperBound)
                let thenLeaves = describe(thenRange, loopVariable: loopVariable, gates: inner, into: &statements, depth: depth + 1)
                var elseLeaves = false
                if first == "if", thenRange.upperBound < statement.upperBound, tokens[thenRange.upperBound].text == "else" {
                    elseLeaves = describe(thenRange.upperBound + 1..<statement.upperBound, loopVariable: loopVariable,
                                          gates: inner, into: &statements, depth: depth + 1)
                }
                // What follows an `if` whose one branch leaves the iteration runs only when the
                // other was taken: it depends on the condition too.
                if first == "if" && (thenLeaves || elseLeaves), let condition = inner.last {
                    if thenLeaves && elseLeaves { leaves = true } else { gates.append(condition) }
                }
            } else if first == "continue" || first == "break" || first == "return" || first == "goto" {
                leaves = true
            } else {
                statements.append(contentsOf: simpleStatements(Array(tokens[statement]), loopVariable: loopVariable, gates: gates))
            }
            index = statement.upperBound
        }
        return leaves
    }

    /// Names read by `tokens` (`X[]` for `X[i]`, members after `->`/`.` left out) and the names
    /// inside subscripts' indices.
    func names(_ tokens: [Token], loopVariable: String) -> (reads: Set<String>, lookups: Set<String>) {
        var reads: Set<String> = []
        var lookups: Set<String> = []
        var bracketDepth = 0
        for (position, token) in tokens.enumerated() {
            if token.text == "[" { bracketDepth += 1 }
            if token.text == "]" { bracketDepth = max(bracketDepth - 1, 0) }
            guard token.kind == .identifier, !Self.keywords.contains(token.text) else { continue }
            if position > 0, tokens[position - 1].text == "->" || tokens[position - 1].text == "." { continue }
            var name = token.text
            if position + 3 < tokens.count, tokens[position + 1].text == "[", tokens[position + 2].text == loopVariable,
               tokens[position + 3].text == "]" {
                name += "[]"
            } else if token.text == loopVariable, position > 0, tokens[position - 1].text == "[",
                      position + 1 < tokens.count, tokens[position + 1].text == "]" {
                continue
            }
            reads.insert(name)
            if bracketDepth > 0 { lookups.insert(name) }
        }
        return (reads, lookups)
    }

    /// One statement without control flow: a declaration, an assignment or a call.
    private func simpleStatements(_ tokens: [Token], loopVariable: String, gates: [LoopCondition]) -> [LoopStatement] {
        var body = tokens
        if body.last?.text == ";" { body.removeLast() }
        guard let first = body.first else { return [] }
        var depth = 0
        var assignment: Int?
        for (position, token) in body.enumerated() {
            if token.text == "(" || token.text == "[" || token.text == "{" { depth += 1 }
            if token.text == ")" || token.text == "]" || token.text == "}" { depth -= 1 }
            if depth == 0, Self.assignments.contains(token.text) { assignment = position; break }
        }
        // Out-parameters: `f(..., &found)` binds `found` from the call's other arguments.
        var outputs: [LoopStatement] = []
        let (statementReads, statementLookups) = names(body, loopVariable: loopVariable)
        for (position, token) in body.enumerated() where token.text == "&" && position + 1 < body.count
            && body[position + 1].kind == .identifier && (position == 0 || ["(", ","].contains(body[position - 1].text)) {
            let (reads, lookups) = (statementReads, statementLookups)
            outputs.append(LoopStatement(kind: .bind(body[position + 1].text), line: body[position].line,
                                         reads: reads.subtracting([body[position + 1].text]), lookups: lookups, gates: gates))
        }
        guard let equals = assignment else {
            let (reads, lookups) = (statementReads, statementLookups)
            let isCall = body.contains { $0.text == "(" }
            let kind: LoopStatement.Kind = isCall || body.contains(where: { $0.text == "++" || $0.text == "--" }) ? .stateUpdate : .other
            return outputs + [LoopStatement(kind: kind, line: first.line, reads: reads, lookups: lookups, gates: gates)]
        }
        let target = Array(body[..<equals])
        var (reads, lookups) = names(Array(body[(equals + 1)...]), loopVariable: loopVariable)
        if body[equals].text != "=" {
            let (targetReads, _) = names(target, loopVariable: loopVariable)
            reads.formUnion(targetReads)
        }
        let line = body[equals].line
        let kind: LoopStatement.Kind
        if target.count >= 4, target.last?.text == "]", target[target.count - 2].text == loopVariable,
           target[target.count - 3].text == "[", target[target.count - 4].kind == .identifier,
           !(target.count >= 5 && (target[target.count - 5].text == "->" || target[target.count - 5].text == ".")) {
            kind = .positionWrite(array: target[target.count - 4].text)
        } else if target.contains(where: { $0.text == "->" || $0.text == "." || $0.text == "[" || $0.text == "*" && $0 == target.first }) {
            let (indexReads, indexLookups) = names(target, loopVariable: loopVariable)
            reads.formUnion(indexReads)
            lookups.formUnion(indexLookups)
            kind = .stateUpdate
        } else if let name = target.last(where: { $0.kind == .identifier }) {
            kind = .bind(name.text)
        } else {
            kind = .other
        }
        return outputs + [LoopStatement(kind: kind, line: line, reads: reads, lookups: lookups, gates: gates)]
    }
}
