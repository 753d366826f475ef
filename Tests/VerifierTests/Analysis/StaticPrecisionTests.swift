import Foundation
import Testing
@testable import Verifier

/// The error rules' false-positive causes found on the pull-request corpus (docs/pr-corpus-audit.md,
/// "Static-rule precision"), each fixed as a statement about code: a setting that is off by
/// default and chooses a value or guards a callee, an environment read through a local alias,
/// a pass count whose default is one, a function nothing calls.
@Suite struct StaticPrecisionTests {
    /// Lints `code` as `train_gpt.py` in a folder with `files` beside it; findings of `rule`.
    private func lint(_ code: String, files: [String: String] = [:], rule: String) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-precision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try code.write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try Linter(parser: try PythonParser()).lint(paths: [directory.path]).filter { $0.rule == rule }
    }

    /// Training data chosen by a conditional expression under `TRAIN_ON_VAL` (default "0").
    private let conditionalSource = """
        import os
        import torch

        class Hyperparameters:
            train_on_val = bool(int(os.environ.get("TRAIN_ON_VAL", "0")))
            val_files = "data/fineweb_val_*.bin"
            train_files = "data/fineweb_train_*.bin"

        def main(model, Loader):
            args = Hyperparameters()
            loader = Loader(args.val_files if args.train_on_val else args.train_files)
            opt = torch.optim.AdamW(model.parameters())
            for step in range(100):
                x, y = loader.next_batch()
                model(x, y).backward()
                opt.step()
            torch.save(model.state_dict(), "final_model.pt")
            torch.save(torch.quantize_per_tensor(model.weight, 0.1, 0, torch.qint8), "final_model.int8.pt")
        """

    @Test func conditionalExpressionUnderADefaultOffSettingFollowsTheEvidence() throws {
        let unstated = try lint(conditionalSource, rule: "PG-PREQUANT-TTT")
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        #expect(unstated.first?.message.contains("TRAIN_ON_VAL") == true)
        let on = try lint(conditionalSource, files: ["README.md": "```\nTRAIN_ON_VAL=1 torchrun train_gpt.py\n```\n"],
                          rule: "PG-PREQUANT-TTT")
        #expect(on.map(\.severity) == [.error], "\(on.map(\.message))")
        // Without the gate the same code trains on validation unconditionally.
        let ungated = try lint(conditionalSource.replacingOccurrences(of: "args.val_files if args.train_on_val else args.train_files",
                                                                      with: "args.val_files"), rule: "PG-PREQUANT-TTT")
        #expect(ungated.map(\.severity) == [.error])
    }

    @Test func calibrationOnAConditionallyChosenSourceFollowsTheEvidence() throws {
        let code = """
            import os
            import torch
            CALIB_ON_VAL = bool(int(os.environ.get("CALIB_ON_VAL", "0")))

            def collect_hessians(model, files):
                with torch.no_grad():
                    return model(torch.load(files))

            def main(model):
                files = "fineweb_val_*.bin" if CALIB_ON_VAL else "fineweb_train_*.bin"
                return collect_hessians(model, files)
            """
        let unstated = try lint(code, rule: "PG-VAL-IN-TRAINING")
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        let on = try lint(code, files: ["README.md": "```\nCALIB_ON_VAL=1 torchrun train_gpt.py\n```\n"], rule: "PG-VAL-IN-TRAINING")
        #expect(on.map(\.severity) == [.error])
    }

    /// `ttt_adapt` behind a setting read through `_e = os.environ.get`.
    private let aliasedGate = """
        import os
        import torch
        _e = os.environ.get
        TTT_ENABLED = bool(int(_e("TTT_ENABLED", "0")))

        def ttt_adapt(model, val_tokens):
            opt = torch.optim.SGD(model.parameters(), lr=1e-3)
            for epoch in range(3):
                model(val_tokens[:-1], val_tokens[1:]).backward()
                opt.step()

        def main(model, val_tokens):
            if TTT_ENABLED:
                ttt_adapt(model, val_tokens)
            with torch.no_grad():
                return model(val_tokens[:-1], val_tokens[1:]).item()
        """

    @Test func environmentReadThroughALocalAliasIsAGate() throws {
        let unstated = try lint(aliasedGate, rule: "PG-TTT-UNSCORED")
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        #expect(unstated.first?.message.contains("TTT_ENABLED") == true)
        let on = try lint(aliasedGate, files: ["train_seed1.log": "ttt_enabled: True\n"], rule: "PG-TTT-UNSCORED")
        #expect(on.map(\.severity) == [.error])
    }

    @Test func aFunctionNothingCallsIsANote() throws {
        let dead = aliasedGate.replacingOccurrences(of: "    if TTT_ENABLED:\n        ttt_adapt(model, val_tokens)\n", with: "")
            + "\nif __name__ == \"__main__\":\n    main(None, None)\n"
        // Without an entry point the file may be a library another file imports: not dead.
        #expect(try lint(aliasedGate.replacingOccurrences(of: "    if TTT_ENABLED:\n        ttt_adapt(model, val_tokens)\n", with: ""),
                         rule: "PG-TTT-UNSCORED").map(\.severity) == [.error])
        let findings = try lint(dead, rule: "PG-TTT-UNSCORED")
        #expect(findings.map(\.severity) == [.note], "\(findings.map(\.message))")
        #expect(findings.first?.message.contains("never called") == true)
        // Passed as a value (a callback), it may run.
        let passed = dead.replacingOccurrences(of: "def main(model, val_tokens):\n",
                                               with: "def main(model, val_tokens):\n    hooks = [ttt_adapt]\n")
        #expect(try lint(passed, rule: "PG-TTT-UNSCORED").map(\.severity) == [.error])
        // Imported and called by another file of the folder, it runs.
        let imported = try lint(dead, files: ["eval_ttt.py": "from train_gpt import ttt_adapt\n\nttt_adapt(None, None)\n"],
                                rule: "PG-TTT-UNSCORED")
        #expect(imported.map(\.severity) == [.error], "\(imported.map(\.message))")
        // A file that does not name it leaves it dead.
        let unrelated = try lint(dead, files: ["notes.py": "print('ttt adapt is off')\n"], rule: "PG-TTT-UNSCORED")
        #expect(unrelated.map(\.severity) == [.note])
    }

    /// A SLOT evaluation kept beside the one `main` runs (trimmed from a corpus script whose
    /// `main` calls `eval_sliding_window` and never `eval_slot`).
    private let unusedSLOTSource = """
        import torch
        import torch.nn.functional as F

        def eval_slot(model, val_tokens, seq_len=2048, slot_steps=5):
            loss_sum = 0.0
            for ws in range(0, val_tokens.numel() - seq_len, seq_len):
                chunk = val_tokens[ws:ws + seq_len + 1]
                x_batch, y_batch = chunk[:-1], chunk[1:]
                with torch.no_grad():
                    H = model.forward_hidden(x_batch)
                delta = torch.zeros(1, 1, H.shape[-1], requires_grad=True)
                sopt = torch.optim.AdamW([delta], lr=0.003)
                for _ in range(slot_steps):
                    sopt.zero_grad()
                    loss_s = F.cross_entropy(model.compute_logits(H + delta), y_batch)
                    loss_s.backward()
                    sopt.step()
                with torch.no_grad():
                    loss_sum += F.cross_entropy(model.compute_logits(H + delta), y_batch, reduction="sum").item()
            return loss_sum

        def eval_sliding_window(model, val_tokens):
            with torch.no_grad():
                return model(val_tokens[:-1], val_tokens[1:]).item()

        def main(model, val_tokens):
            return eval_sliding_window(model, val_tokens)
        """

    @Test func aSLOTFunctionNothingCallsIsANote() throws {
        let script = unusedSLOTSource + "\n\nif __name__ == \"__main__\":\n    main(None, None)\n"
        let findings = try lint(script, rule: "PG-SLOT")
        #expect(findings.map(\.severity) == [.note], "\(findings.map(\.message))")
        #expect(findings.first?.line == 16)
        #expect(findings.first?.message.contains("eval_slot is never called") == true)
        // Called by main, the same function is SLOT.
        let called = try lint(script.replacingOccurrences(
            of: "return eval_sliding_window(model, val_tokens)", with: "return eval_slot(model, val_tokens)"), rule: "PG-SLOT")
        #expect(called.map(\.severity) == [.error], "\(called.map(\.message))")
        // Without an entry point the file may be a library another file imports: not dead.
        let library = try lint(unusedSLOTSource, rule: "PG-SLOT")
        #expect(library.map(\.severity) == [.error], "\(library.map(\.message))")
        // Imported and called by another file of the folder, it runs.
        let imported = try lint(script, files: ["eval.py": "from train_gpt import eval_slot\n\neval_slot(None, None)\n"],
                                rule: "PG-SLOT")
        #expect(imported.map(\.severity) == [.error], "\(imported.map(\.message))")
    }

    /// A SLOT loop counted by `SLOT_STEPS` (trimmed from a corpus evaluation script run with
    /// `SLOT_STEPS=0`, i.e. plain sliding-window scoring).
    private let countedSLOTSource = """
        import os
        import torch
        import torch.nn.functional as F

        SLOT_STEPS = int(os.environ.get("SLOT_STEPS", "96"))

        def main(model, val_tokens):
            nll = 0.0
            for ws in range(0, val_tokens.numel() - 2048, 64):
                chunk = val_tokens[ws:ws + 2049]
                xb, yb = chunk[:-1], chunk[1:]
                with torch.no_grad():
                    hf = model.forward_hidden(xb)
                delta = torch.zeros(1, 1, hf.shape[-1], requires_grad=True)
                opt = torch.optim.AdamW([delta], lr=0.012)
                for si in range(SLOT_STEPS):
                    opt.zero_grad()
                    loss = F.cross_entropy(model.head(hf + delta), yb)
                    loss.backward()
                    opt.step()
                with torch.no_grad():
                    nll += F.cross_entropy(model.head(hf + delta), yb, reduction="sum").item()
            return nll
        """

    @Test func aSLOTLoopOfStepsStatedZeroIsANote() throws {
        let zero = try lint(countedSLOTSource, files: ["README.md": "```\nSLOT_STEPS=0 python eval.py\n```\n"], rule: "PG-SLOT")
        #expect(zero.map(\.severity) == [.note], "\(zero.map(\.message))")
        #expect(zero.first?.line == 19)
        #expect(zero.first?.message.contains("README.md:2") == true)
        let some = try lint(countedSLOTSource, files: ["README.md": "```\nSLOT_STEPS=24 python eval.py\n```\n"], rule: "PG-SLOT")
        #expect(some.map(\.severity) == [.error], "\(some.map(\.message))")
        // Nothing stated: the code default (96 steps) fits the delta.
        #expect(try lint(countedSLOTSource, rule: "PG-SLOT").map(\.severity) == [.error])
        // The same count through a hyperparameter attribute, stated in a log.
        let attribute = countedSLOTSource
            .replacingOccurrences(of: "SLOT_STEPS = int(", with: "class Hyperparameters:\n    slot_steps = int(")
            .replacingOccurrences(of: "range(SLOT_STEPS)", with: "range(args.slot_steps)")
            .replacingOccurrences(of: "def main(model, val_tokens):\n", with: "def main(model, val_tokens):\n    args = Hyperparameters()\n")
        let logged = try lint(attribute, files: ["train_seed1.log": "slot_steps: 0\n"], rule: "PG-SLOT")
        #expect(logged.map(\.severity) == [.note], "\(logged.map(\.message))")
    }

    /// A SLOT in the `else` arm of a test of two settings that default on (trimmed from corpus
    /// scripts whose L-BFGS arm runs by default).
    private let elseArmSLOTSource = """
        import os
        import torch
        import torch.nn.functional as F

        class Hyperparameters:
            slot_causal = bool(int(os.environ.get("SLOT_CAUSAL", "1")))
            slot_lbfgs = bool(int(os.environ.get("SLOT_LBFGS", "1")))

        def main(model, val_tokens):
            args = Hyperparameters()
            use_lbfgs = args.slot_lbfgs and args.slot_causal
            nll = 0.0
            for ws in range(0, val_tokens.numel() - 2048, 64):
                chunk = val_tokens[ws:ws + 2049]
                xb, yb = chunk[:-1], chunk[1:]
                with torch.no_grad():
                    hf = model.forward_hidden(xb)
                if use_lbfgs:
                    lg = model.head(hf)
                else:
                    delta = torch.zeros(1, 1, hf.shape[-1], requires_grad=True)
                    opt = torch.optim.AdamW([delta], lr=0.005)
                    for _ in range(8):
                        opt.zero_grad()
                        loss_s = F.cross_entropy(model.head(hf + delta), yb)
                        loss_s.backward()
                        opt.step()
                    with torch.no_grad():
                        lg = model.head(hf + delta)
                with torch.no_grad():
                    nll += F.cross_entropy(lg, yb, reduction="sum").item()
            return nll
        """

    @Test func aSLOTInTheElseArmOfDefaultOnSettingsFollowsTheEvidence() throws {
        let unstated = try lint(elseArmSLOTSource, rule: "PG-SLOT")
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        #expect(unstated.first?.line == 26)
        #expect(unstated.first?.message.contains("SLOT_LBFGS or SLOT_CAUSAL") == true)
        let on = try lint(elseArmSLOTSource, files: ["train_seed1.log": "slot_causal: True\nslot_lbfgs: True\n"], rule: "PG-SLOT")
        #expect(on.map(\.severity) == [.note], "\(on.map(\.message))")
        let off = try lint(elseArmSLOTSource, files: ["README.md": "```\nSLOT_LBFGS=0 torchrun train_gpt.py\n```\n"], rule: "PG-SLOT")
        #expect(off.map(\.severity) == [.error], "\(off.map(\.message))")
        // Settings that default off: the `else` arm is what runs by default.
        let defaultOff = try lint(elseArmSLOTSource.replacingOccurrences(of: "\"1\")))", with: "\"0\")))"), rule: "PG-SLOT")
        #expect(defaultOff.map(\.severity) == [.error], "\(defaultOff.map(\.message))")
    }

    /// A gate inside the function called (`x = adapt(...) if args.lora_ttt else []`) reaches
    /// the caller's finding.
    @Test func aGateInsideTheCalleeReachesTheCall() throws {
        let code = """
            import os
            import torch
            class Hyperparameters:
                lora_ttt = bool(int(os.environ.get("LORA_TTT", "0")))

            def adapt(model, val_tokens):
                opt = torch.optim.SGD(model.parameters(), lr=1e-3)
                model(val_tokens[:-1], val_tokens[1:]).backward()
                opt.step()
                return []

            def eval_val(args, model, val_tokens):
                originals = adapt(model, val_tokens) if args.lora_ttt else []
                with torch.no_grad():
                    return model(val_tokens[:-1], val_tokens[1:]).item()

            def main(model, val_tokens):
                args = Hyperparameters()
                eval_val(args, model, val_tokens)
                torch.save(torch.quantize_per_tensor(model.weight, 0.1, 0, torch.qint8), "final_model.int8.pt")
            """
        let findings = try lint(code, rule: "PG-PREQUANT-TTT")
        #expect(findings.map(\.severity) == [.warning], "\(findings.map(\.message))")
        #expect(findings.first?.message.contains("LORA_TTT") == true)
    }

    /// Scored only in the last of `TTT_EPOCHS` passes (default 1).
    private let epochLoop = """
        import os
        import torch
        class Hyperparameters:
            ttt_epochs = int(os.environ.get("TTT_EPOCHS", 1))

        def ttt_eval(args, model, val_tokens, chunks):
            opt = torch.optim.SGD(model.parameters(), lr=1e-3)
            loss_sum = 0.0
            for epoch in range(args.ttt_epochs):
                for start, end in chunks:
                    x, y = val_tokens[start:end], val_tokens[start + 1:end + 1]
                    if epoch == args.ttt_epochs - 1:
                        with torch.no_grad():
                            loss_sum += model(x, y).item()
                    model(x, y).backward()
                    opt.step()
            return loss_sum
        """

    @Test func aPassCountWhoseDefaultIsOneFollowsTheEvidence() throws {
        let unstated = try lint(epochLoop, rule: "PG-MULTIPASS-RESCORE")
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        let three = try lint(epochLoop, files: ["train.log": "ttt_epochs: 3 ttt_lr: 0.001\n"], rule: "PG-MULTIPASS-RESCORE")
        #expect(three.map(\.severity) == [.error], "\(three.map(\.message))")
        #expect(three.first?.message.contains("3 passes") == true)
        let one = try lint(epochLoop, files: ["README.md": "```\nTTT_EPOCHS=1 torchrun train_gpt.py\n```\n"], rule: "PG-MULTIPASS-RESCORE")
        #expect(one.isEmpty)
        // A default above one is multi-pass without any evidence.
        let defaultThree = try lint(epochLoop.replacingOccurrences(of: "\"TTT_EPOCHS\", 1", with: "\"TTT_EPOCHS\", 3"),
                                    rule: "PG-MULTIPASS-RESCORE")
        #expect(defaultThree.map(\.severity) == [.error])
    }
}
