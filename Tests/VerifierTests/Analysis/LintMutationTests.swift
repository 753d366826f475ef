import Foundation
import Testing
@testable import Verifier

/// The mutation set, `fixtures/lint/mutations/<RULE>/<NN>-<form>.illegal.py` and its twin
/// `<NN>-<form>.legal.py`: each illegal pattern of a dataflow rule rewritten as real submissions
/// rewrite code (renamed, split into helpers, moved into lists, dicts, tuples, classes, closures
/// and lambdas, sliced at the target position, passed through numpy/torch operations, imported
/// under aliases). Each illegal form is flagged by its rule exactly on the lines marked
/// `# expect: <RULE>`, with the rule's severity; each legal twin (the same structure with
/// training data, context-only keys, score-first order or a guard) has no finding of that rule.
/// Rules that read the README or submission.json beside the code have a folder per form,
/// `<NN>-<form>/{illegal,legal}/` holding `train_gpt.py` and those documents.
@Suite struct LintMutationTests {
    struct Mutant: Sendable, CustomTestStringConvertible {
        var rule: String
        var form: String
        var illegal: String
        var legal: String
        var testDescription: String { "\(rule)/\(form)" }
    }

    static let root = Paths.fixture("lint/mutations")

    static let mutants: [Mutant] = {
        let manager = FileManager.default
        let rules = ((try? manager.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
        return rules.flatMap { rule -> [Mutant] in
            let folder = root.appendingPathComponent(rule)
            let names = ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            let files = names.filter { $0.hasSuffix(".illegal.py") }.map { name in
                let form = String(name.dropLast(".illegal.py".count))
                return Mutant(rule: rule, form: form, illegal: folder.appendingPathComponent(name).path,
                              legal: folder.appendingPathComponent(form + ".legal.py").path)
            }
            // A rule that reads the files beside the code has a folder per form:
            // `<NN>-<form>/illegal/train_gpt.py` and `<NN>-<form>/legal/train_gpt.py`, each with its README.
            let folders = names.filter {
                manager.fileExists(atPath: folder.appendingPathComponent($0).appendingPathComponent("illegal").path)
            }.map { form in
                Mutant(rule: rule, form: form,
                       illegal: folder.appendingPathComponent(form).appendingPathComponent("illegal/train_gpt.py").path,
                       legal: folder.appendingPathComponent(form).appendingPathComponent("legal/train_gpt.py").path)
            }
            return files + folders
        }
    }()

    /// Every fixture linted in one run (one parser start for the whole set), findings per file.
    static let findings: (byFile: [String: [Finding]], error: String?) = {
        let files = mutants.flatMap { [$0.illegal, $0.legal] }.filter { FileManager.default.fileExists(atPath: $0) }
        do {
            let findings = try Linter(parser: try PythonParser()).lint(files: files)
            return (Dictionary(grouping: findings, by: \.file), nil)
        } catch {
            return ([:], "\(error)")
        }
    }()

    static func markedLines(_ path: String, rule: String) throws -> [Int] {
        let source = try String(contentsOfFile: path, encoding: .utf8)
        return source.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.contains("# expect: \(rule)") }.map { $0.offset + 1 }
    }

    @Test func everyRuleHasTenFormsWithTwins() throws {
        let byRule = Dictionary(grouping: Self.mutants, by: \.rule)
        #expect(!byRule.isEmpty)
        for (rule, forms) in byRule {
            #expect(LintRules.descriptors.contains { $0.id == rule }, "\(rule) is not a rule")
            #expect(forms.count >= 10, "\(rule): \(forms.count) forms")
            for form in forms {
                #expect(FileManager.default.fileExists(atPath: form.legal), "\(form.legal) missing")
                #expect(try !Self.markedLines(form.illegal, rule: rule).isEmpty, "\(form.illegal) marks no line")
            }
        }
    }

    @Test(arguments: mutants)
    func illegalFormIsFlagged(_ mutant: Mutant) throws {
        #expect(Self.findings.error == nil, "\(Self.findings.error ?? "")")
        let marked = try Self.markedLines(mutant.illegal, rule: mutant.rule)
        let found = (Self.findings.byFile[mutant.illegal] ?? []).filter { $0.rule == mutant.rule }
        #expect(found.map(\.line) == marked, "\(found.map(\.message))")
        let severity = try #require(LintRules.descriptors.first { $0.id == mutant.rule }).severity
        #expect(found.allSatisfy { $0.severity == severity })
    }

    @Test(arguments: mutants)
    func legalTwinIsClean(_ mutant: Mutant) throws {
        #expect(Self.findings.error == nil, "\(Self.findings.error ?? "")")
        let found = (Self.findings.byFile[mutant.legal] ?? []).filter { $0.rule == mutant.rule }
        #expect(found.isEmpty, "\(found.map { "\($0.line): \($0.message)" })")
    }
}
