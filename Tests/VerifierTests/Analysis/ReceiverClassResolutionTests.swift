import Foundation
import Testing
@testable import Verifier

/// Calls of a method whose name is too common to resolve by name alone (`update`, `step`,
/// `forward`) resolve through the receiver when it is bound only to instances of one class of the
/// module that defines the method (`cache = NgramCache(...)`; `cache.update(...)`), so a gate on
/// the caller reaches the method (the shape of `e59d3a9a8d6e`'s n-gram cache). A receiver bound
/// to anything else stays unresolved.
@Suite struct ReceiverClassResolutionTests {
    static let cacheClass = """
        import os
        import numpy as np


        class NgramCache:
            def __init__(self, buckets):
                self.mask = buckets - 1
                self.full = np.zeros(buckets, dtype=np.uint32)
                self.ctx = np.zeros(buckets, dtype=np.uint32)

            def _hash_full(self, ctx_hash, target):
                return (ctx_hash ^ (target * 36313)) & self.mask

            def update(self, tokens, start, end):
                for i in range(start, end):
                    target = int(tokens[i])
                    h = int(tokens[i - 1]) & self.mask
                    self.ctx[h] += 1
                    self.full[self._hash_full(h, target)] += 1

            def predict(self, tokens, pos, target):
                h = int(tokens[pos - 1]) & self.mask
                return self.full[self._hash_full(h, target)] / max(self.ctx[h], 1)


        def eval_with_cache(val_tokens):
            cache = NgramCache(1 << 20)
            nll = 0.0
            for pos in range(1, len(val_tokens)):
                nll -= np.log(cache.predict(val_tokens, pos, int(val_tokens[pos])) + 1e-9)
                cache.update(val_tokens, pos, pos + 1)
            return nll


        def main(val_tokens):
            ngram_enabled = bool(int(os.environ.get("NGRAM_ENABLED", "0")))
            if ngram_enabled:
                print(eval_with_cache(val_tokens))

        """

    static let entryPoint = """

        if __name__ == "__main__":
            main(np.zeros(10, dtype=np.int64))
        """

    func findings(_ source: String) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-receiver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("train_gpt.py")
        try source.write(to: file, atomically: true, encoding: .utf8)
        return try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == "PG-TARGET-IN-HASH" }
    }

    @Test func commonMethodNameResolvesThroughTheReceiversClass() throws {
        let tree = try #require(try PythonParser().parse([.source(name: "t.py", text: Self.cacheClass)]).first)
        let index = ModuleIndex(module: tree)
        var resolved: [String] = []
        tree.walk { node in
            guard node.type == "Call", let callee = node.child("func"), callee.type == "Attribute",
                  callee.child("value")?.string("id") == "cache",
                  let target = index.resolve(callee: callee, enclosingClass: nil) else { return }
            resolved.append(index.functions[target].qualifiedName)
        }
        #expect(resolved.sorted() == ["NgramCache.predict", "NgramCache.update"])
    }

    @Test func gateOnTheCallerReachesTheMethodCalledByACommonName() throws {
        let found = try findings(Self.cacheClass + Self.entryPoint)
        #expect(found.map(\.line) == [12])
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.message.contains("NGRAM_ENABLED") == true)
    }

    @Test func receiverBoundToAnythingElseStaysUnresolved() throws {
        let source = Self.cacheClass + """

            def fallback():
                cache = {}
                cache.update({"a": 1})
                return cache

            """ + Self.entryPoint
        let tree = try #require(try PythonParser().parse([.source(name: "t.py", text: source)]).first)
        let index = ModuleIndex(module: tree)
        var resolved: [String] = []
        tree.walk { node in
            guard node.type == "Call", let callee = node.child("func"), callee.type == "Attribute",
                  callee.string("attr") == "update", let target = index.resolve(callee: callee, enclosingClass: nil) else { return }
            resolved.append(index.functions[target].qualifiedName)
        }
        #expect(resolved.isEmpty)
        // Unresolved, `update` may run outside the gate: the finding keeps the rule's severity.
        #expect(try findings(source).map(\.severity) == [.error])
    }
}
