import Testing
@testable import Verifier

@Suite struct LogClaimsTests {
    func claims(_ lines: [String], name: String = "train_seed42.log") -> [Claim] {
        LogClaims.claims(from: SubmissionTextFile(name: name, bytes: 0, lines: lines))
    }

    @Test func seedsFromFileNames() {
        #expect(LogClaims.seedFromName("train_seed42.log") == 42)
        #expect(LogClaims.seedFromName("ttt_pr1767/seed_1234.log") == 1234)
        #expect(LogClaims.seedFromName("log_10mins_seed-7.txt") == 7)
        #expect(LogClaims.seedFromName("train_seed1234_rerun_gptq8s.log") == 1234)
        #expect(LogClaims.seedFromName("logs_experiment/4096_hybrid448_s1337.txt") == 1337)
        #expect(LogClaims.seedFromName("hybrid_gdn_1xh100_600s_seq8192.txt") == nil)
        #expect(LogClaims.seedFromName("train.log") == nil)
    }

    @Test func aSeedListedInALineOfSettingsIsTheLogsSeedWhenNothingElseStatesOne() {
        // `b079462ba7c6`'s `phrase_small_2048x64.txt`: the script prints its seed only after other settings.
        let settings = "bigram_buckets:2048 bigram_embed_dim:64 trigram_buckets:2048 trigram_embed_dim:64 seed:1337"
        let exportLines = ["Serialized model int8+zstd-22: 17302214 bytes", "Total submission size int8+zstd-22: 17364329 bytes"]
        let found = claims(["    log0(f\"bigram_buckets:{args.bigram_buckets} seed:{args.seed}\")", settings] + exportLines,
                           name: "phrase_small_2048x64.txt")
        #expect(found.filter { $0.kind == .seed }.map(\.source) == [ClaimSource.line(file: "phrase_small_2048x64.txt", line: 2)])
        #expect(found.filter { $0.kind == .totalBytes }.map(\.seed) == [1337])
        // A seed the log states at the start of a line wins over a component's seed listed later (`spinquant:baked seed:0`).
        let stated = claims(["seed:42", "spinquant:baked seed:0 weights:66 hessians:66 missing_hessian:0"] + exportLines, name: "train.log")
        #expect(stated.filter { $0.kind == .seed }.map(\.value.description) == ["42"])
        #expect(stated.filter { $0.kind == .totalBytes }.map(\.seed) == [42])
        // Not a settings line: prose, or `seed:` as its first word (already a seed setting).
        #expect(LogClaims.settingsLineSeed("Running with seed:7 now") == nil)
        #expect(LogClaims.settingsLineSeed("lr:embed=0.6 matrix=0.04 scalar=0.04 batch:524288 wall:600s seed:1337") == 1337)
        #expect(LogClaims.settingsLineSeed("trigram_embed_dim:64 seed:13x7") == nil)
    }

    @Test func sizeLinesDistinguishRawFromCompressed() {
        let found = claims([
            "Serialized model: 67224983 bytes",
            "Code size: 47642 bytes",
            "Total submission size: 67272625 bytes",
            "Serialized model int8+zlib: 15815847 bytes (payload:17178912 raw_torch:17224025 payload_ratio:3.91x)",
            "Total submission size int8+zlib: 15863489 bytes",
            "        log0(f\"Code size: {code_bytes} bytes\")",
        ])
        let sizes = found.filter { [.codeBytes, .modelBytes, .totalBytes].contains($0.kind) }
        #expect(sizes.map(\.kind) == [.codeBytes, .modelBytes, .totalBytes])
        #expect(sizes.map(\.value.description) == ["47642", "15815847", "15863489"])
        #expect(sizes.map(\.source) == [2, 4, 5].map { ClaimSource.line(file: "train_seed42.log", line: $0) })
        #expect(sizes[1].qualifier == "int8+zlib")
        #expect(sizes.allSatisfy { $0.seed == 42 })
    }

    @Test func unqualifiedTotalAfterCompressedModelCounts() {
        let found = claims(["Serialized model rdquant+zstd: 16558180 bytes", "Total submission size: 16638468 bytes"])
        #expect(found.filter { $0.kind == .totalBytes }.map(\.value.description) == ["16638468"])
    }

    /// `c609cf487368`'s seed999.log ends with its packing step's summary (after a rank prefix on other lines).
    @Test func packingSummaryLines() {
        let found = claims([
            "=== PACK (rc=0) ===",
            "Packed code: 19646 bytes (raw=70361 bytes)",
            "Model blob : 15976105 bytes",
            "Submission size: 15995751 bytes",
            "Submission size limit: 16000000 bytes",
            "Packed code: 500 bytes",
        ])
        #expect(found.filter { [.codeBytes, .modelBytes, .totalBytes].contains($0.kind) }
            .map { "\($0.kind.rawValue) \($0.qualifier ?? "-")=\($0.value) l.\($0.source)" }
            == ["code_bytes packed (compressed)=19646 l.train_seed42.log:2", "model_bytes Model blob=15976105 l.train_seed42.log:3",
                "total_bytes Submission size=15995751 l.train_seed42.log:4", "code_bytes Packed code=500 l.train_seed42.log:6"])
    }

    /// `51a9c7bcc28f`'s train_seed2024.log: the GPTQ export's one-line summary, numbers grouped by thousands.
    @Test func exportSummaryLines() {
        let found = claims(["gptq_int6_brotli: 14,984,356 bytes | code: 90,756 | total: 15,075,112 (15.08MB)",
                            "gptq_mixed_brotli: 15772447 bytes | code: 91673 | total: 15864120",
                            "gptq_int6_brotli: 14,98,356 bytes | code: 90,756 | total: 15,075,112",
                            "note: 5 bytes | code: 7 | total: 12 | extra: 1"])
        #expect(found.filter { [.codeBytes, .modelBytes, .totalBytes].contains($0.kind) }.map { "\($0.kind.rawValue)=\($0.value)" }
                == ["model_bytes=14984356", "code_bytes=90756", "total_bytes=15075112",
                    "model_bytes=15772447", "code_bytes=91673", "total_bytes=15864120"])
    }

    @Test func compressedCodeAndBudgetLines() {
        let found = claims([
            "Code size (uncompressed): 151766 bytes",
            "Code size (compressed): 31250 bytes",
            "artifact:15.92MB ternary:64880640(14237274B) fp:2513744(2537376B) code:70853",
            "budget:15992753/16000000 (15.99/16.00MB) FITS",
        ])
        #expect(found.filter { $0.kind == .codeBytes }.map { "\($0.qualifier ?? "-")=\($0.value)" }
                == ["uncompressed=151766", "compressed=31250", "-=70853"])
        #expect(found.filter { $0.kind == .totalBytes }.map(\.value.description) == ["15992753"])
    }

    @Test func headlineIsTheLastNonDiagnosticEvaluation() {
        let found = claims([
            "1776144162.871 step:4000/20000 val_loss:2.6410 val_bpb:1.1478 train_time:590000ms step_avg:90.00ms",
            "1776144162.900 stopping_early: wallclock_cap train_time:599800ms step:4100/20000",
            "final_int6_sliding_window val_loss:1.8822 val_bpb:1.1148 stride:64 eval_time:77150ms",
            "final_int6_sliding_window_exact val_loss:1.88220393 val_bpb:1.11475014",
            "diagnostic quantized val_loss:2.0 val_bpb:1.2 eval_time:100ms",
        ])
        let bpb = found.filter { $0.kind == .valBPB }
        #expect(bpb.count == 1)
        #expect(bpb.first?.value == .number(1.11475014, literal: "1.11475014"))
        #expect(bpb.first?.source == .line(file: "train_seed42.log", line: 4))
        #expect(found.first { $0.kind == .evalMode }?.value == .text("sliding_window"))
        #expect(found.first { $0.kind == .evalStride }?.source == .line(file: "train_seed42.log", line: 3))
        #expect(found.first { $0.kind == .evalSeconds }?.value.double == 77.15)
        #expect(found.first { $0.kind == .trainSeconds }?.value.double == 599.8)
        #expect(found.first { $0.kind == .trainSeconds }?.source == .line(file: "train_seed42.log", line: 2))
    }

    @Test func settingsFromHyperparameterDumps() {
        let found = claims(["  seed: 7", "  ttt_lr: 0.005", "  ttt_enabled: True", "  tokenizer_path: ./tok.model",
                            "total_eval_time:412.8s", "quantized_ttt_phased val_loss:2.32 val_bpb:1.06 eval_time:412798ms"],
                           name: "logs/train0.txt")
        #expect(found.first { $0.kind == .seed }?.value.integer == 7)
        #expect(found.filter { $0.kind == .tttSetting }.map { "\($0.qualifier ?? "")=\($0.value)" }
                == ["ttt_lr=0.005", "ttt_enabled=True"])
        #expect(found.first { $0.kind == .tokenizer }?.value == .text("./tok.model"))
        #expect(found.first { $0.kind == .evalSeconds }?.qualifier == "total_eval_time")
        #expect(found.first { $0.kind == .evalSeconds }?.value.double == 412.8)
        #expect(found.first { $0.kind == .evalMode }?.value == .text("ttt"))
    }
}
