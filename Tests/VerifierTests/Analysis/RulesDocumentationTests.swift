import Foundation
import Testing
@testable import Verifier

/// rules.md's static section documents every rule, in registry order, and each rule has both
/// fixtures.
@Suite struct RulesDocumentationTests {
    @Test func everyRuleHasASectionAndFixtures() throws {
        let rules = try String(contentsOf: Paths.packageRoot.appendingPathComponent("rules.md"), encoding: .utf8)
        let start = try #require(rules.range(of: "## Static rules (code analysis)"))
        let end = rules.range(of: "## Submission checks (audit)")?.lowerBound ?? rules.endIndex
        let section = rules[start.upperBound..<end]
        let headings = section.split(separator: "\n").filter { $0.hasPrefix("### ") }
            .compactMap { $0.dropFirst(4).split(separator: " ").first.map(String.init) }
        #expect(headings == LintRules.descriptors.map(\.id))
        for id in LintRules.descriptors.map(\.id) {
            #expect(FileManager.default.fileExists(atPath: LintRuleFixtureTests.fixture(id, "legal").path), "\(id) legal")
            #expect(FileManager.default.fileExists(atPath: LintRuleFixtureTests.fixture(id, "illegal").path), "\(id) illegal")
        }
    }

    /// Every size-accounting finding ID has its `####` section under "Size accounting", in code order.
    @Test func everySizeFindingHasASection() throws {
        let rules = try String(contentsOf: Paths.packageRoot.appendingPathComponent("rules.md"), encoding: .utf8)
        let start = try #require(rules.range(of: "### Size accounting (`verify size`)"))
        let end = try #require(rules.range(of: "### The audit (`verify SUBMISSION_DIR`)"))
        let headings = rules[start.upperBound..<end.lowerBound].split(separator: "\n").filter { $0.hasPrefix("#### ") }
            .compactMap { $0.dropFirst(5).split(separator: " ").first.map(String.init) }
        #expect(Set(headings) == Set(SizeCheckID.allCases.map(\.rawValue)))
    }
}
