import Foundation
import Testing
@testable import Verifier

/// Runs the built `verify size` binary (built by `swift build` before the tests) on the fixtures.
@Suite struct SizeCommandTests {
    static func run(_ arguments: [String]) throws -> VerifyExecutable.Outcome { try VerifyExecutable.run(arguments) }

    static func fixture(_ name: String) -> String { Paths.fixture("submissions/\(name)").path }

    @Test func exitCodes() throws {
        #expect(try Self.run(["size", Self.fixture("passing")]).status == 0)
        #expect(try Self.run(["size", Self.fixture("oversize")]).status == 1)
        #expect(try Self.run(["size", Self.fixture("claims-disagree")]).status == 0)
        #expect(try Self.run(["size", Self.fixture("missing-logs")]).status == 3)
        let malformed = try Self.run(["size", Self.fixture("malformed-json")])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("malformed-json/submission.json: at byte 53: malformed JSON"))
        #expect(try Self.run(["size", "/nonexistent/pgverify"]).status == 2)
        #expect(try Self.run(["size"]).status == 2)
    }

    @Test func jsonOutputIsCompleteAndDeterministic() throws {
        let first = try Self.run(["size", Self.fixture("passing"), "--json"])
        let second = try Self.run(["size", Self.fixture("passing"), "--json"])
        #expect(first.stdout == second.stdout)
        let json = try JSONValue.parse(Array(first.stdout.utf8), file: "stdout")
        #expect(json["code_bytes"] == .number("282"))
        #expect(json["model_bytes"] == .number("4096"))
        #expect(json["total_bytes"] == .number("4378"))
        #expect(json["limit"] == .number("16000000"))
        #expect(json["ok"] == .bool(true))
        #expect(json["status"] == .string("pass"))

        let incomplete = try JSONValue.parse(Array(try Self.run(["size", Self.fixture("missing-logs"), "--json"]).stdout.utf8),
                                             file: "stdout")
        #expect(incomplete["ok"] == .null)
        #expect(incomplete["model_bytes"] == .null)
        #expect(incomplete["measured"]?["model_bytes_measured"] == .bool(false))

        let disagree = try JSONValue.parse(Array(try Self.run(["size", Self.fixture("claims-disagree"), "--json"]).stdout.utf8),
                                           file: "stdout")
        guard case .array(let mismatches)? = disagree["mismatches"] else { Issue.record("no mismatches"); return }
        #expect(mismatches.count == 6)
        #expect(mismatches.first?["claim_source"] == .string("submission.json: bytes_code"))
        #expect(mismatches.first?["claimed"] == .number("292"))
        #expect(mismatches.first?["expected"] == .number("282"))
    }
}
