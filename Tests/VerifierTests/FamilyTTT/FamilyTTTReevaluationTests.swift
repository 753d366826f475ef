import Foundation
import Testing
@testable import Verifier

/// The audit's path for `eval_val_ttt_lora` claims on record-family weights
/// (`TTTReevaluation.run(procedure: .perDocumentLoRA)`): 2026-04-16's code read for the procedure and
/// its settings, the outgate-smear-sp1024 family weights, and the record's own `eval_val_ttt_lora`
/// numbers (fixtures/ttt/family/lora_adam.json, no_adaptation.json).
@Suite struct FamilyTTTReevaluationTests {
    static let code = Paths.shared(
        "corpus/parameter-golf/records/track_10min_16mb/2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT/train_gpt.py")

    static func json(_ path: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: Paths.fixture(path))) as? [String: Any])
    }

    /// The family fixture's model settings and the golden's TTT settings as overrides.
    static func request() throws -> ReevaluationRequest {
        let family = try json("families/outgate-smear-sp1024/golden.json")
        let adapted = try json("ttt/family/lora_adam.json")
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        let env = try #require(family["env"] as? [String: String])
        var overrides = env.filter { known.contains($0.key) }.merging(ConformanceSupport.codeSettings(env, code: code)) { known, _ in known }
        overrides.merge(try #require(adapted["base_env"] as? [String: String])
            .filter { PhasedTTTSettingsResolver.handles($0.key) }) { _, ttt in ttt }
        return ReevaluationRequest(
            artifact: Paths.fixture("families/outgate-smear-sp1024/model.weights.json"), code: code, overrides: overrides,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.fixture("families/outgate-smear-sp1024/val_tokens.bin").path, threads: 1)
    }

    @Test func loraClaimOnAFamilyModelIsReRunAsTheRecordRunsIt() throws {
        #expect(try TTTProcedure.detect(code: Self.code) == .perDocumentLoRA)
        let adapted = try Self.json("ttt/family/lora_adam.json")
        let frozen = try Self.json("ttt/family/no_adaptation.json")
        let result = try TTTReevaluation.run(try Self.request(), procedure: .perDocumentLoRA)
        #expect(result.procedure == .perDocumentLoRA)
        #expect(result.resolved.config.features != .baseline)
        let expected = try #require(adapted["val_bpb"] as? Double), expectedBefore = try #require(frozen["val_bpb"] as? Double)
        #expect(abs(result.score.bitsPerByte - expected) <= 2e-4, "\(result.score.bitsPerByte) vs \(expected)")
        #expect(abs(result.before.bitsPerByte - expectedBefore) <= 2e-4, "\(result.before.bitsPerByte) vs \(expectedBefore)")
        #expect(result.score.tokens == 16_384)
        #expect(result.stream.count == 5 && result.stream.last?.tokens == result.score.tokens)
        // The phased defaults the code lacks (prefix 2000 documents) must not run global phases.
        #expect(result.settings["prefixDocs"] == "0" && result.settings["phases"] == "1")
        #expect(result.sources["phased_ttt_prefix_docs"]?.contains("eval_val_ttt_lora") == true)
        #expect(result.settings["loraRank"] == "4" && result.settings["chunkSize"] == "32" && result.settings["batchSize"] == "2")
    }
}

/// `verify eval --mode ttt-lora` on family weights takes the same path as the audit.
@Suite struct FamilyTTTEvalCommandTests {
    @Test func loraModeOnFamilyWeightsReproducesTheRecord() throws {
        let request = try FamilyTTTReevaluationTests.request()
        let adapted = try FamilyTTTReevaluationTests.json("ttt/family/lora_adam.json")
        let outcome = try VerifyExecutable.run(
            ["eval", request.artifact.path, "--code", FamilyTTTReevaluationTests.code.path,
             "--tokenizer", request.tokenizer.path, "--val", request.validationPattern,
             "--mode", "ttt-lora", "--json", "--threads", "1"]
                + request.overrides.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] })
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let bpb = try #require(report["val_bpb"] as? Double), expected = try #require(adapted["val_bpb"] as? Double)
        #expect(abs(bpb - expected) <= 2e-4)
        let family = try #require(report["ttt_family"] as? [String: Any])
        #expect(family["procedure"] as? String == "eval_val_ttt_lora")
        #expect((family["bpb_gain"] as? Double).map { $0 > 0 } == true)
    }
}
