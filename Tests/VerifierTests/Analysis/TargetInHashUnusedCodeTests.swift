import Foundation
import Testing
@testable import Verifier

/// A target-keyed lookup in a method nothing calls (trimmed from a packed-cache record whose
/// `NgramEvalCache.lookup` is dead: the eval calls `lookup_experts`, and the one `.lookup(` call
/// goes to the phrase cache) does not run: a note. The twin that calls it stays an error.
@Suite struct TargetInHashUnusedCodeTests {
    static func code(callingTheCache: Bool) -> String {
        """
        import numpy as np


        class PhraseCache:
            def lookup(self, val_np, positions):
                return np.zeros(len(positions))


        class NgramCache:
            def lookup(self, val_np, positions, mask=1023):
                ctx_counts = np.zeros(mask + 1)
                full_counts = np.zeros(mask + 1)
                nll = 0.0
                for i in positions:
                    ctx_hash = (int(val_np[i - 1]) * 31) & mask
                    tgt = int(val_np[i + 1])
                    full_key = (ctx_hash ^ (tgt * 1000003)) & mask
                    nll += -np.log((full_counts[full_key] + 1) / (ctx_counts[ctx_hash] + 2))
                return nll

            def lookup_experts(self, val_np, positions):
                return np.ones(len(positions))


        def main():
            val_tokens = np.fromfile("fineweb_val_000000.bin", dtype=np.uint16)
            phrase_cache = PhraseCache()
            ngram_cache = NgramCache()
            print(phrase_cache.lookup(val_tokens, range(2, 100)))
            print(ngram_cache.lookup_experts(val_tokens, range(2, 100)))
            \(callingTheCache ? "print(ngram_cache.lookup(val_tokens, range(2, 100)))" : "")


        if __name__ == "__main__":
            main()
        """
    }

    func findings(_ source: String, besides: [String: String] = [:]) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-unused-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("train_gpt.py")
        try source.write(to: file, atomically: true, encoding: .utf8)
        for (name, text) in besides { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == "PG-TARGET-IN-HASH" }
    }

    @Test func methodNothingCallsIsANote() throws {
        let found = try findings(Self.code(callingTheCache: false))
        #expect(found.map(\.line) == [17])
        #expect(found.map(\.severity) == [.note])
        #expect(found.first?.message.contains("NgramCache.lookup is never called") == true)
    }

    @Test func calledMethodStaysAnError() throws {
        #expect(try findings(Self.code(callingTheCache: true)).map(\.severity) == [.error])
    }

    /// A call whose receiver's class is not known (`cache` bound to either class) may reach it.
    @Test func callOfUnknownReceiverIsAUse() throws {
        let source = Self.code(callingTheCache: false).replacingOccurrences(
            of: "    phrase_cache = PhraseCache()",
            with: "    phrase_cache = PhraseCache() if len(val_tokens) > 9 else NgramCache()")
        #expect(try findings(source).map(\.severity) == [.error])
    }

    /// Another file of the folder may import the class and call the method.
    @Test func methodNamedInAnotherFileIsAUse() throws {
        let other = "from train_gpt import NgramCache\nprint(NgramCache().lookup(None, []))\n"
        #expect(try findings(Self.code(callingTheCache: false), besides: ["eval_cache.py": other]).map(\.severity) == [.error])
    }
}
