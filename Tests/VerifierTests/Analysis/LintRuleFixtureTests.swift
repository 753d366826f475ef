import Foundation
import Testing
@testable import Verifier

/// Every rule against its own fixtures: `legal.py` must produce no finding of any rule;
/// `illegal.py` must produce this rule's findings exactly on the lines marked `# expect: RULE`.
@Suite struct LintRuleFixtureTests {
    static let ruleIDs = LintRules.descriptors.map(\.id)

    /// `<rule>/<kind>.py`, or `<rule>/<kind>/train_gpt.py` for rules that read the README beside it.
    static func fixture(_ rule: String, _ kind: String) -> URL {
        let flat = Paths.fixture("lint/\(rule)/\(kind).py")
        if FileManager.default.fileExists(atPath: flat.path) { return flat }
        return Paths.fixture("lint/\(rule)/\(kind)/train_gpt.py")
    }

    @Test(arguments: ruleIDs)
    func legalFixtureIsClean(_ rule: String) throws {
        let path = Self.fixture(rule, "legal").path
        let findings = try Linter(parser: try PythonParser()).lint(files: [path])
        #expect(findings.isEmpty, "\(findings)")
    }

    @Test(arguments: ruleIDs)
    func illegalFixtureIsFlaggedOnMarkedLines(_ rule: String) throws {
        let url = Self.fixture(rule, "illegal")
        let source = try String(contentsOf: url, encoding: .utf8)
        let marked = source.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.contains("# expect: \(rule)") }.map { $0.offset + 1 }
        #expect(!marked.isEmpty)
        let findings = try Linter(parser: try PythonParser()).lint(files: [url.path]).filter { $0.rule == rule }
        #expect(findings.map(\.line) == marked)
        let severity = try #require(LintRules.all.first { $0.descriptor.id == rule }).descriptor.severity
        #expect(findings.allSatisfy { $0.severity == severity })
    }

    /// A rule's default-off guard (`if args.slot_enabled:` with `SLOT_ENABLED` defaulting to
    /// "0") turns its error into a warning naming the variable.
    @Test func defaultOffFeatureDowngradesToWarning() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-flag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let slot = try String(contentsOf: Paths.fixture("lint/PG-SLOT/illegal.py"), encoding: .utf8)
        let gated = slot + """

            class Hyperparameters:
                slot_enabled = bool(int(os.environ.get("SLOT_ENABLED", "0")))


            def main(args, model, val_tokens):
                if args.slot_enabled:
                    eval_val_slot(model, val_tokens, 1024, 8)

            """
        let file = directory.appendingPathComponent("train_gpt.py")
        try ("import os\n" + gated).write(to: file, atomically: true, encoding: .utf8)
        let findings = try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == "PG-SLOT" }
        #expect(findings.count == 1)
        #expect(findings.first?.severity == .warning)
        #expect(findings.first?.message.contains("SLOT_ENABLED") == true)
    }

    /// The PR #1232 lesson: n-gram code present but disabled by default is a warning, not an error.
    @Test func disabledNgramCacheIsAWarning() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-ngram-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try String(contentsOf: Paths.fixture("lint/PG-TARGET-IN-HASH/illegal.py"), encoding: .utf8)
            .replacingOccurrences(of: "    print(eval_ngram_cache(val_tokens))", with: """
                    if NGRAM_ENABLED:
                        print(eval_ngram_cache(val_tokens))
                """)
        let file = directory.appendingPathComponent("train_gpt.py")
        try ("import os\nNGRAM_ENABLED = bool(int(os.environ.get(\"NGRAM_ENABLED\", \"0\")))\n" + cache)
            .write(to: file, atomically: true, encoding: .utf8)
        let findings = try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == "PG-TARGET-IN-HASH" }
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("NGRAM_ENABLED") == true)
    }
}
