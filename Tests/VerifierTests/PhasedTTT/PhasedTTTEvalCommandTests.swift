import Foundation
import Testing
import Reference
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

    /// CASEOPS_ENABLED: bytes from `fineweb_val_bytes_*.bin` beside the val shards (the fixture's
    /// synthetic sidecar), tokens from the other `fineweb_val_*.bin`; a missing sidecar is refused.
    @Test func caseOpsCountsBytesFromTheSidecar() throws {
        let name = "sparsegate-bosfix9hp-sp1024"
        let family = try Self.json("families/\(name)/golden.json")
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        let familyEnv = try #require(family["env"] as? [String: String])
        let code = Paths.shared("corpus/parameter-golf/\(try #require(family["record"] as? String))/train_gpt.py")
        // The model's own switches (SMEAR_GATE_ENABLED, …) too: the conformance check reads the code with them.
        let env = familyEnv.filter { known.contains($0.key) || $0.key == "CASEOPS_ENABLED" }
            .merging(ConformanceSupport.codeSettings(familyEnv, code: code)) { known, _ in known }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-phased-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Paths.fixture("families/\(name)/val_tokens.bin"),
                                         to: folder.appendingPathComponent("fineweb_val_000000.bin"))
        let arguments = ["eval", Paths.fixture("families/\(name)/model.weights.json").path,
                         "--code", Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611/train_gpt.py").path,
                         "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
                         "--val", folder.appendingPathComponent("fineweb_val_*.bin").path,
                         "--mode", "ttt-phased", "--json", "--threads", "1", "--max-tokens", "2048",
                         "--set", "TTT_BATCH_SIZE=2", "--set", "TTT_CHUNK_SIZE=64", "--set", "TTT_EVAL_SEQ_LEN=128",
                         "--set", "TTT_LORA_RANK=2", "--set", "PHASED_TTT_PREFIX_DOCS=1"]
            + env.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let missing = try VerifyExecutable.run(arguments)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("fineweb_val_bytes"), "\(missing.stderr)")

        let sidecar = try ValidationShard.read(Paths.fixture("families/\(name)/val_bytes.bin"))
        var changed = sidecar
        for i in changed.indices { changed[i] = UInt16(i % 5) }  // differs from the tables: only the sidecar can give it
        let header = try Data(contentsOf: Paths.fixture("families/\(name)/val_bytes.bin")).prefix(1024)
        try (header + changed.withUnsafeBufferPointer { Data(buffer: $0) })
            .write(to: folder.appendingPathComponent("fineweb_val_bytes_000000.bin"))
        let outcome = try VerifyExecutable.run(arguments)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let phased = try #require(report["ttt_phased"] as? [String: Any])
        #expect((phased["bytes_from"] as? String)?.hasPrefix("sidecar") == true)
        var tokens = Array(try ValidationShard.read(Paths.fixture("families/\(name)/val_tokens.bin")).prefix(2049))
        if tokens.last == 1 { tokens.removeLast() }
        let documents = try PhasedTTTPlan.documents(in: tokens)
        let expected = documents.flatMap { ($0.start + 1)..<($0.start + $0.length) }.reduce(0) { $0 + $1 % 5 }
        #expect(report["bytes"] as? Int == expected)
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
