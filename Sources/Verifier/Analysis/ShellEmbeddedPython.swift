import Foundation

/// Python a shell script runs inline: a here-document fed to the interpreter
/// (`python3 - <<'PY'` … `PY`, `python <<EOF`) or a `python -c "…"` argument. The linter reads
/// each chunk as a module of its own, reported at the script's file and the chunk's line.
struct ShellEmbeddedPython: Sendable, Equatable {
    /// The 1-based line of the script where the chunk's command starts.
    var line: Int
    var source: String
    /// `python here-document` or `python -c`.
    var form: String
    /// An unquoted here-document tag: the shell expands `$VAR` and backquotes inside, so the
    /// text is not exactly the code that runs.
    var expandedByShell: Bool

    /// The most bytes of a script read, and the most chunks taken from one script.
    static let maximumScriptBytes = 1 << 20
    static let maximumChunks = 64

    static func chunks(in script: String) -> [ShellEmbeddedPython] {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var result: [ShellEmbeddedPython] = []
        var index = 0
        while index < lines.count && result.count < maximumChunks {
            let line = lines[index]
            guard let interpreter = interpreterRange(in: line) else { index += 1; continue }
            let rest = line[interpreter.upperBound...]
            if let heredoc = hereDocument(in: rest) {
                var body: [String] = []
                var end = index + 1
                while end < lines.count {
                    let candidate = heredoc.stripsTabs ? String(lines[end].drop { $0 == "\t" }) : lines[end]
                    if candidate == heredoc.tag || candidate.trimmingCharacters(in: .whitespaces) == heredoc.tag { break }
                    body.append(lines[end])
                    end += 1
                }
                result.append(ShellEmbeddedPython(line: index + 1, source: body.joined(separator: "\n") + "\n",
                                                  form: "python here-document", expandedByShell: !heredoc.quoted))
                index = end + 1
                continue
            }
            if let argument = commandArgument(in: lines, from: index, after: interpreter.upperBound) {
                result.append(ShellEmbeddedPython(line: index + 1, source: argument.code + "\n", form: "python -c",
                                                  expandedByShell: argument.quote == "\""))
                index = argument.endLine + 1
                continue
            }
            index += 1
        }
        return result
    }

    /// Where a `python`, `python3` or `python3.12` command word is on the line (not `python_x`,
    /// not inside a longer word such as `mypython`), after any leading path (`/usr/bin/python3`).
    private static func interpreterRange(in line: String) -> Range<String.Index>? {
        var start = line.startIndex
        while let found = line.range(of: "python", range: start..<line.endIndex) {
            var end = found.upperBound
            while end < line.endIndex, line[end].isNumber || line[end] == "." { end = line.index(after: end) }
            let before = found.lowerBound == line.startIndex ? nil : line[line.index(before: found.lowerBound)]
            let after = end == line.endIndex ? nil : line[end]
            let boundaryBefore = before.map { $0 == " " || $0 == "\t" || $0 == "/" || $0 == "(" || $0 == ";" || $0 == "|" || $0 == "&" || $0 == "`" || $0 == "$" } ?? true
            let boundaryAfter = after.map { $0 == " " || $0 == "\t" } ?? true
            if boundaryBefore && boundaryAfter && !line[..<found.lowerBound].contains("#") { return found.lowerBound..<end }
            start = found.upperBound
        }
        return nil
    }

    private static func hereDocument(in rest: Substring) -> (tag: String, quoted: Bool, stripsTabs: Bool)? {
        guard let marker = rest.range(of: "<<"), !rest[marker.upperBound...].hasPrefix("<") else { return nil }
        var cursor = rest[marker.upperBound...]
        let stripsTabs = cursor.hasPrefix("-")
        if stripsTabs { cursor = cursor.dropFirst() }
        cursor = cursor.drop { $0 == " " || $0 == "\t" }
        var quoted = false
        if let first = cursor.first, first == "'" || first == "\"" {
            quoted = true
            cursor = cursor.dropFirst()
        }
        let tag = String(cursor.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        return tag.isEmpty ? nil : (tag, quoted, stripsTabs)
    }

    /// The quoted argument of `-c` (possibly over several lines), or nil.
    private static func commandArgument(in lines: [String], from index: Int, after position: String.Index)
        -> (code: String, quote: Character, endLine: Int)? {
        let rest = lines[index][position...]
        guard let flag = rest.range(of: " -c ") ?? rest.range(of: " -c\t") else { return nil }
        var cursor = rest[flag.upperBound...].drop { $0 == " " || $0 == "\t" }
        guard let quote = cursor.first, quote == "'" || quote == "\"" else { return nil }
        cursor = cursor.dropFirst()
        var code = ""
        var line = index
        var text = cursor
        while line < lines.count && line < index + 2_000 {
            // Inside double quotes the shell removes a backslash before `$`, `` ` ``, `"`, `\`.
            var escaped = false
            for character in text {
                if quote == "\"" && character == "\\" && !escaped { escaped = true; continue }
                if character == quote && !escaped { return (code, quote, line) }
                if escaped && !["$", "`", "\"", "\\"].contains(character) { code.append("\\") }
                escaped = false
                code.append(character)
            }
            code.append("\n")
            line += 1
            if line < lines.count { text = lines[line][...] }
        }
        return nil
    }
}
