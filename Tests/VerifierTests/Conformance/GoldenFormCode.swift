import Foundation
import Testing
@testable import Verifier

/// The code a golden form was computed from, for the suites whose goldens record a code (the baseline in
/// ../shared, or a pull request's file in /work/prcorpus), its sha256, and the edits applied to it.
enum GoldenFormCode {
    /// The form's original file: the baseline in ../shared, or the pull request's file in /work/prcorpus when
    /// this machine has it and it is the file the golden was computed from.
    static func original(code: String, sha256: String, prcorpusFolder: String?) -> URL? {
        let url = prcorpusFolder.map {
            URL(fileURLWithPath: "/work/prcorpus").appendingPathComponent($0).appendingPathComponent(code)
        } ?? Paths.shared(code)
        guard let hash = try? SHA256.hex(file: url), hash == sha256 else { return nil }
        return url
    }

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
