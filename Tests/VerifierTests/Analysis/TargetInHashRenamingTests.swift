import Foundation
import Testing
@testable import Verifier

/// PG-TARGET-IN-HASH follows a key through names assigned from it and counts only the uses its own
/// assignment reaches: a read through a renamed key is flagged, a count update that rebinds the name
/// after a read is not (the legal forms are in fixtures/lint/PG-TARGET-IN-HASH/legal.py).
@Suite struct TargetInHashRenamingTests {
    static let source = """
        import numpy as np

        PRIME = 1000003


        def eval_then_update_under_one_name(val_np, ctx_hash, positions, full_counts, mask):
            tgt = val_np[positions + 1]
            full_key = (ctx_hash ^ (tgt * PRIME)) & mask
            p = full_counts[full_key] / (full_counts.sum() + 1)
            full_key = (ctx_hash ^ (tgt * PRIME)) & mask
            np.add.at(full_counts, full_key, 1)
            return p


        def eval_ngram_renamed_key(val_np, ctx_hash, positions, full_counts, ctx_counts, mask):
            tgt = val_np[positions + 1]
            full_hash = ctx_hash ^ (tgt * PRIME)
            full_key = (full_hash & mask).astype(np.int64)
            p = full_counts[full_key] / np.maximum(ctx_counts[ctx_hash & mask], 1)
            np.add.at(full_counts, full_key, 1)
            return -np.log(p).sum()


        def main():
            val_tokens = np.fromfile("fineweb_val_000000.bin", dtype=np.uint16)
            print(eval_then_update_under_one_name(val_tokens, 0, np.arange(8), np.zeros(16), 15))
            print(eval_ngram_renamed_key(val_tokens, 0, np.arange(8), np.zeros(16), np.ones(16), 15))

        """

    @Test func readsThroughARenameAreFlaggedAndALaterRebindingUpdateIsNot() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-hash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("train_gpt.py")
        try Self.source.write(to: file, atomically: true, encoding: .utf8)
        let findings = try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == TargetInHashKey.descriptor.id }
        // Line 8: the key read at line 9; line 10 rebinds it for the update only; line 17: read as full_key.
        #expect(findings.map(\.line) == [8, 17])
        #expect(findings.allSatisfy { $0.severity == .error })
    }
}
