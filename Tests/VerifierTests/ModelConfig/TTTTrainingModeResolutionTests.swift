import Foundation
import Testing
@testable import Reference
@testable import Verifier

/// Which tensors a frozen block keeps fixed and whether `CastedLinear` fake-quantises during TTT, read off
/// the records' code and logs.
@Suite struct TTTTrainingModeResolutionTests {
    static let records = "corpus/parameter-golf/records/track_10min_16mb/"

    /// 2026-03-23: banked (block scalars only), int6 straight-through QAT switched on by its late-QAT log line.
    @Test func parallelMuonRecord() throws {
        let folder = Self.records + "2026-03-23_LeakyReLU_LegalTTT_ParallelMuon/"
        let resolved = try TTTSettingsResolver.resolve(code: Paths.shared(folder + "train_gpt.py"),
                                                       logs: [Paths.shared(folder + "train_seed1337.log")], overrides: [:])
        #expect(resolved.settings.freezeScope == .blockScalars)
        #expect(resolved.lateQAT == .int6StraightThrough)
        #expect(resolved.sources["ttt_late_qat"]?.contains("train_seed1337.log") == true)
        let withoutLogs = try TTTSettingsResolver.resolve(code: Paths.shared(folder + "train_gpt.py"), logs: [], overrides: [:])
        #expect(withoutLogs.lateQAT == .off)
        let forced = try TTTSettingsResolver.resolve(code: Paths.shared(folder + "train_gpt.py"), logs: [],
                                                     overrides: ["TTT_LATE_QAT": "1", "ttt_freeze_scope": "blocks"])
        #expect(forced.lateQAT == .int6StraightThrough && forced.settings.freezeScope == .wholeBlocks)
        #expect(throws: ModelConfigError.self) {
            try TTTSettingsResolver.resolve(code: nil, logs: [], overrides: ["ttt_freeze_scope": "half"])
        }
    }

    /// 2026-03-31 (packed-free but minified): banked, soft-rounding QAT on in its runs.
    @Test func softRoundingRecord() throws {
        let folder = Self.records + "2026-03-31_ParallelResiduals_MiniDepthRecurrence/"
        let resolved = try TTTSettingsResolver.resolve(code: Paths.shared(folder + "train_gpt.py"),
                                                       logs: [Paths.shared(folder + "train_seed42.log")], overrides: [:])
        #expect(resolved.settings.freezeScope == .blockScalars)
        #expect(resolved.lateQAT == .softRound)
    }

    /// 2026-04-08 (self-extracting): no banks, no QAT.
    @Test func unbankedRecord() throws {
        let code = Paths.shared(Self.records + "2026-04-08_SP8192_ParallelResid_ScoreFirstTTT/train_gpt.py")
        let resolved = try TTTSettingsResolver.resolve(code: code, logs: [], overrides: [:])
        #expect(resolved.settings.freezeScope == .wholeBlocks)
        #expect(resolved.lateQAT == .off)
        #expect(try TTTSettingsResolver.resolve(code: nil, logs: [], overrides: [:]).settings.freezeScope == .wholeBlocks)
    }
}
