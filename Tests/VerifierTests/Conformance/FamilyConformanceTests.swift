import Foundation
import Reference
import Testing
@testable import Verifier

/// Record-family code (the records the family goldens of fixtures/families come from) is matched to
/// ``FamilyGPTModel``'s description for the configuration and features the golden run used.
@Suite struct FamilyConformanceTests {
    /// The configuration, weight shapes and settings pgverify resolves for a family golden.
    static func resolved(_ family: String) throws -> (code: URL, config: GPTConfig, shapes: [String: [Int]], settings: [String: HyperparameterValue]) {
        let golden = try FamilyReevaluationTests.golden(family)
        let code = FamilyReevaluationTests.code(golden)
        var (weights, settings) = try Reevaluation.loadWeights(Paths.fixture("families/\(family)/model.weights.json"))
        settings.merge(FamilyReevaluationTests.overrides(golden).filter { !FamilyEvaluationResolver.handles($0.key) }) { _, o in o }
        let resolved = try ModelConfigResolver.resolve(weights: weights, code: code, logs: [], overrides: settings)
        let stated = try ModelConfigResolver.statedSettings(code: code, logs: [], overrides: settings)
        return (code, resolved.config, weights.mapValues(\.shape), stated)
    }

    /// 2026-04-14 (plain: loop, parallel lanes, XSA, partial RoPE, LN scale, gated skips), 2026-04-16
    /// (SmearGate, attention and MLP output gates), 2026-04-19 (dense gated attention), 2026-04-27
    /// SmearGateBOSFix (sparse gate, SmearGate with the BOS reset as `masked_fill`), 2026-04-27 9HpStack
    /// (the BOS reset as a factor `input_ids != BOS_ID`, a global its loader sets to 1).
    @Test(arguments: ["plain-sp1024", "outgate-smear-sp1024", "gatedattn-sp1024", "sparsegate-smearbos-sp8192",
                      "sparsegate-bosfix9hp-sp1024"])
    func familyRecordIsMatched(_ family: String) throws {
        let r = try Self.resolved(family)
        let match = try ArchitectureConformance.checkFamily(code: r.code, config: r.config, parameterShapes: r.shapes, settings: r.settings)
        #expect(match.architecture.hasPrefix("record-family GPT (FamilyGPTModel)"))
    }
}
