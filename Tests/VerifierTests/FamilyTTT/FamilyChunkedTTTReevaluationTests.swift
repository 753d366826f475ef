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
            .merging(ConformanceSupport.codeSettings(env, code: code)) { known, _ in known }
        overrides.merge(extra) { _, new in new }
        return ReevaluationRequest(
            artifact: Paths.fixture("ttt/family-chunked/\(name)/model.weights.json"), code: code, overrides: overrides,
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.fixture("ttt/family-chunked/\(name)/val_tokens.bin").path, threads: 1)
    }

    static func bpb(_ run: String, name: String = "parallelmuon-0323") throws -> Double {
        try #require((try golden(name)[run] as? [String: Any])?["val_bpb"] as? Double)
    }

    /// 2026-04-06's self-extracting code: its Rotary rescales its base when the sequence is longer than
    /// training's, a branch on the input's length the conformance check cannot decide: refused at the
    /// decoded line, no number.
    @Test func wrappedRecordIsRefusedAtItsLengthBranch() throws {
        #expect(try TTTProcedure.detect(code: Self.loopedCode) == .chunkedSGD)
        #expect {
            try TTTReevaluation.run(try Self.request(name: "looped-0406", code: Self.loopedCode), procedure: .chunkedSGD)
        } throws: { error in
            guard case .architectureNotMatched(_, let line, let detail, _)? = error as? ModelConfigError else { return false }
            return line == 84 && detail.contains("Rotary.forward") && detail.contains("seq_len>self.train_seq_len")
        }
    }

    /// The 2026-03-23 record's BigramHash is not described for the conformance check: its TTT claim
    /// gets no number (with or without late QAT), the refusal names the feature.
    @Test(arguments: [[:], ["TTT_LATE_QAT": "1"]])
    func chunkedClaimOnAMarchModelIsRefused(_ extra: [String: String]) throws {
        #expect(try TTTProcedure.detect(code: Self.code) == .chunkedSGD)
        #expect {
            try TTTReevaluation.run(try Self.request(extra), procedure: .chunkedSGD)
        } throws: { error in
            guard case .architectureNotMatched(_, _, let detail, _)? = error as? ModelConfigError else { return false }
            return detail.contains("BigramHash")
        }
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
    /// The 2026-03-23 record's BigramHash is not described for the conformance check: exit 2, no number.
    @Test func tttModeOnAMarchFamilyIsRefused() throws {
        let request = try FamilyChunkedTTTReevaluationTests.request()
        let outcome = try VerifyExecutable.run(
            ["eval", request.artifact.path, "--code", FamilyChunkedTTTReevaluationTests.code.path,
             "--tokenizer", request.tokenizer.path, "--val", request.validationPattern,
             "--mode", "ttt", "--json", "--threads", "1"]
                + request.overrides.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] })
        #expect(outcome.status == 2, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("architecture not matched") && outcome.stderr.contains("BigramHash"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("val_bpb"))
    }
}
