import Foundation
import Testing
@testable import Verifier

/// A checkpoint chosen on validation scores whose copy is only written to a file nothing reads back
/// is a warning naming the file (``KeptState``); read back, or named as what is shipped, it stays an
/// error. Folders: `fixtures/lint/kept-state/<form>/` (the `if` marked `# expect: PG-VAL-IN-TRAINING`).
@Suite struct KeptStateTests {
    static let root = Paths.fixture("lint/kept-state")
    static let rule = ValidationInTraining.descriptor.id

    static func findings(_ form: String) throws -> (found: [Finding], marked: [String], folder: URL) {
        let folder = root.appendingPathComponent(form)
        let found = try Linter(parser: try PythonParser()).lint(paths: [folder.path]).filter { $0.rule == rule }
        return (found, try RunReachabilityTests.marked(folder, rule: rule), folder)
    }

    @Test func aCopyOnlySavedToAFileNothingReadsIsAWarningNamingIt() throws {
        let (found, marked, folder) = try Self.findings("saved-only")
        #expect(RunReachabilityTests.located(found, in: folder) == marked)
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.message.contains("only written to snapshot_path (line 26)") == true, "\(found.map(\.message))")
    }

    @Test func aCopyReadBackStaysAnError() throws {
        let (found, marked, folder) = try Self.findings("loaded-back")
        #expect(RunReachabilityTests.located(found, in: folder) == marked)
        #expect(found.map(\.severity) == [.error], "\(found.map(\.message))")
    }

    @Test func aCopyTheReadmeNamesStaysAnError() throws {
        let (found, marked, folder) = try Self.findings("named-in-readme")
        #expect(RunReachabilityTests.located(found, in: folder) == marked)
        #expect(found.map(\.severity) == [.error], "\(found.map(\.message))")
    }
}
