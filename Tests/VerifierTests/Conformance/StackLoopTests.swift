import Foundation
import Reference
import Testing
@testable import Verifier

/// Whole-stack depth recurrence with per-pass LoRA (2026-03-19_SlidingWindowEval's NUM_LOOPS and
/// LORA_RANK): the record's own code on random weights (`tools/stack_loop_goldens.py`,
/// fixtures/conformance/stack-loops.*), matched and evaluated by ``FamilyGPTModel``; settings that contradict
/// the weights and edits of the looped forward are refused by name.
@Suite struct StackLoopTests {
    struct Golden: Decodable {
        struct Score: Decodable { var val_loss: Double; var val_bpb: Double }
        struct Sliding: Decodable { var stride: Int; var val_loss: Double; var val_bpb: Double }
        var code: String
        var settings: [String: String]
        var seq_len: Int
        var max_tokens: Int
        var tokens: Int
        var val_loss: Double
        var val_bpb: Double
        var lora_zeroed: Score
        var sliding: Sliding
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("conformance/stack-loops.goldens.json")))
    }

    static func request(_ golden: Golden, code: URL? = nil, settings: [String: String]? = nil) -> ReevaluationRequest {
        ReevaluationRequest(
            artifact: Paths.fixture("conformance/stack-loops.weights.json"), code: code ?? Paths.shared(golden.code),
            overrides: settings ?? golden.settings, tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard,
            seqLen: golden.seq_len, maxTokens: golden.max_tokens, threads: 2)
    }

    @Test func recordCodeIsEvaluatedExactly() throws {
        let golden = try Self.golden()
        // Ignoring the passes' adapters would move the score far past the tolerance.
        #expect(abs(golden.val_bpb - golden.lora_zeroed.val_bpb) > 1e-3)
        let result = try Reevaluation.run(Self.request(golden))
        #expect(result.resolved.config.features.stackLoops == .init(count: 2, loraRank: 4))
        #expect(result.resolved.architecture?.contains("3 blocks run 2 times in a row with per-pass LoRA (rank 4)") == true)
        #expect(result.score.tokens == golden.tokens)
        #expect(abs(result.score.meanLoss - golden.val_loss) <= 1e-4, "\(result.score.meanLoss)")
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4, "\(result.score.bitsPerByte)")
    }

    /// Sliding windows on the looped model (its last effective layer scores only the window's
    /// targets), against the sliding evaluator tools/eval_goldens.py takes from a record.
    @Test func slidingEvaluationMatchesTheRecord() throws {
        let golden = try Self.golden()
        var request = Self.request(golden)
        request.mode = .sliding(stride: golden.sliding.stride)
        let result = try Reevaluation.run(request)
        #expect(result.score.tokens == golden.tokens)
        #expect(abs(result.score.meanLoss - golden.sliding.val_loss) <= 1e-4, "\(result.score.meanLoss)")
        #expect(abs(result.score.bitsPerByte - golden.sliding.val_bpb) <= 1e-4, "\(result.score.bitsPerByte)")
    }

    /// Settings the weights contradict: a rank the adapters do not have, no adapters, a pass count
    /// whose effective depth implies another number of skip weights.
    @Test(arguments: [(["NUM_LOOPS": "2", "LORA_RANK": "8"], "lora_rank"), (["NUM_LOOPS": "2", "LORA_RANK": "0"], "lora_rank"),
                      (["NUM_LOOPS": "3", "LORA_RANK": "4"], "num_loops")])
    func contradictingSettingIsRefused(_ settings: [String: String], key: String) throws {
        do {
            _ = try Reevaluation.prepare(Self.request(try Self.golden(), settings: settings))
            Issue.record("\(settings) was accepted")
        } catch let error as ModelConfigError {
            guard case .contradictsShapes(let named, _, _, _, _) = error else { Issue.record("\(error)"); return }
            #expect(named == key, "\(error)")
            #expect(ExitStatus.forError(error) == .badInput)
        }
    }

    /// Edits of the looped forward: each is refused naming its line, never scored.
    @Test(arguments: [
        ("            k = k + (x @ lora.k_A) @ lora.k_B\n", "", "where the reference computes sum of 2 terms of (linear, matmul)"),
        ("            out = out + (y @ lora.proj_A) @ lora.proj_B\n", "            out = out + (x @ lora.proj_A) @ lora.proj_B\n", "lora.proj_A"),
        ("        for loop_idx in range(self.num_loops):\n            for block_idx in range(self.num_unique_layers):\n                lora = self.lora_adapters[loop_idx][block_idx] if self.lora_adapters is not None else None\n                if eff_idx < self.num_encoder_layers:\n                    x = self.blocks[block_idx](x, x0, lora=lora)\n                    skips.append(x)\n                else:\n                    dec_idx = eff_idx - self.num_encoder_layers\n                    if dec_idx < self.num_skip_weights and skips:\n                        x = x + self.skip_weights[dec_idx].to(dtype=x.dtype)[None, None, :] * skips.pop()\n                    x = self.blocks[block_idx](x, x0, lora=lora)\n                eff_idx += 1\n\n        x = self.final_norm(x).reshape(-1, x.size(-1))",
         "        for loop_idx in range(self.num_loops):\n            for block_idx in range(self.num_unique_layers):\n                lora = self.lora_adapters[self.num_loops - 1 - loop_idx][block_idx] if self.lora_adapters is not None else None\n                if eff_idx < self.num_encoder_layers:\n                    x = self.blocks[block_idx](x, x0, lora=lora)\n                    skips.append(x)\n                else:\n                    dec_idx = eff_idx - self.num_encoder_layers\n                    if dec_idx < self.num_skip_weights and skips:\n                        x = x + self.skip_weights[dec_idx].to(dtype=x.dtype)[None, None, :] * skips.pop()\n                    x = self.blocks[block_idx](x, x0, lora=lora)\n                eff_idx += 1\n\n        x = self.final_norm(x).reshape(-1, x.size(-1))",
         "lora_adapters"),
    ])
    func editOfTheLoopedForwardIsRefused(_ old: String, _ new: String, construct: String) throws {
        let golden = try Self.golden()
        let edit = CodeEdit(name: construct, edits: [(old, new)], expected: "", line: 0)
        let source = try edit.apply(to: try String(contentsOf: Paths.shared(golden.code), encoding: .utf8))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-stack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let code = folder.appendingPathComponent("train_gpt.py")
        try source.write(to: code, atomically: true, encoding: .utf8)
        do {
            _ = try Reevaluation.prepare(Self.request(golden, code: code))
            Issue.record("\(construct) edit was matched")
        } catch let error as ModelConfigError {
            guard case .architectureNotMatched(_, let line, let detail, _) = error else { Issue.record("\(error)"); return }
            #expect(line > 0, "\(error)")
            #expect(detail.contains(construct), "\(error)")
        }
    }
}
