import Foundation
import Testing
@testable import Verifier

@Suite struct LintReportTests {
    let findings = [
        Finding(rule: "PG-SLOT", severity: .error, file: "./records/a/train_gpt.py", line: 19, message: "m1"),
        Finding(rule: "PG-WRAPPED-SOURCE", severity: .note, file: "records/b/train_gpt.py", line: 8, message: "m2",
                decodedFromLine: 2),
    ]

    @Test func jsonHasTheDocumentedFields() throws {
        let object = try JSONSerialization.jsonObject(with: LintReport.json(findings)) as? [String: Any]
        let entries = try #require(object?["findings"] as? [[String: Any]])
        #expect(entries.count == 2)
        #expect(entries[0]["rule"] as? String == "PG-SLOT")
        #expect(entries[0]["severity"] as? String == "error")
        #expect(entries[0]["file"] as? String == "./records/a/train_gpt.py")
        #expect(entries[0]["line"] as? Int == 19)
        #expect(entries[0]["message"] as? String == "m1")
        #expect(entries[1]["decodedFromLine"] as? Int == 2)
    }

    @Test func sarifIsVersion210WithRulesAndLocations() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: LintReport.sarif(findings, version: "0.1.0")) as? [String: Any])
        #expect(object["version"] as? String == "2.1.0")
        #expect((object["$schema"] as? String)?.contains("sarif-2.1.0") == true)
        let run = try #require((object["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "pgverify")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.compactMap { $0["id"] as? String } == LintRules.descriptors.map(\.id))
        #expect(rules.allSatisfy { (($0["help"] as? [String: Any])?["text"] as? String)?.isEmpty == false })
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.map { $0["ruleId"] as? String } == ["PG-SLOT", "PG-WRAPPED-SOURCE"])
        #expect(results.map { $0["level"] as? String } == ["error", "note"])
        let location = try #require((results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((location["artifactLocation"] as? [String: Any])?["uri"] as? String == "records/a/train_gpt.py")
        #expect((location["region"] as? [String: Any])?["startLine"] as? Int == 19)
        // Decoded code has no lines in the file: SARIF points at the wrapper line.
        let wrapped = try #require((results[1]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((wrapped["region"] as? [String: Any])?["startLine"] as? Int == 2)
        let ruleIndex = results[0]["ruleIndex"] as? Int
        #expect(ruleIndex.map { rules[$0]["id"] as? String } == "PG-SLOT")
    }

    @Test func severitiesAreOrdered() {
        #expect(Severity.note < .warning && Severity.warning < .error)
    }
}
