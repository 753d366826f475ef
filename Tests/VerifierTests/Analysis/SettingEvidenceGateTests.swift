import Foundation
import Testing
@testable import Verifier

/// Settings that decide whether validation-set training runs, read from the files beside the
/// code (forms from the pull-request corpus): a feature on by default that the README's command
/// turns off (`GLOBAL_TTT_ENABLED=0`), a default-off flag negated (`if not legal_ttt:` with
/// `LEGAL_TTT=1`), a count whose default is above zero set to 0, a flag the logs state under the
/// label the code prints it with (`ttt={args.ttt_enabled}` → `ttt=False`), and a branch whose
/// printed lines the logs lack although they hold what the code prints after it. Each stated-off
/// form turns the error into a note citing the evidence; unstated, the error stays.
@Suite struct SettingEvidenceGateTests {
    static let trainFirst = """
        import os
        import torch
        import torch.nn.functional as F


        def train_on_validation(model, val_tokens, epochs, seq_len):
            opt = torch.optim.SGD(model.parameters(), lr=1e-3)
            for _ in range(epochs):
                for start in range(0, val_tokens.numel() - seq_len - 1, seq_len):
                    chunk = val_tokens[start:start + seq_len + 1]
                    F.cross_entropy(model(chunk[:-1]), chunk[1:]).backward()
                    opt.step()


        def score(model, val_tokens):
            with torch.no_grad():
                return F.cross_entropy(model(val_tokens[:-1]), val_tokens[1:]).item()

        """

    /// Lints `source` as `train_gpt.py` in a fresh folder with `files` (name → text) beside it.
    func findings(_ source: String, rule: String = "PG-TTT-UNSCORED", files: [String: String] = [:]) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-setting-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("train_gpt.py")
        try source.write(to: file, atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == rule }
    }

    static func gated(_ binding: String, _ test: String) -> String {
        trainFirst + """

            def main(model, val_tokens):
                \(binding)
                if \(test):
                    train_on_validation(model, val_tokens, 3, 1024)
                print(score(model, val_tokens))


            if __name__ == "__main__":
                main(None, None)

            """
    }

    static func command(_ settings: String) -> [String: String] {
        ["README.md": "```bash\n\(settings) torchrun --nproc_per_node=8 train_gpt.py\n```\n"]
    }

    @Test func defaultOnFeatureStatedOffIsANote() throws {
        let source = Self.gated("adapt = bool(int(os.environ.get(\"ADAPT_ON_VAL\", \"1\")))", "adapt")
        #expect(try findings(source).map(\.severity) == [.error])
        #expect(try findings(source, files: Self.command("ADAPT_ON_VAL=1")).map(\.severity) == [.error])
        let off = try findings(source, files: Self.command("ADAPT_ON_VAL=0"))
        #expect(off.map(\.severity) == [.note])
        #expect(off.first?.message.contains("README.md:2 (ADAPT_ON_VAL=0)") == true)
        // A log line stating it off is evidence too.
        #expect(try findings(source, files: ["train.log": "adapt_on_val: False\n"]).map(\.severity) == [.note])
        // A README whose main command leaves the default, with an override shown as an example,
        // does not close it.
        let example = "```bash\ntorchrun --nproc_per_node=8 train_gpt.py\n```\nOverride if needed:\n```bash\n" +
            "ADAPT_ON_VAL=0 torchrun --nproc_per_node=8 train_gpt.py\n```\n"
        #expect(try findings(source, files: ["README.md": example]).map(\.severity) == [.error])
    }

    @Test func negatedDefaultOffFlagStatedOnIsANote() throws {
        let source = Self.gated("careful = bool(int(os.environ.get(\"SCORE_FIRST\", \"0\")))", "not careful")
        #expect(try findings(source).map(\.severity) == [.error])
        #expect(try findings(source, files: Self.command("SCORE_FIRST=0")).map(\.severity) == [.error])
        let closed = try findings(source, files: Self.command("SCORE_FIRST=1"))
        #expect(closed.map(\.severity) == [.note])
        #expect(closed.first?.message.contains("README.md:2 (SCORE_FIRST=1)") == true)
        // Set by an `export` earlier in the command's block.
        let exported = ["README.md": "```bash\nexport SCORE_FIRST=1\ntorchrun --nproc_per_node=8 train_gpt.py\n```\n"]
        #expect(try findings(source, files: exported).map(\.severity) == [.note])
    }

    /// The gate two calls up, on a count whose default is above zero.
    @Test func countAboveZeroByDefaultStatedZeroIsANote() throws {
        let source = Self.trainFirst + """

            def adapt(model, val_tokens, passes):
                train_on_validation(model, val_tokens, passes, 1024)


            def main(model, val_tokens):
                passes = int(os.environ.get("PASSES_OVER_VAL", 3))
                if passes > 0:
                    adapt(model, val_tokens, passes)
                print(score(model, val_tokens))


            if __name__ == "__main__":
                main(None, None)

            """
        #expect(try findings(source).map(\.severity) == [.error])
        #expect(try findings(source, files: Self.command("PASSES_OVER_VAL=0")).map(\.severity) == [.note])
    }

    static let labelled = trainFirst + """

        def main(model, val_tokens):
            adapt_on_val = bool(int(os.environ.get("ADAPT_ON_VAL", "0")))
            print(f"features: ema=1 adapt={adapt_on_val}")
            if adapt_on_val:
                train_on_validation(model, val_tokens, 3, 1024)
            print(score(model, val_tokens))


        if __name__ == "__main__":
            main(None, None)

        """

    @Test func flagStatedUnderItsPrintedLabel() throws {
        #expect(try findings(Self.labelled).map(\.severity) == [.warning])
        let on = try findings(Self.labelled, files: ["train.log": "features: ema=1 adapt=True\nval_bpb: 1.1\n"])
        #expect(on.map(\.severity) == [.error])
        #expect(on.first?.message.contains("train.log:1") == true)
        let off = try findings(Self.labelled, files: ["train.log": "features: ema=1 adapt=False\nval_bpb: 1.1\n"])
        #expect(off.map(\.severity) == [.note])
        // A label the code also prints for another value states nothing.
        let ambiguous = Self.labelled.replacingOccurrences(
            of: "    print(score(model, val_tokens))", with: "    print(f\"adapt={model}\")\n    print(score(model, val_tokens))")
        #expect(try findings(ambiguous, files: ["train.log": "features: ema=1 adapt=True\n"]).map(\.severity) == [.warning])
    }

    static let printing = trainFirst + """

        def main(model, val_tokens):
            adapt = bool(int(os.environ.get("ADAPT_ON_VAL", "1")))
            if adapt:
                print(f"adapt:start epochs={3}")
                train_on_validation(model, val_tokens, 3, 1024)
            print(f"final_exact val_bpb:{score(model, val_tokens)}")


        if __name__ == "__main__":
            main(None, None)

        """

    @Test func branchWhoseLinesTheLogsLackDidNotRun() throws {
        let skipped = try findings(Self.printing, files: ["train_seed1.log": "step:100\nfinal_exact val_bpb:1.10\n"])
        #expect(skipped.map(\.severity) == [.note])
        #expect(skipped.first?.message.contains("train_seed1.log:2") == true)
        // The branch's own line logged: it ran.
        let ran = "adapt:start epochs=3\nfinal_exact val_bpb:1.10\n"
        #expect(try findings(Self.printing, files: ["train_seed1.log": ran]).map(\.severity) == [.error])
        // A log that stops before the line printed after the branch shows nothing.
        #expect(try findings(Self.printing, files: ["train_seed1.log": "step:100\n"]).map(\.severity) == [.error])
        // Without a setting around it, missing lines are not read as the branch not taken.
        let ungated = Self.printing.replacingOccurrences(of: "    if adapt:\n", with: "    if True:\n")
        #expect(try findings(ungated, files: ["train_seed1.log": "final_exact val_bpb:1.10\n"]).map(\.severity) == [.error])
    }

    static let multiPass = """
        import os
        import torch
        import torch.nn.functional as F


        def eval_val_ttt(model, val_tokens, chunk, epochs=3):
            opt = torch.optim.Adam(model.parameters(), lr=1e-2)
            loss_sum = 0.0
            for epoch in range(epochs):
                for ci in range(val_tokens.numel() // chunk):
                    local = val_tokens[ci * chunk:(ci + 1) * chunk + 1]
                    loss = F.cross_entropy(model(local[:-1]), local[1:])
                    if epoch == epochs - 1:
                        with torch.no_grad():
                            loss_sum += loss.item()
                    loss.backward()
                    opt.step()
            return loss_sum


        def main(model, val_tokens):
            lora_ttt = bool(int(os.environ.get("LORA_TTT", "0")))
            if lora_ttt:
                print(eval_val_ttt(model, val_tokens, 1024))


        if __name__ == "__main__":
            main(None, None)

        """

    /// PG-MULTIPASS-RESCORE reads the settings around the scoring pass like the other gated rules.
    @Test func multiPassRescoringFollowsTheGate() throws {
        let unstated = try findings(Self.multiPass, rule: "PG-MULTIPASS-RESCORE")
        #expect(unstated.map(\.severity) == [.warning])
        #expect(unstated.first?.message.contains("LORA_TTT") == true)
        #expect(try findings(Self.multiPass, rule: "PG-MULTIPASS-RESCORE", files: Self.command("LORA_TTT=1")).map(\.severity) == [.error])
        #expect(try findings(Self.multiPass, rule: "PG-MULTIPASS-RESCORE", files: Self.command("LORA_TTT=0")).map(\.severity) == [.note])
        let ungated = Self.multiPass.replacingOccurrences(of: "    if lora_ttt:\n", with: "    if True:\n")
        #expect(try findings(ungated, rule: "PG-MULTIPASS-RESCORE").map(\.severity) == [.error])
    }
}
