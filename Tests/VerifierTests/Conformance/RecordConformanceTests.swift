import Foundation
import Reference
import Testing
@testable import Verifier

/// Real baseline-architecture records pgverify evaluates: their code is matched, configured from its
/// own Hyperparameters defaults (shapes from that configuration).
@Suite struct RecordConformanceTests {
    static let records = [
        "2026-03-17_NaiveBaseline", "2026-03-17_LoRA_TTT", "2026-03-19_SlidingWindowEval",
    ]

    @Test(arguments: records) func recordIsMatched(_ record: String) throws {
        let url = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/\(record)/train_gpt.py")
        let text = try SubmissionCodeText.read(url)
        let config = try #require(ConformanceCorpusSurvey.config(from: text, file: url.path))
        let settings = try ModelConfigResolver.statedSettings(code: url, logs: [], overrides: [:])
        let match = try ArchitectureConformance.checkBaseline(source: text, file: "train_gpt.py", config: config,
                                                              parameterShapes: ConformanceSupport.shapes(config), settings: settings)
        #expect(match.architecture.hasPrefix("baseline GPT (FamilyGPTModel, baseline features)"))
    }

    /// The 03-19 record's QAT switch and loop count are settings of its own: with more than one pass over
    /// the stack the forward is not the one of a configuration without those passes (``StackLoopTests``
    /// evaluates it with them).
    @Test func wholeStackLoopIsRefused() throws {
        let url = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-03-19_SlidingWindowEval/train_gpt.py")
        let text = try SubmissionCodeText.read(url)
        let config = try #require(ConformanceCorpusSurvey.config(from: text, file: url.path))
        var settings = try ModelConfigResolver.statedSettings(code: url, logs: [], overrides: [:])
        settings["num_loops"] = .int(2)
        #expect(throws: ModelConfigError.self) {
            try ArchitectureConformance.checkBaseline(source: text, file: "train_gpt.py", config: config,
                                                      parameterShapes: ConformanceSupport.shapes(config), settings: settings)
        }
    }
}
