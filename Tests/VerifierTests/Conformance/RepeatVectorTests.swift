import Foundation
import Reference
import Testing
@testable import Verifier

/// Learned per-repeat vectors around weight-shared blocks (``ArchitectureFeatures/ScheduleVectors``, read by
/// ``ScheduleVectorReading``): pull request #167 and the baseline edited to add them in the forks' spellings,
/// each evaluated through the whole pipeline against the PyTorch golden of that code on the same weights
/// (`tools/repeat_vector_goldens.py`, fixtures/conformance/repeat.*). Edits that move a vector or rotate its
/// index are evaluated as edited (their own golden) or refused at their line, never given another form's number.
@Suite struct RepeatVectorTests {
    struct Form: Decodable, GoldenCodeForm {
        var name: String
        var code: String
        var sha256: String
        var edits: [[String]]
        var settings: [String: String]
        var vectors: [String]
        var weights: String
        var val_loss: Double
        var val_bpb: Double
        var prcorpus_folder: String?
        var sliding: CycledBlockTests.Sliding?
    }
    struct Golden: Decodable {
        var seq_len: Int
        var max_tokens: Int
        var tokens: Int
        var depth: Int
        var forms: [Form]
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("conformance/repeat.goldens.json")))
    }

    static func form(_ name: String) throws -> Form {
        try #require(try golden().forms.first { $0.name == name })
    }

    static var hasRecordCode: Bool { GoldenFormCode.hasRecordCode(try? golden().forms) }

    /// `form`'s code with its edits and then `more`, written as `train_gpt.py` in a fresh folder.
    static func write(_ form: Form, more: [[String]] = []) throws -> URL { try form.written(more: more, label: "repeat") }

    static func request(_ form: Form, code: URL, weights: String? = nil, mode: EvalMode = .standard) throws -> ReevaluationRequest {
        let golden = try golden()
        return ReevaluationRequest(
            artifact: Paths.fixture("conformance/" + (weights ?? form.weights)), code: code, overrides: form.settings,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: mode,
            seqLen: golden.seq_len, maxTokens: golden.max_tokens, threads: 2)
    }

    typealias Vector = ArchitectureFeatures.LearnedVector
    static func row(_ tensor: String, _ shape: [Int], _ index: Int...) -> Vector { Vector(tensor: tensor, shape: shape, index: index) }

    /// Where each form's vectors sit, position by position (depth 9, 3 blocks of width 32, 3 repeats). A shift
    /// added after a block and before the next with nothing reading the stream between is the next block's input
    /// shift (the same sum); the encoder's, which the U-Net skip saves, and the last block's stay output shifts.
    static func expectedVectors(_ name: String) -> [ArchitectureFeatures.ScheduleVectors]? {
        let depth = 9, c = 32
        func each(_ body: (Int) -> ArchitectureFeatures.ScheduleVectors) -> [ArchitectureFeatures.ScheduleVectors] { (0..<depth).map(body) }
        switch name {
        case "pr167_loop_embed", "baseline_loop_embed_modulo":
            return each { .init(inputShift: row("loop_embed", [depth, c], $0)) }
        case "baseline_repeat_embed_input":
            return each { .init(inputShift: row("repeat_embed", [3, c], $0 / 3)) }
        case "baseline_repeat_embed_input_rotated":
            return each { .init(inputShift: row("repeat_embed", [3, c], ($0 / 3 + 1) % 3)) }
        case "baseline_repeat_embed_output":
            return each { p in
                .init(inputShift: p > 4 ? row("repeat_embed", [3, c], (p - 1) / 3) : nil,
                      outputShift: p < 4 || p == depth - 1 ? row("repeat_embed", [3, c], p / 3) : nil)
            }
        case "baseline_loop_affine", "baseline_loop_affine_rotated":
            let rotated = name.hasSuffix("rotated")
            func block(_ p: Int) -> Int { rotated ? (p % 3 + 1) % 3 : p % 3 }
            return each { p in
                .init(inputShift: p > 4 ? row("loop_biases", [3, 3, c], (p - 1) / 3, block(p - 1)) : nil,
                      outputScale: row("loop_scales", [3, 3, c], p / 3, block(p)),
                      outputShift: p < 4 || p == depth - 1 ? row("loop_biases", [3, 3, c], p / 3, block(p)) : nil)
            }
        default:
            return nil
        }
    }

    static func expectGolden(_ name: String) throws {
        let golden = try golden(), form = try form(name)
        let code = try write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let result = try Reevaluation.run(try request(form, code: code))
        let features = result.resolved.config.features
        #expect(features.blockSchedule == [0, 1, 2, 0, 1, 2, 0, 1, 2], "\(name)")
        #expect(features.scheduleVectors == expectedVectors(name), "\(name): \(String(describing: features.scheduleVectors))")
        #expect(result.resolved.architecture?.contains("with learned per-position vectors") == true, "\(name)")
        #expect(result.resolved.sources["schedule_vectors"] != nil, "\(name)")
        #expect(result.score.tokens == golden.tokens, "\(name)")
        #expect(abs(result.score.meanLoss - form.val_loss) <= 1e-4, "\(name): \(result.score.meanLoss) vs \(form.val_loss)")
        #expect(abs(result.score.bitsPerByte - form.val_bpb) <= 1e-4, "\(name): \(result.score.bitsPerByte) vs \(form.val_bpb)")
    }

    /// The goldens tell the placements apart: a vector before or after the block, a rotated index, score far
    /// past the tolerance from each other, so printing one form's number for another fails.
    @Test func goldensTellThePlacementsApart() throws {
        func bpb(_ name: String) throws -> Double { try Self.form(name).val_bpb }
        let pairs = [("baseline_repeat_embed_input", "baseline_repeat_embed_output"),
                     ("baseline_repeat_embed_input", "baseline_repeat_embed_input_rotated"),
                     ("baseline_loop_affine", "baseline_loop_affine_rotated"),
                     ("baseline_loop_embed_modulo", "baseline_repeat_embed_input")]
        for (a, b) in pairs { #expect(abs(try bpb(a) - bpb(b)) > 1e-3, "\(a) vs \(b)") }
        let cycled = try CycledBlockTests.form("baseline_modulo").val_bpb
        for form in try Self.golden().forms { #expect(abs(form.val_bpb - cycled) > 1e-3, "\(form.name) is not the plain schedule") }
        #expect(abs(try bpb("pr167_loop_embed") - bpb("baseline_loop_embed_modulo")) <= 1e-6)
    }

    @Test(.enabled(if: hasRecordCode)) func recordCodeIsEvaluatedExactly() throws { try Self.expectGolden("pr167_loop_embed") }

    @Test(arguments: ["baseline_loop_embed_modulo", "baseline_repeat_embed_input", "baseline_repeat_embed_output",
                      "baseline_repeat_embed_input_rotated", "baseline_loop_affine", "baseline_loop_affine_rotated"])
    func rewrittenFormIsEvaluatedExactly(_ name: String) throws { try Self.expectGolden(name) }

    /// Sliding windows (`verify eval --mode sliding`'s path) against the 2026-04-01 record's sliding evaluator: the
    /// #167 form (where this machine has its file) and the affine form.
    @Test(arguments: ["pr167_loop_embed", "baseline_loop_affine"])
    func slidingEvaluationMatchesItsGolden(_ name: String) throws {
        let form = try Self.form(name)
        let sliding = try #require(form.sliding)
        guard form.original != nil else { return }
        #expect(abs(sliding.val_bpb - form.val_bpb) > 1e-3, "sliding scores another function of the tokens")
        let code = try Self.write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let result = try Reevaluation.run(try Self.request(form, code: code, mode: .sliding(stride: sliding.stride)))
        #expect(result.resolved.config.features.scheduleVectors == Self.expectedVectors(form.name))
        #expect(abs(result.score.meanLoss - sliding.val_loss) <= 1e-4, "\(result.score.meanLoss) vs \(sliding.val_loss)")
        #expect(abs(result.score.bitsPerByte - sliding.val_bpb) <= 1e-4, "\(result.score.bitsPerByte) vs \(sliding.val_bpb)")
    }

    /// `form` edited by `edit` (its text must occur once), checked through the pipeline: refused at the line
    /// holding `edit`'s replacement's first line, never evaluated.
    static func expectRefusedAtEdit(_ name: String, _ edit: [String], weights: String? = nil) throws {
        let form = try form(name)
        let code = try write(form, more: [edit])
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let text = try String(contentsOf: code, encoding: .utf8)
        let marker = String(edit[1].split(separator: "\n")[0])
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == marker }) + 1
        var refusal: Error?
        do {
            let prepared = try Reevaluation.prepare(try request(form, code: code, weights: weights))
            Issue.record("accepted: \(prepared.1.architecture ?? "")")
        } catch {
            refusal = error
        }
        if case .architectureNotMatched(let file, let refusedLine, let detail, _)? = refusal as? ModelConfigError {
            #expect(file == code.path)
            #expect(refusedLine == line, "\(detail)")
        } else {
            Issue.record("\(String(describing: refusal))")
        }
    }

    /// A scale moved onto the block's input (`block(x * s, x0)`) is not what the reference describes: refused.
    @Test func scaleOnTheBlockInputIsRefused() throws {
        try Self.expectRefusedAtEdit("baseline_loop_affine", [
            "                x = block(x, x0)\n                scale = self.loop_scales[loop_idx, blk_idx].to(dtype=x.dtype)[None, None, :]\n",
            "                x = block(x * self.loop_scales[loop_idx, blk_idx].to(dtype=x.dtype)[None, None, :], x0)\n"
                + "                scale = 1.0\n"])
    }

    /// A vector scaled by a constant, or added to x0 rather than to the stream, is refused at its line.
    @Test func vectorUsedOtherwiseIsRefused() throws {
        try Self.expectRefusedAtEdit("baseline_repeat_embed_input", [
            "                x = x + self.repeat_embed[repeat].to(dtype=x.dtype)[None, None, :]\n",
            "                x = x + 0.5 * self.repeat_embed[repeat].to(dtype=x.dtype)[None, None, :]\n"])
        try Self.expectRefusedAtEdit("baseline_repeat_embed_input", [
            "                x = x + self.repeat_embed[repeat].to(dtype=x.dtype)[None, None, :]\n",
            "                x0 = x0 + self.repeat_embed[repeat].to(dtype=x.dtype)[None, None, :]\n"])
    }

    /// Code that reads a vector the artifact does not hold is refused, never evaluated without it.
    @Test func vectorMissingFromTheArtifactIsRefused() throws {
        let form = try Self.form("baseline_repeat_embed_input")
        let code = try Self.write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        #expect(throws: ModelConfigError.self) {
            _ = try Reevaluation.prepare(try Self.request(form, code: code, weights: "cycled.weights.json"))
        }
    }
}
