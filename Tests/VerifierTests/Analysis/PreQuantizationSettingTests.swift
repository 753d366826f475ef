import Foundation
import Testing
@testable import Verifier

/// PG-PREQUANT-TTT under settings other than a default-off flag tested positively, each on code
/// trimmed from corpus folders: a flag on by default (its `if` arm stated off; its `else` arm), a
/// number compared with a bound its default does not pass, and validation data that reaches the
/// training loop only through a loader switched under such a test. Each is an error where the
/// evidence beside the code turns it on, a warning naming the setting where nothing states it,
/// and a note where the evidence turns it off.
@Suite struct PreQuantizationSettingTests {
    private func lint(_ code: String, files: [String: String] = [:]) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-prequant-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try code.write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try Linter(parser: try PythonParser()).lint(paths: [directory.path]).filter { $0.rule == "PG-PREQUANT-TTT" }
    }

    private static func readme(_ settings: String) -> [String: String] {
        ["README.md": "# Run\n\n```bash\n\(settings) torchrun --nproc_per_node=8 train_gpt.py\n```\n"]
    }

    /// LoRA TTT inside the evaluation, under a flag on by default (`USE_LORA_TTT`, "1").
    static let defaultOnFlag = """
        import os
        import torch


        class Hyperparameters:
            use_lora_ttt = bool(int(os.environ.get("USE_LORA_TTT", "1")))


        def lora_ttt_adapt(model, context_tokens):
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            model(context_tokens[:, :-1], context_tokens[:, 1:]).backward()
            opt.step()


        def eval_val(args, model, val_tokens):
            if args.use_lora_ttt:
                lora_ttt_adapt(model, val_tokens[:1025].unsqueeze(0))
            with torch.inference_mode():
                return model(val_tokens[:-1], val_tokens[1:]).item()


        def main(model, val_tokens):
            args = Hyperparameters()
            eval_val(args, model, val_tokens)
            torch.save(torch.quantize_per_tensor(model.weight, 0.1, 0, torch.qint8), "final_model.int8.pt")


        if __name__ == "__main__":
            main(None, None)

        """

    @Test func flagOnByDefaultStatedOffIsANote() throws {
        let off = try lint(Self.defaultOnFlag, files: Self.readme("USE_LORA_TTT=0"))
        #expect(off.map(\.line) == [24])
        #expect(off.map(\.severity) == [.note], "\(off.map(\.message))")
        #expect(off.first?.message.contains("only when USE_LORA_TTT is on") == true)
        #expect(off.first?.message.contains("README.md:4") == true)
        // On by default: unstated or stated on, the update runs.
        #expect(try lint(Self.defaultOnFlag).map(\.severity) == [.error])
        #expect(try lint(Self.defaultOnFlag, files: Self.readme("USE_LORA_TTT=1")).map(\.severity) == [.error])
    }

    /// Score-first TTT by default; the `else` arm trains before scoring (`TTT_SCORE_FIRST`, "1").
    static let elseOfDefaultOn = """
        import os
        import torch


        class Hyperparameters:
            ttt_score_first = int(os.environ.get("TTT_SCORE_FIRST", "1"))


        def ttt_adapt(model, val_tokens):
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
            for epoch in range(3):
                model(val_tokens[:-1], val_tokens[1:]).backward()
                opt.step()


        def main(model, val_tokens):
            args = Hyperparameters()
            if args.ttt_score_first:
                with torch.no_grad():
                    pre = model(val_tokens[:-1], val_tokens[1:]).item()
                ttt_adapt(model, val_tokens)
            else:
                ttt_adapt(model, val_tokens)
            torch.save(model.state_dict(), "final_model.pt")


        if __name__ == "__main__":
            main(None, None)

        """

    @Test func elseArmOfAFlagOnByDefaultFollowsTheEvidence() throws {
        let unstated = try lint(Self.elseOfDefaultOn)
        #expect(unstated.map(\.line) == [21, 23])
        #expect(unstated.map(\.severity) == [.error, .warning], "\(unstated.map(\.message))")
        #expect(unstated.last?.message.contains("only when TTT_SCORE_FIRST is off") == true)
        let setOff = try lint(Self.elseOfDefaultOn, files: Self.readme("TTT_SCORE_FIRST=0"))
        #expect(setOff.map(\.severity) == [.note, .error], "\(setOff.map(\.message))")
        let setOn = try lint(Self.elseOfDefaultOn, files: ["train.log": "ttt_score_first: 1\n"])
        #expect(setOn.map(\.severity) == [.error, .note], "\(setOn.map(\.message))")
        #expect(setOn.last?.message.contains("train.log:1") == true)
    }

    /// A TTT "soup" run only for more than one variant (`TTT_SOUP_K`, default 1).
    static let countAboveDefault = """
        import os
        import torch


        class Hyperparameters:
            ttt_soup_k = int(os.environ.get("TTT_SOUP_K", 1))


        def ttt_adapt_adamw(model, tokens):
            opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
            model(tokens[:-1], tokens[1:]).backward()
            opt.step()


        def main(model, val_tokens):
            args = Hyperparameters()
            K = args.ttt_soup_k
            if K > 1:
                for ki in range(K):
                    ttt_adapt_adamw(model, val_tokens[ki::K])
            torch.save(model.state_dict(), "final_model.pt")


        if __name__ == "__main__":
            main(None, None)

        """

    @Test func aCountAboveItsDefaultFollowsTheEvidence() throws {
        let unstated = try lint(Self.countAboveDefault)
        #expect(unstated.map(\.line) == [20])
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        #expect(unstated.first?.message.contains("only when TTT_SOUP_K > 1") == true)
        let three = try lint(Self.countAboveDefault, files: ["train_seed1.log": "ttt_soup_k: 3\n"])
        #expect(three.map(\.severity) == [.error], "\(three.map(\.message))")
        let one = try lint(Self.countAboveDefault, files: Self.readme("TTT_SOUP_K=1"))
        #expect(one.map(\.severity) == [.note], "\(one.map(\.message))")
    }

    /// Two-phase training: the loader switches to the validation files when the time left falls
    /// under `PHASE2_WALLCLOCK_SECONDS` (default 0: never).
    static let switchedLoader = """
        import os
        import torch


        class Hyperparameters:
            val_files = "fineweb_val_*.bin"
            train_files = "fineweb_train_*.bin"
            val_only = bool(int(os.environ.get("VAL_ONLY", "0")))
            phase2_wallclock_seconds = float(os.environ.get("PHASE2_WALLCLOCK_SECONDS", "0"))


        class TokenLoader:
            def __init__(self, pattern):
                self.pattern = pattern

            def next_batch(self):
                return torch.load(self.pattern)


        def main(model, opt, max_wallclock_ms, elapsed):
            args = Hyperparameters()
            train_loader = TokenLoader(args.train_files)
            phase2_switched = args.val_only or args.phase2_wallclock_seconds <= 0
            for step in range(100):
                if not phase2_switched and max_wallclock_ms is not None:
                    remaining_ms = max_wallclock_ms - elapsed(step)
                    if remaining_ms <= args.phase2_wallclock_seconds * 1000.0:
                        train_loader = TokenLoader(args.val_files)
                        phase2_switched = True
                x, y = train_loader.next_batch()
                model(x, y).backward()
                opt.step()
            torch.save(torch.quantize_per_tensor(model.weight, 0.1, 0, torch.qint8), "final_model.int8.pt")


        if __name__ == "__main__":
            main(None, None, None, None)

        """

    @Test func validationReachingTrainingOnlyUnderASettingFollowsTheEvidence() throws {
        let stated = try lint(Self.switchedLoader, files: ["train.log": "val_only:False phase2_wallclock_seconds:0.0 eval_stride:64\n"])
        #expect(stated.map(\.line) == [31])
        #expect(stated.map(\.severity) == [.note], "\(stated.map(\.message))")
        #expect(stated.first?.message.contains("PHASE2_WALLCLOCK_SECONDS > 0") == true)
        let unstated = try lint(Self.switchedLoader)
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        let on = try lint(Self.switchedLoader, files: Self.readme("PHASE2_WALLCLOCK_SECONDS=60"))
        #expect(on.map(\.severity) == [.error], "\(on.map(\.message))")
        // The same loop reading the validation files unconditionally trains on them.
        let always = Self.switchedLoader.replacingOccurrences(
            of: "train_loader = TokenLoader(args.train_files)", with: "train_loader = TokenLoader(args.val_files)")
        #expect(try lint(always, files: ["train.log": "val_only:False phase2_wallclock_seconds:0.0\n"]).map(\.severity) == [.error])
    }
}
