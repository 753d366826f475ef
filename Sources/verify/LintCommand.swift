import ArgumentParser
import Foundation
import Verifier

/// `verify lint`: the static compliance rules (rules.md, "Static rules") over Python files.
struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Flag illegal patterns in submission code (parses with python3's ast; never runs it).",
        discussion: """
            Exit codes: 0 no error-severity finding, 1 at least one, 2 bad input, 3 incomplete: a file \
            that the Python parser, older than 3.12, could not parse (it may be valid 3.12 code).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, sarif }

    @Argument(help: "A .py file or a folder (all .py files inside, recursively).")
    var paths: [String]

    @Option(help: "Output format: text, json or sarif.")
    var format: Format = .text

    func run() throws {
        let inputs = try Linter.collect(paths)
        let files = inputs.files
        let linter = Linter(parser: try PythonParser())
        let sources: [AnalyzedSource]
        do {
            sources = try linter.analyze(files: files)
        } catch let error as LintError where error.mayBeNewerSyntax {
            FileHandle.standardError.write(Data("incomplete: \(error)\n".utf8))
            throw ExitStatus.incomplete
        }
        let findings = (linter.check(sources, submissionFolder: Linter.submissionFolder(paths)) + linter.linkFindings(inputs.linksOutside)).sorted(by: Finding.reportOrder)
        let output: Data
        switch format {
        case .text: output = Data(LintReport.text(findings, fileCount: files.count).utf8)
        case .json: output = try LintReport.json(findings) + Data("\n".utf8)
        case .sarif: output = try LintReport.sarif(findings, version: "0.1.0") + Data("\n".utf8)
        }
        FileHandle.standardOutput.write(output)
        // Exit here, with the syntax trees still referenced: freeing a million nodes one by one
        // would cost more than the analysis of some files.
        let status: ExitStatus = findings.contains(where: { $0.severity == .error }) ? .fail : .pass
        withExtendedLifetime(sources) { Foundation.exit(status.rawValue) }
    }
}
