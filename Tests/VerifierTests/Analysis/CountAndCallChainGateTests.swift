import Foundation
import Testing
@testable import Verifier

/// Forms of a default-off feature guarding validation-set training, read from the corpus: a count
/// tested above its default of zero (`if ttt_epochs > 0:` with `TTT_EPOCHS` defaulting to 0), and
/// a guard two calls up (`if args.ttt_enabled: ttt_adapt()` where `ttt_adapt` calls the function
/// that trains). Each turns the PG-TTT-UNSCORED error into a warning naming the variable, unless
/// a file beside the code states the setting on (`TTT_EPOCHS=20` on a README command).
@Suite struct CountAndCallChainGateTests {
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

    /// Lints `source` as `train_gpt.py` in a fresh folder, with `readme` beside it when given.
    func findings(_ source: String, readme: String? = nil) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("train_gpt.py")
        try source.write(to: file, atomically: true, encoding: .utf8)
        if let readme {
            try readme.write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        }
        return try Linter(parser: try PythonParser()).lint(files: [file.path]).filter { $0.rule == "PG-TTT-UNSCORED" }
    }

    static let countGated = trainFirst + """

        def main(model, val_tokens):
            ttt_epochs = int(os.environ.get("PASSES_OVER_VAL", 0))
            if ttt_epochs > 0:
                train_on_validation(model, val_tokens, ttt_epochs, 1024)
            print(score(model, val_tokens))


        if __name__ == "__main__":
            main(None, None)

        """

    @Test func countAboveDefaultZeroIsAGate() throws {
        let found = try findings(Self.countGated)
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.message.contains("PASSES_OVER_VAL") == true)
    }

    /// `if rank > 0:` with `RANK` read as "0" by default selects a process, not a feature: the
    /// launcher sets it for every process (`5df8c232ef10`'s n-gram cache built on ranks above 0).
    @Test func processRankIsNotAFeatureGate() throws {
        let source = Self.trainFirst + """

            def main(model, val_tokens):
                rank = int(os.environ.get("RANK", "0"))
                if rank > 0:
                    train_on_validation(model, val_tokens, 1, 1024)
                print(score(model, val_tokens))


            if __name__ == "__main__":
                main(None, None)

            """
        #expect(try findings(source).map(\.severity) == [.error])
        let renamed = source.replacingOccurrences(of: "\"RANK\"", with: "\"PASSES_OVER_VAL\"")
        #expect(try findings(renamed).map(\.severity) == [.warning])
    }

    @Test func countStatedAboveZeroKeepsTheError() throws {
        let readme = "```bash\nPASSES_OVER_VAL=20 torchrun --nproc_per_node=8 train_gpt.py\n```\n"
        let found = try findings(Self.countGated, readme: readme)
        #expect(found.map(\.severity) == [.error])
        #expect(found.first?.message.contains("README.md:2") == true)
    }

    /// A launcher's quoted list of settings (`--extra-env "A=1;NAME=20"`) states them too.
    @Test func countStatedInAQuotedListOfSettings() throws {
        let readme = "```bash\nmodal run run.py --extra-env \"SEED=1;PASSES_OVER_VAL=20;LR=0.01\"\n```\n"
        #expect(try findings(Self.countGated, readme: readme).map(\.severity) == [.error])
    }

    @Test func countStatedZeroIsANote() throws {
        let readme = "```bash\nPASSES_OVER_VAL=0 torchrun --nproc_per_node=8 train_gpt.py\n```\n"
        #expect(try findings(Self.countGated, readme: readme).map(\.severity) == [.note])
    }

    /// The comparison the other way round (`0 < n`), `n >= 1` and a higher threshold (`n > 2`) all
    /// fail at the default of zero; `n < 2` and `n >= 0` hold there and gate nothing.
    @Test func comparisonFormsOfTheCountTest() throws {
        for (test, gated) in [("0 < ttt_epochs", true), ("ttt_epochs >= 1", true), ("ttt_epochs != 0", true), ("ttt_epochs > 2", true),
                              ("ttt_epochs < 2", false), ("ttt_epochs >= 0", false)] {
            let source = Self.countGated.replacingOccurrences(of: "if ttt_epochs > 0:", with: "if \(test):")
            let found = try findings(source)
            #expect(found.map(\.severity) == [gated ? .warning : .error], "\(test)")
        }
    }

    /// `def _eb(k, d="0"): return bool(int(os.environ.get(k, d)))`, then `flag = _eb("NAME")`:
    /// the helper's default is the variable's; an explicit `"1"` at the call is on by default.
    @Test func environmentReadThroughAHelper() throws {
        let helper = """

            def _eb(k, d="0"):
                return bool(int(os.environ.get(k, d)))


            def main(model, val_tokens):
                train_first = _eb("TRAIN_ON_VAL_FIRST")
                if train_first:
                    train_on_validation(model, val_tokens, 3, 1024)
                print(score(model, val_tokens))


            if __name__ == "__main__":
                main(None, None)

            """
        let found = try findings(Self.trainFirst + helper)
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.message.contains("TRAIN_ON_VAL_FIRST") == true)
        let onByDefault = helper.replacingOccurrences(of: "_eb(\"TRAIN_ON_VAL_FIRST\")", with: "_eb(\"TRAIN_ON_VAL_FIRST\", \"1\")")
        #expect(try findings(Self.trainFirst + onByDefault).map(\.severity) == [.error])
    }

    @Test func gateTwoCallsUpCovers() throws {
        let source = Self.trainFirst + """

            def adapt(model, val_tokens):
                train_on_validation(model, val_tokens, 3, 1024)


            def main(model, val_tokens):
                enabled = bool(int(os.environ.get("ADAPT_ON_VAL", "0")))
                if enabled:
                    adapt(model, val_tokens)
                print(score(model, val_tokens))


            if __name__ == "__main__":
                main(None, None)

            """
        let found = try findings(source)
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.message.contains("ADAPT_ON_VAL") == true)
        // One ungated call of the middle function keeps the error.
        let ungated = source.replacingOccurrences(of: "    print(score(model, val_tokens))",
                                                  with: "    adapt(model, val_tokens)\n    print(score(model, val_tokens))")
        #expect(try findings(ungated).map(\.severity) == [.error])
    }
}
