import Foundation
import Testing
@testable import Verifier

/// The records' LoRA TTT scores through `forward_ttt` (``TestTimeTrainingPathCheck``): matched on every family
/// record, refused where an edit of `forward_ttt` or its block helpers makes it another function than the
/// matched forward with pgverify's adapters (before, only `forward_logits` was compared, and the TTT score of
/// such code came from pgverify's forward without a word).
@Suite struct TestTimeTrainingPathTests {
    static func check(_ family: String, edits: [(String, String)] = []) throws -> ArchitectureMatch {
        let r = try FamilyConformanceTests.resolved(family)
        let source = try CodeEdit(name: "ttt path", edits: edits, expected: "", line: 0).apply(to: try String(contentsOf: r.code, encoding: .utf8))
        return try ArchitectureConformance.checkFamily(source: source, file: "train_gpt.py", config: r.config, parameterShapes: r.shapes,
                                                       settings: r.settings, readsActivation: true)
    }

    @Test(arguments: ["plain-sp1024", "outgate-smear-sp1024", "gatedattn-sp1024", "sparsegate-smearbos-sp8192",
                      "sparsegate-bosfix9hp-sp1024"])
    func familyRecordsTTTForwardIsMatched(_ family: String) throws {
        #expect(try Self.check(family).testTimeTrainingPath == .matched)
    }

    /// Single edits of 2026-04-14's `forward_ttt` and `_block_with_lora`; the standard forward is untouched, so
    /// each is still matched for standard evaluation and refused for its TTT path, at the edited line.
    @Test func editedTTTForwardIsRefusedAtItsLine() throws {
        let forms: [(name: String, edit: (String, String), says: String)] = [
            ("softcap doubled in forward_ttt only",
             ("        logits = self.logit_softcap * torch.tanh(logits / self.logit_softcap)\n",
              "        logits = self.logit_softcap * torch.tanh(logits / (2.0 * self.logit_softcap))\n"),
             "computes other logits than forward_logits"),
            ("head adapter scaled",
             ("        logits = logits + lora.lm_head_lora(x)\n", "        logits = logits + 2.0 * lora.lm_head_lora(x)\n"),
             "the TTT adapter lm_head_lora"),
            ("o adapter reading the attention's output",
             ("            attn_out = attn_out + lora.o_loras[slot](n)\n        x_out = x_in",
              "            attn_out = attn_out + lora.o_loras[slot](y)\n        x_out = x_in"),
             "the TTT adapter o_loras"),
            ("per-token loss averaged",
             ("            logits.float().reshape(-1, V), target_ids.reshape(-1), reduction=\"none\"",
              "            logits.float().reshape(-1, V), target_ids.reshape(-1), reduction=\"mean\""),
             "per-token cross-entropy"),
        ]
        for form in forms {
            let match = try Self.check("plain-sp1024", edits: [form.edit])
            guard case .refused(let line, let detail) = match.testTimeTrainingPath else {
                Issue.record("\(form.name): \(match.testTimeTrainingPath)"); continue
            }
            let source = try String(contentsOf: try FamilyConformanceTests.resolved("plain-sp1024").code, encoding: .utf8)
            let edited = try CodeEdit(name: form.name, edits: [form.edit], expected: "", line: 0).apply(to: source)
            let lines = edited.split(separator: "\n", omittingEmptySubsequences: false)
            let editedLine = form.edit.1.split(separator: "\n").first.map(String.init) ?? ""
            #expect(line > 0 && (lines[line - 1] == editedLine || form.name == "per-token loss averaged"), "\(form.name): line \(line): \(detail)")
            #expect(detail.contains(form.says), "\(form.name): \(detail)")
        }
    }

    /// The TTT re-evaluation takes the refusal: a phased claim on the edited code gets no number.
    @Test func phasedTTTOnAnEditedTTTForwardIsRefused() throws {
        let original = try String(contentsOf: TTTReevaluationPhasedTests.code, encoding: .utf8)
        let edited = try CodeEdit(name: "head adapter scaled", edits: [
            ("        logits = logits + lora.lm_head_lora(x)\n", "        logits = logits + 2.0 * lora.lm_head_lora(x)\n")],
                                  expected: "", line: 0).apply(to: original)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-ttt-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let code = folder.appendingPathComponent("train_gpt.py")
        try edited.write(to: code, atomically: true, encoding: .utf8)
        let family = try TTTReevaluationPhasedTests.json("families/plain-sp1024/golden.json")
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        let overrides = try #require(family["env"] as? [String: String]).filter { known.contains($0.key) }
        let request = ReevaluationRequest(
            artifact: Paths.fixture("families/plain-sp1024/model.weights.json"), code: code, overrides: overrides,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.fixture("families/plain-sp1024/val_tokens.bin").path, threads: 1)
        do {
            _ = try TTTReevaluation.run(request, procedure: .phased)
            Issue.record("the edited forward_ttt was re-evaluated")
        } catch let error as ModelConfigError {
            guard case .architectureNotMatched(_, let line, let detail, _) = error else { Issue.record("\(error)"); return }
            #expect(line > 0 && detail.contains("lm_head_lora"), "\(error)")
        }
        // Standard evaluation does not score through forward_ttt: the same code is still evaluated.
        #expect(try Reevaluation.prepare(request).1.architecture?.contains("matched to the forward") == true)
    }
}
