import Foundation
import Testing
@testable import Verifier

/// Log and submission.json forms found in the challenge's pull requests (trimmed real files under
/// fixtures/submissions/pr-corpus, sources in its README), and rewritten forms of the same statements.
@Suite struct PRCorpusLogTests {
    static func folder(_ name: String) -> URL { Paths.fixture("submissions/pr-corpus/\(name)") }

    func claims(_ lines: [String], name: String = "train_seed42.log") -> [Claim] {
        LogClaims.claims(from: SubmissionTextFile(name: name, bytes: 0, lines: lines))
    }

    func audit(_ folder: URL) throws -> AuditReport {
        try Audit.run(try Submission.read(at: folder), providers: [
            SizeCheckProvider(), TimeLimitCheckProvider(), ClaimConsistencyCheckProvider(),
        ])
    }

    // MARK: - Line prefixes

    @Test(arguments: [
        "1776144163.319 ", "[05:23:17] ", "[default0]:", "[rank3]:", "2026-04-30T20:16:31Z ",
        "2026-04-29 18:46:49+08:00 ", "2026-03-20 12:00:01 | ", "2026-03-20 12:00:01,123 - INFO - ",
        "[2026-03-20 12:00:01] INFO: ", "[eval] ", "12:00:01.250 ", "INFO: ", "",
    ])
    func prefixedLinesGiveTheSameClaims(prefix: String) {
        let lines = [
            "  seed: 7",
            "stopping_early: wallclock_cap train_time:599800ms step:4100/20000",
            "Total submission size int6+brotli: 15909023 bytes",
            "final_int6_sliding_window val_loss:1.8822 val_bpb:1.1148 stride:64 eval_time:77150ms",
            "final_int6_sliding_window_exact val_loss:1.88220393 val_bpb:1.11475014",
        ]
        let found = claims(lines.map { prefix + $0 }, name: "train.log")
        let summary = found.map { "\($0.kind.rawValue)=\($0.value)@\($0.seed.map(String.init) ?? "-")" }
        #expect(summary == [
            "seed=7@7", "total_bytes=15909023@7", "train_seconds=599800@7", "val_loss=1.88220393@7",
            "val_bpb=1.11475014@7", "eval_mode=sliding_window@7", "eval_stride=64@7", "eval_seconds=77150@7",
        ])
        #expect(found.first { $0.kind == .trainSeconds }?.value.double == 599.8)
    }

    @Test func prefixesAreStrippedOnlyWhereTheyAre() {
        #expect(LogClaims.stripLinePrefix("[default0]:  seed: 1337") == "  seed: 1337")
        #expect(LogClaims.stripLinePrefix("[05:11:06]   seed: 42") == "  seed: 42")
        #expect(LogClaims.stripLinePrefix("200/20000 val_loss:2.3 val_bpb:1.4") == "200/20000 val_loss:2.3 val_bpb:1.4")
        #expect(LogClaims.stripLinePrefix("    log0(f\"Code size: {n} bytes\")") == "    log0(f\"Code size: {n} bytes\")")
        #expect(LogClaims.stripLinePrefix("2026 was a year") == "2026 was a year")
        #expect(LogClaims.stripLinePrefix("[unterminated tag") == "[unterminated tag")
        #expect(LogClaims.stripLinePrefix("INFORMATION: x") == "INFORMATION: x")
    }

    @Test(arguments: ["clock-prefix", "launcher-prefix"])
    func realPrefixedLogsAgreeWithTheirSubmission(name: String) throws {
        let report = try audit(Self.folder(name))
        let claims = report.checks.first { $0.id == "CLAIMS" }
        #expect(claims?.status == .pass, "\(claims?.findings.map(\.message) ?? [])")
        #expect(report.runs.count == 3)
        #expect(report.runs.allSatisfy { $0.valBPB != nil && $0.trainSeconds != nil })
        #expect(report.checks.first { $0.id == "TIME-TRAIN" }?.status == .pass)
    }

    @Test func zonedTimestampLogReportsItsEvaluationTime() throws {
        let submission = try Submission.read(at: Self.folder("zoned-prefix"))
        let run = try #require(RunResult.runs(of: submission).first)
        #expect(run.seed == 42)
        #expect(run.valBPB?.value.description == "1.07734522")
        #expect(run.evalSeconds?.value.double == 776.046)
        #expect(run.trainSeconds?.value.double == 588.06)
    }

    // MARK: - Logs at any depth

    @Test func logsBelowSeedFoldersAreFound() throws {
        let submission = try Submission.read(at: Self.folder("nested-logs"))
        #expect(submission.logs.map(\.name) == ["runs/seed_1337/logs/helix_mor_k7r2_unet_seed1337.txt"])
        #expect(RunResult.runs(of: submission).first?.valBPB?.value.description == "1.31046718")
        #expect(LogClaims.seedFromName("runs/seed_1338/wd_0p1/train.log") == 1338)
        #expect(LogClaims.seedFromName("runs/seed_1338/train_seed7.log") == 7)
        #expect(LogClaims.seedFromName("runs/logs/train.log") == nil)
    }

    // MARK: - Submitted and exploratory runs

    @Test func runsOfSeedsSubmissionJSONDoesNotNameAreReportedNotJudged() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        func log(_ seconds: Int, score: String) -> String {
            "step:4000/20000 val_loss:2.0 val_bpb:1.2 train_time:\(seconds)ms\nfinal_int8_zlib_roundtrip_exact val_loss:2.0 val_bpb:\(score)\n"
        }
        try folder.write("submission.json", "{\"seeds\": [42, 1337], \"val_bpb\": 1.2}")
        try folder.write("train_seed42.log", log(590_000, score: "1.2001"))
        try folder.write("train_seed1337.log", log(595_000, score: "1.1999"))
        try folder.write("ablations/train_seed7.log", log(2_400_000, score: "1.3000"))
        try folder.write("log_ablation_base.txt", log(3_000_000, score: "1.4000"))
        let report = try audit(folder.url)
        #expect(report.runs.map(\.log) == ["train_seed1337.log", "train_seed42.log"])
        #expect(report.checks.first { $0.id == "TIME-TRAIN" }?.status == .pass)
        let claims = try #require(report.checks.first { $0.id == "CLAIMS" })
        #expect(claims.status == .pass)
        #expect(claims.findings.filter { $0.rule == "CLAIM-EXPLORATORY-LOG" }.map(\.message) == [
            "ablations/train_seed7.log is not judged as a submitted run: seed 7 is not among the seeds submission.json names (42, 1337)",
            "log_ablation_base.txt is not judged as a submitted run: no seed, while submission.json names the submitted seeds (42, 1337)",
        ])

        // A seed is named by its per-seed entry even when no key in it is recognised.
        try folder.write("submission.json", "{\"seeds\": {\"42\": {\"sliding_window_bpb\": 1.2}, \"1337\": {}}}")
        #expect(try audit(folder.url).runs.map(\.log) == ["train_seed1337.log", "train_seed42.log"])
        // While a named seed has no log, the seeds set no log aside (any may be that seed's run); the two
        // whose paths say `ablation` are still set aside by their names.
        try folder.write("submission.json", "{\"seeds\": {\"42\": {}, \"1337\": {}, \"9\": {}}}")
        let unlogged = try audit(folder.url)
        #expect(unlogged.runs.map(\.log) == ["train_seed1337.log", "train_seed42.log"])
        #expect(unlogged.checks.first { $0.id == "CLAIMS" }?.findings.filter { $0.rule == "CLAIM-EXPLORATORY-LOG" }
            .allSatisfy { $0.message.contains("its path marks it as not the submission") } == true)

        // One named seed is a run's setting, not the list of submitted runs: every log not marked by its path is judged.
        try folder.write("train_seed7_long.log", log(2_400_000, score: "1.3000"))
        // (The hardware is stated: a time is judged against the 8×H100 limit only on a stated GPU count.)
        try folder.write("submission.json", "{\"seed\": 42, \"val_bpb\": 1.2001, \"hardware\": \"8xH100 SXM\"}")
        let single = try audit(folder.url)
        #expect(single.runs.map(\.log) == ["train_seed1337.log", "train_seed42.log", "train_seed7_long.log"])
        #expect(single.checks.first { $0.id == "TIME-TRAIN" }?.status == .fail)
    }

    // MARK: - Raw and compressed size lines

    @Test func rawTotalIsNotTheCappedTotal() throws {
        let submission = try Submission.read(at: Self.folder("raw-total"))
        #expect(submission.claims(.totalBytes).map(\.value.description) == ["14603588", "14603588"])
        #expect(submission.claims(.modelBytes).map(\.value.description) == ["14548519"])
        let report = try audit(Self.folder("raw-total"))
        #expect(report.checks.first { $0.id == "SIZE" }?.findings.contains { $0.rule == "SIZE-CLAIMED-OVER-CAP" } == false)
    }

    @Test(arguments: [
        ("Total submission size (raw): 87196831 bytes", false), ("Total submission size raw: 110148237 bytes", false),
        ("Total submission size fp16/bf16: 30000000 bytes", false), ("Total submission size (uncompressed): 1 bytes", false),
        ("Total submission size fp16+lzma: 7982788 bytes", true), ("Total submission size int6+zstd: 14603588 bytes", true),
        ("Total submission size int8_lzma: 15000000 bytes", true),
    ])
    func totalsNamingAnUncompressedFormAreNotCapped(line: String, counted: Bool) {
        let found = claims(["Serialized model int6+zstd: 14548519 bytes", line])
        #expect(found.contains { $0.kind == .totalBytes } == counted)
    }

    @Test func rawSerializedModelIsNotTheModelBytes() {
        let found = claims([
            "Serialized model (raw): 87417537 bytes", "Total submission size: 87472606 bytes",
            "Serialized model (fp32): 117600585 bytes",
        ])
        #expect(found.filter { [.modelBytes, .totalBytes].contains($0.kind) }.isEmpty)
    }

    // MARK: - submission.json encodings and failures

    @Test func byteOrderMarkedJSONAndUTF16LogsRead() throws {
        let submission = try Submission.read(at: Self.folder("bom-json"))
        #expect(submission.metadataProblem == nil)
        #expect(submission.claims(.seed).filter { $0.source.file == "submission.json" }.compactMap(\.value.integer) == [0, 1, 2])
        #expect(submission.logs.first?.lines == [
            "  \"github_id\": \"\",", "  \"name\": \"AnchorPrefixCodec_first_piece_constraint_codec\",", "  \"seed\": 0,",
            "  \"seeds\": [", "    0", "  ],",
        ])

        let utf16 = try Submission.read(at: Self.folder("utf16-log"))
        let run = try #require(RunResult.runs(of: utf16).first)
        #expect(run.seed == 42)
        #expect(run.valBPB?.value.description == "3.17337441")
        #expect(run.trainSeconds?.value.double == 604.751)
        #expect(utf16.logs.first?.lines.count == 10)
    }

    @Test func crlfLineEndsSplitLines() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("train.log", "seed:42\r\nCode size: 12 bytes\r\r\nlast")
        let log = try #require(try Submission.read(at: folder.url).logs.first)
        #expect(log.lines == ["seed:42", "Code size: 12 bytes", "last"])
    }

    @Test func encodingsAreDecodedByTheirMark() {
        let text = "{\"val_bpb\": 1.5, \"name\": \"é\"}"
        let units = Array(text.utf16)
        let utf16LE: [UInt8] = [0xFF, 0xFE] + units.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let utf16BE: [UInt8] = [0xFE, 0xFF] + units.flatMap { unit -> [UInt8] in [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        #expect(TextDecoding.decode(utf16LE, fallback: .latin1) == (text, .utf16LE))
        #expect(TextDecoding.decode(utf16BE, fallback: .latin1) == (text, .utf16BE))
        #expect(TextDecoding.decode([0xEF, 0xBB, 0xBF] + Array(text.utf8), fallback: .latin1) == (text, .utf8WithBOM))
        #expect(TextDecoding.decode(Array("{\"name\": \"".utf8) + [0xE9] + Array("\"}".utf8), fallback: .latin1)
                == ("{\"name\": \"é\"}", .latin1))
        #expect(TextDecoding.decode([0x66, 0xFF, 0x0A], fallback: .replacingInvalidUTF8) == ("f\u{FFFD}\n", .utf8))
        #expect(TextDecoding.decode([0xFF, 0xFE, 0x41], fallback: .latin1) == ("\u{FFFD}", .utf16LE))
    }

    @Test func brokenJSONIsAFindingAndTheOtherChecksRun() throws {
        let submission = try Submission.read(at: Self.folder("broken-json"))
        #expect(submission.metadata == nil)
        #expect(submission.metadataProblem?.description
                == "submission.json: at byte 533: malformed JSON: unexpected end of input inside an object")
        let report = try audit(Self.folder("broken-json"))
        let claims = try #require(report.checks.first { $0.id == "CLAIMS" })
        #expect(claims.status == .fail)
        #expect(claims.findings.first?.rule == "CLAIM-METADATA-UNREADABLE")
        #expect(claims.findings.first?.file == "submission.json")
        #expect(report.checks.first { $0.id == "TIME-TRAIN" }?.summary.contains("600.6") == true)
        #expect(report.runs.first?.valBPB?.value.description == "1.3661")
    }

    @Test func byteOffsetsCountTheByteOrderMark() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("submission.json", Data([0xEF, 0xBB, 0xBF] + Array("{\"a\": 1,}".utf8)))
        let problem = try #require(try Submission.read(at: folder.url).metadataProblem)
        #expect(problem.offset == 11)
        try folder.write("submission.json", "[1]")
        #expect(try Submission.read(at: folder.url).metadataProblem?.reason == "the top level must be a JSON object")
    }
}
