import Foundation
import Testing
@testable import Verifier

/// A default-off feature guarding a finding is resolved from the files beside the code (logs,
/// README run commands, submission.json) and the finding's severity follows that evidence.
@Suite struct FeatureEvidenceTests {
    @Test func logLinesStateSettings() {
        let names: Set<String> = ["ttt_enabled", "slot_enabled", "ngram_cache"]
        #expect(SubmissionDocuments.statedValue(in: "  slot_enabled: True", names: names) == true)
        #expect(SubmissionDocuments.statedValue(in: "ngram_cache:enabled alpha=0.4 min_count=2", names: names) == true)
        #expect(SubmissionDocuments.statedValue(in: "ttt_enabled=0 lr=0.1", names: names) == false)
        #expect(SubmissionDocuments.statedValue(in: "{\"ttt_enabled\": false}", names: names) == false)
        // Other identifiers that merely contain the name, and dotted code, state nothing.
        #expect(SubmissionDocuments.statedValue(in: "  phased_ttt_enabled: True", names: names) == nil)
        #expect(SubmissionDocuments.statedValue(in: "config.eval.ttt_enabled = False", names: names) == nil)
        #expect(SubmissionDocuments.statedValue(in: "if args.ttt_enabled:", names: names) == nil)
    }

    /// A submission folder whose n-gram cache keys by the target, behind `NGRAM_ENABLED` (default
    /// "0"), with `files` beside the code.
    private func lintGatedCache(_ files: [String: String]) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-evidence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try String(contentsOf: Paths.fixture("lint/PG-TARGET-IN-HASH/illegal.py"), encoding: .utf8)
            .replacingOccurrences(of: "    print(eval_ngram_cache(val_tokens))", with: """
                    if NGRAM_ENABLED:
                        print(eval_ngram_cache(val_tokens))
                """)
        try ("import os\nNGRAM_ENABLED = bool(int(os.environ.get(\"NGRAM_ENABLED\", \"0\")))\n" + cache)
            .write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try Linter(parser: try PythonParser()).lint(paths: [directory.path]).filter { $0.rule == "PG-TARGET-IN-HASH" }
    }

    @Test func featureOnInTheLogsIsAnError() throws {
        let findings = try lintGatedCache(["train_seed1.log": "Hyperparameters:\n  ngram_enabled: True\nstep:0/20000\n"])
        #expect(findings.map(\.severity) == [.error])
        #expect(findings.first?.message.contains("train_seed1.log:2") == true)
    }

    @Test func featureSetByTheReadmeCommandIsAnError() throws {
        let readme = "# Record\n\n```bash\nNGRAM_ENABLED=1 SEED=1 torchrun --nproc_per_node=8 train_gpt.py\n```\n"
        let findings = try lintGatedCache(["README.md": readme])
        #expect(findings.map(\.severity) == [.error])
        #expect(findings.first?.message.contains("README.md:4") == true)
    }

    @Test func featureStatedOffIsANote() throws {
        let findings = try lintGatedCache(["train.log": "ngram_enabled: False\n"])
        #expect(findings.map(\.severity) == [.note])
        #expect(findings.first?.message.contains("train.log:1") == true)
    }

    @Test func featureWithoutEvidenceIsAWarningThatSaysSo() throws {
        let findings = try lintGatedCache(["submission.json": "{\"val_bpb\": 1.1}"])
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("only the code default is known") == true)
    }

    /// The environment read inline in the test gates like a named flag.
    @Test func inlineEnvironmentTestGates() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-inline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try String(contentsOf: Paths.fixture("lint/PG-TARGET-IN-HASH/illegal.py"), encoding: .utf8)
            .replacingOccurrences(of: "    print(eval_ngram_cache(val_tokens))", with: """
                    if bool(int(os.environ.get("NGRAM_ENABLED", "0"))):
                        print(eval_ngram_cache(val_tokens))
                """)
        let file = directory.appendingPathComponent("train_gpt.py")
        try ("import os\n" + cache).write(to: file, atomically: true, encoding: .utf8)
        try "ngram_enabled: True\n".write(to: directory.appendingPathComponent("train.log"), atomically: true, encoding: .utf8)
        let findings = try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == "PG-TARGET-IN-HASH" }
        #expect(findings.map(\.severity) == [.error])
        #expect(findings.first?.message.contains("train.log:1") == true)
    }

    @Test func submissionJSONStatesASetting() throws {
        let findings = try lintGatedCache(["submission.json": "{\"ngram_enabled\": true}"])
        #expect(findings.map(\.severity) == [.error])
        #expect(findings.first?.message.contains("submission.json") == true)
    }
}
