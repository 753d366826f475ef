import Foundation
import Reference
import Testing
import Verifier

/// Every input that ever crashed a fuzz target (`fixtures/hostile/fuzz/<target>/`), replayed through
/// the same ``FuzzTarget/run(_:)`` entry the fuzzer calls: each must now end in the reader's typed
/// error. Inputs listed in `known-issues.tsv` still crash and are only run once their fix lands.
@Suite struct FuzzRegressionTests {
    struct Finding: CustomTestStringConvertible, Sendable {
        let target: FuzzTarget
        let path: String
        var testDescription: String { path }
    }

    static let folder = Paths.fixture("hostile/fuzz")

    /// `path<TAB>reason` lines of `known-issues.tsv`.
    static let knownIssues: [String: String] = {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("known-issues.tsv"), encoding: .utf8)
        else { return [:] }
        var issues: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", maxSplits: 1)
            if fields.count == 2 { issues[String(fields[0])] = String(fields[1]) }
        }
        return issues
    }()

    static let findings: [Finding] = FuzzTarget.allCases.flatMap { target in
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(target.rawValue).path)) ?? []
        return names.sorted().map { Finding(target: target, path: "\(target.rawValue)/\($0)") }
    }

    static let fixed = findings.filter { knownIssues[$0.path] == nil }

    @Test(arguments: fixed)
    func crashingInputNowEndsInATypedError(_ finding: Finding) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent(finding.path)))
        do {
            try finding.target.run(bytes)
            Issue.record("\(finding.path) was read without error; a fuzz finding should be refused")
        } catch {
            #expect(Self.isTypedError(error, of: finding.target), "\(finding.path): \(type(of: error)): \(error)")
            // The front-end's stream is pgverify's own intermediate output: its errors name no file.
            if finding.target != .pythonTree && finding.target != .conformance {
                #expect("\(error)".contains("fuzz-input"), "the error names the input: \(error)")
            }
        }
    }

    @Test func everyKnownIssueNamesAnExistingInput() {
        for path in Self.knownIssues.keys.sorted() {
            #expect(Self.findings.contains { $0.path == path }, "known-issues.tsv lists \(path), which is not in fixtures/hostile/fuzz")
        }
    }

    /// The error type each target's reader throws for bad input.
    static func isTypedError(_ error: any Error, of target: FuzzTarget) -> Bool {
        switch target {
        case .artifact, .pickle: error is ArtifactError
        case .sentencepiece: error is SentencePieceModelError
        case .shard: error is ValidationShardError
        case .pythonTree, .wrapper, .conformance: error is LintError
        case .submissionJSON: error is SubmissionError
        case .submissionLog: false
        }
    }
}
