import ArgumentParser
import Foundation
import Reference
import Verifier

/// `verify SUBMISSION_DIR`: the full audit (the default subcommand).
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit a submission folder: every check, a verdict, and a report (the default command).",
        discussion: """
            Runs every check on the folder (size cap, train and eval time limits, claims that disagree, \
            the significance requirement against the previous record, static findings, reproduced \
            val_bpb) and prints a report. Nothing from the folder is executed.

            --previous-record takes the previous record's per-seed val_loss in nats: a comma-separated \
            list (2.0712,2.0731,2.0699), a text file of numbers, or the previous record's folder. Without \
            it, a folder inside a checkout of the challenge's repository (records/track_*/<folder>) is \
            compared with the best record of its track dated before it; the report names that record.

            Exit codes:
              0  PASS: every check ran and none failed
              1  FAIL: an error-severity check failed
              2  bad input or usage
              3  INCOMPLETE: nothing failed, but a check could not run (no artifact, no previous record, ...)
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, json, html, sarif
    }

    @Argument(help: "The submission folder (README.md, submission.json, logs, train_gpt.py, artifact).")
    var submissionDir: String

    @Option(help: "Report format: markdown, json, html or sarif (SARIF 2.1.0 for code scanning).")
    var format: Format = .markdown

    @Option(help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(name: .customLong("write"), help: ArgumentHelp(
        "Also write the report in another format to a file (repeatable), from the same run: e.g. --write json:report.json.",
        valueName: "FORMAT:PATH"))
    var extraReports: [String] = []

    @Flag(help: "Skip the slow steps (reproducing val_bpb); their checks report incomplete.")
    var quick = false

    @Option(help: "The previous record's per-seed val_loss (nats): values, a file of values, or its folder.")
    var previousRecord: String?

    @Option(help: "SentencePiece .model of the submission's tokenizer, to reproduce val_bpb.")
    var tokenizer: String?

    @Option(help: "Validation shard glob (e.g. 'data/fineweb_val_*.bin'), to reproduce val_bpb.")
    var val: String?

    @Option(help: "CaseOps byte sidecar glob (default: fineweb_val_bytes_*.bin beside --val), for submissions whose eval_val counts bytes from it.")
    var valBytes: String?

    @Option(name: .customLong("partial"), help: ArgumentHelp(
        "A partial result of a sharded `verify eval` of this folder's artifact (repeatable): merged, the parts are the reproduction of val_bpb.",
        valueName: "FILE"))
    var partials: [String] = []

    @Option(help: "Threads for the re-evaluation; the default is this machine's core count.")
    var threads: Int = min(ProcessInfo.processInfo.activeProcessorCount, InputLimits.threads)

    @Option(help: ArgumentHelp(
        "Reproduce val_bpb from a seeded random sample of N of the evaluation's units (see `verify eval --sample-docs`): the claim is compared with the estimate's 99% interval; never a PASS of that check. Needs --seed, --tokenizer and --val.",
        valueName: "N"))
    var sampleDocs: Int?

    @Option(help: "The seed of --sample-docs (0 ≤ S < 2^64).")
    var seed: UInt64?

    func validate() throws {
        if (tokenizer == nil) != (val == nil) {
            throw ValidationError("--tokenizer and --val go together (both are needed to reproduce val_bpb)")
        }
        if sampleDocs != nil || seed != nil {
            guard let sampleDocs, seed != nil else { throw ValidationError("--sample-docs N and --seed S go together") }
            try FlagBounds.check("--sample-docs", sampleDocs, maximum: InputLimits.tokenCount)
            guard tokenizer != nil else { throw ValidationError("--sample-docs needs --tokenizer and --val to evaluate on") }
        }
        try FlagBounds.check("--threads", threads, maximum: InputLimits.threads)
        _ = try parsedExtraReports()
    }

    func run() throws {
        let givenPrevious = try previousRecord.map(PreviousRecord.parse)
        progress("reading \(submissionDir)")
        let submission = try Submission.read(at: URL(fileURLWithPath: submissionDir))
        // Without --previous-record, a folder in a checkout of the challenge's repository is compared with
        // the best earlier record of its track.
        let previous = givenPrevious ?? PreviousRecord.bestEarlierRecord(for: submission)
        if givenPrevious == nil, let previous { progress("previous record: \(previous.source)") }
        let report = try Audit.run(submission, options: AuditOptions(
            quick: quick, previousRecord: previous,
            evaluation: tokenizer.flatMap { tokenizer in val.map { val in
                AuditEvaluationSettings(tokenizer: URL(fileURLWithPath: tokenizer), validationPattern: val, threads: threads,
                                        byteSidecarPattern: valBytes)
            } }, reproductionParts: partials.map { URL(fileURLWithPath: $0) },
            sample: sampleDocs.flatMap { size in seed.map { EvaluationSample(size: size, seed: $0) } }),
                                   progress: progress)
        if let output {
            try write(render(report, as: format, submission: submission), to: output)
        } else {
            FileHandle.standardOutput.write(Data(try render(report, as: format, submission: submission).utf8))
        }
        for (extraFormat, path) in try parsedExtraReports() {
            try write(render(report, as: extraFormat, submission: submission), to: path)
        }
        progress("verdict: \(report.verdict.outcome.rawValue)")
        if report.verdict.exitStatus != .pass { throw report.verdict.exitStatus }
    }

    private func progress(_ message: String) {
        FileHandle.standardError.write(Data("verify: \(message)\n".utf8))
    }

    /// `--write FORMAT:PATH` pairs.
    func parsedExtraReports() throws -> [(Format, String)] {
        try extraReports.map { item in
            guard let colon = item.firstIndex(of: ":"), let format = Format(rawValue: String(item[..<colon])),
                  item.index(after: colon) < item.endIndex else {
                throw ValidationError("--write expects FORMAT:PATH with FORMAT one of "
                                      + Format.allCases.map(\.rawValue).joined(separator: ", ") + ", got \(item)")
            }
            return (format, String(item[item.index(after: colon)...]))
        }
    }

    func render(_ report: AuditReport, as format: Format, submission: Submission) throws -> String {
        switch format {
        case .markdown: return report.markdown
        case .json: return report.json.rendered() + "\n"
        case .html: return report.html(folder: submission.folder)
        case .sarif: return String(decoding: try report.sarif(folderPath: submissionDir, version: "0.1.0"), as: UTF8.self) + "\n"
        }
    }

    func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("cannot write \(path): \(error.localizedDescription)")
        }
        progress("wrote \(path)")
    }
}
