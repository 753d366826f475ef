import Foundation
import Testing
@testable import Verifier

/// A file the run only imports does not run its `if __name__ == "__main__":` body, nor the
/// functions only that body reaches (``ScriptOnlyCode``, ``RunReachability``). Each form in
/// `fixtures/lint/script-only/<NN>-<form>/` is a folder pair holding the same checkpoint selection
/// on validation scores (lines marked `# expect: PG-VAL-IN-TRAINING`) in a helper file: in
/// `illegal/` the run reaches it (the file is run as a script, another file names the function,
/// reads the module by a computed name, or the code runs on import), so it stays an error; in
/// `legal/` it runs only when the helper is run as a script, so it is a warning that says so.
@Suite struct ScriptOnlyCodeTests {
    static let root = Paths.fixture("lint/script-only")
    static let rule = ValidationInTraining.descriptor.id

    static let forms: [String] = {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }()

    static func folder(_ form: String, _ side: String) -> URL {
        root.appendingPathComponent(form).appendingPathComponent(side)
    }

    static func findings(_ folder: URL) throws -> [Finding] {
        try Linter(parser: try PythonParser()).lint(paths: [folder.path]).filter { $0.rule == rule }
    }

    @Test func everyFormHasBothSides() throws {
        #expect(Self.forms.count >= 7)
        for form in Self.forms {
            for side in ["illegal", "legal"] {
                #expect(try !RunReachabilityTests.marked(Self.folder(form, side), rule: Self.rule).isEmpty, "\(form)/\(side) marks no line")
            }
        }
    }

    @Test(arguments: forms)
    func reachedStaysAnError(_ form: String) throws {
        let folder = Self.folder(form, "illegal")
        let found = try Self.findings(folder)
        #expect(RunReachabilityTests.located(found, in: folder) == (try RunReachabilityTests.marked(folder, rule: Self.rule)),
                "\(found.map(\.message))")
        #expect(found.allSatisfy { $0.severity == .error }, "\(found.map(\.message))")
    }

    @Test(arguments: forms)
    func scriptOnlyIsAWarningThatSaysSo(_ form: String) throws {
        let folder = Self.folder(form, "legal")
        let found = try Self.findings(folder)
        #expect(RunReachabilityTests.located(found, in: folder) == (try RunReachabilityTests.marked(folder, rule: Self.rule)),
                "\(found.map(\.message))")
        #expect(found.allSatisfy { $0.severity == .warning && $0.message.contains("runs only when that file is run as a script") },
                "\(found.map(\.message))")
    }

    /// The regions on a trimmed module: the block's body and the chain `main` → `train`; `helper`
    /// (called on import) and `unused` (called by nothing) are not script-only.
    @Test func regionsFollowTheCallChainFromTheBlock() throws {
        let source = """
        def helper():
            return 1


        def train():
            return helper()


        def main():
            train()


        def unused():
            return 2


        VALUE = helper()

        if __name__ == "__main__":
            main()
        else:
            VALUE = 3
        """
        let tree = try #require(try PythonParser().parse([.source(name: "core.py", text: source)]).first)
        let code = ScriptOnlyCode(module: tree, namedElsewhere: { _ in false })
        #expect(code.regions.map { [$0.start, $0.end] } == [[5, 6], [9, 10], [20, 20]])
        #expect(code.region(containing: 2) == nil)
        #expect(code.region(containing: 14) == nil)
        #expect(code.region(containing: 22) == nil)
        let named = ScriptOnlyCode(module: tree, namedElsewhere: { $0 == "train" })
        #expect(named.regions.map { [$0.start, $0.end] } == [[9, 10], [20, 20]])
    }
}
