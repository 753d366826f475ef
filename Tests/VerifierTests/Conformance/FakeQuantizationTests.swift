import Foundation
import Reference
import Testing
@testable import Verifier

/// Weights a forward fake-quantizes at evaluation (late QAT left on): the per-row quantization is read from
/// the code (``WeightFakeQuantReading``), described and compared like the rest of the forward, and applied to
/// the weights the reference model loads (``WeightFakeQuantization``), where the switch's value at the final
/// evaluation is determined by the code and the run's settings. Pull request #1677's model (read from
/// /work/prcorpus where it is) and the baseline rewritten to several forms, each against the PyTorch golden of
/// that code on the same random weights (`tools/fake_quant_goldens.py`, fixtures/conformance/fakequant.*).
@Suite struct FakeQuantizationTests {
    struct Form: Decodable, GoldenCodeForm {
        var name: String
        var code: String
        var sha256: String
        var edits: [[String]]
        var settings: [String: String]
        var quantized: String?
        var val_loss: Double
        var val_bpb: Double
        var prcorpus_folder: String?
        var sliding: CycledBlockTests.Sliding
    }
    struct Golden: Decodable {
        var seq_len: Int
        var max_tokens: Int
        var tokens: Int
        var forms: [Form]
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("conformance/fakequant.goldens.json")))
    }

    static func form(_ name: String) throws -> Form {
        try #require(try golden().forms.first { $0.name == name })
    }

    static var hasRecordCode: Bool { GoldenFormCode.hasRecordCode(try? golden().forms) }

    /// `form`'s code with its edits and then `more`, written as `train_gpt.py` in a fresh folder.
    static func write(_ form: Form, more: [(String, String)] = []) throws -> URL {
        try form.written(more: more.map { [$0.0, $0.1] }, label: "fakequant")
    }

    static func request(_ code: URL?, settings: [String: String]) throws -> ReevaluationRequest {
        let golden = try golden()
        return ReevaluationRequest(
            artifact: Paths.fixture("conformance/fakequant.weights.json"), code: code, overrides: settings,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard,
            seqLen: golden.seq_len, maxTokens: golden.max_tokens, threads: 2)
    }

    /// Evaluates `name`'s code (plus `more` edits and `overrides`) through the pipeline `verify eval` and the
    /// audit take and compares it with the golden `expected` (the form's own by default).
    @discardableResult
    static func expectGolden(_ name: String, more: [(String, String)] = [], overrides: [String: String] = [:],
                             expected: String? = nil) throws -> ReevaluationResult {
        let golden = try golden(), form = try form(name), target = try self.form(expected ?? name)
        let code = try write(form, more: more)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let result = try Reevaluation.run(try request(code, settings: form.settings.merging(overrides) { _, added in added }))
        let quantization = result.resolved.config.features.weightFakeQuantization
        #expect((quantization != nil) == (target.quantized != nil), "\(name): \(String(describing: quantization))")
        if let quantization {
            // Every projection of the blocks (and no embedding: the head is tied).
            #expect(quantization.parameters.count == 3 * 6, "\(name): \(quantization.parameters)")
            #expect(result.resolved.architecture?.contains("weights fake-quantized per row") == true, "\(name)")
            #expect(result.resolved.sources["weight_fake_quantization"] != nil, "\(name)")
        }
        #expect(result.score.tokens == golden.tokens, "\(name)")
        #expect(abs(result.score.meanLoss - target.val_loss) <= 1e-4, "\(name): \(result.score.meanLoss) vs \(target.val_loss)")
        #expect(abs(result.score.bitsPerByte - target.val_bpb) <= 1e-4, "\(name): \(result.score.bitsPerByte) vs \(target.val_bpb)")
        return result
    }

    /// The quantized forms' numbers are far from the unquantized one and from each other, so printing the
    /// unquantized number (or another quantization's) fails the tests below.
    @Test func goldensTellTheQuantizationsApart() throws {
        let forms = try Self.golden().forms
        let off = try Self.form("baseline_unquantized")
        #expect(abs(try Self.form("pr1677_seq2048_off").val_bpb - off.val_bpb) <= 1e-6)
        for form in forms where form.quantized != nil {
            #expect(abs(form.val_bpb - off.val_bpb) > 1e-3, "\(form.name)")
        }
        let int6 = try Self.form("baseline_int6_plain_global_switch")
        #expect(abs(try Self.form("pr1677_seq2048_on").val_bpb - int6.val_bpb) <= 1e-6)
        #expect(abs(try Self.form("baseline_int6_bits_max_values").val_bpb - int6.val_bpb) <= 1e-6)
        for other in ["baseline_int8_ste_class_switch", "baseline_int6_asymmetric_clamp", "baseline_int6_truncated"] {
            #expect(abs(try Self.form(other).val_bpb - int6.val_bpb) > 1e-3, "\(other)")
        }
    }

    /// #1677 sets `_QAT_ENABLED = USE_INT6` before training and `False` before its final evaluation: off as
    /// written; on with the second assignment edited to True.
    @Test(.enabled(if: hasRecordCode), arguments: ["pr1677_seq2048_off", "pr1677_seq2048_on"])
    func recordCodeIsEvaluatedExactly(_ name: String) throws { try Self.expectGolden(name) }

    @Test(arguments: ["baseline_unquantized", "baseline_int8_ste_class_switch", "baseline_int6_plain_global_switch",
                      "baseline_int6_bits_max_values", "baseline_int6_asymmetric_clamp"])
    func rewrittenFormIsEvaluatedExactly(_ name: String) throws { try Self.expectGolden(name) }

    /// Sliding windows (stride 64) on the same weights: the fake quantization is part of the model both modes run.
    @Test(arguments: ["baseline_unquantized", "baseline_int8_ste_class_switch", "baseline_int6_plain_global_switch"])
    func slidingEvaluationMatchesTheGolden(_ name: String) throws { try Self.expectSliding(name) }

    @Test(.enabled(if: hasRecordCode)) func recordCodeInSlidingWindows() throws { try Self.expectSliding("pr1677_seq2048_on") }

    static func expectSliding(_ name: String) throws {
        let form = try form(name)
        let code = try write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        var request = try request(code, settings: form.settings)
        request.mode = .sliding(stride: form.sliding.stride)
        let result = try Reevaluation.run(request)
        #expect((result.resolved.config.features.weightFakeQuantization != nil) == (form.quantized != nil), "\(name)")
        #expect(abs(result.score.meanLoss - form.sliding.val_loss) <= 1e-4, "\(name): \(result.score.meanLoss) vs \(form.sliding.val_loss)")
        #expect(abs(result.score.bitsPerByte - form.sliding.val_bpb) <= 1e-4, "\(name): \(result.score.bitsPerByte) vs \(form.sliding.val_bpb)")
        let off = try Self.form("baseline_unquantized").sliding
        #expect(form.quantized == nil || abs(form.sliding.val_bpb - off.val_bpb) > 5e-4, "\(name)")
    }

    /// The switch follows the run's settings: `QAT=0` leaves it off, and the forward is the baseline's.
    @Test(arguments: ["baseline_int8_ste_class_switch", "baseline_int6_plain_global_switch", "baseline_int6_bits_max_values"])
    func switchFollowsTheSettings(_ name: String) throws {
        try Self.expectGolden(name, overrides: ["QAT": "0"], expected: "baseline_unquantized")
    }

    // MARK: Which value the switch has

    /// The baseline's CastedLinear fake-quantizing per row to int8 (``RunDependentSwitchTests``) under
    /// `condition`, with `switchedOn` inserted in `main`'s body after the model is built.
    static func matched(condition: String, switchedOn: String, prelude: String = "") throws -> ArchitectureMatch {
        var source = try RunDependentSwitchTests.baselineWithFakeQuant(condition: condition, switchedOn: switchedOn)
        if !prelude.isEmpty { source = source.replacingOccurrences(of: "\nclass CastedLinear(", with: "\n\(prelude)\n\nclass CastedLinear(") }
        return try ConformanceSupport.check(source, readsActivation: true)
    }

    static let int8 = (divisor: 127.0, floor: 1.0 / 127.0, lower: -127.0, upper: 127.0)

    /// Set by a statement of `main`'s own body before the final evaluation: the value that statement computes,
    /// read through the class, through the instance, or as a module global; the last such statement wins.
    @Test func switchSetInMainsBodyIsReadAtItsValue() throws {
        let forms: [(condition: String, switchedOn: String, prelude: String, on: Bool)] = [
            ("CastedLinear._qat_enabled", "    CastedLinear._qat_enabled = True\n", "", true),
            // Which weights: what the code computes (only the MLP's matrices hold more than 300,000 values).
            ("CastedLinear._qat_enabled and w.numel() > 300_000", "    CastedLinear._qat_enabled = True\n", "", true),
            ("self._qat_enabled and w.ndim == 2", "    CastedLinear._qat_enabled = True\n", "", true),
            ("self._qat_enabled", "    qat_now = args.num_layers > 1\n    CastedLinear._qat_enabled = qat_now\n", "", true),
            ("CastedLinear._qat_enabled", "    CastedLinear._qat_enabled = True\n    log0('qat on')\n    CastedLinear._qat_enabled = False\n", "", false),
            ("QAT_ON", "    global QAT_ON\n    QAT_ON = True\n", "QAT_ON = False", true),
            ("QAT_ON is not None and QAT_ON", "    global QAT_ON\n    QAT_ON = args.num_layers < 0\n", "QAT_ON = None", false),
            // Without `global`, main's QAT_ON is its own local: the module's stays False.
            ("QAT_ON", "    QAT_ON = True\n", "QAT_ON = False", false),
        ]
        for form in forms {
            let match = try Self.matched(condition: form.condition, switchedOn: form.switchedOn, prelude: form.prelude)
            let read = match.weightFakeQuantization
            #expect((read != nil) == form.on, "\(form.switchedOn): \(match.architecture)")
            guard let read else { continue }
            #expect(read.divisor == Self.int8.divisor && read.floor == Self.int8.floor && !read.floorsRowMax, "\(read)")
            #expect(read.lower == Self.int8.lower && read.upper == Self.int8.upper, "\(read)")
            // q, k, v, proj, fc and the MLP's proj of 9 blocks; the tied head is an embedding, not a CastedLinear.
            let large = form.condition.contains("numel")
            #expect(read.parameters.count == 9 * (large ? 2 : 6) && !read.parameters.contains("tok_emb.weight"), "\(read.parameters)")
            #expect(!large || read.parameters.allSatisfy { $0.contains(".mlp.") }, "\(read.parameters)")
            #expect(match.architecture.contains("weights fake-quantized per row (scale = row max / 127.0"), "\(match.architecture)")
        }
    }

    /// Whatever does not fix the value at the final evaluation stays run-dependent, refused naming the switch:
    /// an assignment in a loop over the modules, one after the final evaluation, one in another function.
    @Test func switchTheCodeDoesNotDetermineIsRefused() throws {
        let forms: [(condition: String, switchedOn: String, named: String)] = [
            ("self._qat_enabled",
             "    for module in base_model.modules():\n        if isinstance(module, CastedLinear):\n            module._qat_enabled = True\n",
             "_qat_enabled"),
            ("CastedLinear._qat_enabled", "    CastedLinear._qat_enabled = True\n    enable_qat()\n", "CastedLinear._qat_enabled"),
            // Set in main's body and again inside a loop of it.
            ("QAT_ON", "    global QAT_ON\n    QAT_ON = False\n    for _ in range(args.num_layers):\n        QAT_ON = True\n", "global QAT_ON"),
        ]
        for form in forms {
            var source = try RunDependentSwitchTests.baselineWithFakeQuant(condition: form.condition, switchedOn: form.switchedOn)
            source = source.replacingOccurrences(of: "\nclass CastedLinear(", with: "\nQAT_ON = False\n\nclass CastedLinear(")
            source = source.replacingOccurrences(of: "\ndef main() -> None:", with: "\ndef enable_qat():\n    CastedLinear._qat_enabled = True\n\n\ndef main() -> None:")
            let (_, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) })
            #expect(detail.contains(form.named) && detail.contains("depends on the run"), "\(detail)")
        }
        // After the final evaluation: the evaluation saw the class's initial value, which nothing before it fixes.
        var source = try RunDependentSwitchTests.baselineWithFakeQuant(condition: "CastedLinear._qat_enabled", switchedOn: "")
        source = source.replacingOccurrences(of: "\nif __name__ == \"__main__\":", with: "    CastedLinear._qat_enabled = True\n\n\nif __name__ == \"__main__\":")
        #expect(source.contains("    CastedLinear._qat_enabled = True\n\n\nif __name__"))
        let (_, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) })
        #expect(detail.contains("CastedLinear._qat_enabled") && detail.contains("depends on the run"), "\(detail)")
        // Between two evaluations (the baseline's final eval_val, then the same again): each saw another value.
        source = try RunDependentSwitchTests.baselineWithFakeQuant(condition: "CastedLinear._qat_enabled",
                                                                 switchedOn: "    CastedLinear._qat_enabled = True\n")
        source = source.replacingOccurrences(of: "\n\n\nif __name__ == \"__main__\":", with: "\n    CastedLinear._qat_enabled = False\n"
            + "    eval_val(args, model, rank, world_size, device, grad_accum_steps, val_tokens, base_bytes_lut, "
            + "has_leading_space_lut, is_boundary_token_lut)\n\n\nif __name__ == \"__main__\":")
        #expect(source.contains("    CastedLinear._qat_enabled = False\n    eval_val("))
        let (_, between) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) })
        #expect(between.contains("CastedLinear._qat_enabled") && between.contains("depends on the run"), "\(between)")
    }

    // MARK: Which call is the final evaluation

    /// The baseline with the int8 switch set on in `main` and its `eval_val` renamed to `name` everywhere.
    static func renamedEvaluation(_ name: String, switchedOn: String = "    CastedLinear._qat_enabled = True\n") throws -> String {
        try RunDependentSwitchTests.baselineWithFakeQuant(condition: "CastedLinear._qat_enabled", switchedOn: switchedOn)
            .replacingOccurrences(of: "eval_val(", with: name + "(")
    }

    /// The final evaluation is found by what the called function does, not by its name: the baseline's evaluation
    /// renamed (it puts the model in evaluation mode and accumulates the loss), called directly or handed to a
    /// timing wrapper, reads the switch as `main` sets it.
    @Test func finalEvaluationIsFoundByWhatItDoes() throws {
        let wrapper = "def timed(label, fn, *args):\n    t0 = time.perf_counter()\n    out = fn(*args)\n"
            + "    print(label, time.perf_counter() - t0)\n    return out\n\n\ndef main() -> None:"
        let wrapped = try Self.renamedEvaluation("score_stream")
            .replacingOccurrences(of: "    q_val_loss, q_val_bpb = score_stream(\n", with: "    q_val_loss, q_val_bpb = timed(\n        \"final\",\n        score_stream,\n")
            .replacingOccurrences(of: "\ndef main() -> None:", with: "\n" + wrapper)
        #expect(wrapped.contains("timed(\n        \"final\",\n        score_stream,"))
        for source in [try Self.renamedEvaluation("score_stream"), try Self.renamedEvaluation("validate"), wrapped] {
            let read = try #require(try ConformanceSupport.check(source, readsActivation: true).weightFakeQuantization)
            #expect(read.divisor == Self.int8.divisor && read.parameters.count == 54, "\(read)")
        }
    }

    /// A function named like an evaluation that scores nothing is not one: with the real evaluation renamed
    /// (`score_stream`) and the switch set back off before `eval_summary()` (a print), the score was computed
    /// with the switch on, then turned off; which value the score saw is not read from `eval_summary`, and the
    /// switch, set on both sides of the real evaluation, is refused as run-dependent.
    @Test func functionNamedEvalThatScoresNothingIsNotTheEvaluation() throws {
        var source = try Self.renamedEvaluation("score_stream")
        source = source.replacingOccurrences(of: "\ndef main() -> None:", with: "\ndef eval_summary():\n    print(\"done\")\n\n\ndef main() -> None:")
        source = source.replacingOccurrences(of: "\n\n\nif __name__ == \"__main__\":",
                                             with: "\n    CastedLinear._qat_enabled = False\n    eval_summary()\n\n\nif __name__ == \"__main__\":")
        #expect(source.contains("    CastedLinear._qat_enabled = False\n    eval_summary()\n"))
        let (_, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) })
        #expect(detail.contains("CastedLinear._qat_enabled") && detail.contains("depends on the run"), "\(detail)")
        // The same code with the switch left on through the real evaluation: read as on.
        let kept = try Self.renamedEvaluation("score_stream")
        #expect(try ConformanceSupport.check(kept, readsActivation: true).weightFakeQuantization != nil)
    }

    /// Other spellings of the int8 form read the same numbers and match: renamed locals, `unsqueeze(1)` for
    /// `keepdim`, `torch.clip` with keyword bounds, `.div`, the rounding and clamp in separate statements, the
    /// straight-through sum written last.
    @Test func spellingsOfOneQuantizationReadTheSame() throws {
        let bodies = [
            "            m = w.abs().amax(dim=1)\n            s = (m / 127.0).clamp(min=1.0 / 127.0).unsqueeze(1)\n"
                + "            w = torch.clip(torch.round(w / s), min=-127, max=127) * s\n",
            "            s = w.detach().float().abs().amax(dim=-1, keepdim=True).div(127.0).clamp_min(1.0 / 127.0)\n"
                + "            qw = (w / s).round()\n            qw = qw.clamp(-127, 127)\n            w = w + (qw * s - w).detach()\n",
        ]
        for body in bodies {
            var source = try RunDependentSwitchTests.baselineWithFakeQuant(condition: "CastedLinear._qat_enabled",
                                                                         switchedOn: "    CastedLinear._qat_enabled = True\n")
            source = try CodeEdit(name: "spelling", edits: [(
                "            scale = w.detach().abs().amax(dim=-1, keepdim=True).div_(127.0).clamp_(min=1.0 / 127.0)\n"
                    + "            w = w + ((w / scale).round().clamp_(-127, 127) * scale - w).detach()\n", body)],
                                  expected: "", line: 0).apply(to: source)
            let read = try #require(try ConformanceSupport.check(source, readsActivation: true).weightFakeQuantization, "\(body)")
            #expect(read.divisor == Self.int8.divisor && read.floor == Self.int8.floor && !read.floorsRowMax, "\(read)")
            #expect(read.lower == Self.int8.lower && read.upper == Self.int8.upper && read.parameters.count == 54, "\(read)")
        }
    }

    // MARK: What is not described

    /// Forms of the quantization the reference does not compute are refused at their line: `trunc` for `round`
    /// (the golden differs), a clamp before the rounding, a per-row maximum broadcast along the columns (no
    /// `keepdim`, no `[:, None]`), a per-tensor maximum, a clamp bound that is a tensor.
    @Test func undescribedFormsAreRefusedAtTheirLine() throws {
        let plain = "            row_max = w.float().abs().amax(dim=1)\n            scale = torch.clamp(row_max, min=1e-8) / 31.0\n"
        let forms: [(body: String, line: String, says: String)] = [
            (plain + "            w = torch.clamp(torch.trunc(w / scale[:, None]), -31, 31) * scale[:, None]\n", "torch.trunc", "trunc"),
            (plain + "            w = torch.round(torch.clamp(w / scale[:, None], -31, 31)) * scale[:, None]\n", 
             // Not read as a fake quantization (no clamp of a rounding): where it first differs, its row maximum.
             "row_max = w.float().abs().amax(dim=1)", "part of a weight's fake quantization, which pgverify evaluates only as clamp(round(w / s)"),
            (plain + "            w = torch.clamp(torch.round(w / scale), -31, 31) * scale\n", "torch.round(w / scale)", "per-row maximum"),
            ("            scale = w.abs().max() / 31.0\n            w = torch.clamp(torch.round(w / scale), -31, 31) * scale\n", "w.abs().max()", "max"),
            (plain + "            w = torch.clamp(torch.round(w / scale[:, None]), -scale, scale) * scale[:, None]\n", "-scale, scale", "clamp"),
        ]
        for form in forms {
            var source = try RunDependentSwitchTests.baselineWithFakeQuant(condition: "CastedLinear._qat_enabled", switchedOn: "    CastedLinear._qat_enabled = True\n")
            source = try CodeEdit(name: "form", edits: [(
                "            scale = w.detach().abs().amax(dim=-1, keepdim=True).div_(127.0).clamp_(min=1.0 / 127.0)\n"
                    + "            w = w + ((w / scale).round().clamp_(-127, 127) * scale - w).detach()\n", form.body)],
                                  expected: "", line: 0).apply(to: source)
            let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
            let (line, detail) = try #require(try RunDependentSwitchTests.refusal { try ConformanceSupport.check(source, readsActivation: true) },
                                              "\(form.line)")
            #expect(line > 0 && lines[line - 1].contains(form.line), "\(form.line): line \(line): \(detail)")
            #expect(detail.contains(form.says), "\(form.line): \(detail)")
        }
    }

    /// The TTT models do not apply a fake quantization: a TTT evaluation of such code is refused by name.
    @Test func testTimeTrainingOnFakeQuantizedWeightsIsRefused() throws {
        let form = try Self.form("baseline_int8_ste_class_switch")
        let code = try Self.write(form)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        let (weights, settings) = try Reevaluation.loadWeights(Paths.fixture("conformance/fakequant.weights.json"), code: code)
        var resolved = try ModelConfigResolver.resolve(weights: weights, code: code, logs: [], overrides: settings)
        var refusal: Error?
        do {
            try Reevaluation.confirmArchitecture(&resolved, code: code, logs: [], overrides: settings, weights: weights)
        } catch {
            refusal = error
        }
        guard case .architectureNotMatched(_, let line, let detail, _)? = refusal as? ModelConfigError else {
            Issue.record("\(String(describing: refusal))"); return
        }
        #expect(line > 0)
        #expect(detail.contains("test-time training on fake-quantized weights is not reproduced"), "\(detail)")
        #expect(resolved.config.features.weightFakeQuantization == nil)
    }
}
