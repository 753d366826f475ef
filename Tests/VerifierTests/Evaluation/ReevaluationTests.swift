import Foundation
import Reference
import Testing
@testable import Verifier

/// The whole pipeline from artifact bytes to val_bpb — reader, dequantizer, config resolver, reference
/// model, evaluator — against the PyTorch goldens of `tools/eval_goldens.py` (fixtures/eval/goldens.json),
/// which ran the challenge's own code on the same artifacts.
@Suite struct ReevaluationTests {
    struct GoldenCase: Decodable {
        var mode: String
        var stride: Int?
        var max_tokens: Int?
        var seq_len: Int
        var val_loss: Double
        var val_bpb: Double
        var tokens: Int
        var bytes: Int
    }
    struct GoldenModel: Decodable {
        var config: [String: JSONNumberOrBool]
        var cases: [GoldenCase]
    }
    struct Goldens: Decodable { var models: [String: GoldenModel] }
    enum JSONNumberOrBool: Decodable {
        case number(Double), bool(Bool)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) { self = .bool(flag) } else { self = .number(try container.decode(Double.self)) }
        }
    }

    static func goldens() throws -> Goldens {
        try JSONDecoder().decode(Goldens.self, from: Data(contentsOf: Paths.fixture("eval/goldens.json")))
    }

    /// Each golden model's artifact and what the resolver needs besides its shapes.
    static func request(model: String, for golden: GoldenCase) -> ReevaluationRequest {
        let mode: EvalMode = golden.mode == "standard" ? .standard : .sliding(stride: golden.stride ?? 64)
        let tokenizer = Paths.shared("tokenizers/fineweb_1024_bpe.model")
        let val = Paths.shared("val/small").path + "/fineweb_val_*.bin"
        switch model {
        case "tiny":
            // No script travels with the tiny artifact: the values its shapes can't tell are overrides.
            return ReevaluationRequest(
                artifact: Paths.fixture("eval/tiny.int8.ptz"),
                overrides: ["ROPE_BASE": "500", "LOGIT_SOFTCAP": "20"], tokenizer: tokenizer,
                validationPattern: val, mode: mode, seqLen: golden.seq_len, maxTokens: golden.max_tokens, threads: 2)
        default:
            return ReevaluationRequest(
                artifact: Paths.fixture("artifacts/taleef7-baseline-2L64d/final_model.int8.ptz"),
                code: Paths.shared("artifacts/taleef7-baseline-2L64d/train_gpt.py"), tokenizer: tokenizer,
                validationPattern: val, mode: mode, maxTokens: golden.max_tokens, threads: 2)
        }
    }

    @Test(arguments: ["tiny", "baseline-2L64d"])
    func artifactsReproducePyTorch(model: String) throws {
        let golden = try #require(try Self.goldens().models[model])
        // The 65,536-token sliding cases are covered on raw weights by EvalGoldenTests; here the
        // prefix cases and the full standard pass suffice to pin the artifact path.
        let cases = golden.cases.filter { $0.max_tokens != nil || $0.mode == "standard" }
        #expect(cases.count >= 3)
        for expected in cases {
            let result = try Reevaluation.run(Self.request(model: model, for: expected))
            let label = "\(model) \(expected.mode) stride \(expected.stride ?? 0) max \(expected.max_tokens ?? 0)"
            #expect(result.score.tokens == expected.tokens, "\(label)")
            #expect(result.score.bytes == expected.bytes, "\(label)")
            #expect(abs(result.score.meanLoss - expected.val_loss) <= 1e-4, "\(label): \(result.score.meanLoss)")
            #expect(abs(result.score.bitsPerByte - expected.val_bpb) <= 1e-4, "\(label): \(result.score.bitsPerByte)")
            #expect(result.resolved.seqLen == expected.seq_len)
        }
    }

    @Test func resolvedConfigNamesItsSources() throws {
        let golden = GoldenCase(mode: "standard", stride: nil, max_tokens: 1024, seq_len: 1024, val_loss: 0,
                                val_bpb: 0, tokens: 0, bytes: 0)
        let (_, resolved) = try Reevaluation.prepare(Self.request(model: "baseline-2L64d", for: golden))
        #expect(resolved.config.numHeads == 4 && resolved.config.numKVHeads == 2 && resolved.config.numLayers == 2)
        #expect(resolved.sources["num_heads"]?.description.contains("q_gain") == true)
        #expect(resolved.sources["rope_base"]?.description.contains("ROPE_BASE") == true)
    }

    @Test func unreadableArtifactIsBadInputNotACrash() throws {
        let golden = GoldenCase(mode: "standard", stride: nil, max_tokens: 64, seq_len: 64, val_loss: 0,
                                val_bpb: 0, tokens: 0, bytes: 0)
        var request = Self.request(model: "tiny", for: golden)
        request.artifact = Paths.fixture("hostile/os_system.ptz")
        #expect(throws: (any Error).self) { try Reevaluation.run(request) }
        do { _ = try Reevaluation.run(request) } catch {
            #expect(ExitStatus.forError(error) == .badInput)
            #expect(error is any InputError)
            #expect("\(error)".contains("os"))
            #expect("\(error)".contains("system"))
        }
    }

    /// A record family is checked against the family model, never scored as the baseline: the March
    /// record's BigramHash is not described, so no number is computed, in any mode (exit 2).
    @Test func recordFamilyIsCheckedAgainstTheFamilyModelNotTheBaseline() throws {
        let request = ReevaluationRequest(
            artifact: Paths.fixture("families/march-bigram-ve-sp1024/model.weights.json"),
            code: Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-03-25_ValCalib_GPTQ_XSA_BigramHash3072/train_gpt.py"),
            overrides: ["ROPE_DIMS": "4", "XSA_LAST_N": "3", "VE_LAYERS": "1,3"],
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", maxTokens: 2048)
        for mode in [EvalMode.standard, .sliding(stride: 64)] {
            var attempt = request
            attempt.mode = mode
            #expect {
                try Reevaluation.run(attempt)
            } throws: { error in
                guard case .architectureNotMatched(_, _, let detail, let reference)? = error as? ModelConfigError else { return false }
                return detail.contains("BigramHash") && reference.contains("FamilyGPTModel") && ExitStatus.forError(error) == .badInput
            }
        }
    }
}
