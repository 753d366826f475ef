import Foundation
import Testing
@testable import Verifier

@Suite struct SizeAccountingTests {
    func report(_ fixture: String) throws -> SizeReport {
        SizeReport.check(try Submission.read(at: Paths.fixture("submissions/\(fixture)")))
    }

    func ids(_ report: SizeReport) -> [String] { report.findings.map { "\($0.severity.rawValue) \($0.id.rawValue)" } }

    @Test func passingFixtureIsMeasuredAndAgrees() throws {
        let report = try report("passing")
        #expect(report.codeBytes == 282)
        #expect(report.modelBytes == 4096)
        #expect(report.totalBytes == 4378)
        #expect(report.status == .pass)
        #expect(report.findings.isEmpty)
        #expect(report.mismatches.isEmpty)
        #expect(report.exitStatus == .pass)
        // bytes_code, bytes_total, two per-seed artifact_bytes, the README quote, and code/model/total per log.
        #expect(report.claims.count == 11)
    }

    @Test func oversizeClaimsFailEvenWhenTheArtifactIsSmall() throws {
        let report = try report("oversize")
        #expect(report.status == .fail)
        #expect(ids(report).filter { $0.hasPrefix("error") } == ["error SIZE-CLAIMED-OVER-CAP", "error SIZE-CLAIMED-OVER-CAP"])
        #expect(report.findings.first?.message
                == "claimed total 16000500 bytes (submission.json: bytes_total) is over the 16000000-byte cap")
    }

    @Test func disagreeingClaimsAreListedWithBothNumbersAndSources() throws {
        let report = try report("claims-disagree")
        let rows = report.mismatches.map { "\($0.quantity.rawValue) \($0.expected) \($0.expectedSource) vs \($0.claimed) \($0.claimSource)" }
        #expect(rows == [
            "code_bytes 282 train_gpt.py vs 292 submission.json: bytes_code",
            "code_bytes 282 train_gpt.py vs 182 train_seed42.log:8",
            "model_bytes 4096 final_model.int8.ptz vs 4146 train_seed42.log:10",
            "total_bytes 4378 train_gpt.py + final_model.int8.ptz vs 3378 submission.json: bytes_total",
            "total_bytes 4378 train_gpt.py + final_model.int8.ptz vs 4385 README.md:3",
            "total_bytes 4378 train_gpt.py + final_model.int8.ptz vs 4328 train_seed42.log:11",
        ])
        // Under the cap either way: the disagreements are warnings and the measured total passes.
        #expect(report.mismatches.allSatisfy { $0.severity == .warning && $0.expectedIsMeasured })
        #expect(report.status == .pass)
    }

    @Test func withoutAnArtifactTheCheckIsIncomplete() throws {
        let report = try report("missing-logs")
        #expect(report.codeBytes == 282)
        #expect(report.modelBytes == nil)
        #expect(report.totalBytes == nil)
        #expect(report.status == .incomplete)
        #expect(report.exitStatus == .incomplete)
        #expect(ids(report) == ["note SIZE-ARTIFACT-MISSING"])
        #expect(report.findings.first?.message.contains("model bytes are claimed, not measured") == true)
    }

    /// A real excess: a sparse 15,999,800-byte artifact (never committed) plus the 282-byte script.
    @Test func measuredExcessFailsAndUnderstatedClaimsMatter() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.copy(fixture: "passing")
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("final_model.int8.ptz"))
        try folder.sparse("final_model.int8.ptz", size: 15_999_800)
        let report = SizeReport.check(try Submission.read(at: folder.url))
        #expect(report.totalBytes == 16_000_082)
        #expect(report.status == .fail)
        #expect(report.findings.first?.id == .cap)
        #expect(report.findings.first?.message == "code 282 bytes (train_gpt.py) + model 15999800 bytes (final_model.int8.ptz) "
                + "= 16000082 bytes, over the 16000000-byte cap by 82 bytes")
        // Every claimed total (4,378 or 4,399 bytes) was under the cap and understates the measured one.
        let totals = report.mismatches.filter { $0.quantity == .totalBytes }
        #expect(!totals.isEmpty && totals.allSatisfy { $0.severity == .error })
        // Exactly at the cap passes: 16,000,000 is allowed.
        try folder.sparse("final_model.int8.ptz", size: 15_999_718)
        #expect(SizeReport.check(try Submission.read(at: folder.url)).totalBytes == 16_000_000)
        #expect(SizeReport.check(try Submission.read(at: folder.url)).findings.allSatisfy { $0.id != .cap })
    }

    @Test func claimArithmeticWithinOneLog() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("train_gpt.py", "print(1)\n")
        try folder.write("train_seed1.log", """
            Code size: 100 bytes
            Serialized model int8+zlib: 1000 bytes
            Total submission size int8+zlib: 1200 bytes

            """)
        let report = SizeReport.check(try Submission.read(at: folder.url))
        let arithmetic = report.findings.filter { $0.id == .claimArithmetic }
        #expect(arithmetic.map(\.message) == ["train_seed1.log:3, seed 1 claims a total of 1200 bytes but code 100 "
                                              + "(train_seed1.log:1) + model 1000 (train_seed1.log:2) = 1100 bytes"])
        #expect(report.status == .incomplete)
    }

    @Test func measuredScriptPlusClaimedModelOverTheCap() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("train_gpt.py", String(repeating: "#", count: 2000) + "\n")
        try folder.write("train_seed3.log", """
            Code size: 500 bytes
            Serialized model quantized+brotli: 15999000 bytes
            Total submission size quantized+brotli: 15999500 bytes

            """)
        let report = SizeReport.check(try Submission.read(at: folder.url))
        #expect(report.status == .fail)
        #expect(report.findings.first { $0.id == .claimedOverCap }?.message == "train_gpt.py on disk (2001 bytes) + claimed model 15999000 bytes "
                + "(train_seed3.log:2, seed 3) = 16001001 bytes, over the 16000000-byte cap")
        // The code claim understates the script and hides the excess: an error.
        #expect(report.mismatches.first { $0.quantity == .codeBytes }?.severity == .error)
    }

    @Test func compressedCodeCountIsAWarningNotAFailure() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("train_gpt.py", String(repeating: "#", count: 2000) + "\n")
        try folder.write("train_seed3.log", """
            Code size (compressed): 500 bytes
            Serialized model quantized+brotli: 15999000 bytes
            Total submission size quantized+brotli: 15999500 bytes

            """)
        let report = SizeReport.check(try Submission.read(at: folder.url))
        #expect(report.status == .incomplete)
        #expect(!report.findings.contains { $0.severity == .error })
        #expect(report.findings.first { $0.id == .codeCountedCompressed }?.message == "train_gpt.py on disk (2001 bytes) "
                + "+ claimed model 15999000 bytes (train_seed3.log:2, seed 3) = 16001001 bytes is over the 16000000-byte cap; "
                + "the submission counts its code compressed (500 bytes, train_seed3.log:1, seed 3), a form the folder "
                + "does not ship, giving 15999500 bytes")
        #expect(report.mismatches.filter { $0.quantity == .codeBytes }.isEmpty)
    }
}
