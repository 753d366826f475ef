import Foundation
import Testing
@testable import Verifier

/// PG-EVAL-UNTIMED beyond its fixtures: the settings that gate the untimed work, the branches of the
/// evaluation function, and the track the audit judges.
@Suite struct UntimedEvaluationWorkTests {
    static let illegal = Paths.fixture("lint/PG-EVAL-UNTIMED/illegal.py")

    /// A folder holding `code` as train_gpt.py and `files` beside it.
    static func folder(_ code: String, files: [String: String] = [:]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("untimed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try code.write(to: folder.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return folder
    }

    static func findings(_ folder: URL) throws -> [Finding] {
        try Linter(parser: try PythonParser()).lint(paths: [folder.path]).filter { $0.rule == "PG-EVAL-UNTIMED" }
    }

    static let flagged = try! String(contentsOf: Paths.fixture("lint/mutations/PG-EVAL-UNTIMED/07-default-on-flag.illegal.py"), encoding: .utf8)

    /// On by default in the code (`PRIOR_OUTSIDE_TIMER`, "1"): an error unless the run states it off.
    @Test func aDefaultOnFlagStatedOffInTheLogIsANote() throws {
        let on = try Self.folder(Self.flagged)
        defer { try? FileManager.default.removeItem(at: on) }
        #expect(try Self.findings(on).map(\.severity) == [.error])

        let off = try Self.folder(Self.flagged, files: ["train_seed0.log": "hyperparameters:\n  prior_outside_timer: False\nfinal val_loss:2.5\n"])
        defer { try? FileManager.default.removeItem(at: off) }
        let findings = try Self.findings(off)
        #expect(findings.map(\.severity) == [.note])
        #expect(findings.first?.message.contains("PRIOR_OUTSIDE_TIMER") == true)
        #expect(findings.first?.message.contains("train_seed0.log:2") == true)
    }

    /// Off by default with nothing beside the code to say it was on: a warning naming the variable.
    @Test func aDefaultOffFlagWithoutEvidenceIsAWarning() throws {
        let code = Self.flagged.replacingOccurrences(of: "\"PRIOR_OUTSIDE_TIMER\", \"1\"", with: "\"PRIOR_OUTSIDE_TIMER\", \"0\"")
        #expect(code != Self.flagged)
        let folder = try Self.folder(code)
        defer { try? FileManager.default.removeItem(at: folder) }
        let findings = try Self.findings(folder)
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("PRIOR_OUTSIDE_TIMER") == true)
    }

    /// A precompute that returns at once unless a default-off setting names a file runs only with it.
    @Test func aFunctionThatReturnsUnlessAFlagIsSetIsGatedByIt() throws {
        let code = """
            import os
            import time

            import torch


            class Hyperparameters:
                prefix_file = os.environ.get("PREFIX_FILE", "")


            def load_prefix(args, val_tokens):
                if not args.prefix_file:
                    return None
                return torch.cumsum(val_tokens, 0)


            def eval_val(model, val_tokens, prefix):
                loss_sum = 0.0
                with torch.no_grad():
                    loss_sum += model(val_tokens, prefix).sum().item()
                return loss_sum


            def main(args, model, val_tokens):
                prefix = load_prefix(args, val_tokens)
                t_eval = time.perf_counter()
                loss = eval_val(model, val_tokens, prefix)
                print(f"val_loss:{loss} eval_time:{time.perf_counter() - t_eval}")

            """
        let folder = try Self.folder(code)
        defer { try? FileManager.default.removeItem(at: folder) }
        let findings = try Self.findings(folder)
        #expect(findings.map(\.line) == [25])
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("PREFIX_FILE") == true)
    }

    /// The evaluation reads the precomputed value in one branch and builds its own in the other:
    /// what either branch leaves reaches the score (the dataflow joins both arms of an `if`).
    @Test func aValueReadInOneBranchOfTheEvaluationStillReachesTheScore() throws {
        let code = """
            import time

            import torch


            def precompute(val_tokens):
                return torch.bincount(val_tokens).float()


            def eval_val(model, val_tokens, hints=None):
                if hints is not None:
                    table = hints
                else:
                    table = torch.zeros(8)
                loss_sum = 0.0
                with torch.no_grad():
                    loss_sum += (model(val_tokens) + table).sum().item()
                return loss_sum


            def main(model, val_tokens):
                hints = precompute(val_tokens)
                t_eval = time.perf_counter()
                loss = eval_val(model, val_tokens, hints=hints)
                print(f"val_loss:{loss} eval_time:{time.perf_counter() - t_eval}")

            """
        let folder = try Self.folder(code)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try Self.findings(folder).map(\.line) == [22])
    }

    /// The audit: on the non-record track there is no evaluation time limit, so the finding is a note.
    @Test func onTheNonRecordTrackTheAuditReportsANote() throws {
        let code = try String(contentsOf: Self.illegal, encoding: .utf8)
        let record = try Self.folder(code, files: ["submission.json": #"{"track": "10min_16mb", "val_bpb": 1.2}"#])
        let nonRecord = try Self.folder(code, files: ["submission.json": #"{"track": "non_record_16mb", "val_bpb": 1.2}"#])
        defer {
            try? FileManager.default.removeItem(at: record)
            try? FileManager.default.removeItem(at: nonRecord)
        }
        let onRecord = StaticFindingsProvider.outcome(for: try Submission.read(at: record), nonRecord: false)
            .findings.filter { $0.rule == "PG-EVAL-UNTIMED" }
        #expect(onRecord.map(\.severity) == [.error])
        let onNonRecord = StaticFindingsProvider.outcome(for: try Submission.read(at: nonRecord), nonRecord: true)
            .findings.filter { $0.rule == "PG-EVAL-UNTIMED" }
        #expect(onNonRecord.map(\.severity) == [.note])
        #expect(onNonRecord.first?.message.contains("non-record track") == true)
    }
}
