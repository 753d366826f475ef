import Foundation
import Reference
import Testing
@testable import Verifier

/// SwiGLU (`proj(silu(gate(x)) * up(x))`) as a parameter of the MLP: pull request #163's own code
/// (2026-03-20_SwiGLU_576_SlidingWindow_MuonWD, read from /work/prcorpus where it is) and the baseline
/// edited to the same MLP, each evaluated through the whole pipeline against the PyTorch golden of that
/// code on the same random weights (`tools/swiglu_goldens.py`, fixtures/conformance/swiglu.*); edits
/// of the SwiGLU line that change what it computes are refused naming the line.
@Suite struct SwiGLUTests {
    struct Score: Decodable { var val_loss: Double; var val_bpb: Double }
    struct Swapped: Decodable { var edits: [[String]]; var val_loss: Double; var val_bpb: Double }
    struct Edited: Decodable {
        var code: String
        var edits: [[String]]
        var val_loss: Double
        var val_bpb: Double
        var gate_up_swapped: Swapped
    }
    struct Golden: Decodable {
        var pull_request: Int
        var corpus_folder: String
        var code: String
        var code_sha256: String
        var seq_len: Int
        var max_tokens: Int
        var tokens: Int
        var val_loss: Double
        var val_bpb: Double
        var gate_up_swapped: Swapped
        var baseline_edited: Edited
        var relu_squared: Score
    }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("conformance/swiglu.goldens.json")))
    }

    static let swigluLine = "return self.proj(F.silu(self.gate(x)) * self.up(x))"
    static let gateAndUp = ArchitectureFeatures.MLPActivation.swiGLU(gate: "gate", up: "up")

    /// Pull request #163's train_gpt.py, where this machine has the file the golden was computed from.
    static var recordCode: URL? {
        guard let golden = try? golden() else { return nil }
        return GoldenFormCode.original(code: golden.code, sha256: golden.code_sha256, prcorpusFolder: golden.corpus_folder)
    }
    static var hasRecordCode: Bool { recordCode != nil }

    /// `source` with `edits` applied, written as `train_gpt.py` in a fresh folder.
    static func write(_ source: String, edits: [[String]]) throws -> URL {
        let text = try CodeEdit(name: "swiglu", edits: edits.map { ($0[0], $0[1]) }, expected: "", line: 0).apply(to: source)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-swiglu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("train_gpt.py")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static func run(_ code: URL) throws -> ReevaluationResult {
        let golden = try golden()
        return try Reevaluation.run(ReevaluationRequest(
            artifact: Paths.fixture("conformance/swiglu.weights.json"), code: code,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard,
            seqLen: golden.seq_len, maxTokens: golden.max_tokens, threads: 2))
    }

    static func expectGolden(_ result: ReevaluationResult, _ activation: ArchitectureFeatures.MLPActivation,
                             loss: Double, bpb: Double, tokens: Int, _ label: String) {
        #expect(result.resolved.config.features.mlpActivation == activation, "\(label)")
        #expect(result.resolved.config.mlpHidden == 64, "\(label)")
        #expect(result.resolved.architecture?.contains("baseline GPT (FamilyGPTModel, baseline features)") == true, "\(label)")
        #expect(result.resolved.architecture?.contains(activation.formula + " MLP") == true, "\(label): \(result.resolved.architecture ?? "")")
        #expect(result.score.tokens == tokens, "\(label)")
        #expect(abs(result.score.meanLoss - loss) <= 1e-4, "\(label): \(result.score.meanLoss) vs \(loss)")
        #expect(abs(result.score.bitsPerByte - bpb) <= 1e-4, "\(label): \(result.score.bitsPerByte) vs \(bpb)")
    }

    /// Printing the baseline's relu² for these weights (gate as fc) would be off by far more than
    /// the tolerance, and so would ignoring which projection is gated.
    @Test func goldensTellTheArchitecturesApart() throws {
        let golden = try Self.golden()
        #expect(abs(golden.val_bpb - golden.relu_squared.val_bpb) > 1e-3)
        #expect(abs(golden.val_bpb - golden.gate_up_swapped.val_bpb) > 1e-3)
        // The baseline edited to the record's MLP computes the record's function.
        #expect(abs(golden.val_loss - golden.baseline_edited.val_loss) <= 1e-5)
    }

    @Test(.enabled(if: hasRecordCode)) func recordCodeIsEvaluatedExactly() throws {
        let golden = try Self.golden()
        let result = try Self.run(try #require(Self.recordCode))
        Self.expectGolden(result, Self.gateAndUp, loss: golden.val_loss, bpb: golden.val_bpb, tokens: golden.tokens, "PR #163")
        #expect(result.resolved.sources["mlp_activation"]?.description.contains("train_gpt.py:575") == true)
    }

    /// The gated projection is the code's: with gate and up swapped, the weights named `up` are
    /// gated, and pgverify computes what that code computes (its own golden), not the unswapped number.
    @Test(.enabled(if: hasRecordCode)) func recordWithGateAndUpSwappedIsEvaluatedExactly() throws {
        let golden = try Self.golden()
        let source = try String(contentsOf: try #require(Self.recordCode), encoding: .utf8)
        let code = try Self.write(source, edits: golden.gate_up_swapped.edits)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        Self.expectGolden(try Self.run(code), .swiGLU(gate: "up", up: "gate"), loss: golden.gate_up_swapped.val_loss,
                          bpb: golden.gate_up_swapped.val_bpb, tokens: golden.tokens, "PR #163, gate and up swapped")
    }

    @Test func baselineEditedToSwiGLUIsEvaluatedExactly() throws {
        let golden = try Self.golden()
        let edited = golden.baseline_edited
        for (edits, activation, loss, bpb) in [
            (edited.edits, Self.gateAndUp, edited.val_loss, edited.val_bpb),
            (edited.edits + edited.gate_up_swapped.edits, .swiGLU(gate: "up", up: "gate"),
             edited.gate_up_swapped.val_loss, edited.gate_up_swapped.val_bpb),
        ] {
            let code = try Self.write(try ConformanceSupport.baselineSource, edits: edits)
            defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
            Self.expectGolden(try Self.run(code), activation, loss: loss, bpb: bpb, tokens: golden.tokens, "baseline edited, \(activation)")
        }
    }

    /// The multiplier the record's run stated (MLP_MULT=3 gave the hidden width 64 = int(32 · 3 · 2/3),
    /// rounded to 8) sizes the width by the code's rule, not the baseline's mult · dim: it does not
    /// contradict the tensors.
    @Test(.enabled(if: hasRecordCode)) func statedMultiplierDoesNotContradictTheSwiGLUWidth() throws {
        let code = try #require(Self.recordCode)
        let (_, resolved) = try Reevaluation.prepare(ReevaluationRequest(
            artifact: Paths.fixture("conformance/swiglu.weights.json"), code: code, overrides: ["MLP_MULT": "3"],
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin"))
        #expect(resolved.config.mlpHidden == 64)
        #expect(resolved.config.features.mlpActivation == Self.gateAndUp)
    }

    /// Single edits of the SwiGLU line that change what it computes: each is refused, naming that line.
    static let refusedEdits: [(name: String, replacement: String, construct: String)] = [
        ("GELU for SiLU", "return self.proj(F.gelu(self.gate(x)) * self.up(x))", "gelu"),
        ("a scale added", "return self.proj(F.silu(self.gate(x)) * self.up(x) * 0.5)", "multiplication by 0.5"),
        ("sigmoid for SiLU (GLU)", "return self.proj(torch.sigmoid(self.gate(x)) * self.up(x))", "sigmoid"),
        ("the gate's input scaled", "return self.proj(F.silu(2.0 * self.gate(x)) * self.up(x))", "silu"),
        ("the up projection squared", "return self.proj(F.silu(self.gate(x)) * self.up(x) ** 2)", "power 2.0"),
    ]

    @Test(arguments: refusedEdits.indices) func editOfTheSwiGLULineIsRefused(_ index: Int) throws {
        let edit = Self.refusedEdits[index]
        let golden = try Self.golden()
        var sources = [("baseline edited", try CodeEdit(name: "swiglu", edits: golden.baseline_edited.edits.map { ($0[0], $0[1]) },
                                                      expected: "", line: 0).apply(to: try ConformanceSupport.baselineSource))]
        if let record = Self.recordCode { sources.append(("PR #163", try String(contentsOf: record, encoding: .utf8))) }
        var config = ConformanceSupport.baselineConfig
        config.features.mlpActivation = Self.gateAndUp
        let shapes = ConformanceSupport.shapes(config)
        for (label, source) in sources {
            // Unedited, the same source is matched as SwiGLU.
            let match = try ArchitectureConformance.checkBaseline(source: source, file: "train_gpt.py", config: ConformanceSupport.baselineConfig,
                                                                  parameterShapes: shapes, readsActivation: true)
            #expect(match.mlpActivation == Self.gateAndUp, "\(label)")
            try Self.expectRefusal(of: edit, in: source, shapes: shapes, label: label)
        }
    }

    /// `line` of `source` replaced by the edit is refused, naming the edited line and the construct
    /// (with `namesLine`; else only refused).
    static func expectRefusal(of edit: (name: String, replacement: String, construct: String), in source: String,
                              shapes: [String: [Int]], label: String, line original: String = swigluLine,
                              namesLine: Bool = true) throws {
        let edited = try CodeEdit(name: edit.name, edits: [(original, edit.replacement)], expected: "", line: 0).apply(to: source)
        let line = try #require(edited.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains(edit.replacement) }) + 1
        let outcome = Result { () throws -> ArchitectureMatch in
            try ArchitectureConformance.checkBaseline(source: edited, file: "train_gpt.py", config: ConformanceSupport.baselineConfig,
                                                      parameterShapes: shapes, readsActivation: true)
        }
        switch outcome {
        case .success(let match):
            Issue.record("\(label), \(edit.name): matched as \(match.architecture)")
        case .failure(let error):
            guard case ModelConfigError.architectureNotMatched(_, let refusedLine, let detail, _)? = error as? ModelConfigError else {
                Issue.record("\(label), \(edit.name): \(error)")
                return
            }
            if namesLine {
                #expect(refusedLine == line, "\(label), \(edit.name): \(error)")
                #expect(detail.contains(edit.construct), "\(label), \(edit.name): \(error)")
            }
        }
    }

    /// The up projection dropped (`silu(gate(x)) · gate(x)`): no SwiGLU is read (one projection), so
    /// the relu² description is compared and the code's first parameter it does not have is named
    /// (CastedLinear.forward's line, not the MLP's: a limit of the localisation, not of the verdict).
    @Test func upProjectionDroppedIsRefused() throws {
        let golden = try Self.golden()
        let source = try CodeEdit(name: "swiglu", edits: golden.baseline_edited.edits.map { ($0[0], $0[1]) }, expected: "", line: 0)
            .apply(to: try ConformanceSupport.baselineSource)
        let edited = try CodeEdit(name: "up dropped", edits: [(Self.swigluLine, "return self.proj(F.silu(self.gate(x)) * self.gate(x))")],
                                  expected: "", line: 0).apply(to: source)
        var config = ConformanceSupport.baselineConfig
        config.features.mlpActivation = Self.gateAndUp
        #expect {
            try ArchitectureConformance.checkBaseline(source: edited, file: "train_gpt.py", config: ConformanceSupport.baselineConfig,
                                                      parameterShapes: ConformanceSupport.shapes(config), readsActivation: true)
        } throws: { error in
            guard case ModelConfigError.architectureNotMatched(_, let line, let detail, _)? = error as? ModelConfigError else { return false }
            return line > 0 && detail.contains("parameter blocks.0.mlp.gate.weight, which the reference model does not use")
        }
    }

    /// The training paths that cannot run SwiGLU refuse it by name.
    @Test func trainingModelsRefuseSwiGLUByName() throws {
        var config = GPTConfig(vocabSize: 16, numLayers: 2, modelDim: 8, numHeads: 2, numKVHeads: 1, mlpHidden: 8, tieEmbeddings: true)
        config.features.mlpActivation = Self.gateAndUp
        #expect(throws: ModelWeightsError.self) { try DifferentiableFamilyGPT(baseline: config, weights: [:]) }
        do {
            _ = try DifferentiableFamilyGPT(baseline: config, weights: [:])
        } catch {
            #expect("\(error)".contains("swiglu(silu(gate)·up)"), "\(error)")
        }
        do {
            _ = try DifferentiableFamilyGPT(forBaseGradients: config, weights: [:])
            Issue.record("the differentiable family model accepted SwiGLU")
        } catch {
            #expect("\(error)".contains("SwiGLU"), "\(error)")
        }
    }
}
