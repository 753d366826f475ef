import Foundation
import Testing
@testable import Verifier

/// The whole records corpus: every `.py` parses and is analysed, and the findings equal the
/// hand-reviewed `fixtures/lint/corpus-expected.tsv` (one justified line per finding).
@Suite struct CorpusLintTests {
    struct Expected: Hashable, CustomStringConvertible {
        var file: String
        var line: Int
        var rule: String
        var severity: String
        var description: String { "\(file):\(line) \(severity) \(rule)" }
    }

    @Test func corpusFindingsMatchReviewedExpectations() throws {
        let records = Paths.shared("corpus/parameter-golf/records")
        try #require(FileManager.default.fileExists(atPath: records.path), "shared corpus missing at \(records.path)")
        let files = try Linter.collectFiles([records.path])
        #expect(files.count >= 83)
        let findings = try Linter(parser: try PythonParser()).lint(files: files)
        let prefix = records.path + "/"
        let actual = Set(findings.map {
            Expected(file: String($0.file.dropFirst(prefix.count)), line: $0.line, rule: $0.rule, severity: $0.severity.rawValue)
        })
        let table = try String(contentsOf: Paths.fixture("lint/corpus-expected.tsv"), encoding: .utf8)
        var expected: Set<Expected> = []
        for row in table.split(separator: "\n") where !row.hasPrefix("#") {
            let columns = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            try #require(columns.count == 5, "malformed row: \(row)")
            #expect(!columns[4].trimmingCharacters(in: .whitespaces).isEmpty, "unjustified row: \(row)")
            expected.insert(Expected(file: columns[0], line: Int(columns[1]) ?? -1, rule: columns[2], severity: columns[3]))
        }
        #expect(actual.subtracting(expected).sorted(by: { $0.description < $1.description }) == [], "unexpected findings")
        #expect(expected.subtracting(actual).sorted(by: { $0.description < $1.description }) == [], "missing findings")
    }
}
