import Foundation
import Reference
import Testing
@testable import Verifier

/// Switches the training loop flips (late QAT: `CastedLinear._qat_enabled = True` once the learning
/// rate falls; `module._qat = True` over `model.modules()`; a `global` set in `main`) have, at
/// evaluation, whatever value the run left them at. A forward that branches on one only under
/// `self.training` is the same function at evaluation (matched); one that branches on it otherwise is
/// refused naming the switch and its line, never read at its initial value.
@Suite struct RunDependentSwitchTests {
    /// The baseline's CastedLinear with a per-row int8 fake quantization of its weight under `condition`.
    static func baselineWithFakeQuant(condition: String, classLevel: String = "    _qat_enabled: bool = False\n",
                                      initialiser: String = "", switchedOn: String) throws -> String {
        let source = try ConformanceSupport.baselineSource
        let original = """
            class CastedLinear(nn.Linear):
                # Keep weights in fp32 for optimizer/state quality, cast at matmul time for bf16 compute.
                def forward(self, x: Tensor) -> Tensor:
                    bias = self.bias.to(x.dtype) if self.bias is not None else None
                    return F.linear(x, self.weight.to(x.dtype), bias)

            """
        let quantized = """
            class CastedLinear(nn.Linear):
            \(classLevel)\(initialiser)
                def forward(self, x: Tensor) -> Tensor:
                    w = self.weight
                    if \(condition):
                        scale = w.detach().abs().amax(dim=-1, keepdim=True).div_(127.0).clamp_(min=1.0 / 127.0)
                        w = w + ((w / scale).round().clamp_(-127, 127) * scale - w).detach()
                    bias = self.bias.to(x.dtype) if self.bias is not None else None
                    return F.linear(x, w.to(x.dtype), bias)

            """
        let construction = "    restore_low_dim_params_to_fp32(base_model)\n"
        return try CodeEdit(name: "fake quantization", edits: [(original, quantized), (construction, construction + switchedOn)],
                            expected: "", line: 0).apply(to: source)
    }

    /// Set once the run has gone far enough (a condition on its progress): which value evaluation sees
    /// depends on the run. (Set unconditionally in `main`'s body, the value is the code's:
    /// ``FakeQuantizationTests``.)
    static let lateQAT = "    if time.perf_counter() - t0 > 0.85 * max_wallclock_ms:\n        CastedLinear._qat_enabled = True\n"

    /// The refusal's line and detail; nil (and an issue) when the code was matched.
    static func refusal(_ check: () throws -> ArchitectureMatch) throws -> (line: Int, detail: String)? {
        do {
            let match = try check()
            Issue.record("matched as \(match.architecture)")
            return nil
        } catch let error as ModelConfigError {
            guard case .architectureNotMatched(_, let line, let detail, _) = error else { throw error }
            return (line, detail)
        }
    }

    @Test func switchReadOnlyWhileTrainingIsMatched() throws {
        for condition in ["CastedLinear._qat_enabled and self.training", "self._qat_enabled and self.training and w.ndim == 2",
                          "self.training and CastedLinear._qat_enabled", "CastedLinear._qat_state[0] and self.training"] {
            let source = try Self.baselineWithFakeQuant(condition: condition,
                                                        classLevel: "    _qat_enabled: bool = False\n    _qat_state: list = [False]\n",
                                                        switchedOn: Self.lateQAT + "    CastedLinear._qat_state[0] = True\n")
            let match = try ConformanceSupport.check(source)
            #expect(match.architecture.hasPrefix("baseline GPT (FamilyGPTModel, baseline features)"), "\(condition)")
        }
    }

    /// A switch nothing outside the class sets is a constant of the code: off, whatever the branch.
    @Test func switchTheRunNeverSetsIsReadAtItsValue() throws {
        let source = try Self.baselineWithFakeQuant(condition: "CastedLinear._qat_enabled", switchedOn: "")
        #expect(try ConformanceSupport.check(source).architecture.hasPrefix("baseline GPT (FamilyGPTModel, baseline features)"))
    }

    static let refused: [(name: String, condition: String, classLevel: String, initialiser: String, switchedOn: String, named: String)] = [
        ("class switch read through the class", "CastedLinear._qat_enabled", "    _qat_enabled: bool = False\n", "",
         lateQAT, "CastedLinear._qat_enabled, which the code sets outside the model's construction at line {switch line}"),
        ("class switch read through the instance", "self._qat_enabled and w.ndim == 2", "    _qat_enabled: bool = False\n", "",
         lateQAT, "CastedLinear._qat_enabled"),
        ("instance switch set over model.modules()", "self._qat", "    _qat = False\n", "",
         "    for module in base_model.modules():\n        if isinstance(module, CastedLinear):\n            module._qat = True\n", "_qat"),
        ("switch an __init__ sets, flipped by the run", "self.qat", "",
         "    def __init__(self, in_features, out_features, bias=False):\n        super().__init__(in_features, out_features, bias=bias)\n        self.qat = False\n",
         "    for module in base_model.modules():\n        setattr(module, \"qat\", True)\n", "self.qat"),
        ("class list switched by item", "CastedLinear._qat_state[0]", "    _qat_state: list = [False]\n", "",
         "    CastedLinear._qat_state[0] = True\n", "CastedLinear._qat_state"),
        ("module global set by main", "QAT_ON is not None and QAT_ON", "", "",
         "    global QAT_ON\n    QAT_ON = bool(int(os.environ.get(\"QAT\", \"0\")))\n", "global QAT_ON"),
        ("module global switched on by main", "QAT_ON", "", "", "    global QAT_ON\n    if time.perf_counter() - t0 > 0.85 * max_wallclock_ms:\n        QAT_ON = True\n",
         "global QAT_ON"),
    ]

    @Test(arguments: 0..<refused.count) func switchReadAtEvaluationIsRefused(_ index: Int) throws {
        let case_ = Self.refused[index]
        var source = try Self.baselineWithFakeQuant(condition: case_.condition, classLevel: case_.classLevel,
                                                    initialiser: case_.initialiser, switchedOn: case_.switchedOn)
        if case_.condition.hasPrefix("QAT_ON") {
            // Starting as None or as False: either way the run decides what it is.
            let initial = case_.condition == "QAT_ON" ? "False" : "None"
            source = source.replacingOccurrences(of: "\nclass CastedLinear(", with: "\nQAT_ON = \(initial)\n\nclass CastedLinear(")
        }
        // `{switch line}` in a name stands for the line the switch is set at in `source`.
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let switchLine = (lines.firstIndex { $0.hasSuffix("CastedLinear._qat_enabled = True") } ?? -1) + 1
        let named = case_.named.replacingOccurrences(of: "{switch line}", with: "\(switchLine)")
        let (line, detail) = try #require(try Self.refusal { try ConformanceSupport.check(source) }, "\(case_.name)")
        #expect(detail.contains(named), "\(case_.name): \(detail)")
        #expect(detail.contains("depends on the run"), "\(case_.name): \(detail)")
        #expect(line > 0 && lines[line - 1].contains("if "), "\(case_.name): line \(line)")
    }

    /// `w = fake_quant(w) if self._qat else w`: the weight itself is undecided, refused where it is used.
    @Test func weightChosenOnTheSwitchIsRefused() throws {
        var source = try Self.baselineWithFakeQuant(condition: "False", classLevel: "    _qat = False\n", switchedOn:
            "    for module in base_model.modules():\n        if isinstance(module, CastedLinear):\n            module._qat = True\n")
        source = try CodeEdit(name: "conditional expression", edits: [(
            "        return F.linear(x, w.to(x.dtype), bias)\n",
            "        w = (w / 127.0).round() * 127.0 if self._qat else w\n        return F.linear(x, w.to(x.dtype), bias)\n")],
                              expected: "", line: 0).apply(to: source)
        let (_, detail) = try #require(try Self.refusal { try ConformanceSupport.check(source) })
        #expect(detail.contains("uses a run-dependent choice (`… if … else …`) on the CastedLinear._qat"), "\(detail)")
    }

    /// 2026-04-14's MLP takes its fused kernel on `self.training and self.use_fused`; GPTQ calibration
    /// sets `block.mlp.use_fused = False`. As written it is matched (``FamilyConformanceTests``); read
    /// without the training condition, which path evaluation took depends on the run.
    @Test func familySwitchTheCalibrationFlipsIsRefusedWithoutTheTrainingCondition() throws {
        let r = try FamilyConformanceTests.resolved(FamilyMutationTests.record)
        let source = try CodeEdit(name: "fused path at evaluation", edits: [("if self.training and self.use_fused:", "if self.use_fused:")],
                                  expected: "", line: 0).apply(to: try String(contentsOf: r.code, encoding: .utf8))
        let (line, detail) = try #require(try Self.refusal {
            try ArchitectureConformance.checkFamily(source: source, file: "train_gpt.py", config: r.config,
                                                    parameterShapes: r.shapes, settings: r.settings, readsActivation: true)
        })
        #expect(line == 689)
        #expect(detail.contains("branches on the self.use_fused, which the code sets outside the model's construction at line 1517"), "\(detail)")
    }

    /// 2026-03-19_SlidingWindowEval switches `module._qat = True` on every CastedLinear (QAT defaults to
    /// 1) and fake-quantizes only while training: matched as is (``RecordConformanceTests``), refused
    /// with the training condition dropped, since its evaluation then runs on int8-rounded weights.
    @Test func recordWhoseFakeQuantRunsAtEvaluationIsRefused() throws {
        let url = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-03-19_SlidingWindowEval/train_gpt.py")
        let text = try SubmissionCodeText.read(url)
        let edited = try CodeEdit(name: "QAT at evaluation", edits: [("if self._qat and self.training:", "if self._qat:")],
                                  expected: "", line: 0).apply(to: text)
        let config = try #require(ConformanceCorpusSurvey.config(from: text, file: url.path))
        let settings = try ModelConfigResolver.statedSettings(code: url, logs: [], overrides: [:])
        let (line, detail) = try #require(try Self.refusal {
            try ArchitectureConformance.checkBaseline(source: edited, file: "train_gpt.py", config: config,
                                                      parameterShapes: ConformanceSupport.shapes(config), settings: settings)
        })
        #expect(line == 532)
        #expect(detail.contains("CastedLinear._qat, which the code sets outside the model's construction at line 1052"), "\(detail)")
    }
}
