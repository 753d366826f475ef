import Foundation
import Testing
@testable import Verifier

/// PG-PREQUANT-TTT behind two default-off flags (`if args.ttt_enabled and args.ttt_causal:`,
/// trimmed from a corpus folder whose README sets only the first): the update runs only when both
/// are on, so the flag with the least evidence decides the severity.
@Suite struct PreQuantizationGateTests {
    static let code = """
        import os
        import torch


        class Hyperparameters:
            ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "0")))
            ttt_causal = bool(int(os.environ.get("TTT_CAUSAL", "0")))


        def ttt_causal_adapt(model, val_tokens):
            opt = torch.optim.SGD(model.parameters(), lr=1e-3)
            model(val_tokens[:-1], val_tokens[1:]).backward()
            opt.step()


        def main(model, val_tokens):
            args = Hyperparameters()
            if args.ttt_enabled and args.ttt_causal:
                ttt_causal_adapt(model, val_tokens)
            torch.save(torch.quantize_per_tensor(model.weight, 0.1, 0, torch.qint8), "final_model.int8.pt")


        if __name__ == "__main__":
            main(None, None)

        """

    private func lint(readme: String) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-prequant-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.code.write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        try readme.write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        return try Linter(parser: try PythonParser()).lint(paths: [directory.path]).filter { $0.rule == "PG-PREQUANT-TTT" }
    }

    @Test func secondFlagNotSetIsAWarningNamingIt() throws {
        let findings = try lint(readme: "# Run\n\n```bash\nTTT_ENABLED=1 torchrun --nproc_per_node=8 train_gpt.py\n```\n")
        #expect(findings.map(\.line) == [19])
        #expect(findings.map(\.severity) == [.warning])
        #expect(findings.first?.message.contains("only when TTT_CAUSAL is set") == true)
    }

    @Test func secondFlagStatedOffIsANote() throws {
        let findings = try lint(readme: "# Run\n\n```bash\nTTT_ENABLED=1 TTT_CAUSAL=0 torchrun --nproc_per_node=8 train_gpt.py\n```\n")
        #expect(findings.map(\.severity) == [.note])
        #expect(findings.first?.message.contains("README.md:4") == true)
    }

    @Test func bothFlagsOnIsAnError() throws {
        let findings = try lint(readme: "# Run\n\n```bash\nTTT_ENABLED=1 TTT_CAUSAL=1 torchrun --nproc_per_node=8 train_gpt.py\n```\n")
        #expect(findings.map(\.severity) == [.error])
        #expect(findings.first?.message.contains("on in this submission: README.md:4") == true)
    }
}
