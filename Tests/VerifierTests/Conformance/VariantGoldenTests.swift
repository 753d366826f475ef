import Foundation
import Reference
import Testing
@testable import Verifier

/// MLP-activation variants (leaky-ReLU(α)², relu³, relu^p with p from a setting, the taleef7 fork's
/// own `MLP_NEGATIVE_SLOPE`), each evaluated through the whole pipeline — conformance reads the
/// activation from the edited code, the reference runs it — against the PyTorch golden of that
/// edited code (`tools/variant_goldens.py`, fixtures/conformance/variant-goldens.json): the same
/// edits and settings, the same artifacts.
@Suite struct VariantGoldenTests {
    struct Golden: Decodable {
        var val_loss: Double
        var val_bpb: Double
        var tokens: Int
    }
    struct Model: Decodable {
        var artifact: String
        var overrides: [String: String]
        var seq_len: Int
        var max_tokens: Int
        var unedited: Golden
    }
    struct Variant: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var code: String
        var activation: String
        var edits: [[String]]
        var settings: [String: String]
        var goldens: [String: Golden]

        var testDescription: String { name }
    }
    struct Fixture: Decodable {
        var models: [String: Model]
        var variants: [Variant]
    }

    static func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Paths.fixture("conformance/variant-goldens.json")))
    }

    static var variants: [Variant] { (try? fixture().variants) ?? [] }

    /// A fixture path: `../shared/…` in the shared data, `fixtures/…` in this repository.
    static func location(_ path: String) -> URL {
        if path.hasPrefix("../shared/") { return Paths.shared(String(path.dropFirst("../shared/".count))) }
        return Paths.fixture(String(path.dropFirst("fixtures/".count)))
    }

    /// The variant's code with its edits applied, written as `train_gpt.py` in a fresh folder.
    static func editedCode(_ variant: Variant) throws -> URL {
        let edit = CodeEdit(name: variant.name, edits: variant.edits.map { ($0[0], $0[1]) }, expected: "", line: 0)
        let source = try edit.apply(to: try String(contentsOf: Paths.shared(variant.code), encoding: .utf8))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-variant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("train_gpt.py")
        try source.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func fixtureHoldsTheVariants() throws {
        let fixture = try Self.fixture()
        #expect(fixture.variants.count >= 7)
        #expect(Set(fixture.variants.map(\.activation)).isSuperset(of: ["leaky_relu(0.5)²", "relu^3.0", "relu^1.5"]))
        // On the tiny random model every variant moves the score well past the tolerance: a test that
        // printed the unedited architecture's number would fail.
        let tiny = try #require(fixture.models["tiny"])
        for variant in fixture.variants {
            let golden = try #require(variant.goldens["tiny"])
            #expect(abs(golden.val_bpb - tiny.unedited.val_bpb) > 1e-3, "\(variant.name)")
        }
    }

    @Test(arguments: variants) func editedCodeIsEvaluatedExactly(_ variant: Variant) throws {
        let fixture = try Self.fixture()
        let code = try Self.editedCode(variant)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        for (modelName, golden) in variant.goldens.sorted(by: { $0.key < $1.key }) {
            let model = try #require(fixture.models[modelName])
            let request = ReevaluationRequest(
                artifact: Self.location(model.artifact), code: code,
                overrides: model.overrides.merging(variant.settings) { _, setting in setting },
                tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
                validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard,
                seqLen: model.seq_len, maxTokens: model.max_tokens, threads: 2)
            let result = try Reevaluation.run(request)
            let label = "\(variant.name) on \(modelName)"
            #expect(result.resolved.config.features.mlpActivation.formula == variant.activation, "\(label)")
            #expect(result.resolved.architecture?.contains("baseline GPT (FamilyGPTModel, baseline features)") == true, "\(label)")
            #expect(result.resolved.architecture?.contains(variant.activation + " MLP") == true, "\(label)")
            #expect(result.score.tokens == golden.tokens, "\(label)")
            #expect(abs(result.score.meanLoss - golden.val_loss) <= 1e-4, "\(label): \(result.score.meanLoss)")
            #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4, "\(label): \(result.score.bitsPerByte)")
        }
    }
}

/// The activation read from the code is what the match reports, and only with `readsActivation`:
/// without it the configuration's activation is the contract.
@Suite struct ActivationReadingTests {
    @Test func leakyReluIsReadFromTheMLPLine() throws {
        let source = try ConformanceSupport.baselineSource.replacingOccurrences(
            of: "x = torch.relu(self.fc(x))", with: "x = F.leaky_relu(self.fc(x), negative_slope=0.5)")
        let match = try ConformanceSupport.check(source, readsActivation: true)
        #expect(match.mlpActivation == .leakyReluSquared(slope: 0.5))
        #expect(match.activationRead == "train_gpt.py:616")
        #expect(match.architecture.contains("leaky_relu(0.5)² MLP"))
        #expect(throws: ModelConfigError.self) { try ConformanceSupport.check(source) }
    }

    @Test func unchangedBaselineReadsReluSquared() throws {
        let match = try ConformanceSupport.check(try ConformanceSupport.baselineSource, readsActivation: true)
        #expect(match.mlpActivation == .reluSquared)
        #expect(match.architecture.contains("relu² MLP"))
    }

    /// One block with another activation than the rest: the reference has one activation, so the
    /// later blocks differ from the description built for the first block's.
    @Test func activationThatDiffersByBlockIsRefused() throws {
        let source = try CodeEdit(name: "power by block", edits: [
            ("    def __init__(self, dim: int, mlp_mult: int):\n        super().__init__()\n",
             "    def __init__(self, dim: int, mlp_mult: int, power: float = 2.0):\n        super().__init__()\n        self.power = power\n"),
            ("return self.proj(x.square())", "return self.proj(x ** self.power)"),
            ("        qk_gain_init: float,\n    ):\n        super().__init__()\n        self.attn_norm = RMSNorm()",
             "        qk_gain_init: float,\n        mlp_power: float = 2.0,\n    ):\n        super().__init__()\n        self.attn_norm = RMSNorm()"),
            ("self.mlp = MLP(dim, mlp_mult)", "self.mlp = MLP(dim, mlp_mult, mlp_power)"),
            ("                    qk_gain_init,\n                )\n                for i in range(num_layers)",
             "                    qk_gain_init,\n                    3.0 if i == 0 else 2.0,\n                )\n                for i in range(num_layers)"),
        ], expected: "", line: 0).apply(to: try ConformanceSupport.baselineSource)
        do {
            let match = try ConformanceSupport.check(source, readsActivation: true)
            Issue.record("matched as \(match.architecture)")
        } catch let error as ModelConfigError {
            guard case .architectureNotMatched(_, let line, let detail, _) = error else { Issue.record("\(error)"); return }
            #expect(line == 618, "\(error)")
            #expect(detail.contains("power 2.0") && detail.contains("power 3.0"), "\(error)")
        }
    }
}

/// The baseline's TTT runs the differentiable model with the baseline's features only: on an activation
/// variant (read from the edited code, evaluated exactly above) both TTT procedures are refused naming the
/// activation, since no golden from a record's own TTT code proves them.
@Suite struct VariantTTTRefusalTests {
    @Test(arguments: VariantGoldenTests.variants) func baselineTTTRefusesTheVariantByName(_ variant: VariantGoldenTests.Variant) throws {
        let fixture = try VariantGoldenTests.fixture()
        let model = try #require(fixture.models["tiny"])
        let code = try VariantGoldenTests.editedCode(variant)
        defer { try? FileManager.default.removeItem(at: code.deletingLastPathComponent()) }
        for procedure in [TTTProcedure.chunkedSGD, .perDocumentLoRA] {
            let request = ReevaluationRequest(
                artifact: VariantGoldenTests.location(model.artifact), code: code,
                // The fork's code sets EVAL_STRIDE=0 (no sliding eval), which the chunked TTT would refuse first.
                overrides: model.overrides.merging(variant.settings) { _, setting in setting }.merging(["EVAL_STRIDE": "32"]) { _, stride in stride },
                tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
                validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard,
                seqLen: model.seq_len, maxTokens: 4096, threads: 1)
            do {
                _ = try TTTReevaluation.run(request, procedure: procedure)
                Issue.record("\(procedure.rawValue) ran on \(variant.name)")
            } catch {
                #expect("\(error)".contains(variant.activation + " in its MLP"), "\(procedure.rawValue) on \(variant.name): \(error)")
            }
        }
    }

    /// The baseline's model trains its projections plainly, so a chunked TTT whose `CastedLinear` trained
    /// fake-quantised (late QAT on: here stated with `ttt_late_qat=1`) is refused by name, not scored as if it had not.
    @Test func baselineTTTWithLateQATIsRefused() throws {
        let fixture = try VariantGoldenTests.fixture()
        let model = try #require(fixture.models["tiny"])
        func request(lateQAT: String) -> ReevaluationRequest {
            ReevaluationRequest(
                artifact: VariantGoldenTests.location(model.artifact), code: Paths.shared("corpus/parameter-golf/train_gpt.py"),
                overrides: model.overrides.merging(["EVAL_STRIDE": "32", "TTT_EPOCHS": "1", "ttt_late_qat": lateQAT]) { _, new in new },
                tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
                validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard,
                seqLen: model.seq_len, maxTokens: 2048, threads: 1)
        }
        #expect {
            _ = try TTTReevaluation.run(request(lateQAT: "1"), procedure: .chunkedSGD)
        } throws: { error in
            "\(error)".contains("eval_val_sliding_ttt on the baseline architecture") && "\(error)".contains("fake-quantised")
        }
        let plain = try TTTReevaluation.run(request(lateQAT: "0"), procedure: .chunkedSGD)
        #expect(plain.score.tokens > 0 && plain.settings["ttt_late_qat"] == "off")
    }
}
