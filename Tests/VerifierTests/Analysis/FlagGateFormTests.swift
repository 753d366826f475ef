import Foundation
import Testing
@testable import Verifier

/// Forms of a test of a default-off feature that gate a finding like a plain flag name: the
/// flag read with `getattr(h, "name", False)`, and several such flags joined by `or` (the code
/// runs when any one is set). Trimmed from a real submission whose validation-prefix calibration
/// runs only under `MULTI_EXIT_ENABLED` or `TEMP_CAL_ENABLED`, both off in its logs.
@Suite struct FlagGateFormTests {
    static let code = """
        import os


        class Hyperparameters:
            temp_cal_enabled = bool(int(os.environ.get("TEMP_CAL_ENABLED", "0")))
            multi_exit_enabled = bool(int(os.environ.get("MULTI_EXIT_ENABLED", "0")))


        def calibrate_multi_exit_mix(h, model, val_data, n_prefix_tokens=8192):
            pref = val_data.val_tokens[: n_prefix_tokens + 1]
            return model(pref[:-1], pref[1:])


        def train_and_eval(h, model, val_data):
            if getattr(h, "multi_exit_enabled", False) or getattr(h, "temp_cal_enabled", False):
                calibrate_multi_exit_mix(h, model, val_data)
            if getattr(h, "temp_cal_enabled", False):
                calibrate_multi_exit_mix(h, model, val_data)
            if getattr(h, "temp_cal_enabled", True):
                calibrate_multi_exit_mix(h, model, val_data)

        """

    /// The PG-VAL-IN-TRAINING findings of `code` in a folder with `files` beside it, by line.
    private func lint(_ files: [String: String]) throws -> [Int: Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-flag-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.code.write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let findings = try Linter(parser: try PythonParser()).lint(paths: [directory.path])
            .filter { $0.rule == "PG-VAL-IN-TRAINING" }
        return Dictionary(findings.map { ($0.line, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func flagsStatedOffMakeNotes() throws {
        let findings = try lint(["train_seed1.log": "  multi_exit_enabled: False\n  temp_cal_enabled: False\n"])
        #expect(findings[16]?.severity == .note)
        #expect(findings[16]?.message.contains("MULTI_EXIT_ENABLED or TEMP_CAL_ENABLED") == true)
        #expect(findings[16]?.message.contains("train_seed1.log:1") == true)
        #expect(findings[16]?.message.contains("train_seed1.log:2") == true)
        #expect(findings[18]?.severity == .note)
        // A getattr whose fallback is on gates nothing.
        #expect(findings[20]?.severity == .error)
    }

    @Test func anyFlagOnMakesTheOrGateAnError() throws {
        let findings = try lint(["train_seed1.log": "  multi_exit_enabled: False\n  temp_cal_enabled: True\n"])
        #expect(findings[16]?.severity == .error)
        #expect(findings[18]?.severity == .error)
    }

    @Test func oneFlagUnstatedLeavesTheOrGateAWarning() throws {
        let findings = try lint(["train_seed1.log": "  multi_exit_enabled: False\n"])
        #expect(findings[16]?.severity == .warning)
        #expect(findings[18]?.severity == .warning)
    }
}
