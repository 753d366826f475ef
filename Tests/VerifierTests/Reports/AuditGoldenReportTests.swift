import Foundation
import Testing
@testable import Verifier

/// Full Markdown and JSON reports of a few folders, pinned byte for byte in `fixtures/audit/golden/`
/// (reviewed by hand; `PGVERIFY_UPDATE_GOLDENS=1` rewrites them), and determinism of every format.
@Suite struct AuditGoldenReportTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var folder: URL
        var previous: String?
        var description: String { name }
    }

    static let corpus = Paths.shared("corpus/parameter-golf/records")
    static let cases: [Case] = [
        Case(name: "naive-baseline", folder: corpus.appendingPathComponent("track_10min_16mb/2026-03-17_NaiveBaseline")),
        Case(name: "sp4096-depth-recurrence",
             folder: corpus.appendingPathComponent("track_10min_16mb/2026-04-04_SP4096_DepthRecurrence_ParallelResid_MuonEqR")),
        Case(name: "fourth-seed", folder: Paths.fixture("audit/fourth-seed"), previous: Paths.fixture("audit/previous-record.txt").path),
    ]

    static func report(_ testCase: Case) throws -> (AuditReport, Submission) {
        let submission = try Submission.read(at: testCase.folder)
        let previous = try testCase.previous.map(PreviousRecord.parse)
        return (try Audit.run(submission, options: AuditOptions(previousRecord: previous)), submission)
    }

    @Test(arguments: cases)
    func reportsMatchTheReviewedGoldens(_ testCase: Case) throws {
        try #require(FileManager.default.fileExists(atPath: testCase.folder.path), "needs \(testCase.folder.path)")
        let (report, _) = try Self.report(testCase)
        let outputs = [("md", report.markdown), ("json", report.json.rendered() + "\n")]
        for (ext, text) in outputs {
            let golden = Paths.fixture("audit/golden/\(testCase.name).\(ext)")
            if ProcessInfo.processInfo.environment["PGVERIFY_UPDATE_GOLDENS"] == "1" {
                try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: golden)
            }
            let expected = try String(contentsOf: golden, encoding: .utf8)
            #expect(text == expected, "\(testCase.name).\(ext) differs from the golden")
        }
    }

    @Test(arguments: cases)
    func outputIsDeterministicAndHasNoAbsolutePaths(_ testCase: Case) throws {
        try #require(FileManager.default.fileExists(atPath: testCase.folder.path), "needs \(testCase.folder.path)")
        let (first, submission) = try Self.report(testCase)
        let (second, _) = try Self.report(testCase)
        #expect(first.markdown == second.markdown)
        #expect(first.json.rendered() == second.json.rendered())
        #expect(first.html(folder: submission.folder) == second.html(folder: submission.folder))
        for text in [first.markdown, first.json.rendered(), first.html(folder: submission.folder)] {
            #expect(!text.contains(Paths.packageRoot.path))
            #expect(!text.contains(Paths.shared.path))
        }
    }

    @Test func htmlIsSelfContained() throws {
        let (report, submission) = try Self.report(Self.cases[2])
        let html = report.html(folder: submission.folder)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for forbidden in ["<script", "http://", "https://", "<link", "@import", "src="] where forbidden != "http://" {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        // The only URL is the SVG namespace, which browsers never fetch.
        #expect(html.components(separatedBy: "http://").count - 1 == html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1)
        #expect(html.contains("<svg") && html.contains("cap 16,000,000"))
        #expect(html.contains("previous mean 2.0605"))
        #expect(!html.contains("<mark>"))  // no finding of this fixture cites a line

        // A finding that cites a line gets an excerpt of the file with that line marked.
        let overtime = try Submission.read(at: Paths.fixture("audit/overtime"))
        let overtimeHTML = try Audit.run(overtime).html(folder: overtime.folder)
        #expect(overtimeHTML.contains("<mark>    5  step:7012/9000 val_loss:2.0712 val_bpb:1.2268 train_time:612400ms step_avg:85.00ms</mark>"))
    }
}
