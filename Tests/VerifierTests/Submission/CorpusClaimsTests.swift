import Foundation
import Testing
@testable import Verifier

/// Every record folder of the challenge corpus reads, and its key claims match
/// `fixtures/submissions/corpus-claims.tsv` (written by an independent Python script, reviewed by hand).
@Suite struct CorpusClaimsTests {
    static let records = Paths.shared("corpus/parameter-golf/records")

    struct Row {
        var folder: String
        var jsonValBPB: String?
        var jsonBytesTotal: String?
        var codeBytes: Int?
        var seeds: [Int]
        var logValBPB: [String: String]
    }

    static func expectations() throws -> [Row] {
        let text = try String(contentsOf: Paths.fixture("submissions/corpus-claims.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            func cell(_ index: Int) -> String? { index < cells.count && cells[index] != "-" ? cells[index] : nil }
            var logs: [String: String] = [:]
            for entry in (cell(5) ?? "").split(separator: ";") {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { logs[parts[0]] = parts[1] }
            }
            return Row(
                folder: cells[0], jsonValBPB: cell(1), jsonBytesTotal: cell(2), codeBytes: cell(3).flatMap { Int($0) },
                seeds: (cell(4) ?? "").split(separator: ",").compactMap { Int($0) }, logValBPB: logs)
        }
    }

    func topLevelJSON(_ submission: Submission, _ kind: ClaimKind, key: String) -> String? {
        submission.claims.first { claim in
            guard claim.kind == kind, case .jsonKey(_, let path) = claim.source else { return false }
            return path == key
        }.map { $0.value.description }
    }

    @Test func everyCorpusFolderReadsAndMatchesTheReviewedClaims() throws {
        let rows = try Self.expectations()
        #expect(rows.count == 60)
        for row in rows {
            let submission = try Submission.read(at: Self.records.appendingPathComponent(row.folder))
            #expect(topLevelJSON(submission, .valBPB, key: "val_bpb") == row.jsonValBPB, "\(row.folder): val_bpb")
            #expect(topLevelJSON(submission, .totalBytes, key: "bytes_total") == row.jsonBytesTotal, "\(row.folder): bytes_total")
            #expect(submission.code?.bytes == row.codeBytes, "\(row.folder): code bytes")

            let seeds = Set(submission.claims.compactMap { claim -> Int? in
                switch claim.source {
                case .jsonKey, .fileName: return claim.seed
                default: return nil
                }
            })
            #expect(seeds.sorted() == row.seeds, "\(row.folder): seeds")

            var headlines: [String: String] = [:]
            for claim in submission.claims(.valBPB) {
                if case .line(let file, _) = claim.source, file != "README.md" { headlines[file] = claim.value.description }
            }
            #expect(headlines == row.logValBPB, "\(row.folder): headline val_bpb per log")
        }
    }

    /// Folders checked by hand against their files (line numbers and values read with grep and sed).
    @Test func handCheckedFolders() throws {
        let baseline = try Submission.read(at: Self.records.appendingPathComponent("track_10min_16mb/2026-03-17_NaiveBaseline"))
        let finalScore = baseline.claims(.valBPB).first { $0.source == .line(file: "train.log", line: 448) }
        #expect(finalScore?.value == .number(1.2243657, literal: "1.22436570"))
        #expect(finalScore?.qualifier == "final_int8_zlib_roundtrip_exact")
        #expect(baseline.claims(.modelBytes).map(\.value.description) == ["15815847"])
        #expect(baseline.claims(.modelBytes).first?.source == .line(file: "train.log", line: 445))
        #expect(baseline.claims(.trainSeconds).first?.value.double == 600.038)
        #expect(baseline.claims(.evalSeconds).first?.value.double == 1.401)
        #expect(baseline.claims(.track).first?.value == .text("10min_16mb"))
        #expect(baseline.claims(.tokenizer).first?.value == .text("/root/code/parameter-golf/data/tokenizers/fineweb_1024_bpe.model"))
        #expect(baseline.claims(.seed).first?.value.integer == 1337)
        #expect(finalScore?.seed == 1337)  // the log's seed, stated on line 57, applies to its claims
        #expect(baseline.claims(.seed).first?.source == .line(file: "train.log", line: 57))
        #expect(baseline.claims(.evalMode).first?.value == .text("standard"))

        // Unix-timestamped log lines; seeds from logs/trainN.txt content; compressed-code claims.
        let varlen = try Submission.read(at: Self.records.appendingPathComponent("track_10min_16mb/2026-04-10_VarLenAttn"))
        let compressed = varlen.claims(.codeBytes).filter { $0.qualifier == "compressed" }.map(\.value.description)
        #expect(compressed == ["27310", "26845", "26845"])
        #expect(varlen.claims(.totalBytes).contains {
            $0.value.integer == 15996664 && $0.source == .line(file: "logs/train0.txt", line: 3160)
        })

        // Per-seed JSON in `seeds.<seed>` with milliseconds; TTT evaluation as the headline.
        let qk5 = try Submission.read(at: Self.records.appendingPathComponent("track_10min_16mb/2026-04-06_SP8192_QK5_LegalTTT_1.0828"))
        let train0 = qk5.claims(.trainSeconds).first { $0.source == .jsonKey(file: "submission.json", path: "seeds.0.train_time_ms") }
        #expect(train0?.value.double == 588.004)
        #expect(train0?.seed == 0)
        #expect(qk5.claims(.evalMode).contains { $0.value == .text("ttt") && $0.seed == 42 })

        // A 74-byte loader that execs train_gpt_decode.py.
        let hessian = try Submission.read(at: Self.records.appendingPathComponent(
            "track_10min_16mb/2026-04-06_SP8192_HessianSDClip_ProgressiveRecurrence"))
        #expect(hessian.code?.bytes == 74)
        #expect(hessian.code?.referencedFiles == [SubmissionFileInfo(name: "train_gpt_decode.py", bytes: 80055)])

        // Self-extracting lzma/base85 wrapper.
        let wrapped = try Submission.read(at: Self.records.appendingPathComponent(
            "track_10min_16mb/2026-04-08_SP8192_ParallelResid_ScoreFirstTTT"))
        #expect(wrapped.code?.packing == .selfExtracting)
        #expect(wrapped.code?.bytes == 17347)

        // A variant metadata name (submission_ternary.json) and budget/artifact lines.
        let ternary = try Submission.read(at: Self.records.appendingPathComponent(
            "track_10min_16mb/2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon"))
        #expect(ternary.metadata?.name == "submission_ternary.json")
        #expect(ternary.claims(.totalBytes).contains { $0.qualifier == "budget" && $0.value.integer == 15992753 })
        #expect(ternary.claims(.evalStride).contains { $0.value.integer == 16 })
    }
}
