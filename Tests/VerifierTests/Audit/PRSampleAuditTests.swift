import Foundation
import Testing
@testable import Verifier

/// The audit of a stratified sample of pull-request record folders (`fixtures/pr-sample`, see its README
/// and docs/pr-corpus-audit.md): each folder's verdict and its error and warning findings must be the ones
/// `manifest.tsv` records as reviewed, except where `known-disagreements.tsv` says the tool is still
/// wrong, which the test asserts exactly (so fixing the tool forces the list to be updated).
@Suite struct PRSampleAuditTests {
    static let root = Paths.fixture("pr-sample")
    /// Folders are audited in this many parallel batches.
    static let batches = 8

    struct Expectation: Sendable {
        var id: String
        var folder: String
        var verdict: String
        var errors: Set<String>
        var warnings: Set<String>
    }

    enum DisagreementKind: String, Sendable {
        /// The tool reports an error finding the review found wrong.
        case falseError = "false-error"
        /// The review found an error the tool does not report.
        case missedError = "missed-error"
        /// The tool decides another verdict (the item) than the reviewed one.
        case verdict
    }

    struct Disagreement: Sendable {
        var id: String
        var kind: DisagreementKind
        var item: String
    }

    /// Rows of a TSV with a header, `#` lines skipped.
    static func rows(_ name: String) throws -> [[String: String]] {
        let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        guard let header = lines.first?.components(separatedBy: "\t") else { return [] }
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(header, line.components(separatedBy: "\t")))
        }
    }

    static func items(_ field: String?) -> Set<String> {
        guard let field, field != "-" else { return [] }
        return Set(field.components(separatedBy: ";"))
    }

    static func expectations() throws -> [Expectation] {
        try rows("manifest.tsv").map { row in
            Expectation(id: row["id"] ?? "", folder: row["folder"] ?? "", verdict: row["verdict"] ?? "",
                        errors: items(row["errors"]), warnings: items(row["warnings"]))
        }
    }

    static func disagreements() throws -> [Disagreement] {
        try rows("known-disagreements.tsv").map { row in
            Disagreement(id: row["id"] ?? "", kind: DisagreementKind(rawValue: row["kind"] ?? "") ?? .verdict,
                         item: row["item"] ?? "")
        }
    }

    /// A finding as the manifest writes it: `RULE@file:line` (`RULE@-` without a location).
    static func item(_ finding: AuditFinding) -> String {
        "\(finding.rule)@\(finding.locationText ?? "-")"
    }

    /// What the tool is expected to report: the reviewed truth with the known disagreements applied.
    static func toolExpectation(_ reviewed: Expectation, _ disagreements: [Disagreement]) -> Expectation {
        var expected = reviewed
        for disagreement in disagreements where disagreement.id == reviewed.id {
            switch disagreement.kind {
            case .falseError: expected.errors.insert(disagreement.item)
            case .missedError: expected.errors.remove(disagreement.item)
            case .verdict: expected.verdict = disagreement.item
            }
        }
        return expected
    }

    @Test func manifestAndDisagreementsAreConsistent() throws {
        let expectations = try Self.expectations()
        #expect(expectations.count >= 70)
        #expect(Set(expectations.map(\.id)).count == expectations.count)
        let byID = Dictionary(uniqueKeysWithValues: expectations.map { ($0.id, $0) })
        for disagreement in try Self.disagreements() {
            let reviewed = try #require(byID[disagreement.id], "known disagreement for \(disagreement.id), not in the manifest")
            switch disagreement.kind {
            case .falseError: #expect(!reviewed.errors.contains(disagreement.item), "\(disagreement.id): \(disagreement.item)")
            case .missedError: #expect(reviewed.errors.contains(disagreement.item), "\(disagreement.id): \(disagreement.item)")
            case .verdict: #expect(reviewed.verdict != disagreement.item, "\(disagreement.id): \(disagreement.item)")
            }
        }
    }

    @Test(arguments: 0..<batches)
    func eachFolderGetsTheReviewedVerdictAndFindings(batch: Int) throws {
        let expectations = try Self.expectations()
        let disagreements = try Self.disagreements()
        for (index, reviewed) in expectations.enumerated() where index % Self.batches == batch {
            let folder = Self.root.appendingPathComponent(reviewed.folder)
            let report = try Audit.run(try Submission.read(at: folder))
            let expected = Self.toolExpectation(reviewed, disagreements)
            let errors = Set(report.findings.filter { $0.severity == .error }.map(Self.item))
            let warnings = Set(report.findings.filter { $0.severity == .warning }.map(Self.item))
            #expect(report.verdict.outcome.rawValue == expected.verdict, "\(reviewed.id) \(reviewed.folder)")
            #expect(errors == expected.errors,
                    "\(reviewed.id): errors not expected \(errors.subtracting(expected.errors).sorted()), missing \(expected.errors.subtracting(errors).sorted())")
            #expect(warnings == expected.warnings,
                    "\(reviewed.id): warnings not expected \(warnings.subtracting(expected.warnings).sorted()), missing \(expected.warnings.subtracting(warnings).sorted())")
            // Nothing passes with code the analyzer did not read.
            if report.verdict.outcome == .pass {
                #expect(report.checks.first { $0.id == Audit.staticFindingsID }?.status != .incomplete, "\(reviewed.id)")
            }
        }
    }
}
