import Foundation
import Reference
@testable import Verifier

/// The baseline's configuration and state-dict shapes, for conformance tests on code text.
enum ConformanceSupport {
    static let baselineConfig = GPTConfig(vocabSize: 1024, numLayers: 9, modelDim: 512, numHeads: 8, numKVHeads: 4,
                                          mlpHidden: 1024, tieEmbeddings: true, ropeBase: 10_000, logitSoftcap: 30)

    static func shapes(_ config: GPTConfig) -> [String: [Int]] { BaselineParameterShapes.shapes(config) }

    /// The entries of a run's environment that set the code's own declared settings (its model's
    /// switches, such as SMEAR_GATE_ENABLED), without paths: what the conformance check reads the
    /// code with when no log states them.
    static func codeSettings(_ env: [String: String], code: URL) -> [String: String] {
        let text = (try? SubmissionCodeText.read(code)) ?? ""
        let declared = Set(HyperparameterDefaults.parse(source: text, file: code.lastPathComponent).declarations.values.compactMap(\.environmentVariable))
        return env.filter { declared.contains($0.key) && $0.value != "<tmp>" && !$0.key.hasSuffix("_PATH") && !$0.key.hasSuffix("_DIR") }
    }

    static var baselineSource: String {
        get throws { try String(contentsOf: Paths.shared("corpus/parameter-golf/train_gpt.py"), encoding: .utf8) }
    }

    /// The conformance check on `source` with the baseline configuration; with `readsActivation`, the
    /// MLP activation is the code's (as ``Reevaluation/confirmArchitecture`` checks).
    static func check(_ source: String, config: GPTConfig = baselineConfig, readsActivation: Bool = false) throws -> ArchitectureMatch {
        try ArchitectureConformance.checkBaseline(source: source, file: "train_gpt.py", config: config,
                                                  parameterShapes: shapes(config), readsActivation: readsActivation)
    }
}
