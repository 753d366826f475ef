import Foundation
import Testing
@testable import Verifier

/// A finding in a file the submitted run never starts is not an error of the run
/// (``RunReachability``). Each form in `fixtures/lint/reachability/<NN>-<form>/` is a folder pair
/// holding the same PG-BYTE-ACCOUNTING table (lines marked `# expect: PG-BYTE-ACCOUNTING`):
/// in `illegal/` the run reaches it (an import, a run command, a launch), or what the run starts
/// cannot be told, so it stays an error; in `legal/` nothing the run starts reaches it, so it is
/// a warning that says so.
@Suite struct RunReachabilityTests {
    static let root = Paths.fixture("lint/reachability")
    static let rule = ByteAccounting.descriptor.id

    static let forms: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }()

    /// `(relative file, line)` of every line marked for the rule in the folder's `.py` files.
    static func marked(_ folder: URL, rule: String = RunReachabilityTests.rule) throws -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".py") else { continue }
            let text = try String(contentsOf: folder.appendingPathComponent(relative), encoding: .utf8)
            for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("# expect: \(rule)") {
                found.append("\(relative):\(offset + 1)")
            }
        }
        return found.sorted()
    }

    static func findings(_ folder: URL) throws -> [Finding] {
        try Linter(parser: try PythonParser()).lint(paths: [folder.path]).filter { $0.rule == rule }
    }

    static func located(_ findings: [Finding], in folder: URL) -> [String] {
        findings.map { "\($0.file.replacingOccurrences(of: folder.path + "/", with: "")):\($0.line)" }.sorted()
    }

    @Test func everyFormHasBothSides() throws {
        #expect(Self.forms.count >= 10)
        for form in Self.forms {
            for side in ["illegal", "legal"] {
                let folder = Self.root.appendingPathComponent(form).appendingPathComponent(side)
                #expect(try !Self.marked(folder).isEmpty, "\(form)/\(side) marks no line")
            }
        }
    }

    @Test(arguments: forms)
    func reachedOrUndecidedStaysAnError(_ form: String) throws {
        let folder = Self.root.appendingPathComponent(form).appendingPathComponent("illegal")
        let found = try Self.findings(folder)
        #expect(Self.located(found, in: folder) == (try Self.marked(folder)), "\(found.map(\.message))")
        #expect(found.allSatisfy { $0.severity == .error }, "\(found.map(\.message))")
    }

    @Test(arguments: forms)
    func unreachedIsAWarningThatSaysSo(_ form: String) throws {
        let folder = Self.root.appendingPathComponent(form).appendingPathComponent("legal")
        let found = try Self.findings(folder)
        #expect(Self.located(found, in: folder) == (try Self.marked(folder)), "\(found.map(\.message))")
        #expect(found.allSatisfy { $0.severity == .warning && $0.message.contains("is not reached from its entry script") },
                "\(found.map(\.message))")
    }

    /// A lone file, or several paths, are not a submission folder: every file is judged.
    @Test func filesGivenOneByOneAreAllJudged() throws {
        let folder = Self.root.appendingPathComponent("01-imported-module").appendingPathComponent("legal")
        let tables = folder.appendingPathComponent("byte_tables.py").path
        let linter = Linter(parser: try PythonParser())
        let alone = try linter.lint(paths: [tables]).filter { $0.rule == Self.rule }
        let both = try linter.lint(paths: [folder.appendingPathComponent("train_gpt.py").path, tables]).filter { $0.rule == Self.rule }
        #expect(!alone.isEmpty && alone.allSatisfy { $0.severity == .error })
        #expect(!both.isEmpty && both.allSatisfy { $0.severity == .error })
    }

    /// The audit judges the folder the same way: an unreached file's error does not fail STATIC-FINDINGS.
    @Test func auditLowersTheUnreachedFilesErrors() throws {
        let folder = Self.root.appendingPathComponent("05-subprocess-launch")
        let legal = try Submission.read(at: folder.appendingPathComponent("legal"))
        let illegal = try Submission.read(at: folder.appendingPathComponent("illegal"))
        let lowered = StaticFindingsProvider.outcome(for: legal).findings.filter { $0.rule == Self.rule }
        let kept = StaticFindingsProvider.outcome(for: illegal).findings.filter { $0.rule == Self.rule }
        #expect(!lowered.isEmpty && lowered.allSatisfy { $0.severity == .warning })
        #expect(!kept.isEmpty && kept.allSatisfy { $0.severity == .error })
    }

    @Test func commandTokensNameFilesBySuffix() {
        let references = ScriptReferences(pythonFiles: ["train_gpt.py", "tools/eval.py", "tests/test_a.py", "tests/fixtures/x.py"])
        #expect(references.targets(ofCommand: "cd /w && torchrun --nproc_per_node=8 records/t/f/tools/eval.py").files == ["tools/eval.py"])
        #expect(references.targets(ofCommand: "python3 \"${ROOT}/train_gpt.py\" --seed=1").files == ["train_gpt.py"])
        #expect(references.targets(ofCommand: "python -m tools.eval").files == ["tools/eval.py"])
        #expect(references.targets(ofCommand: "python -m pytest tests/ -q").files == ["tests/test_a.py"])
        #expect(references.targets(ofCommand: "python canonical.py --train-script path/to/train_gpt.py").files == ["train_gpt.py"])
        #expect(references.targets(ofCommand: "for f in tools/*.py; do python $f; done").pattern)
        #expect(references.targets(ofCommand: "the buggy_x.py copy").files.isEmpty)
    }
}
