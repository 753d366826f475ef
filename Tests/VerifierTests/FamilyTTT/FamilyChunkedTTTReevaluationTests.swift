import Foundation
import Testing
@testable import Reference
@testable import Verifier

/// The audit's path for `eval_val_sliding_ttt` claims on record-family weights
/// (`TTTReevaluation.run(procedure: .chunkedSGD)`): 2026-03-23's code read for the procedure, the model
/// (banked March family) and the freeze rule, the tiny weights of fixtures/ttt/family-chunked as the
/// artifact, and the record's own numbers from its golden.
@Suite struct FamilyChunkedTTTReevaluationTests {
    static let folder = "corpus/parameter-golf/records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon/"
    static let code = Paths.shared(folder + "train_gpt.py")

    static let loopedCode = Paths.shared(
        "corpus/parameter-golf/records/track_10min_16mb/2026-04-06_SP8192_QK5_LegalTTT_1.0828/train_gpt.py")

    static func golden(_ name: String = "parallelmuon-0323") throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: Paths.fixture("ttt/family-chunked/\(name)/golden.json")))
            as? [String: Any])
    }

    /// The golden's env (model shape and TTT settings) as overrides, plus `extra`.
    static func request(_ extra: [String: String] = [:], name: String = "parallelmuon-0323", code: URL = code) throws -> ReevaluationRequest {
        let env = try #require(try golden(name)["env"] as? [String: String])
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        var overrides = env.filter { known.contains($0.key) || TTTSettingsResolver.handles($0.key) }
        overrides.merge(extra) { _, new in new }
        return ReevaluationRequest(
            artifact: Paths.fixture("ttt/family-chunked/\(name)/model.weights.json"), code: code, overrides: overrides,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.fixture("ttt/family-chunked/\(name)/val_tokens.bin").path, threads: 1)
    }

    static func bpb(_ run: String, name: String = "parallelmuon-0323") throws -> Double {
        try #require((try golden(name)[run] as? [String: Any])?["val_bpb"] as? Double)
    }

    /// 2026-04-06's self-extracting code: decoded for the procedure, the looped model, windows scoring each
    /// target once over `eval_seq_len`, and whole-block freezing.
    @Test func wrappedRecordIsReRunAsItRunsIt() throws {
        #expect(try TTTProcedure.detect(code: Self.loopedCode) == .chunkedSGD)
        let result = try TTTReevaluation.run(try Self.request(name: "looped-0406", code: Self.loopedCode), procedure: .chunkedSGD)
        #expect(abs(result.score.bitsPerByte - (try Self.bpb("ttt", name: "looped-0406"))) <= 1e-4, "\(result.score.bitsPerByte)")
        #expect(abs(result.before.bitsPerByte - (try Self.bpb("pre_ttt", name: "looped-0406"))) <= 1e-4, "\(result.before.bitsPerByte)")
        #expect(result.settings["windowRule"] == "once" && result.settings["freezeScope"] == "blocks")
        #expect(result.score.tokens == 3840)
    }

    @Test func chunkedClaimOnAFamilyModelIsReRunAsTheRecordRunsIt() throws {
        #expect(try TTTProcedure.detect(code: Self.code) == .chunkedSGD)
        let result = try TTTReevaluation.run(try Self.request(), procedure: .chunkedSGD)
        #expect(result.resolved.config.features.bigramHash != nil)
        #expect(abs(result.score.bitsPerByte - (try Self.bpb("ttt"))) <= 1e-4, "\(result.score.bitsPerByte)")
        #expect(abs(result.before.bitsPerByte - (try Self.bpb("pre_ttt"))) <= 1e-4, "\(result.before.bitsPerByte)")
        #expect(result.steps == 18 && result.stream.count == 4)
        #expect(result.settings["freezeScope"] == "block-scalars" && result.settings["ttt_late_qat"] == "off")
    }

    /// With late QAT on (as the record's logs say it was), its CastedLinear projections train fake-quantised.
    @Test func lateQATIsReproduced() throws {
        let result = try TTTReevaluation.run(try Self.request(["TTT_LATE_QAT": "1"]), procedure: .chunkedSGD)
        #expect(abs(result.score.bitsPerByte - (try Self.bpb("ttt_late_qat"))) <= 1e-4, "\(result.score.bitsPerByte)")
        #expect(result.settings["ttt_late_qat"] == "int6-ste")
    }

    /// 2026-03-31's soft-rounding QAT (resolved from its code and logs) is refused by name, never approximated.
    @Test func softRoundingQATIsRefusedByName() throws {
        let folder = "corpus/parameter-golf/records/track_10min_16mb/2026-03-31_ParallelResiduals_MiniDepthRecurrence/"
        let ttt = try TTTSettingsResolver.resolve(code: Paths.shared(folder + "train_gpt.py"),
                                                  logs: [Paths.shared(folder + "train_seed42.log")], overrides: [:])
        let artifact = URL(fileURLWithPath: "/submission/final_model.int6.ptz")
        do {
            try TTTReevaluation.refuseUnsupportedFamilyTraining(ttt, artifact: artifact,
                                                                features: Self.marchFeatures)
            Issue.record("expected UnsupportedArtifact")
        } catch let error as UnsupportedArtifact {
            #expect(error.reason.contains("soft_rounded") && error.reason.contains("eval_val_sliding_ttt"), "\(error.reason)")
            #expect(error.path == artifact.path)
        }
        var off = ttt
        off.lateQAT = .off
        try TTTReevaluation.refuseUnsupportedFamilyTraining(off, artifact: artifact, features: Self.marchFeatures)
    }

    /// A March-family feature set, for the error's wording.
    static var marchFeatures: ArchitectureFeatures {
        var features = ArchitectureFeatures()
        features.channelSmearGate = true
        return features
    }
}

/// `verify eval --mode ttt` on family weights takes the same path as the audit.
@Suite struct FamilyChunkedTTTEvalCommandTests {
    @Test func tttModeOnFamilyWeightsReproducesTheRecord() throws {
        let request = try FamilyChunkedTTTReevaluationTests.request()
        let outcome = try VerifyExecutable.run(
            ["eval", request.artifact.path, "--code", FamilyChunkedTTTReevaluationTests.code.path,
             "--tokenizer", request.tokenizer.path, "--val", request.validationPattern,
             "--mode", "ttt", "--json", "--threads", "1"]
                + request.overrides.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] })
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let bpb = try #require(report["val_bpb"] as? Double)
        #expect(abs(bpb - (try FamilyChunkedTTTReevaluationTests.bpb("ttt"))) <= 1e-4, "\(bpb)")
        let ttt = try #require(report["ttt"] as? [String: Any])
        #expect(ttt["steps"] as? Int == 18)
        #expect((ttt["sources"] as? [String: String])?["ttt_freeze_scope"]?.contains("parameter banks") == true)
    }
}
