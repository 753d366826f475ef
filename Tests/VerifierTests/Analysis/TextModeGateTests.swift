import Foundation
import Testing
@testable import Verifier

/// Gates read from a mode chosen by text and from tests known false: the `else` of a comparison
/// with the mode's default, what follows an early `return` on the default (`if mode == "off" or
/// budget <= 0: return {}`), and what follows `if not flag: return`. Trimmed from real submissions
/// whose validation calibration sits behind `AUTO_RESCUE_MODE` (default "off") and in the
/// two-pass branch of `NGRAM_MODE` (default "single_pass").
@Suite struct TextModeGateTests {
    static let code = """
        import os


        class Hyperparameters:
            auto_rescue_mode = os.environ.get("AUTO_RESCUE_MODE", "off")
            auto_rescue_bytes = int(os.environ.get("AUTO_RESCUE_BYTES", 0))
            ngram_mode = os.environ.get("NGRAM_MODE", "single_pass")
            calib_enabled = bool(int(os.environ.get("CALIB_ENABLED", "0")))


        def build_rescue_calibration_cache(model, val_tokens):
            return collect_hessians(model, val_tokens)  # mark: rescue


        def choose_auto_rescue_specs(args, model, val_tokens):
            mode = args.auto_rescue_mode.strip().lower()
            budget = max(int(args.auto_rescue_bytes), 0)
            if mode == "off" or budget <= 0:
                return {}
            return build_rescue_calibration_cache(model, val_tokens)


        def eval_two_pass(model, val_tokens):
            return collect_hessians(model, val_tokens)  # mark: two-pass


        def maybe_calibrate(args, model, val_tokens):
            if not args.calib_enabled:
                return None
            return collect_hessians(model, val_tokens)  # mark: not-flag


        def main(args, model, val_tokens):
            if args.ngram_mode == "single_pass":
                print("single pass")
            else:
                eval_two_pass(model, val_tokens)
            if args.ngram_mode == "single_pass":
                collect_hessians(model, val_tokens)  # mark: default-branch
            if args.ngram_mode != "two_pass":
                collect_hessians(model, val_tokens)  # mark: not-other-mode
            if args.ngram_mode in ("two_pass", "hybrid"):
                collect_hessians(model, val_tokens)  # mark: other-modes
            choose_auto_rescue_specs(args, model, val_tokens)
            maybe_calibrate(args, model, val_tokens)

        """

    static func line(_ mark: String) -> Int {
        let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.firstIndex { $0.hasSuffix("# mark: \(mark)") } ?? -1) + 1
    }

    /// The PG-VAL-IN-TRAINING findings of `code` in a folder with `files` beside it, by line.
    private func lint(_ files: [String: String] = [:], code: String = Self.code) throws -> [Int: Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-text-mode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try code.write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let findings = try Linter(parser: try PythonParser()).lint(paths: [directory.path])
            .filter { $0.rule == "PG-VAL-IN-TRAINING" }
        return Dictionary(findings.map { ($0.line, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func unevidencedModesAndEarlyReturnsAreWarnings() throws {
        let findings = try lint()
        let rescue = findings[Self.line("rescue")]
        #expect(rescue?.severity == .warning)
        #expect(rescue?.message.contains("AUTO_RESCUE_MODE") == true)
        let twoPass = findings[Self.line("two-pass")]
        #expect(twoPass?.severity == .warning)
        #expect(twoPass?.message.contains("NGRAM_MODE") == true)
        #expect(findings[Self.line("not-flag")]?.severity == .warning)
        #expect(findings[Self.line("not-flag")]?.message.contains("CALIB_ENABLED") == true)
        #expect(findings[Self.line("other-modes")]?.severity == .warning)
    }

    @Test func theDefaultModeIsNoGate() throws {
        let findings = try lint()
        #expect(findings[Self.line("default-branch")]?.severity == .error)
        #expect(findings[Self.line("not-other-mode")]?.severity == .error)
    }

    @Test func aStatedModeDecides() throws {
        let off = try lint(["train_seed1.log": "ngram_mode:single_pass auto_rescue_mode:off\n"])
        #expect(off[Self.line("two-pass")]?.severity == .note)
        #expect(off[Self.line("two-pass")]?.message.contains("train_seed1.log:1") == true)
        #expect(off[Self.line("rescue")]?.severity == .note)
        let on = try lint(["README.md": "```\nNGRAM_MODE=two_pass AUTO_RESCUE_MODE=tensor torchrun train_gpt.py\n```\n"])
        #expect(on[Self.line("two-pass")]?.severity == .error)
        #expect(on[Self.line("other-modes")]?.severity == .error)
        #expect(on[Self.line("rescue")]?.severity == .error)
        #expect(on[Self.line("rescue")]?.message.contains("README.md:2") == true)
    }

    /// A line only the mode's own function prints (it is called only in that mode's branch) shows
    /// the mode on in the run, where no log or command names the setting.
    @Test func aLineOnlyTheModesFunctionPrintsShowsItOn() throws {
        let printing = Self.code.replacingOccurrences(
            of: "def eval_two_pass(model, val_tokens):\n",
            with: "def eval_two_pass(model, val_tokens):\n    print(f\"two_pass_eval:starting windows={len(val_tokens)}\")\n")
        #expect(printing != Self.code)
        let shifted = Self.line("two-pass") + 1
        let ran = try lint(["train_seed1.log": "two_pass_eval:starting windows=30\n"], code: printing)
        #expect(ran[shifted]?.severity == .error, "\(ran[shifted]?.message ?? "none")")
        #expect(ran[shifted]?.message.contains("train_seed1.log:1") == true)
        // Without that line in a log, nothing states the mode: a warning.
        let silent = try lint(["train_seed1.log": "final val_loss:2.1\n"], code: printing)
        #expect(silent[shifted]?.severity == .warning, "\(silent[shifted]?.message ?? "none")")
        // A function also called outside the branch prints in every mode: no evidence.
        let everywhere = printing.replacingOccurrences(of: "    choose_auto_rescue_specs(args, model, val_tokens)\n",
                                                       with: "    choose_auto_rescue_specs(args, model, val_tokens)\n    eval_two_pass(model, val_tokens)\n")
        #expect(everywhere != printing)
        let unrelated = try lint(["train_seed1.log": "two_pass_eval:starting windows=30\n"], code: everywhere)
        #expect(unrelated[shifted]?.severity != .note)
        #expect(unrelated[shifted]?.message.contains("printed only when") != true, "\(unrelated[shifted]?.message ?? "none")")
    }
}
