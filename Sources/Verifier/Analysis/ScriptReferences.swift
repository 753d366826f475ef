import Foundation

/// The folder's Python files that a command text or a string names: `torchrun train_gpt.py`,
/// `python3 -m pkg.eval`, `python -m pytest tests/`, `records/…/eval.py` (matched by the
/// longest path suffix that is a file of the folder). Used to find what a submission's run
/// starts; a name that could mean several files reaches them all.
struct ScriptReferences {
    /// The folder's `.py` files, relative to it.
    let pythonFiles: [String]

    /// A token that names a script by a pattern or a built name (`*.py`, `.py`, `{}.py`): it
    /// may start any file.
    static func isPattern(_ token: String) -> Bool {
        let name = (token as NSString).lastPathComponent
        return name.hasSuffix(".py") && (name == ".py" || name.contains("*") || name.contains("{") || name.contains("%"))
    }

    /// The files named in `text`, read as command lines (every line when `allLines`, else only
    /// fenced code blocks and lines that run `python`/`torchrun`/a shell script), and whether a
    /// command names a script by a pattern.
    func commandTargets(_ text: String, allLines: Bool) -> (files: Set<String>, pattern: Bool) {
        var named: Set<String> = []
        var pattern = false
        var fenced = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") || line.hasPrefix("~~~") {
                fenced.toggle()
                continue
            }
            guard allLines || fenced || Self.isCommandLine(line) else { continue }
            let found = targets(ofCommand: line)
            named.formUnion(found.files)
            pattern = pattern || found.pattern
        }
        return (named, pattern)
    }

    static func isCommandLine(_ line: String) -> Bool {
        line.contains("python") || line.contains("torchrun") || line.contains("pytest")
            || line.hasPrefix("bash ") || line.hasPrefix("sh ") || line.hasPrefix("./")
    }

    /// The files one command line (or one string of code) names.
    func targets(ofCommand line: String) -> (files: Set<String>, pattern: Bool) {
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" }).map { Self.cleaned(String($0)) }
        var found: Set<String> = []
        var pattern = false
        for (position, token) in tokens.enumerated() {
            if Self.isPattern(token) { pattern = true }
            found.formUnion(files(namedBy: token))
            let runsModule = token == "-m" && position + 1 < tokens.count
            if (runsModule && tokens[position + 1] == "pytest") || token == "pytest" || token.hasSuffix("/pytest") {
                let start = runsModule ? position + 2 : position + 1
                found.formUnion(testFiles(under: tokens.dropFirst(start).prefix(while: { !$0.hasPrefix("-") && !$0.isEmpty })))
            } else if runsModule {
                found.formUnion(moduleFiles(tokens[position + 1]))
            }
        }
        return (found, pattern)
    }

    /// `token` without quotes, brackets and shell punctuation around it, and without a leading
    /// `$VAR/` or `./`.
    static func cleaned(_ token: String) -> String {
        var text = token.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`;,()[]{}<>|&"))
        if text.contains("$"), let cut = text.lastIndex(where: { $0 == "}" || $0 == ")" || $0 == "$" }) {
            text = String(text[text.index(after: cut)...])
            if let slash = text.firstIndex(of: "/"), text[..<slash].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                text = String(text[text.index(after: slash)...])
            }
        }
        while text.hasPrefix("./") { text.removeFirst(2) }
        return text
    }

    /// The `.py` files a path names: the file itself, or files whose path and the token's end alike.
    func files(namedBy token: String) -> Set<String> {
        guard token.hasSuffix(".py"), !token.hasPrefix("-") else { return [] }
        return Set(pythonFiles.filter { $0 == token || token.hasSuffix("/" + $0) || $0.hasSuffix("/" + token) })
    }

    /// The files a dotted module name may load: `a/b.py` or `a/b/__init__.py`, anywhere in the
    /// folder (scripts put their own folders on `sys.path`); relative to `base` when given.
    func moduleFiles(_ module: String, base: String? = nil) -> Set<String> {
        let parts = module.split(separator: ".").map(String.init)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) else {
            return []
        }
        let path = parts.joined(separator: "/")
        var found: Set<String> = []
        for candidate in [path + ".py", path + "/__init__.py"] {
            if let base {
                let full = base.isEmpty ? candidate : (base as NSString).appendingPathComponent(candidate)
                if pythonFiles.contains(full) { found.insert(full) }
            } else {
                found.formUnion(pythonFiles.filter { $0 == candidate || $0.hasSuffix("/" + candidate) })
            }
        }
        return found
    }

    /// The test files pytest collects under `paths` (all of the folder's when none is given).
    func testFiles<Paths: Sequence>(under paths: Paths) -> Set<String> where Paths.Element == String {
        let roots = paths.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        return Set(pythonFiles.filter { file in
            let name = (file as NSString).lastPathComponent
            guard name.hasPrefix("test_") || name.hasSuffix("_test.py") || name == "conftest.py" else { return false }
            return roots.isEmpty || roots.contains { $0 == file || file.hasPrefix($0 + "/") || file.contains("/" + $0 + "/") }
        })
    }
}
