import Foundation
import Testing
@testable import Verifier

/// The JSON report conforms to `schemas/audit.schema.json`, and the validator does catch violations.
@Suite struct AuditJSONSchemaTests {
    static func schema() throws -> JSONSchemaSubset {
        let bytes = try Data(contentsOf: Paths.packageRoot.appendingPathComponent("schemas/audit.schema.json"))
        return JSONSchemaSubset(root: try JSONValue.parse(Array(bytes), file: "audit.schema.json"))
    }

    static func report(_ fixture: String, previous: Bool = true) throws -> JSONValue {
        let submission = try Submission.read(at: Paths.fixture("audit/\(fixture)"))
        let record = previous ? try PreviousRecord.parse(Paths.fixture("audit/previous-record.txt").path) : nil
        let report = try Audit.run(submission, options: AuditOptions(previousRecord: record))
        // Through text and back, as a consumer reads it.
        return try JSONValue.parse(Array(report.json.rendered().utf8), file: "report")
    }

    @Test(arguments: ["record", "fourth-seed", "oversize", "claims-disagree", "missing-logs", "overtime"])
    func fixtureReportsConform(_ fixture: String) throws {
        let errors = try Self.schema().validate(try Self.report(fixture))
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test func corpusReportsConform() throws {
        let records = Paths.shared("corpus/parameter-golf/records/track_10min_16mb")
        try #require(FileManager.default.fileExists(atPath: records.path), "needs ../shared")
        for name in ["2026-03-17_NaiveBaseline", "2026-04-04_SP4096_DepthRecurrence_ParallelResid_MuonEqR"] {
            let report = try Audit.run(try Submission.read(at: records.appendingPathComponent(name)))
            let errors = try Self.schema().validate(try JSONValue.parse(Array(report.json.rendered().utf8), file: name))
            #expect(errors.isEmpty, "\(name): \(errors)")
        }
    }

    @Test func validatorRejectsViolations() throws {
        let schema = try Self.schema()
        guard case .object(var members) = try Self.report("record") else { Issue.record("not an object"); return }
        let good = JSONValue.object(members)
        #expect(schema.validate(good).isEmpty)

        members.removeAll { $0.key == "verdict" }
        #expect(schema.validate(.object(members)) == ["$: missing required member verdict"])

        members.append(("verdict", .object([("outcome", .string("MAYBE")), ("exit_code", .integer(3)), ("reasons", .array([]))])))
        #expect(schema.validate(.object(members)).contains { $0.hasPrefix("$.verdict.outcome: \"MAYBE\" is not one of") })

        members.removeAll { $0.key == "verdict" }
        members.append(("verdict", .object([("outcome", .string("PASS")), ("exit_code", .string("0")), ("reasons", .array([]))])))
        #expect(schema.validate(.object(members)) == ["$.verdict.exit_code: string is not integer"])

        members.append(("extra", .null))
        #expect(schema.validate(.object(members)).contains("$: unexpected member extra"))
    }
}
