import Foundation
import Reference
import Testing
@testable import Verifier

/// Evaluation procedures are decided by what a function does, not by its name.
@Suite("Evaluation procedures read by structure")
struct EvaluationProcedureTests {
    static func procedures(_ source: String) throws -> [EvaluationProcedure] {
        EvaluationProcedureReader.procedures(in: try SubmissionSyntaxTree.tree(source, file: "p.py"))
    }

    static func temporaryCode(_ source: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("procedure-\(UUID().uuidString).py")
        try source.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// A document-segmented sliding evaluation under a name that says nothing, its context inlined.
    static let slidingRenamed = """
        import torch
        import torch.nn.functional as F
        def score_everything(h, model, tokens, batch=16):
            total = tokens.numel() - 1
            seq_len, stride = h.eval_seq_len, h.eval_stride
            ctx = seq_len - stride
            starts = [w for w in range(0, total, stride) if w + ctx < total]
            nll_sum = 0.0
            for b in range(0, len(starts), batch):
                parts = []
                for w in starts[b:b + batch]:
                    piece = tokens[w:w + seq_len + 1]
                    parts.append(piece[:-1])
                logits = model(torch.cat(parts), cu_seqlens=None)
                losses = F.cross_entropy(logits, logits, reduction="none")
                for w in starts[b:b + batch]:
                    first = 0 if w == 0 else ctx
                    nll_sum += losses[first:].sum()
            return nll_sum
        """

    /// Score-first TTT under a neutral name, written as a while loop over chunks.
    static func ttt(updateFirst: Bool = false, condition: String = "min(p + L, n) - p >= S or p == 0") -> String {
        let score = """
                    with torch.no_grad():
                        for p in chunk_windows:
                            s = 0 if p == 0 else max(L - S, 0)
                            total += F.cross_entropy(model(x), y, reduction="none")[s:].sum()
            """
        let train = """
                    loss = model(x, y)
                    loss.backward()
                    opt.step()
            """
        return """
            import torch
            import torch.nn.functional as F
            from torch.optim import SGD
            def adapt(model, x, y, n, L, S, lr=0.002):
                starts = [p for p in range(0, n, S) if \(condition)]
                opt = SGD(model.parameters(), lr=lr)
                total = 0.0
                c = 0
                while c < 4:
                    chunk_windows = starts[c::4]
            \(updateFirst ? train + "\n" + score : score + "\n" + train)
                    c += 1
                return total
            """
    }

    @Test("a renamed, restructured document-segmented sliding evaluation is found")
    func slidingByStructure() throws {
        let found = try Self.procedures(Self.slidingRenamed)
        #expect(found.count == 1)
        let procedure = try #require(found.first)
        #expect(procedure.function == "score_everything")
        #expect(procedure.isSliding && !procedure.isTestTimeTraining)
        #expect(procedure.windowRule == .exactlyOnce)
        #expect(procedure.scoredPositions == .afterContext)
        #expect(procedure.segmentsDocuments)
        #expect(procedure.batchSequences == 16)
    }

    @Test("score-first TTT is found whatever its name, with its window rule, optimizer and order")
    func tttByStructure() throws {
        let procedure = try #require(try Self.procedures(Self.ttt()).first)
        #expect(procedure.function == "adapt")
        #expect(procedure.isTestTimeTraining && !procedure.isSliding)
        #expect(procedure.windowRule == .rescoreTail)
        #expect(procedure.scoredPositions == .lastStride)
        #expect(procedure.optimizers == ["torch.optim.SGD"])
        #expect(procedure.updateOrder == .scoreBeforeUpdate)
        let url = try Self.temporaryCode(Self.ttt())
        defer { try? FileManager.default.removeItem(at: url) }
        let resolved = try TTTSettingsResolver.resolve(code: url, logs: [], overrides: [:])
        #expect(resolved.settings.windowRule == .rescoreTail)
        #expect(resolved.sources[TTTSettingsResolver.windowRuleKey]?.contains("adapt (line 4)") == true)
    }

    @Test("training before scoring, or windows pgverify does not recognise, are refused with the reason")
    func unknownStructureRefused() throws {
        let updateFirst = try #require(try Self.procedures(Self.ttt(updateFirst: true)).first)
        #expect(updateFirst.updateOrder == .updateBeforeScore)
        let oddWindows = try #require(try Self.procedures(Self.ttt(condition: "p % 7 == 0")).first)
        #expect(oddWindows.windowRule == nil)
        #expect(oddWindows.unknownWindows?.contains("line 5") == true)
        for (source, expected) in [(Self.ttt(updateFirst: true), "updates on a chunk before scoring it"),
                                   (Self.ttt(condition: "p % 7 == 0"), "window starts at line 5 filtered by a condition")] {
            let url = try Self.temporaryCode(source)
            defer { try? FileManager.default.removeItem(at: url) }
            #expect {
                try TTTSettingsResolver.resolve(code: url, logs: [], overrides: [:])
            } throws: { error in
                guard case .unreadCodeFact(let key, let detail) = error as? ModelConfigError else { return false }
                return key == TTTSettingsResolver.windowRuleKey && detail.contains(url.path) && detail.contains("adapt (line 4)")
                    && detail.contains(expected)
            }
        }
    }

    @Test("a function named like TTT that never trains is not TTT; one named like sliding that trains is not sliding")
    func namesDoNotDecide() throws {
        let renamedTTT = Self.ttt().replacingOccurrences(of: "def adapt(", with: "def eval_val_sliding(")
        let procedure = try #require(try Self.procedures(renamedTTT).first)
        #expect(!procedure.isSliding && procedure.isTestTimeTraining)
        let notTraining = Self.slidingRenamed.replacingOccurrences(of: "def score_everything(", with: "def eval_val_sliding_ttt(")
        let sliding = try #require(try Self.procedures(notTraining).first)
        #expect(sliding.isSliding && !sliding.isTestTimeTraining)
    }

    @Test("the records' procedures are found under other names")
    func recordsRenamed() throws {
        let records = Paths.shared("corpus/parameter-golf/records/track_10min_16mb")
        let sliding = try String(contentsOf: records.appendingPathComponent("2026-04-10_VarLenAttn/train_gpt.py"), encoding: .utf8)
            .replacingOccurrences(of: "def eval_val_sliding(", with: "def windows_pass(")
        let slidingProcedure = try #require(try Self.procedures(sliding).first { $0.function == "windows_pass" })
        #expect(slidingProcedure.isSliding && slidingProcedure.windowRule == .exactlyOnce && slidingProcedure.segmentsDocuments)
        #expect(slidingProcedure.batchSequences == 32)
        let ttt = try String(contentsOf: records.appendingPathComponent("2026-03-23_LeakyReLU_LegalTTT_ParallelMuon/train_gpt.py"),
                             encoding: .utf8).replacingOccurrences(of: "eval_val_sliding_ttt", with: "second_pass")
        let tttProcedure = try #require(try Self.procedures(ttt).first { $0.function == "second_pass" })
        #expect(tttProcedure.isTestTimeTraining && tttProcedure.windowRule == .rescoreTail)
        #expect(tttProcedure.updateOrder == .scoreBeforeUpdate)
        #expect(tttProcedure.optimizers == ["torch.optim.SGD"])
    }
}
