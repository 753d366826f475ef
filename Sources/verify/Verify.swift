import ArgumentParser
import Foundation
import Reference
import Verifier

/// `verify`: audits Parameter Golf submissions without executing their code.
@main
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify and audit Parameter Golf submissions without executing their code.",
        discussion: """
            Exit codes: 0 pass, 1 the submission fails a check, 2 bad input or usage, \
            3 incomplete (a check could not run).
            """,
        subcommands: [AuditCommand.self, Inspect.self, Size.self, Eval.self, Merge.self, Lint.self, Bench.self],
        defaultSubcommand: AuditCommand.self
    )

    /// Runs the command and maps every outcome to the documented exit codes, overriding
    /// ArgumentParser's own (64 for usage errors) so CI can rely on 0/1/2/3.
    static func main() {
        HugePageHeap.configure()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let status as ExitStatus {
            Foundation.exit(status.rawValue)
        } catch let error as any InputError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(ExitStatus.badInput.rawValue)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(ExitStatus.badInput.rawValue)
        }
    }
}

/// Raised by a subcommand whose feature has not been built yet: says so instead of faking an answer.
struct NotImplemented: InputError {
    var feature: String
    var description: String { "\(feature) is not implemented yet in this version of pgverify" }
}
