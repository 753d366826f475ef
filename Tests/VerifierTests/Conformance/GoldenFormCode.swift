import Foundation
import Testing
@testable import Verifier

/// The code a golden form was computed from, for the suites whose goldens record a code (the baseline in
/// ../shared, or a pull request's file in /work/prcorpus), its sha256, and the edits applied to it.
enum GoldenFormCode {
    /// The form's original file, wherever this machine has the very bytes the golden was computed from: the
    /// named file (the baseline in ../shared, or the pull request's file in /work/prcorpus), else any
    /// byte-identical copy in ../shared/corpus (a pull request whose file was merged unchanged as a record),
    /// so the golden runs wherever the team's shared corpus is, CI included.
    static func original(code: String, sha256: String, prcorpusFolder: String?) -> URL? {
        let url = prcorpusFolder.map {
            URL(fileURLWithPath: "/work/prcorpus").appendingPathComponent($0).appendingPathComponent(code)
        } ?? Paths.shared(code)
        if let hash = try? SHA256.hex(file: url), hash == sha256 { return url }
        return sharedCorpusCopies[sha256]
    }

    /// The Python files of ../shared/corpus by their sha256 (the first in path order where several agree).
    static let sharedCorpusCopies: [String: URL] = {
        var copies: [String: URL] = [:]
        let root = Paths.shared("corpus")
        var files: [URL] = []
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            if url.pathExtension == "py" { files.append(url) }
        }
        for url in files.sorted(by: { $0.path < $1.path }) {
            if let hash = try? SHA256.hex(file: url), copies[hash] == nil { copies[hash] = url }
        }
        return copies
    }()

    /// `original` with `edits` applied, written as `train_gpt.py` in a fresh folder named after `label`.
    static func write(_ original: URL?, edits: [(String, String)], label: String) throws -> URL {
        let source = try String(contentsOf: try #require(original), encoding: .utf8)
        let text = try CodeEdit(name: label, edits: edits, expected: "", line: 0).apply(to: source)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("train_gpt.py")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// A golden form computed from a code file and textual edits of it (the cycled, repeat-vector and
/// fake-quantization goldens), as its fixture records them.
protocol GoldenCodeForm {
    var code: String { get }
    var sha256: String { get }
    var edits: [[String]] { get }
    var prcorpus_folder: String? { get }
}

extension GoldenCodeForm {
    /// The form's original file, where this machine has its bytes (``GoldenFormCode/original(code:sha256:prcorpusFolder:)``).
    var original: URL? { GoldenFormCode.original(code: code, sha256: sha256, prcorpusFolder: prcorpus_folder) }

    /// The form's code with its edits and then `more`, written as `train_gpt.py` in a fresh folder named after `label`.
    func written(more: [[String]] = [], label: String) throws -> URL {
        try GoldenFormCode.write(original, edits: (edits + more).map { ($0[0], $0[1]) }, label: label)
    }
}

extension GoldenFormCode {
    /// Whether this machine has the original file of every pull request's form among `forms`.
    static func hasRecordCode(_ forms: [some GoldenCodeForm]?) -> Bool {
        forms?.filter { $0.prcorpus_folder != nil }.allSatisfy { $0.original != nil } == true
    }
}
