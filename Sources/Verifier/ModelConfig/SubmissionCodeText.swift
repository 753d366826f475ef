import Foundation

/// The Python text pgverify reads a submission's settings from (hyperparameter defaults, its
/// `eval_val`, its TTT function): the file itself, or, for a self-extracting wrapper
/// (`exec(lzma.decompress(base64.b85decode(...)))` and the like), the code it decodes to.
/// Wrappers are decoded by ``SelfExtractingWrapper`` from the parsed tree; nothing is run.
enum SubmissionCodeText {
    /// Wrappers of the records are a few hundred kilobytes at most; anything larger is read as is.
    static let wrapperSizeLimit = 4 << 20

    /// Decoded texts by path and size, so that the resolvers of one run parse each file once.
    nonisolated(unsafe) private static var cache: [String: String] = [:]
    private static let lock = NSLock()

    static func read(_ url: URL) throws(ModelConfigError) -> String {
        let text = try ModelConfigResolver.read(url)
        guard looksWrapped(text) else { return text }
        let key = url.standardizedFileURL.path + "#\(text.utf8.count)"
        lock.lock()
        let cached = cache[key]
        lock.unlock()
        if let cached { return cached }
        let decoded = decode(text, file: url.path) ?? text
        lock.lock()
        cache[key] = decoded
        lock.unlock()
        return decoded
    }

    /// How sources name `url`'s lines: its path, marked when the lines are those of the decoded
    /// code (line numbers then count in the decoded text).
    static func sourceName(_ url: URL) -> String {
        let prefix = url.standardizedFileURL.path + "#"
        lock.lock()
        defer { lock.unlock() }
        let decoded = cache.contains { $0.key.hasPrefix(prefix) }
        return decoded ? url.path + " (decoded from its self-extracting wrapper)" : url.path
    }

    /// Cheap test before parsing: an `exec(` of a decompressed or decoded payload, and no `class
    /// Hyperparameters` in plain sight.
    static func looksWrapped(_ text: String) -> Bool {
        guard text.utf8.count <= wrapperSizeLimit, text.contains("exec("), !text.contains("class Hyperparameters") else {
            return false
        }
        return ["lzma", "zlib", "b85decode", "b64decode", "bz2", "gzip", "brotli"].contains { text.contains($0) }
    }

    /// The innermost decoded module (wrappers inside decoded code are followed a few levels), or
    /// `nil` when no Python is available or the text holds no wrapper pgverify can decode.
    static func decode(_ text: String, file: String) -> String? {
        guard let parser = try? PythonParser() else { return nil }
        var current = text
        var decodedAny = false
        for _ in 0..<4 {
            guard let tree = try? parser.parse([.source(name: file, text: current)]).first,
                  let wrappers = try? SelfExtractingWrapper.find(in: tree, file: file), !wrappers.isEmpty else { break }
            // Several payloads (rare) are read as one module, in file order.
            current = wrappers.map(\.innerSource).joined(separator: "\n")
            decodedAny = true
        }
        return decodedAny ? current : nil
    }
}
