import Foundation
import Reference
import Testing
@testable import Verifier

/// Single semantic edits of a record-family model's code (the 2026-04-14 record, configured as the
/// plain-sp1024 golden: loop, parallel lanes, XSA, partial RoPE, LN scale, gated skips, banks): each
/// changes what the model computes and must be refused, naming the line and the construct, with the
/// MLP activation read from the code as the pipeline reads it; each with the PyTorch golden of the edited code
/// (fixtures/conformance/family-mutations.json, tools/family_mutation_goldens.py). Edits to another activation the
/// reference takes as a parameter (leaky-ReLU(0.25)², relu³) are evaluated instead and must match the
/// golden of the edited code (fixtures/families/plain-sp1024/activation-variants.json).
@Suite struct FamilyMutationTests {
    static let record = "plain-sp1024"

    /// What the edited code's own `eval_val` computed on the family's weights, or the error it raised, or
    /// why no like-for-like number exists.
    struct Golden: Decodable {
        var val_loss: Double?
        var val_bpb: Double?
        var error: String?
        var unavailable: String?
    }
    struct Edit: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var edits: [[String]]
        /// A fragment the refusal must contain (the construct); empty or absent: any.
        var expected: String?
        /// The line the refusal must name; 0 or absent: any line.
        var line: Int?
        var golden: Golden

        var testDescription: String { name }
        var codeEdit: CodeEdit { CodeEdit(name: name, edits: edits.map { ($0[0], $0[1]) }, expected: expected ?? "", line: line ?? 0) }
    }
    struct Fixture: Decodable {
        var unedited: Golden
        var mutations: [Edit]
        var rewrites: [Edit]
    }

    /// fixtures/conformance/family-mutations.json, shared with its goldens' generator (tools/family_mutation_goldens.py).
    static func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Paths.fixture("conformance/family-mutations.json")))
    }

    static var mutations: [CodeEdit] { ((try? fixture().mutations) ?? []).map(\.codeEdit) }

    @Test(arguments: mutations) func editIsRefusedByName(_ mutation: CodeEdit) throws {
        let r = try FamilyConformanceTests.resolved(Self.record)
        let source = try mutation.apply(to: try String(contentsOf: r.code, encoding: .utf8))
        do {
            let match = try ArchitectureConformance.checkFamily(source: source, file: "train_gpt.py", config: r.config,
                                                                parameterShapes: r.shapes, settings: r.settings,
                                                                readsActivation: true)
            Issue.record("\(mutation.name) was matched as \(match.architecture)")
        } catch {
            guard case .architectureNotMatched(let file, let line, let detail, _) = error else {
                Issue.record("unexpected error \(error)"); return
            }
            #expect(file == "train_gpt.py")
            if mutation.line > 0 { #expect(line == mutation.line, "\(error)") } else { #expect(line > 0, "\(error)") }
            if !mutation.expected.isEmpty { #expect(detail.contains(mutation.expected), "\(error)") }
        }
    }

    /// Rewrites that compute the same numbers: still matched.
    static var rewrites: [CodeEdit] { ((try? fixture().rewrites) ?? []).map(\.codeEdit) }

    /// Each edit's own PyTorch number against the unedited record's: a mutation whose number differs beyond the
    /// 1e-4 tolerance (or whose code fails) is one a verifier printing the unedited number would get wrong;
    /// every rewrite's equals it (to float32 rounding), which is what makes it a rewrite.
    @Test func goldensShowWhatEachEditDoes() throws {
        let fixture = try Self.fixture()
        let unedited = try #require(fixture.unedited.val_bpb)
        func distance(_ edit: Edit) throws -> Double {
            edit.golden.error != nil ? .infinity : abs(try #require(edit.golden.val_bpb) - unedited)
        }
        let measured = fixture.mutations.filter { $0.golden.unavailable == nil }
        let belowTolerance = try measured.filter { try distance($0) <= 1e-4 }.map(\.name)
        #expect(fixture.mutations.count == 18)
        #expect(measured.count - belowTolerance.count >= 14)
        // Refused all the same, though their number is the record's on this configuration: the partial rotary's
        // sign (Δ 2·10⁻⁵), the final lanes summed (the final RMSNorm divides the factor 2 out) and non-causal
        // attention in the branch without cu_seqlens (eval_val takes the varlen branch).
        #expect(Set(belowTolerance) == ["partial rotary sign flipped", "final lanes summed, not averaged", "non-causal attention"],
                "\(belowTolerance)")
        // One loop fewer builds other weights from the same seed: no like-for-like number.
        #expect(fixture.mutations.filter { $0.golden.unavailable != nil }.map(\.name) == ["one loop fewer"])
        // (The two rewrites of the attention call without cu_seqlens, like the non-causal mutation, edit a branch
        // eval_val does not take: their equality is by construction, not evidence.)
        for rewrite in fixture.rewrites {
            #expect(try distance(rewrite) < 1e-6, "\(rewrite.name): \(rewrite.golden)")
        }
    }

    @Test(arguments: rewrites) func rewriteIsMatched(_ rewrite: CodeEdit) throws {
        let r = try FamilyConformanceTests.resolved(Self.record)
        let source = try rewrite.apply(to: try String(contentsOf: r.code, encoding: .utf8))
        let match = try ArchitectureConformance.checkFamily(source: source, file: "train_gpt.py", config: r.config,
                                                            parameterShapes: r.shapes, settings: r.settings)
        #expect(match.architecture.hasPrefix("record-family GPT (FamilyGPTModel)"))
    }

    struct ActivationVariant: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var activation: String
        var edits: [[String]]
        var val_loss: Double
        var val_bpb: Double
        var testDescription: String { name }
    }
    struct ActivationVariants: Decodable {
        struct Score: Decodable { var val_bpb: Double }
        var unedited: Score
        var variants: [ActivationVariant]
    }

    static func activationVariants() throws -> ActivationVariants {
        try JSONDecoder().decode(ActivationVariants.self,
                                 from: Data(contentsOf: Paths.fixture("families/\(record)/activation-variants.json")))
    }

    /// The record's code edited to another MLP activation, through `verify eval`'s pipeline on the
    /// family's weights: the edited code's own eval_val, never the unedited number.
    @Test(arguments: (try? activationVariants().variants) ?? [])
    func activationEditIsEvaluatedExactly(_ variant: ActivationVariant) throws {
        let variants = try Self.activationVariants()
        #expect(abs(variant.val_bpb - variants.unedited.val_bpb) > 4e-4, "the edit must move the score past the tolerance")
        let golden = try FamilyReevaluationTests.golden(Self.record)
        let edit = CodeEdit(name: variant.name, edits: variant.edits.map { ($0[0], $0[1]) }, expected: "", line: 0)
        let source = try edit.apply(to: try String(contentsOf: FamilyReevaluationTests.code(golden), encoding: .utf8))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-family-variant-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let code = folder.appendingPathComponent("train_gpt.py")
        try source.write(to: code, atomically: true, encoding: .utf8)
        let result = try Reevaluation.run(FamilyReevaluationTests.request(Self.record, golden: golden, code: .some(code)))
        #expect(result.resolved.config.features.mlpActivation.formula == variant.activation)
        #expect(result.resolved.architecture?.contains(variant.activation + " MLP") == true)
        #expect(abs(result.score.meanLoss - variant.val_loss) <= 1e-4, "\(result.score.meanLoss)")
        #expect(abs(result.score.bitsPerByte - variant.val_bpb) <= 1e-4, "\(result.score.bitsPerByte)")
    }
}
