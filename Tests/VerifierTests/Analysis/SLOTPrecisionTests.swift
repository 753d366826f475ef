import Foundation
import Testing
@testable import Verifier

/// PG-SLOT's false-positive causes found on the pull-request corpus (docs/pr-corpus-audit/
/// review-s22-s22-slot.md), each fixed as a statement about code: a fit on one window's positions
/// before the span it scores (context-only), a branch behind a text setting whose default is
/// another value. (Random tokens in a smoke test: mutation form 11 of PG-SLOT.)
@Suite struct SLOTPrecisionTests {
    /// Lints `code` as `train_gpt.py` in a folder with `files` beside it; PG-SLOT findings.
    private func lint(_ code: String, files: [String: String] = [:]) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-slot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try code.write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try Linter(parser: try PythonParser()).lint(paths: [directory.path]).filter { $0.rule == "PG-SLOT" }
    }

    /// A logit bias carried from window to window, fitted on the positions of the current window
    /// before the span it scores (trimmed from corpus sliding-window SLOT evaluations).
    private let contextOnlySource = """
        import torch
        import torch.nn.functional as F

        def eval_slot(model, val_tokens, vocab, steps, seq_len=2048, stride=64):
            total = val_tokens.numel() - 1
            bias = torch.zeros(vocab, requires_grad=True)
            opt = torch.optim.AdamW([bias], lr=0.01)
            loss_sum = 0.0
            for ws in range(0, total, stride):
                end = min(ws + seq_len, total)
                wlen = end - ws
                chunk = val_tokens[ws:end + 1]
                x = chunk[:-1].unsqueeze(0)
                y = chunk[1:].unsqueeze(0)
                s = 0 if ws == 0 else wlen - stride
                with torch.no_grad():
                    logits = model(x).float()
                for _ in range(steps):
                    opt.zero_grad()
                    fit_nll = F.cross_entropy(logits[0, :s] + bias, y[0, :s])
                    fit_nll.backward()
                    opt.step()
                with torch.no_grad():
                    nll = F.cross_entropy(logits[0] + bias, y[0], reduction="none")
                    loss_sum += nll[s:wlen].sum().item()
            return loss_sum
        """

    @Test func aFitOnOneWindowsContextBeforeItsScoredSpanIsAWarning() throws {
        let context = try lint(contextOnlySource)
        #expect(context.map(\.severity) == [.warning], "\(context.map(\.message))")
        #expect(context.first?.line == 21)
        #expect(context.first?.message.contains("context-only SLOT") == true)
        #expect(context.first?.message.contains("before `s`") == true)
        // The same window taken out of the batch by `squeeze`, through names.
        let squeezed = contextOnlySource
            .replacingOccurrences(of: "fit_nll = F.cross_entropy(logits[0, :s] + bias, y[0, :s])",
                                  with: "ctx_tgt = y.squeeze(0)[:s]\n            fit_nll = F.cross_entropy(logits[0, :s] + bias, ctx_tgt)")
        let squeezedFindings = try lint(squeezed)
        #expect(squeezedFindings.map(\.severity) == [.warning], "\(squeezedFindings.map(\.message))")
        // Fitted on the span it scores: SLOT.
        let scoredSpan = try lint(contextOnlySource.replacingOccurrences(of: "y[0, :s])", with: "y[0, s:wlen])"))
        #expect(scoredSpan.map(\.severity) == [.error], "\(scoredSpan.map(\.message))")
        // Fitted on the whole window: SLOT.
        let whole = try lint(contextOnlySource.replacingOccurrences(of: "y[0, :s])", with: "y[0])"))
        #expect(whole.map(\.severity) == [.error], "\(whole.map(\.message))")
        // The contexts of a batch of windows (`[:, :s]`, `[i, :s]`): a delta shared by consecutive
        // windows sees the previous window's scored span.
        let batch = try lint(contextOnlySource.replacingOccurrences(of: "y[0, :s])", with: "y[:, :s])"))
        #expect(batch.map(\.severity) == [.error], "\(batch.map(\.message))")
        let perRow = try lint(contextOnlySource.replacingOccurrences(of: "y[0, :s])", with: "y[ws % 2, :s])"))
        #expect(perRow.map(\.severity) == [.error], "\(perRow.map(\.message))")
        // Scored from another position than where the fit ends: not shown to be context only.
        let elsewhere = try lint(contextOnlySource.replacingOccurrences(of: "nll[s:wlen]", with: "nll[wlen - stride:wlen]"))
        #expect(elsewhere.map(\.severity) == [.error], "\(elsewhere.map(\.message))")
    }

    /// A SLOT branch on by default that announces itself in the log (trimmed from corpus scripts
    /// whose logs reach `RUN_COMPLETE` without it).
    private let announcedSource = """
        import os
        import torch
        import torch.nn.functional as F

        class Hyperparameters:
            slot_enabled = bool(int(os.environ.get("SLOT_ENABLED", "1")))

        def main(model, val_tokens):
            args = Hyperparameters()
            print(f"final_sliding_window val_loss:{model(val_tokens).item():.4f}")
            if args.slot_enabled:
                print(f"slot:starting windows={val_tokens.numel() // 2048}")
                nll = 0.0
                for ws in range(0, val_tokens.numel() - 2048, 2048):
                    chunk = val_tokens[ws:ws + 2049]
                    xb, yb = chunk[:-1], chunk[1:]
                    with torch.no_grad():
                        hidden = model.hidden(xb)
                    delta = torch.zeros(1, 1, hidden.shape[-1], requires_grad=True)
                    opt = torch.optim.AdamW([delta], lr=0.005)
                    for _ in range(8):
                        opt.zero_grad()
                        F.cross_entropy(model.head(hidden + delta), yb).backward()
                        opt.step()
                    with torch.no_grad():
                        nll += F.cross_entropy(model.head(hidden + delta), yb, reduction="sum").item()
                print(f"final_slot val_loss:{nll:.4f}")
            print("RUN_COMPLETE")

        if __name__ == "__main__":
            main(None, None)
        """

    @Test func aSLOTBranchTheLogsShowSkippedIsANote() throws {
        let skipped = try lint(announcedSource, files: ["train_seed1.log": "final_sliding_window val_loss:2.7343\nRUN_COMPLETE\n",
                                                        "train_seed2.log": "final_sliding_window val_loss:2.7351\nRUN_COMPLETE\n"])
        #expect(skipped.map(\.severity) == [.note], "\(skipped.map(\.message))")
        #expect(skipped.first?.line == 23)
        #expect(skipped.first?.message.contains("train_seed1.log shows `RUN_COMPLETE`") == true)
        #expect(skipped.first?.message.contains("`slot:starting windows=`") == true)
        // One run that wrote the branch's message ran it.
        let ran = try lint(announcedSource, files: ["train_seed1.log": "final_sliding_window val_loss:2.7343\nRUN_COMPLETE\n",
                                                    "train_seed2.log": "slot:starting windows=30\nfinal_slot val_loss:2.1\nRUN_COMPLETE\n"])
        #expect(ran.map(\.severity) == [.error], "\(ran.map(\.message))")
        // A log that stops before the end shows nothing about the branch.
        let cut = try lint(announcedSource, files: ["train_seed1.log": "final_sliding_window val_loss:2.7343\n"])
        #expect(cut.map(\.severity) == [.error], "\(cut.map(\.message))")
        // No logs: the default (on) stands.
        #expect(try lint(announcedSource).map(\.severity) == [.error])
        // A message written only on some iterations proves nothing by its absence.
        let conditional = announcedSource.replacingOccurrences(
            of: "        print(f\"slot:starting windows=", with: "        if val_tokens.numel() > 10**9:\n            print(f\"slot:starting windows=")
        #expect(conditional != announcedSource)
        let conditionalFindings = try lint(conditional, files: ["train_seed1.log": "RUN_COMPLETE\n"])
        #expect(conditionalFindings.map(\.severity) == [.error], "\(conditionalFindings.map(\.message))")
    }

    @Test func aSLOTScriptTheRunCommandsLeaveOutIsANote() throws {
        // The SLOT lives in a second script with an entry point; `train_gpt.py` has none.
        let variant = announcedSource.replacingOccurrences(of: "print(f\"slot:starting", with: "nll_hint = (f\"slot:starting")
        #expect(variant != announcedSource)
        let plain = "import torch\n\ndef main():\n    print(torch.zeros(1))\n\nif __name__ == \"__main__\":\n    main()\n"
        let command = "```\ntorchrun --standalone --nproc_per_node=8 train_gpt.py\n```\n"
        let leftOut = try lint(plain, files: ["slot_variant.py": variant, "README.md": command])
        #expect(leftOut.map(\.severity) == [.note], "\(leftOut.map(\.message))")
        #expect(leftOut.first?.message.contains("README.md:2 runs train_gpt.py") == true)
        // Run by the README's command: it runs.
        let run = try lint(plain, files: ["slot_variant.py": variant, "README.md": command.replacingOccurrences(of: "train_gpt.py", with: "slot_variant.py")])
        #expect(run.map(\.severity) == [.error], "\(run.map(\.message))")
        // Named only in prose, or no command at all: the rule keeps it, and the run's reachability
        // (train_gpt.py is the entry script and does not import it) makes it a warning, not a note.
        let named = try lint(plain, files: ["slot_variant.py": variant, "README.md": command + "The SLOT numbers come from slot_variant.py.\n"])
        #expect(named.map(\.severity) == [.warning], "\(named.map(\.message))")
        let noCommand = try lint(plain, files: ["slot_variant.py": variant])
        #expect(noCommand.map(\.severity) == [.warning], "\(noCommand.map(\.message))")
        #expect(noCommand.first?.message.contains("not reached") == true, "\(noCommand.map(\.message))")
        // A shell script that runs it.
        let shell = try lint(plain, files: ["slot_variant.py": variant, "README.md": command, "run.sh": "python slot_variant.py\n"])
        #expect(shell.map(\.severity) == [.error], "\(shell.map(\.message))")
    }

    /// A SLOT branch chosen by a text setting whose default is worked out from another setting
    /// (trimmed from a corpus script that evaluates with `EVAL_MODE=ngram`).
    private let textModeSource = """
        import os
        import torch
        import torch.nn.functional as F

        class Hyperparameters:
            eval_mode = os.environ.get(
                "EVAL_MODE",
                "slot" if os.environ.get("SLOT_ENABLED", "0") == "1"
                else ("ngram" if os.environ.get("NGRAM_ENABLED", "0") == "1" else "sliding"),
            )

        def run_evals(h, model, val_tokens):
            nll = 0.0
            if h.eval_mode == "slot":
                for ws in range(0, val_tokens.numel() - 2048, 2048):
                    chunk = val_tokens[ws:ws + 2049]
                    xb, yb = chunk[:-1], chunk[1:]
                    with torch.no_grad():
                        hidden = model.hidden(xb)
                    delta = torch.zeros(1, 1, hidden.shape[-1], requires_grad=True)
                    opt = torch.optim.AdamW([delta], lr=0.005)
                    for _ in range(8):
                        opt.zero_grad()
                        F.cross_entropy(model.head(hidden + delta), yb).backward()
                        opt.step()
                    with torch.no_grad():
                        nll += F.cross_entropy(model.head(hidden + delta), yb, reduction="sum").item()
            return nll
        """

    @Test func aSLOTBehindATextSettingFollowsTheEvidence() throws {
        let unstated = try lint(textModeSource)
        #expect(unstated.map(\.severity) == [.warning], "\(unstated.map(\.message))")
        #expect(unstated.first?.line == 24)
        #expect(unstated.first?.message.contains("EVAL_MODE=slot") == true)
        let other = try lint(textModeSource, files: ["README.md": "```\nEVAL_MODE=ngram torchrun train_gpt.py\n```\n"])
        #expect(other.map(\.severity) == [.note], "\(other.map(\.message))")
        #expect(other.first?.message.contains("README.md:2") == true)
        let stated = try lint(textModeSource, files: ["train_seed1.log": "eval_mode: slot\n"])
        #expect(stated.map(\.severity) == [.error], "\(stated.map(\.message))")
        // The setting the default depends on, stated on: the default is "slot".
        let byDefault = try lint(textModeSource, files: ["README.md": "```\nSLOT_ENABLED=1 torchrun train_gpt.py\n```\n"])
        #expect(byDefault.map(\.severity) == [.error], "\(byDefault.map(\.message))")
        // A literal default of "slot": the branch runs.
        let literal = textModeSource.replacingOccurrences(
            of: "\"slot\" if os.environ.get(\"SLOT_ENABLED\", \"0\") == \"1\"\n        else (\"ngram\" if os.environ.get(\"NGRAM_ENABLED\", \"0\") == \"1\" else \"sliding\"),",
            with: "\"slot\",")
        #expect(literal != textModeSource)
        #expect(try lint(literal).map(\.severity) == [.error])
        // A default chosen by the launcher (`WORLD_SIZE`) is not worked out.
        let launcher = textModeSource.replacingOccurrences(of: "os.environ.get(\"SLOT_ENABLED\", \"0\") == \"1\"",
                                                           with: "os.environ.get(\"WORLD_SIZE\", \"1\") == \"8\"")
        #expect(launcher != textModeSource)
        #expect(try lint(launcher).map(\.severity) == [.error])
    }
}
