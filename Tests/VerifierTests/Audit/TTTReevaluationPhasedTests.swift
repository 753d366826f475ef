import Foundation
import Testing
@testable import Verifier

/// The audit's path for phased TTT claims (`TTTReevaluation.run(procedure: .phased)`): the record's code
/// read for the procedure and its settings, the plain-sp1024 family weights, and the record's own
/// `eval_val_ttt_phased` numbers (fixtures/ttt/phased/adam_two_phases.json, no_adaptation.json).
@Suite struct TTTReevaluationPhasedTests {
    static let code = Paths.shared(
        "corpus/parameter-golf/records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py")

    static func json(_ path: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: Paths.fixture(path))) as? [String: Any])
    }

    @Test func phasedClaimIsReRunAsTheRecordRunsIt() throws {
        #expect(try TTTProcedure.detect(code: Self.code) == .phased)
        let family = try Self.json("families/plain-sp1024/golden.json")
        let adapted = try Self.json("ttt/phased/adam_two_phases.json")
        let frozen = try Self.json("ttt/phased/no_adaptation.json")
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        var overrides = try #require(family["env"] as? [String: String]).filter { known.contains($0.key) }
        overrides.merge(try #require(adapted["base_env"] as? [String: String])
            .filter { PhasedTTTSettingsResolver.handles($0.key) }) { _, ttt in ttt }
        let request = ReevaluationRequest(
            artifact: Paths.fixture("families/plain-sp1024/model.weights.json"), code: Self.code, overrides: overrides,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.fixture("families/plain-sp1024/val_tokens.bin").path, threads: 1)
        let result = try TTTReevaluation.run(request, procedure: .phased)
        let expected = try #require(adapted["val_bpb"] as? Double), expectedBefore = try #require(frozen["val_bpb"] as? Double)
        #expect(abs(result.score.bitsPerByte - expected) <= 2e-4)
        #expect(abs(result.before.bitsPerByte - expectedBefore) <= 2e-4)
        #expect(result.score.tokens == 16_384)
        #expect(result.stream.count == 5 && result.stream.last?.tokens == result.score.tokens)
        #expect(result.sources["byte_counts"] == "the tokenizer's tables")
        #expect(result.settings["loraRank"] == "4" && result.settings["chunkSize"] == "32" && result.settings["batchSize"] == "2")
    }
}
