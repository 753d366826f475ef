import Foundation
import Reference
import Testing
@testable import Verifier

/// One textual edit of the baseline's train_gpt.py.
struct CodeEdit: CustomTestStringConvertible, Sendable {
    let name: String
    let edits: [(String, String)]
    /// A fragment the refusal must contain (the construct), and the line it must name.
    let expected: String
    let line: Int

    var testDescription: String { name }

    func apply(to source: String) throws -> String {
        var text = source
        for (old, new) in edits {
            let count = text.components(separatedBy: old).count - 1
            guard count == 1 else { throw EditError(message: "\(name): '\(old)' occurs \(count) times") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    struct EditError: Error { let message: String }
}

/// Single semantic edits of the baseline's model code (fixtures/conformance/baseline-mutations.json, shared
/// with their PyTorch goldens' generator, tools/mutation_goldens.py): each changes what the model computes,
/// and each must be refused, naming the line and the construct, with the MLP activation read from the
/// code as the pipeline reads it. The activations the reference takes as a parameter (leaky-ReLU(α)²,
/// relu^p) are evaluated instead: ``VariantGoldenTests`` asserts their PyTorch goldens.
@Suite struct BaselineMutationTests {
    /// What the edited code's own `eval_val` computed on a model's weights, or the error it raised.
    struct Golden: Decodable {
        var val_loss: Double?
        var val_bpb: Double?
        var tokens: Int?
        var error: String?
    }
    struct Mutation: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var edits: [[String]]
        /// A fragment the refusal must contain (the construct); empty: any.
        var expected: String
        /// The line the refusal must name; 0: any line.
        var line: Int
        var goldens: [String: Golden]

        var testDescription: String { name }
        var codeEdit: CodeEdit { CodeEdit(name: name, edits: edits.map { ($0[0], $0[1]) }, expected: expected, line: line) }
    }
    struct Model: Decodable {
        var unedited: Golden
    }
    struct Fixture: Decodable {
        var models: [String: Model]
        var mutations: [Mutation]
    }

    static func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Paths.fixture("conformance/baseline-mutations.json")))
    }

    static var mutations: [Mutation] { (try? fixture().mutations) ?? [] }

    /// How far the edited code's own number is from the unedited baseline's on `model` (infinity when the
    /// edited code raised or computed a non-finite number: no number for the unedited code is right then).
    static func distance(_ mutation: Mutation, model: String, in fixture: Fixture) throws -> Double {
        let golden = try #require(mutation.goldens[model], "\(mutation.name) has no golden for \(model)")
        let unedited = try #require(fixture.models[model]?.unedited.val_bpb)
        if golden.error != nil { return .infinity }
        return abs(try #require(golden.val_bpb) - unedited)
    }

    /// The set is what the issue asks for: at least 20 edits whose own PyTorch number is not the unedited
    /// one (beyond the 1e-4 tolerance, on the tied 2L/64d artifact or the untied tiny model), so a verifier
    /// that printed the unedited architecture's number for them would be wrong. Two edits are below the
    /// tolerance on both models and stay in the set (refused all the same): RMSNorm's eps at 1e-5
    /// (the activations' mean squares are far above it) and the skips' order (both models have one skip).
    @Test func goldensShowTheEditsMatter() throws {
        let fixture = try Self.fixture()
        #expect(fixture.mutations.count >= 27)
        var belowTolerance: [String] = []
        for mutation in fixture.mutations {
            let largest = try fixture.models.keys.map { try Self.distance(mutation, model: $0, in: fixture) }.max() ?? 0
            if largest <= 1e-4 { belowTolerance.append(mutation.name) }
        }
        #expect(fixture.mutations.count - belowTolerance.count >= 20)
        #expect(Set(belowTolerance) == ["RMSNorm eps 1e-5", "skips used in forward order"])
    }

    @Test(arguments: mutations) func editIsRefusedByName(_ mutation: Mutation) throws {
        let source = try mutation.codeEdit.apply(to: try ConformanceSupport.baselineSource)
        do {
            let match = try ConformanceSupport.check(source, readsActivation: true)
            Issue.record("\(mutation.name) was matched as \(match.architecture)")
        } catch let error as ModelConfigError {
            guard case .architectureNotMatched(let file, let line, let detail, _) = error else {
                Issue.record("unexpected error \(error)"); return
            }
            #expect(file == "train_gpt.py")
            if mutation.line > 0 { #expect(line == mutation.line, "\(error)") } else { #expect(line > 0, "\(error)") }
            if !mutation.expected.isEmpty { #expect(detail.contains(mutation.expected), "\(error)") }
        }
    }
}
