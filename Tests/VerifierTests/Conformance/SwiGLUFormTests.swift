import Foundation
import Reference
import Testing
@testable import Verifier

/// SwiGLU forms beyond `proj(silu(gate(x)) * up(x))` (docs/conformance.md): each form's code, a record's
/// own file read from /work/prcorpus where it is or the baseline edited to the form, evaluated through
/// the whole pipeline against the PyTorch golden of that code on the same random weights
/// (`tools/swiglu_form_goldens.py`, fixtures/conformance/swiglu-forms.goldens.json); edits that change
/// what a form computes get no number of the unedited form (refused, or evaluated against their own golden).
@Suite struct SwiGLUFormTests {
    struct Form: Decodable {
        var name: String
        var weights: String
        var activation: String
        var code: String
        var corpus_folder: String?
        var code_sha256: String?
        var edits: [[String]]
        var settings: [String: String]
        var val_loss: Double
        var val_bpb: Double
        var tokens: Int
    }
    struct Goldens: Decodable { var seq_len: Int; var max_tokens: Int; var forms: [Form] }

    static func goldens() throws -> Goldens {
        try JSONDecoder().decode(Goldens.self, from: Data(contentsOf: Paths.fixture("conformance/swiglu-forms.goldens.json")))
    }

    static func form(_ name: String) throws -> Form {
        try #require(try goldens().forms.first { $0.name == name })
    }

    /// The form's code as the golden ran it: the record's file (nil where this machine has no corpus,
    /// or another file under its name), or the baseline, with the form's edits.
    static func source(of form: Form) throws -> String? {
        // The baseline forms record no hash: they read ../shared's train_gpt.py.
        let found: URL?
        if let sha256 = form.code_sha256 {
            found = GoldenFormCode.original(code: form.code, sha256: sha256, prcorpusFolder: form.corpus_folder)
        } else {
            found = Paths.shared(form.code)
        }
        guard let url = found else { return nil }
        return try edit(try String(contentsOf: url, encoding: .utf8), form.edits)
    }

    static func edit(_ source: String, _ edits: [[String]]) throws -> String {
        try CodeEdit(name: "swiglu form", edits: edits.map { ($0[0], $0[1]) }, expected: "", line: 0).apply(to: source)
    }

    static func run(_ source: String, weights: String, overrides: [String: String] = [:]) throws -> ReevaluationResult {
        let goldens = try goldens()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-swiglu-form-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let code = folder.appendingPathComponent("train_gpt.py")
        try source.write(to: code, atomically: true, encoding: .utf8)
        return try Reevaluation.run(ReevaluationRequest(
            artifact: Paths.fixture("conformance/\(weights)"), code: code, overrides: overrides,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard,
            seqLen: goldens.seq_len, maxTokens: goldens.max_tokens, threads: 2))
    }

    static func expect(_ result: ReevaluationResult, matches form: Form) {
        let activation = result.resolved.config.features.mlpActivation
        #expect(activation.formula == form.activation, "\(form.name): \(activation)")
        #expect(result.resolved.config.mlpHidden == 64, "\(form.name)")
        #expect(result.resolved.architecture?.contains(form.activation + " MLP") == true, "\(form.name): \(result.resolved.architecture ?? "")")
        #expect(result.score.tokens == form.tokens, "\(form.name)")
        #expect(abs(result.score.meanLoss - form.val_loss) <= 1e-4, "\(form.name): \(result.score.meanLoss) vs \(form.val_loss)")
        #expect(abs(result.score.bitsPerByte - form.val_bpb) <= 1e-4, "\(form.name): \(result.score.bitsPerByte) vs \(form.val_bpb)")
    }

    static var formNames: [String] { ((try? goldens().forms) ?? []).map(\.name) }

    /// Every form's code through the whole pipeline on its weights: its own golden within 1e-4 (where
    /// the record's file is not on this machine, its form is checked through the baseline edit).
    @Test(arguments: formNames) func formIsEvaluatedExactly(_ name: String) throws {
        let form = try Self.form(name)
        guard let source = try Self.source(of: form) else { return }
        Self.expect(try Self.run(source, weights: form.weights, overrides: form.settings), matches: form)
    }

    /// The forms compute pull request #163's function on the same weights under other names and
    /// layouts: their goldens agree with its golden (the gated half swapped: with its swapped golden).
    @Test func formGoldensAreTheSameFunctionOnTheSameWeights() throws {
        let swiglu = try SwiGLUTests.golden()
        for form in try Self.goldens().forms {
            let swapped = form.activation.hasPrefix("swiglu(silu(up)") || form.activation.contains("[half:])·")
            let expected = swapped ? swiglu.gate_up_swapped.val_loss : swiglu.val_loss
            #expect(abs(form.val_loss - expected) <= 1e-5, "\(form.name): \(form.val_loss) vs \(expected)")
        }
    }

    // MARK: The down projection's name

    static let downRecord = "down projection named down (PR #131's own code)"
    static let downBaseline = "down projection named down (baseline edited)"
    static let downLine = "return self.down(F.silu(self.gate(x)) * self.up(x))"

    /// The name is the code's and must be the artifact's: the `down` code on weights that hold `proj`,
    /// and PR #163's `proj` code on weights that hold `down`, get no number.
    @Test func downProjectionNamedOtherwiseThanTheArtifactsIsRefused() throws {
        let form = try Self.form(Self.downBaseline)
        let down = try #require(try Self.source(of: form))
        #expect(throws: (any Error).self) { try Self.run(down, weights: "swiglu.weights.json", overrides: form.settings) }
        let proj = try Self.edit(try ConformanceSupport.baselineSource, try SwiGLUTests.golden().baseline_edited.edits)
        #expect(throws: (any Error).self) { try Self.run(proj, weights: form.weights, overrides: form.settings) }
    }

    /// Edits of the SwiGLU line that change what it computes, with the down projection named `down`:
    /// each is refused naming that line (as ``SwiGLUTests/editOfTheSwiGLULineIsRefused(_:)``), and the
    /// down projection dropped is refused too.
    @Test func editsOfTheDownFormAreRefused() throws {
        var sources = [("baseline edited", try #require(try Self.source(of: try Self.form(Self.downBaseline))))]
        if let record = try Self.source(of: try Self.form(Self.downRecord)) { sources.append(("PR #131", record)) }
        var config = ConformanceSupport.baselineConfig
        config.features.mlpActivation = .swiGLU(gate: "gate", up: "up", down: "down")
        let shapes = ConformanceSupport.shapes(config)
        let edits = SwiGLUTests.refusedEdits.map { edit in
            (name: edit.name, replacement: edit.replacement.replacingOccurrences(of: "self.proj(", with: "self.down("),
             construct: edit.construct)
        } + [(name: "down projection dropped", replacement: "return F.silu(self.gate(x)) * self.up(x)", construct: "")]
        for (label, source) in sources {
            let match = try ArchitectureConformance.checkBaseline(source: source, file: "train_gpt.py", config: ConformanceSupport.baselineConfig,
                                                                  parameterShapes: shapes, readsActivation: true)
            #expect(match.mlpActivation == config.features.mlpActivation, "\(label)")
            for edit in edits {
                try SwiGLUTests.expectRefusal(of: edit, in: source, shapes: shapes, label: label, line: Self.downLine,
                                              namesLine: edit.name != "down projection dropped")
            }
        }
    }

    // MARK: The fused form

    static let fusedChunk = "fused fc split by chunk (baseline edited)"
    static let fusedSwapped = "fused fc split by chunk, second half gated (baseline edited)"
    static let chunkLine = "gate, up = self.fc(x).chunk(2, dim=-1)"

    /// Which half is gated is the code's: the halves swapped are another function on the same weights,
    /// evaluated against its own golden (``formIsEvaluatedExactly(_:)``), far from the unswapped number.
    @Test func fusedHalvesSwappedIsAnotherNumber() throws {
        let (chunk, swapped) = (try Self.form(Self.fusedChunk), try Self.form(Self.fusedSwapped))
        #expect(abs(chunk.val_bpb - swapped.val_bpb) > 1e-3)
        #expect(swapped.activation == ArchitectureFeatures.MLPActivation.fusedSwiGLU(fused: "fc", gateFirst: false).formula)
    }

    /// Spellings of the same split are matched as the same form; splits that are not chunk's halves
    /// are refused naming the line (interleaved halves, a split along another axis) or not read as
    /// SwiGLU at all (quarters).
    @Test func otherSplitsOfTheFusedProjection() throws {
        let source = try #require(try Self.source(of: try Self.form(Self.fusedChunk)))
        var config = ConformanceSupport.baselineConfig
        config.features.mlpActivation = .fusedSwiGLU(fused: "fc", gateFirst: true)
        let shapes = ConformanceSupport.shapes(config)
        func check(_ text: String) throws -> ArchitectureMatch {
            try ArchitectureConformance.checkBaseline(source: text, file: "train_gpt.py", config: ConformanceSupport.baselineConfig,
                                                      parameterShapes: shapes, readsActivation: true)
        }
        #expect(try check(source).mlpActivation == config.features.mlpActivation)
        for same in ["gate, up = torch.chunk(self.fc(x), 2, dim=-1)", "gate, up = self.fc(x).chunk(2, -1)",
                     "gate, up = self.fc(x).split(self.fc.weight.shape[0] // 2, dim=-1)",
                     "gate, up = self.fc(x)[..., :self.fc.weight.shape[0] // 2], self.fc(x)[..., self.fc.weight.shape[0] // 2:]"] {
            let edited = try Self.edit(source, [[Self.chunkLine, same]])
            #expect(try check(edited).mlpActivation == config.features.mlpActivation, "\(same)")
        }
        for edit in [(name: "interleaved halves", replacement: "gate, up = self.fc(x)[..., ::2], self.fc(x)[..., 1::2]", construct: "indexes"),
                     (name: "chunk along the first axis", replacement: "gate, up = self.fc(x).chunk(2)", construct: "chunk along an axis")] {
            try SwiGLUTests.expectRefusal(of: edit, in: source, shapes: shapes, label: "fused", line: Self.chunkLine)
        }
        try SwiGLUTests.expectRefusal(of: (name: "quarters", replacement: "gate, _, up, _ = self.fc(x).chunk(4, dim=-1)", construct: ""),
                                      in: source, shapes: shapes, label: "fused", line: Self.chunkLine, namesLine: false)
    }

    // MARK: SiLU written out

    static let sigmoidGate = "silu written out as x * sigmoid(x) (baseline edited)"
    static let sigmoidLine = "return self.proj(g * torch.sigmoid(g) * self.up(x))"

    /// `x * sigmoid(x)` is `silu(x)` in the graph's normal form (both factors to the power 1), in any
    /// order and spelling; what is not (a scaled or negated sigmoid input, sigmoid squared, sigmoid of
    /// another tensor than the factor) is refused or, being SiLU of the other projection, read as such.
    @Test func siluWrittenOutIsSiLUAndItsEditsAreNot() throws {
        let source = try #require(try Self.source(of: try Self.form(Self.sigmoidGate)))
        var config = ConformanceSupport.baselineConfig
        config.features.mlpActivation = .swiGLU(gate: "gate", up: "up")
        let shapes = ConformanceSupport.shapes(config)
        func check(_ text: String) throws -> ArchitectureMatch {
            try ArchitectureConformance.checkBaseline(source: text, file: "train_gpt.py", config: ConformanceSupport.baselineConfig,
                                                      parameterShapes: shapes, readsActivation: true)
        }
        #expect(try check(source).mlpActivation == config.features.mlpActivation)
        for same in ["return self.proj(torch.sigmoid(g) * self.up(x) * g)", "return self.proj(g * (g.sigmoid() * self.up(x)))",
                     "return self.proj(self.up(x) * F.sigmoid(g) * g)",
                     "return self.proj(self.gate(x) * torch.sigmoid(self.gate(x)) * self.up(x))"] {
            #expect(try check(try Self.edit(source, [[Self.sigmoidLine, same]])).mlpActivation == config.features.mlpActivation, "\(same)")
        }
        for edit in [(name: "sigmoid of the doubled gate", replacement: "return self.proj(g * torch.sigmoid(2.0 * g) * self.up(x))", construct: ""),
                     (name: "sigmoid of the negated gate", replacement: "return self.proj(g * torch.sigmoid(-g) * self.up(x))", construct: ""),
                     (name: "sigmoid squared", replacement: "return self.proj(g * torch.sigmoid(g) ** 2 * self.up(x))", construct: ""),
                     (name: "the gate squared", replacement: "return self.proj(g * g * torch.sigmoid(g) * self.up(x))", construct: "")] {
            try SwiGLUTests.expectRefusal(of: edit, in: source, shapes: shapes, label: "silu written out", line: Self.sigmoidLine,
                                          namesLine: false)
        }
    }
}
