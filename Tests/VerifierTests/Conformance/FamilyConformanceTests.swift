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

/// Which real family records' code pgverify matches: each train_gpt.py of the 2026-03-20 … 2026-04
/// records in ../shared/corpus, checked with the configuration and weights of every family golden in
/// fixtures/families (the records ship no artifacts); a record is matched if one of them matches, else
/// the refusal for the first golden is shown; for a matched record, what the check makes of its TTT forward
/// (`forward_ttt`). Run by hand:
/// `PGVERIFY_FAMILY_SURVEY=out.tsv swift test --filter FamilyConformanceSurvey`.
@Suite struct FamilyConformanceSurvey {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PGVERIFY_FAMILY_SURVEY"] != nil))
    func survey() throws {
        let families = ["plain-sp1024", "outgate-smear-sp1024", "gatedattn-sp1024", "sparsegate-smearbos-sp8192",
                        "sparsegate-bosfix9hp-sp1024", "march-bigram-ve-sp1024", "march-trigram-sp1024"]
        let root = Paths.shared("corpus/parameter-golf/records/track_10min_16mb")
        var codes = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0 >= "2026-03-20" }.sorted()
            .map { root.appendingPathComponent($0).appendingPathComponent("train_gpt.py") }
        // `PGVERIFY_FAMILY_SURVEY_FILES=list.txt` (one path a line): those files instead.
        if let list = ProcessInfo.processInfo.environment["PGVERIFY_FAMILY_SURVEY_FILES"] {
            codes = try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n").map { URL(fileURLWithPath: String($0)) }
        }
        let folders = codes.map { $0.deletingLastPathComponent().lastPathComponent }
        var rows: [String] = []
        var counts: [String: Int] = [:]
        for (folder, code) in zip(folders, codes) {
            var status = "refused", detail = ""
            for family in families {
                do {
                    let golden = try FamilyReevaluationTests.golden(family)
                    var (weights, settings) = try Reevaluation.loadWeights(Paths.fixture("families/\(family)/model.weights.json"))
                    // The golden's model is small: a factorised embedding (EMBEDDING_DIM) is set to its width.
                    var runEnv = golden.env
                    runEnv["EMBEDDING_DIM"] = golden.env["MODEL_DIM"]
                    let env = FamilyReevaluationTests.knownOverrides(golden).merging(ConformanceSupport.codeSettings(runEnv, code: code)) { a, _ in a }
                    settings.merge(env.filter { !FamilyEvaluationResolver.handles($0.key) }) { _, o in o }
                    let resolved = try ModelConfigResolver.resolve(weights: weights, code: code, logs: [], overrides: settings)
                    let stated = try ModelConfigResolver.statedSettings(code: code, logs: [], overrides: settings)
                    let match = try ArchitectureConformance.checkFamily(code: code, config: resolved.config,
                                                                        parameterShapes: weights.mapValues(\.shape), settings: stated)
                    status = "matched"; detail = family
                    // The TTT forward (TestTimeTrainingPathCheck): matched, absent, or the refusal the TTT re-evaluation gives.
                    switch match.testTimeTrainingPath {
                    case .matched: detail += "\tforward_ttt matched"; counts["forward_ttt matched", default: 0] += 1
                    case .absent: detail += "\tno forward_ttt"; counts["no forward_ttt", default: 0] += 1
                    case .refused(let line, let why):
                        detail += "\tforward_ttt refused: line \(line): \(why)"; counts["forward_ttt refused", default: 0] += 1
                    }
                    break
                } catch {
                    if detail.isEmpty { detail = "\(family): \(error)".replacingOccurrences(of: "\n", with: " ") }
                }
            }
            counts[status, default: 0] += 1
            rows.append("\(folder)\t\(status)\t\(detail)")
        }
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: ProcessInfo.processInfo.environment["PGVERIFY_FAMILY_SURVEY"]!))
        print("FAMILY SURVEY \(folders.count) records: \(counts)")
    }
}
