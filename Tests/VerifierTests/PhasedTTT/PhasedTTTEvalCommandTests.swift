import Foundation
import Testing
@testable import Verifier

/// `verify eval --mode ttt-phased` end to end: the plain-sp1024 family weights, the record's code and
/// the golden's settings must give the record's own `eval_val_ttt_phased` numbers
/// (fixtures/ttt/phased/adam_two_phases.json, and no_adaptation.json for the score before TTT).
@Suite struct PhasedTTTEvalCommandTests {
    static func json(_ path: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: Paths.fixture(path))) as? [String: Any])
    }

    @Test func reproducesTheRecordsPhasedTTT() throws {
        let family = try Self.json("families/plain-sp1024/golden.json")
        let adapted = try Self.json("ttt/phased/adam_two_phases.json")
        let frozen = try Self.json("ttt/phased/no_adaptation.json")
        let familyEnv = try #require(family["env"] as? [String: String])
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        var settings = familyEnv.filter { known.contains($0.key) }
        // The TTT knobs pgverify reads (RUN_ID, SEED, PHASED_TTT_ENABLED, TTT_EVAL_BATCHES change nothing here).
        settings.merge(try #require(adapted["base_env"] as? [String: String]).filter { PhasedTTTSettingsResolver.handles($0.key) }) { _, ttt in ttt }
        let outcome = try VerifyExecutable.run(
            ["eval", Paths.fixture("families/plain-sp1024/model.weights.json").path,
             "--code", Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py").path,
             "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
             "--val", Paths.fixture("families/plain-sp1024/val_tokens.bin").path,
             "--mode", "ttt-phased", "--json", "--threads", "1"]
                + settings.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] })
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let phased = try #require(report["ttt_phased"] as? [String: Any])
        #expect(report["mode"] as? String == "ttt-phased")
        let bpb = try #require(report["val_bpb"] as? Double), expected = try #require(adapted["val_bpb"] as? Double)
        #expect(abs(bpb - expected) <= 2e-4, "val_bpb \(bpb) vs the record's \(expected)")
        let before = try #require(phased["val_bpb_before"] as? Double), frozenBPB = try #require(frozen["val_bpb"] as? Double)
        #expect(abs(before - frozenBPB) <= 2e-4, "val_bpb before TTT \(before) vs the record's \(frozenBPB)")
        #expect(report["tokens"] as? Int == 16_384)
        #expect((phased["batches"] as? [Any])?.count == 5)
        #expect((phased["phases"] as? [Any])?.count == 2)
        #expect(phased["bytes_from"] as? String == "tokenizer")
    }

    @Test func aModelWithoutGradientsIsRefused() throws {
        // The March family (BigramHash) has no differentiable model: a clear refusal, exit status 2.
        let golden = try Self.json("families/march-trigram-sp1024/golden.json")
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        let env = try #require(golden["env"] as? [String: String]).filter { known.contains($0.key) }
        let outcome = try VerifyExecutable.run(
            ["eval", Paths.fixture("families/march-trigram-sp1024/model.weights.json").path,
             "--code", Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-03-25_ValCalib_GPTQ_XSA_BigramHash3072/train_gpt.py").path,
             "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
             "--val", Paths.fixture("families/march-trigram-sp1024/val_tokens.bin").path,
             "--mode", "ttt-phased", "--json", "--max-tokens", "2048"]
                + env.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] })
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("BigramHash"), "\(outcome.stderr)")
    }
}
