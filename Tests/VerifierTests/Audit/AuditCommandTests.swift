import Foundation
import Testing
@testable import Verifier

/// Runs the built `verify` binary (built by `swift build` before the tests): the audit is the default
/// command, its exit codes, formats, --output and usage errors.
@Suite struct AuditCommandTests {
    static func run(_ arguments: [String]) throws -> VerifyExecutable.Outcome { try VerifyExecutable.run(arguments) }

    static func fixture(_ name: String) -> String { Paths.fixture("audit/\(name)").path }
    static let previous = ["--previous-record", Paths.fixture("audit/previous-record.txt").path]

    @Test
    func exitCodesFollowTheVerdict() throws {
        #expect(try Self.run([Self.fixture("record")] + Self.previous).status == 3)
        #expect(try Self.run([Self.fixture("fourth-seed")] + Self.previous).status == 1)
        #expect(try Self.run(["audit", Self.fixture("oversize")]).status == 1)
        #expect(try Self.run([Self.fixture("missing-logs"), "--quick"]).status == 1)
        #expect(try Self.run([Self.fixture("record"), "--previous-record", "2.06,2.061,2.0605", "--format", "json"]).status == 3)
    }

    @Test
    func badInputAndUsageExitWithTwo() throws {
        let missing = try Self.run(["/nonexistent/pgverify-folder"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/pgverify-folder: not a submission folder"))
        #expect(try Self.run([Self.fixture("record"), "--tokenizer", "x.model"]).status == 2)
        #expect(try Self.run([Self.fixture("record"), "--format", "pdf"]).status == 2)
        let badPrevious = try Self.run([Self.fixture("record"), "--previous-record", "2.06,oops"])
        #expect(badPrevious.status == 2)
        #expect(badPrevious.stderr.contains("'oops' is not a positive validation loss"))
        // A malformed submission.json is a finding of the audit, not bad input: every other check still runs.
        let malformed = try Self.run([Paths.fixture("submissions/malformed-json").path, "--format", "json"])
        #expect(malformed.status == 1)
        #expect(malformed.stdout.contains("\"rule\": \"CLAIM-METADATA-UNREADABLE\""))
        #expect(malformed.stdout.contains("submission.json: at byte 53: malformed JSON"))
    }

    @Test
    func formatsOutputAndProgress() throws {
        let markdown = try Self.run([Self.fixture("fourth-seed")] + Self.previous)
        let golden = try String(contentsOf: Paths.fixture("audit/golden/fourth-seed.md"), encoding: .utf8)
        #expect(markdown.stdout == golden)
        #expect(markdown.stderr.contains("verify: reading"))
        #expect(markdown.stderr.contains("verify: verdict: FAIL"))

        let json = try Self.run([Self.fixture("fourth-seed"), "--format", "json"] + Self.previous)
        let goldenJSON = try String(contentsOf: Paths.fixture("audit/golden/fourth-seed.json"), encoding: .utf8)
        #expect(json.stdout == goldenJSON)

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-audit-\(getpid()).html")
        defer { try? FileManager.default.removeItem(at: output) }
        let html = try Self.run([Self.fixture("overtime"), "--format", "html", "--output", output.path])
        #expect(html.status == 1)
        #expect(html.stdout.isEmpty)
        let page = try String(contentsOf: output, encoding: .utf8)
        #expect(page.contains("<h1>FAIL</h1>"))
    }

    @Test
    func sarifPlacesEveryFindingInTheRepository() throws {
        let run = try Self.run([Self.fixture("oversize"), "--format", "sarif"] + Self.previous)
        #expect(run.status == 1)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let runs = try #require(log["runs"] as? [[String: Any]])
        let results = try #require(runs.first?["results"] as? [[String: Any]])
        let driver = try #require((runs.first?["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let ruleIDs = Set(((driver["rules"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        #expect(ruleIDs.contains("PG-TARGET-IN-HASH"))
        #expect(results.contains { $0["ruleId"] as? String == "SIZE-CLAIMED-OVER-CAP" && $0["level"] as? String == "error" })
        for result in results {
            #expect(ruleIDs.contains(result["ruleId"] as? String ?? ""))
            let location = (result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
            let uri = (location?["artifactLocation"] as? [String: Any])?["uri"] as? String ?? ""
            #expect(uri.hasPrefix(Self.fixture("oversize") + "/"), "\(uri)")
        }
    }

    @Test
    func reproducedSubmissionPassesAndInflatedOneFails() throws {
        let data = ["--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
                    "--val", Paths.shared("val/small").path + "/fineweb_val_*.bin", "--threads", "2"]
        let honest = try Self.run([Self.fixture("reproducible")] + data)
        #expect(honest.status == 0)
        #expect(honest.stdout.contains("**Verdict: PASS**"))
        #expect(honest.stdout.contains("--tokenizer '"))
        let inflated = try Self.run([Self.fixture("not-reproducible")] + data)
        #expect(inflated.status == 1)
        #expect(inflated.stdout.contains("the claimed score is not reproduced"))
    }
}

@Suite struct AuditExtraReportsTests {
    @Test("--write writes further formats from the same run; a malformed --write is a usage error")
    func extraReports() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-write-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("r.json").path, html = directory.appendingPathComponent("r.html").path
        let run = try AuditCommandTests.run([AuditCommandTests.fixture("oversize"), "--write", "json:\(json)", "--write", "html:\(html)"]
                                            + AuditCommandTests.previous)
        #expect(run.status == 1)
        #expect(run.stdout.contains("**Verdict: FAIL**"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect((object["verdict"] as? [String: Any])?["outcome"] as? String == "FAIL")
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("<html"))
        let bad = try AuditCommandTests.run([AuditCommandTests.fixture("oversize"), "--write", "pdf:x.pdf"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--write expects FORMAT:PATH"))
    }
}
