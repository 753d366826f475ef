import Foundation
import Testing
import Reference
@testable import Verifier

/// Phased TTT settings from the records' code defaults, their logs and overrides.
@Suite struct PhasedTTTSettingsResolverTests {
    static let records = "corpus/parameter-golf/records/track_10min_16mb/"
    static let multiPhase = records + "2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/"
    static let smearBOS = records + "2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT/"

    @Test func multiPhaseRecordCodeAndLog() throws {
        let resolved = try PhasedTTTSettingsResolver.resolve(
            code: Paths.shared(Self.multiPhase + "train_gpt.py"), logs: [Paths.shared(Self.multiPhase + "train_seed42.log")],
            overrides: [:])
        let s = resolved.settings
        // Code defaults: rank 96, lr 1e-4, chunk 48, batch 64, AdamW (0, 0.999), wd 0.5; the log states 3 phases.
        #expect(s.loraRank == 96 && s.loraLearningRate == 0.0001 && s.chunkSize == 48 && s.batchSize == 64)
        #expect(s.optimizer == .adam && s.beta1 == 0 && s.beta2 == 0.999 && s.weightDecay == 0.5)
        #expect(s.phases == 3 && s.prefixDocs == 2000)
        #expect(resolved.sources["phased_ttt_num_phases"]?.contains("train_seed42.log") == true)
        #expect(s.globalLearningRate == 0.001 && s.globalMomentum == 0.9 && s.globalChunkTokens == 32_768 && s.globalSeqLen == 2048)
        #expect(s.globalRespectDocBoundaries && s.targets == LoRATargets())
        #expect(s.loraAlpha == nil && !s.warmStartA && !resolved.caseOps)
        #expect(PhasedTTTPlan.phaseBoundaries(prefixDocs: s.prefixDocs, documents: 50_000, phases: s.phases) == [666, 1333, 2000])
        #expect(throws: Never.self) { try s.validate() }
    }

    @Test func gatedRecordReadsTheLoRAClassKnobs() throws {
        let resolved = try PhasedTTTSettingsResolver.resolve(
            code: Paths.shared(Self.smearBOS + "train_gpt.py"), logs: [Paths.shared(Self.smearBOS + "train_seed42.log")],
            overrides: [:])
        #expect(resolved.settings.loraAlpha == 144)
        #expect(resolved.settings.warmStartA)
        #expect(resolved.sources["ttt_lora_alpha"]?.contains("BatchedLinearLoRA") == true)
        #expect(resolved.settings.weightDecay == 1.0)
        #expect(resolved.caseOps)
        let overridden = try PhasedTTTSettingsResolver.resolve(
            code: Paths.shared(Self.smearBOS + "train_gpt.py"), logs: [],
            overrides: ["TTT_LORA_ALPHA": "8", "TTT_WARM_START_A": "0", "PHASED_TTT_NUM_PHASES": "2"])
        #expect(overridden.settings.loraAlpha == 8 && !overridden.settings.warmStartA && overridden.settings.phases == 2)
    }

    @Test func caseOpsTaperReadsItsSidecarWheneverPresent() throws {
        let code = Paths.shared(Self.records + "2026-04-18_PR1626_CaseOps_Taper/train_gpt.py")
        let resolved = try PhasedTTTSettingsResolver.resolve(code: code, logs: [], overrides: [:])
        #expect(resolved.readsSidecarWhenPresent && !resolved.caseOps)
        #expect(resolved.settings.phases == 3)
        let plain = try PhasedTTTSettingsResolver.resolve(code: Paths.shared(Self.multiPhase + "train_gpt.py"), logs: [], overrides: [:])
        #expect(!plain.readsSidecarWhenPresent)
    }

    @Test func singlePhaseRecordHasOnePhase() throws {
        let code = Paths.shared(Self.records + "2026-04-13_VarLenAttn_PhasingTTT2000/train_gpt.py")
        let resolved = try PhasedTTTSettingsResolver.resolve(code: code, logs: [], overrides: [:])
        #expect(resolved.settings.phases == 1)
        #expect(resolved.settings.chunkSize == 32)
        #expect(resolved.sources["phased_ttt_num_phases"]?.contains("one phase") == true)
    }

    @Test func withoutCodeTheReferenceDefaultsAreLabelled() throws {
        let resolved = try PhasedTTTSettingsResolver.resolve(code: nil, logs: [], overrides: ["TTT_OPTIMIZER": "sgd"])
        #expect(resolved.settings.optimizer == .sgd)
        #expect(resolved.sources["ttt_lora_rank"]?.contains(PhasedTTTSettingsResolver.referenceRecord) == true)
        #expect(throws: ModelConfigError.self) {
            try PhasedTTTSettingsResolver.resolve(code: nil, logs: [], overrides: ["TTT_BATCH_SIZE": "many"])
        }
    }

    @Test func handlesOnlyItsOwnKeys() {
        #expect(PhasedTTTSettingsResolver.handles("GLOBAL_TTT_LR"))
        #expect(PhasedTTTSettingsResolver.handles("ttt_lora_alpha"))
        #expect(PhasedTTTSettingsResolver.handles("CASEOPS_ENABLED"))
        #expect(!PhasedTTTSettingsResolver.handles("EVAL_SEQ_LEN"))
        #expect(!PhasedTTTSettingsResolver.handles("NUM_LAYERS"))
    }
}
