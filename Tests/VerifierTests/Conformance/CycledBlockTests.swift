import Foundation
import Reference
import Testing
@testable import Verifier

/// Weight-shared (cycled) blocks: a few unique blocks run over a deeper schedule, the U-Net skips over that
/// depth, the schedule read from the code's forward (``BlockScheduleReading``) and its depth from the code's
/// own NUM_LAYERS where the tensors hold fewer blocks. Pull requests #167 and #30 (read from /work/prcorpus
/// where it is) and the baseline rewritten to five forms of the same sharing, each evaluated through the whole
/// pipeline against the PyTorch golden of that code on the same random weights (`tools/cycled_block_goldens.py`,
/// fixtures/conformance/cycled.*); edits that change the schedule are evaluated as edited or refused.
@Suite struct CycledBlockTests {
    struct Form: Decodable, GoldenCodeForm {
        var name: String
        var code: String
        var sha256: String
        var edits: [[String]]
        var settings: [String: String]
        var schedule: [Int]
        var val_loss: Double
        var val_bpb: Double
        var prcorpus_folder: String?
        var sliding: Sliding?
    }
    struct Sliding: Decodable {
        var stride: Int
        var val_loss: Double
        var val_bpb: Double
    }
    struct Golden: Decodable {
        var seq_len: Int
        var max_tokens: Int
        var tokens: Int
        var forms: [Form]
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("conformance/cycled.goldens.json")))
    }

    static func form(_ name: String) throws -> Form {
        try #require(try golden().forms.first { $0.name == name })
    }

    static var hasRecordCode: Bool { GoldenFormCode.hasRecordCode(try? golden().forms) }

    /// `form`'s code with its edits and then `more`, written as `train_gpt.py` in a fresh folder.
    static func write(_ form: Form, more: [[String]] = []) throws -> URL { try form.written(more: more, label: "cycled") }

    static func request(_ code: URL?, settings: [String: String], mode: EvalMode = .standard) throws -> ReevaluationRequest {
        let golden = try golden()
        return ReevaluationRequest(
            artifact: Paths.fixture("conformance/cycled.weights.json"), code: code, overrides: settings,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: mode,
            seqLen: golden.seq_len, maxTokens: golden.max_tokens, threads: 2)
    }

    static func expectGolden(_ name: String, overrides: [String: String] = [:]) throws {
        let golden = try golden(), form = try form(name)
        let code = try write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let result = try Reevaluation.run(try request(code, settings: form.settings.merging(overrides) { _, added in added }))
        #expect(result.resolved.config.numLayers == 3, "\(name)")
        #expect(result.resolved.config.features.blockSchedule == form.schedule, "\(name)")
        let order = form.schedule.map(String.init).joined(separator: ",")
        #expect(result.resolved.architecture?.contains("3 blocks shared over a depth of 9 (run in the order \(order))") == true,
                "\(name): \(result.resolved.architecture ?? "")")
        #expect(result.resolved.architecture?.contains("U-Net skips ×4") == true, "\(name)")
        #expect(!result.resolved.notes.contains { $0.contains("num_layers") }, "\(name): \(result.resolved.notes)")
        #expect(result.resolved.sources["block_schedule"]?.description.contains("3 unique blocks run over a depth of 9") == true, "\(name)")
        #expect(result.score.tokens == golden.tokens, "\(name)")
        #expect(abs(result.score.meanLoss - form.val_loss) <= 1e-4, "\(name): \(result.score.meanLoss) vs \(form.val_loss)")
        #expect(abs(result.score.bitsPerByte - form.val_bpb) <= 1e-4, "\(name): \(result.score.bitsPerByte) vs \(form.val_bpb)")
    }

    /// A rotated schedule of the same blocks moves the score far past the tolerance, so printing the
    /// unrotated number for it fails; the rewritten forms compute the real forms' function.
    @Test func goldensTellTheSchedulesApart() throws {
        let forms = try Self.golden().forms
        let cycled = try Self.form("pr167_layer_map"), rotated = try Self.form("pr167_layer_map_rotated")
        #expect(abs(cycled.val_bpb - rotated.val_bpb) > 1e-3)
        for form in forms {
            let reference = form.schedule == cycled.schedule ? cycled : rotated
            #expect(abs(form.val_loss - reference.val_loss) <= 1e-5, "\(form.name)")
        }
    }

    @Test(.enabled(if: hasRecordCode), arguments: ["pr167_layer_map", "pr30_modulo", "pr167_layer_map_rotated"])
    func recordCodeIsEvaluatedExactly(_ name: String) throws { try Self.expectGolden(name) }

    @Test(arguments: ["baseline_modulo", "baseline_nested_loop", "baseline_repeated_list", "baseline_repeated_indices",
                      "baseline_modulo_rotated"])
    func rewrittenFormIsEvaluatedExactly(_ name: String) throws { try Self.expectGolden(name) }

    /// Sliding windows over a block schedule (`verify eval --mode sliding`'s path) against the 2026-04-01
    /// record's sliding evaluator run on the form's own model: a pull request's schedule and a rotated one,
    /// whose numbers differ by far more than the tolerance.
    @Test func slidingGoldensTellTheSchedulesApart() throws {
        let cycled = try #require(try Self.form("pr167_layer_map").sliding)
        let rotated = try #require(try Self.form("baseline_modulo_rotated").sliding)
        #expect(abs(cycled.val_bpb - rotated.val_bpb) > 1e-3)
        #expect(abs(cycled.val_bpb - (try Self.form("pr167_layer_map").val_bpb)) > 1e-3, "sliding scores another function of the tokens")
    }

    @Test(arguments: ["pr167_layer_map", "baseline_modulo_rotated"])
    func slidingEvaluationMatchesItsGolden(_ name: String) throws {
        let form = try Self.form(name), golden = try Self.golden()
        let sliding = try #require(form.sliding)
        guard form.original != nil else { return }  // the pull request's file, where this machine has it
        let code = try Self.write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let result = try Reevaluation.run(try Self.request(code, settings: form.settings, mode: .sliding(stride: sliding.stride)))
        #expect(result.resolved.config.features.blockSchedule == form.schedule, "\(name)")
        #expect(result.plan.mode == .sliding(stride: sliding.stride))
        #expect(result.score.tokens == golden.tokens, "\(name)")
        #expect(abs(result.score.meanLoss - sliding.val_loss) <= 1e-4, "\(name): \(result.score.meanLoss) vs \(sliding.val_loss)")
        #expect(abs(result.score.bitsPerByte - sliding.val_bpb) <= 1e-4, "\(name): \(result.score.bitsPerByte) vs \(sliding.val_bpb)")
    }

    /// The depth stated by the run (`--set NUM_LAYERS=9`, as a log would) above the 3 blocks the tensors hold is
    /// the depth of the code's schedule: evaluated as the code computes it.
    @Test func statedDepthIsTheScheduleDepth() throws {
        try Self.expectGolden("baseline_modulo", overrides: ["NUM_LAYERS": "9"])
    }

    /// A stated depth the code does not run as a block schedule stays a contradiction of the shapes: without
    /// code, and where the schedule at that depth has other skips than the weights hold.
    @Test func statedDepthWithoutAScheduleIsRefused() throws {
        var refusal: Error?
        do {
            _ = try Reevaluation.prepare(try Self.request(nil, settings: ["NUM_LAYERS": "9"]))
        } catch {
            refusal = error
        }
        guard case .contradictsShapes(let key, let stated, _, _, _)? = refusal as? ModelConfigError else {
            Issue.record("\(String(describing: refusal))"); return
        }
        #expect(key == "num_layers" && stated == "9")
        let form = try Self.form("baseline_modulo")
        let code = try Self.write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        refusal = nil
        do {
            _ = try Reevaluation.prepare(try Self.request(code, settings: ["NUM_LAYERS": "12"]))
        } catch {
            refusal = error
        }
        guard case .architectureNotMatched(_, _, let detail, _)? = refusal as? ModelConfigError else {
            Issue.record("\(String(describing: refusal))"); return
        }
        #expect(detail.contains("read with num_layers=12, the forward runs 12 blocks with 6 U-Net skips, but the artifact's skip_weights holds 4 rows"),
                "\(detail)")
    }

    /// One repeat fewer: at the tensors' depth (3) the code runs no block, at its own (NUM_LAYERS=9) six blocks
    /// whose skips are not the U-Net's over six; refused, never the 9-deep number.
    @Test func oneRepeatFewerIsRefused() throws {
        let form = try Self.form("baseline_nested_loop")
        let code = try Self.write(form, more: [[
            "        for _ in range((self.num_encoder_layers + self.num_decoder_layers) // len(self.blocks)):\n",
            "        for _ in range((self.num_encoder_layers + self.num_decoder_layers) // len(self.blocks) - 1):\n"]])
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        var refusal: Error?
        do {
            _ = try Reevaluation.prepare(try Self.request(code, settings: form.settings))
            Issue.record("one repeat fewer was accepted")
        } catch {
            refusal = error
        }
        if case .architectureNotMatched(let file, _, _, _)? = refusal as? ModelConfigError {
            #expect(file == code.path)
            #expect(ExitStatus.forError(try #require(refusal)) == .badInput)
        } else {
            Issue.record("\(String(describing: refusal))")
        }
    }

    /// A depth whose U-Net skips the weights contradict (the code's NUM_LAYERS default 7: 3 skips, the
    /// weights hold 4) is refused naming the skips, never evaluated at either depth.
    @Test func depthTheSkipsContradictIsRefused() throws {
        let form = try Self.form("baseline_modulo")
        let code = try Self.write(form, more: [["int(os.environ.get(\"NUM_LAYERS\", 9))", "int(os.environ.get(\"NUM_LAYERS\", 7))"]])
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        var refusal: Error?
        do {
            _ = try Reevaluation.prepare(try Self.request(code, settings: form.settings))
            Issue.record("a depth of 7 was accepted")
        } catch {
            refusal = error
        }
        if case .architectureNotMatched(_, _, let detail, _)? = refusal as? ModelConfigError {
            #expect(detail.contains("read with num_layers=7, the forward runs 7 blocks with 3 U-Net skips, but the artifact's skip_weights holds 4 rows"),
                    "\(detail)")
        } else {
            Issue.record("\(String(describing: refusal))")
        }
    }

    /// What a shared block does per repeat beyond the schedule and its learned vectors (a scale by the repeat
    /// counter) is not described: refused naming its line.
    @Test func perRepeatScaleIsRefusedAtItsLine() throws {
        let (code, line, outcome) = try Self.checkEdit("                    x = block(x, x0) * (1.0 + 0.5 * repeat)\n", embedding: false)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        if case .failure(.architectureNotMatched(_, let refusedLine, let detail, _)) = outcome {
            #expect(refusedLine == line, "\(detail)")
        } else {
            Issue.record("\(outcome)")
        }
    }

    /// A learned per-repeat embedding added to the decoder's block outputs is read as the schedule's vectors
    /// (``ScheduleVectorReading``; its numbers against PyTorch: ``RepeatVectorTests``). It was refused before
    /// the vectors were described. Decoder positions 4…8 of repeats 1, 1, 2, 2, 2: each output shift but the
    /// last is the next block's input shift (the same sum).
    @Test func perRepeatEmbeddingIsRead() throws {
        let (code, _, outcome) = try Self.checkEdit(
            "                    x = block(x, x0) + self.repeat_embed[repeat].to(dtype=x.dtype)[None, None, :]\n", embedding: true)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let match = try outcome.get()
        func row(_ r: Int) -> ArchitectureFeatures.LearnedVector { .init(tensor: "repeat_embed", shape: [3, 512], index: [r]) }
        let expected: [ArchitectureFeatures.ScheduleVectors] = (0..<9).map { p in
            .init(inputShift: p > 4 ? row((p - 1) / 3) : nil, outputShift: p == 8 ? row(2) : nil)
        }
        #expect(match.blockSchedule == [0, 1, 2, 0, 1, 2, 0, 1, 2])
        #expect(match.scheduleVectors == expected, "\(String(describing: match.scheduleVectors))")
    }

    /// The nested-loop form with its decoder's block call replaced by `decoderCall`, checked against 3 unique
    /// blocks of the baseline's width (with `repeat_embed` [3, 512] when `embedding`): the code, the line of the
    /// call, and the match or refusal.
    static func checkEdit(_ decoderCall: String, embedding: Bool) throws -> (URL, Int, Result<ArchitectureMatch, ModelConfigError>) {
        let form = try Self.form("baseline_nested_loop")
        var edits = [["        for _ in range((self.num_encoder_layers", "        for repeat in range((self.num_encoder_layers"],
                     ["                    x = block(x, x0)\n                depth += 1\n", decoderCall + "                depth += 1\n"]]
        if embedding {
            edits.append(["        self.final_norm = RMSNorm()\n",
                          "        self.final_norm = RMSNorm()\n        self.repeat_embed = nn.Parameter(torch.zeros(3, model_dim))\n"])
        }
        let code = try Self.write(form, more: edits)
        let source = try String(contentsOf: code, encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0 + "\n" == decoderCall }) + 1
        var config = ConformanceSupport.baselineConfig
        config.numLayers = 3
        var shapes = ConformanceSupport.shapes(config)
        shapes["skip_weights"] = [4, 512]
        if embedding { shapes["repeat_embed"] = [3, 512] }
        let settings = try ModelConfigResolver.statedSettings(code: code, logs: [], overrides: [:])
        let outcome: Result<ArchitectureMatch, ModelConfigError>
        do {
            outcome = .success(try ArchitectureConformance.checkBaseline(code: code, config: config, parameterShapes: shapes,
                                                                         settings: settings, readsActivation: true))
        } catch {
            outcome = .failure(error)
        }
        return (code, line, outcome)
    }

    /// The cycled weights with the blocks saved under `attribute` (`shared_blocks.N.…`, as torch saves blocks the code
    /// registers as `self.shared_blocks`), written beside `code`.
    static func renamedWeights(_ attribute: String, beside code: URL) throws -> URL {
        let folder = code.deletingLastPathComponent()
        let index = Paths.fixture("conformance/cycled.weights.json")
        var doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any])
        let tensors = try #require(doc["tensors"] as? [[String: Any]])
        doc["tensors"] = tensors.map { entry -> [String: Any] in
            var entry = entry
            if let name = entry["name"] as? String, name.hasPrefix("blocks.") { entry["name"] = attribute + "." + name.dropFirst("blocks.".count) }
            return entry
        }
        try FileManager.default.copyItem(at: Paths.fixture("conformance/cycled.weights.f32"), to: folder.appendingPathComponent("cycled.weights.f32"))
        let url = folder.appendingPathComponent("renamed.weights.json")
        try JSONSerialization.data(withJSONObject: doc).write(to: url)
        return url
    }

    /// The modulo form with its blocks registered under `attribute` instead of `blocks` (every `self.blocks`).
    static func writeRenamed(_ attribute: String, more: [[String]] = []) throws -> URL {
        let code = try write(try form("baseline_modulo"), more: more)
        let text = try String(contentsOf: code, encoding: .utf8).replacingOccurrences(of: "self.blocks", with: "self." + attribute)
        try text.write(to: code, atomically: true, encoding: .utf8)
        return code
    }

    /// Blocks the code registers as `self.shared_blocks` (or `self.layers`) are saved as `shared_blocks.N.…`: read as
    /// the schedule's unique blocks, the name coming from the code's registration. The same function as the modulo
    /// form (a module's attribute name does not enter its forward), so the same golden.
    @Test(arguments: ["shared_blocks", "layers"])
    func blocksUnderAnotherAttributeAreRead(_ attribute: String) throws {
        let form = try Self.form("baseline_modulo"), golden = try Self.golden()
        let code = try Self.writeRenamed(attribute)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        var request = try Self.request(code, settings: [:])
        request.artifact = try Self.renamedWeights(attribute, beside: code)
        let result = try Reevaluation.run(request)
        #expect(result.resolved.config.features.blockSchedule == form.schedule)
        #expect(result.resolved.sources["block_list"]?.description.contains("registers as self.\(attribute)") == true,
                "\(result.resolved.sources)")
        #expect(result.score.tokens == golden.tokens)
        #expect(abs(result.score.meanLoss - form.val_loss) <= 1e-4, "\(result.score.meanLoss) vs \(form.val_loss)")
        #expect(abs(result.score.bitsPerByte - form.val_bpb) <= 1e-4, "\(result.score.bitsPerByte) vs \(form.val_bpb)")
    }

    /// The saved attribute must be where the code registers its blocks: code that registers them elsewhere, or
    /// also has its own `blocks`, is refused; without code the artifact's blocks are not read at all.
    @Test func blocksUnderAnotherAttributeNeedTheCodesRegistration() throws {
        // The code registers `self.layers`; the artifact saved `shared_blocks`.
        let elsewhere = try Self.writeRenamed("layers")
        defer { try? FileManager.default.removeItem(at: elsewhere.deletingLastPathComponent()) }
        var request = try Self.request(elsewhere, settings: [:])
        request.artifact = try Self.renamedWeights("shared_blocks", beside: elsewhere)
        #expect(throws: ModelConfigError.self) { _ = try Reevaluation.prepare(request) }
        // No code: nothing names the blocks.
        request.code = nil
        #expect(throws: ModelConfigError.self) { _ = try Reevaluation.prepare(request) }
        // Both `self.shared_blocks` and the code's own `self.blocks`, which the forward also reads.
        let both = try Self.writeRenamed("shared_blocks", more: [[
            "        self.final_norm = RMSNorm()\n",
            "        self.final_norm = RMSNorm()\n        self.extra = nn.ModuleList([Block(model_dim, num_heads, num_kv_heads, mlp_mult, rope_base, qk_gain_init)])\n"]])
        defer { try? FileManager.default.removeItem(at: both.deletingLastPathComponent()) }
        var text = try String(contentsOf: both, encoding: .utf8)
        text = text.replacingOccurrences(of: "self.extra = nn.ModuleList", with: "self.blocks = nn.ModuleList")
            .replacingOccurrences(of: "        x = self.final_norm(x).reshape(-1, x.size(-1))\n",
                                  with: "        x = self.blocks[0](x, x0)\n        x = self.final_norm(x).reshape(-1, x.size(-1))\n")
        try text.write(to: both, atomically: true, encoding: .utf8)
        request = try Self.request(both, settings: [:])
        request.artifact = try Self.renamedWeights("shared_blocks", beside: both)
        var refusal: Error?
        do { _ = try Reevaluation.prepare(request) } catch { refusal = error }
        if case .architectureNotMatched(_, _, let detail, _)? = refusal as? ModelConfigError {
            #expect(detail.contains("reads the parameter blocks.0.") && detail.contains("two modules in one place"), "\(detail)")
        } else {
            Issue.record("\(String(describing: refusal))")
        }
    }

    /// `torch.tensor` of anything but integers the code states (floats, an explicit float dtype) stays an
    /// initial value the artifact replaces: the baseline with such unused buffers is still matched.
    @Test(arguments: ["torch.tensor([0.5, 1.5])", "torch.tensor([1, 2], dtype=torch.float32)", "torch.as_tensor((0.25,))"])
    func nonIntegerTensorIsAnInitialValue(_ value: String) throws {
        let text = try CodeEdit(name: "buffer", edits: [("        self.final_norm = RMSNorm()\n",
            "        self.final_norm = RMSNorm()\n        self.register_buffer(\"_table\", \(value), persistent=False)\n")],
                                expected: "", line: 0).apply(to: try ConformanceSupport.baselineSource)
        let match = try ConformanceSupport.check(text, readsActivation: true)
        #expect(match.blockSchedule == nil)
    }

    /// A repetition past the reading's bound is refused naming its line, never built.
    @Test func unboundedRepetitionIsRefused() throws {
        let form = try Self.form("baseline_repeated_indices")
        let factor = "((self.num_encoder_layers + self.num_decoder_layers) // len(self.blocks))"
        let code = try Self.write(form, more: [[factor, "(10 ** 9)"]])
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let text = try String(contentsOf: code, encoding: .utf8)
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("(10 ** 9)") }) + 1
        var refusal: Error?
        do {
            _ = try Reevaluation.prepare(try Self.request(code, settings: form.settings))
            Issue.record("a repetition of 10⁹ was read")
        } catch {
            refusal = error
        }
        if case .architectureNotMatched(_, let refusedLine, let detail, _)? = refusal as? ModelConfigError {
            #expect(refusedLine == line && detail.contains("repeats a sequence of 3 items 1000000000 times"), "\(detail)")
        } else {
            Issue.record("\(String(describing: refusal))")
        }
    }

    /// Without the sharing, the baseline's code is read at the weights' depth as before (no schedule).
    @Test func plainBaselineReadsNoSchedule() throws {
        let match = try ConformanceSupport.check(try ConformanceSupport.baselineSource, readsActivation: true)
        #expect(match.blockSchedule == nil)
        #expect(match.architecture.contains("9 blocks of RMSNorm"))
    }
}
