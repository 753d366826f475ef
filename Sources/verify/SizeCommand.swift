import ArgumentParser
import Foundation
import Verifier

/// `verify size SUBMISSION_DIR [--json]`: the 16,000,000-byte cap, measured and compared with the claims.
struct Size: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "size",
        abstract: "Check a submission folder against the 16,000,000-byte cap and its own size claims.",
        discussion: """
            Measures code bytes (train_gpt.py as it is on disk; a self-extracting wrapper counts its own \
            bytes) and model bytes (the artifact file: *.ptz, *.pt or final_model.*), adds them, and \
            compares the total with the decimal cap of 16,000,000 bytes. Then compares the measured \
            figures with every size claimed in submission.json, the train logs and the README, citing \
            each claim's file and line (or JSON key path). Nothing in the folder is decompressed or run.

            Exit codes:
              0  pass: code + artifact measured and within the cap, no error finding
              1  fail: over the cap (measured, or by the submission's own figures), or a claim that \
            hides a cap excess
              2  bad input or usage: no such folder, malformed submission.json (with the byte offset)
              3  incomplete: nothing failed, but the total could not be measured (no artifact, no script)

            With --json the keys are code_bytes, model_bytes, total_bytes, limit, ok (true, false, or \
            null when incomplete), status, measured, findings, mismatches and claims.
            """
    )

    @Argument(help: "The submission folder (README.md, submission.json, logs, train_gpt.py, artifact).")
    var submissionDir: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let submission = try Submission.read(at: URL(fileURLWithPath: submissionDir))
        // Sizes alone: claims that cannot be read make the folder bad input here (the audit reports them as a finding).
        if let problem = submission.metadataProblem { throw problem.error }
        // As in the audit: figures of logs the folder does not submit are notes (RunSelection).
        let selection = RunSelection.select(RunResult.runs(of: submission), of: submission)
        let report = SizeReport.check(submission, notSubmitted: selection.notSubmitted)
        let output = json ? report.json.rendered() : report.text
        FileHandle.standardOutput.write(Data((output + "\n").utf8))
        if report.exitStatus != .pass { throw report.exitStatus }
    }
}
