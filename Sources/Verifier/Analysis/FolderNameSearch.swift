import Foundation

/// Whether a function is named anywhere in a submission's folder: a word search over its Python
/// and native sources, for the rules that tell code that runs from code nothing reaches. A word
/// in a comment or a string counts, so a doubtful case counts as named (the stricter verdict);
/// another file's own `def` of the same name does not, and in a file that defines its own
/// function of that name, its bare mentions are that function (Python resolves them in the
/// file's own module): only an attribute access (`train_gpt.name`) there can reach this one.
enum FolderNameSearch {
    static let sourceExtensions: Set<String> = ["py", "c", "cc", "cpp", "cxx", "cu", "cuh", "h", "hpp"]
    /// Files listed and bytes read per file, at most: the search stays bounded on any folder.
    static let maximumListedEntries = 5_000
    static let maximumBytes = 4 << 20

    /// Whether `name` appears as a word in a source file of `folder` (two levels deep at most),
    /// other than on line `except.line` of `except.file`; with `otherFilesOnly`, `except.file`
    /// is not read at all.
    static func isNamed(_ name: String, inFolder folder: String, except: (file: String, line: Int),
                        otherFilesOnly: Bool = false) -> Bool {
        let root = folder.isEmpty ? "." : folder
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return true }
        let excluded = (except.file as NSString).standardizingPath
        var listed = 0
        while let relative = enumerator.nextObject() as? String, listed < maximumListedEntries {
            listed += 1
            if relative.split(separator: "/").count > 2 { enumerator.skipDescendants(); continue }
            guard sourceExtensions.contains((relative as NSString).pathExtension.lowercased()) else { continue }
            let path = ((root + "/" + relative) as NSString).standardizingPath
            let ownFile = path == excluded
            if ownFile && otherFilesOnly { continue }
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            let data = (try? handle.read(upToCount: maximumBytes)) ?? Data()
            try? handle.close()
            let text = String(decoding: data, as: UTF8.self)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let definesItsOwn = !ownFile && lines.contains { defines(name, $0) }
            for (offset, line) in lines.enumerated()
            where !(ownFile && offset + 1 == except.line) && containsWord(name, in: line)
                && (ownFile || !defines(name, line)) && (!definesItsOwn || containsAttribute(name, in: line)) {
                return true
            }
        }
        return false
    }

    /// Whether `line` defines a function `name` (`def name(`): in another file that is that
    /// file's own function of the same name, not a use of this one.
    static func defines(_ name: String, _ line: Substring) -> Bool {
        var text = line.drop { $0 == " " || $0 == "\t" }
        if text.hasPrefix("async ") { text = text.dropFirst(6).drop { $0 == " " } }
        guard text.hasPrefix("def ") else { return false }
        let rest = text.dropFirst(4).drop { $0 == " " }
        guard rest.hasPrefix(name) else { return false }
        return rest.dropFirst(name.count).drop { $0 == " " }.first == "("
    }

    /// `module.name` in `line`: `name` read as an attribute, not part of a longer name.
    static func containsAttribute(_ name: String, in line: Substring) -> Bool {
        var start = line.startIndex
        while start < line.endIndex, let range = line.range(of: "." + name, range: start..<line.endIndex) {
            let after = range.upperBound == line.endIndex ? nil : line[range.upperBound]
            if !(after.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false) { return true }
            start = range.upperBound
        }
        return false
    }

    static func containsWord(_ word: String, in line: Substring) -> Bool {
        var start = line.startIndex
        func isWordCharacter(_ character: Character?) -> Bool {
            guard let character else { return false }
            return character.isLetter || character.isNumber || character == "_"
        }
        while start < line.endIndex, let range = line.range(of: word, range: start..<line.endIndex) {
            let before = range.lowerBound == line.startIndex ? nil : line[line.index(before: range.lowerBound)]
            let after = range.upperBound == line.endIndex ? nil : line[range.upperBound]
            if !isWordCharacter(before) && !isWordCharacter(after) { return true }
            start = range.upperBound
        }
        return false
    }
}
