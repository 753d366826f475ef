import Foundation
import Testing
@testable import Verifier

/// SIZE-CLAIMED-OVER-CAP judges the submitted artifact: the last export of the runs the claims are of.
/// Figures of other configurations' logs, of logs the folder marks as not submitted, and of an export a
/// later one in the same log replaces are notes; the submitted run's own excess still fails.
@Suite struct SubmittedArtifactTests {
    /// A folder of `files` (relative path → text) with a 50,000-byte `train_gpt.py`, audited in-process.
    static func audit(_ files: [String: String]) throws -> AuditContext {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-artifact-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("track_non_record_16mb/run")
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try Data(String(repeating: "#", count: 50_000).utf8).write(to: folder.appendingPathComponent("train_gpt.py"))
        return AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
    }

    /// A complete run's log: seed, training time, its exports (scheme, model bytes, total bytes) and score.
    static func run(seed: Int, bpb: String, exports: [(String, Int, Int?)]) -> String {
        var lines = ["seed:\(seed)", "step:7000/20000 val_loss:2.0000 val_bpb:1.2000 train_time:590000ms step_avg:84.29ms",
                     "stopping_early: wallclock_cap train_time:590000ms step:7000/20000", "Serialized model: 90000000 bytes",
                     "Code size: 50000 bytes"]
        for (scheme, model, total) in exports {
            lines.append("Serialized model \(scheme): \(model) bytes")
            if let total { lines.append("Total submission size \(scheme): \(total) bytes") }
        }
        lines.append("final_int8_zlib_roundtrip_exact val_loss:2.00000000 val_bpb:\(bpb)")
        return lines.joined(separator: "\n") + "\n"
    }

    static func overCap(_ context: AuditContext) -> [SizeFinding] {
        context.size.findings.filter { $0.id == .claimedOverCap }
    }

    @Test func anEarlierExportInTheSameLogIsNotTheArtifact() throws {
        // int8+zlib printed first, then the GPTQ+brotli artifact under the cap (`d5c07feb1937`).
        let log = Self.run(seed: 42, bpb: "1.08200000", exports: [("int8+zlib", 24_650_958, 24_738_190), ("GPTQ+SDClip+brotli", 15_693_944, nil)])
        let context = try Self.audit(["train_seed42.log": log, "submission.json": #"{"val_bpb": 1.0820}"#])
        #expect(Self.overCap(context).map(\.severity) == [.note, .note])
        #expect(Self.overCap(context).allSatisfy { $0.message.contains("exports the model again later (train_seed42.log:8: GPTQ+SDClip+brotli, 15693944 bytes)") })
        #expect(context.size.status != .fail)
    }

    @Test func aLaterExportPassInTheSameLogIsTheArtifact() throws {
        // `2aef0c47f711`'s train_seed42.log: after the run's int6+lzma export, a storage-only pass re-exports the checkpoint.
        let log = """
            seed:42
            stopping_early: wallclock_cap train_time:599513ms step:7088/20000
            Serialized model: 108256504 bytes
            Code size: 92888 bytes
            Serialized model int6+lzma: 16210528 bytes
            Total submission size int6+lzma: 16303416 bytes
            final_int6_sliding_window_exact val_loss:1.89404824 val_bpb:1.12176502
            ===== STORAGE PASS =====
            [Wed Apr  1 19:29:27 UTC 2026] storage pass start seed=42
            storage_pass quant_bytes=15815344
            storage_pass code_bytes=92888
            storage_pass estimated_total=15908232
            storage_pass_final_exact val_loss:1.89676627 val_bpb:1.12337480

            """
        let context = try Self.audit(["train_seed42.log": log, "submission.json": #"{"val_bpb": 1.1230323}"#])
        let exports = context.submission.claims.filter { $0.qualifier == "storage_pass" }
        #expect(exports.map { "\($0.kind.rawValue) \($0.value)" } == ["model_bytes 15815344", "total_bytes 15908232"])
        #expect(Self.overCap(context).map(\.severity) == [.note, .note])
        #expect(Self.overCap(context).allSatisfy { $0.message.contains("exports the model again later (train_seed42.log:10: storage_pass, 15815344 bytes)") })
        // Not an export pass's line: more words, or another key.
        #expect(LogClaims.stageSize("storage_pass code_bytes=92888") == nil)
        #expect(LogClaims.stageSize("pass quant_bytes=15815344 extra=1") == nil)
    }

    @Test func aRunBeforeTheSeedsStatedRunInTheSameLogIsAnotherRun() throws {
        // A first run's export over the cap (`46a3a4103c3f`, `740bfb1e65d3`), then training again and the submitted
        // export, whose total `seed_results.999.artifact_bytes` states.
        let smoke = Self.run(seed: 999, bpb: "1.09000000", exports: [("int6+brotli", 15_994_543, 16_044_543)])
        let submitted = Self.run(seed: 999, bpb: "1.08000000", exports: [("int6+brotli", 15_900_105, 15_950_105)])
            .replacingOccurrences(of: "seed:999\n", with: "")
        let json = #"{"seeds": [999], "seed_results": {"999": {"val_bpb": 1.08, "artifact_bytes": 15950105}}}"#
        let context = try Self.audit(["seed999.log": smoke + submitted, "submission.json": json])
        #expect(Self.overCap(context).map(\.severity) == [.note, .note])
        #expect(Self.overCap(context).allSatisfy { $0.message.contains("line 6 is of another run in the same log")
            || $0.message.contains("line 7 is of another run in the same log") })
        #expect(context.size.status != .fail)
        // Without the stated figure, or with it printed by the same run as the excess, the excess is judged.
        let unstated = #"{"seeds": [999], "seed_results": {"999": {"val_bpb": 1.08}}}"#
        #expect(Self.overCap(try Self.audit(["seed999.log": smoke + submitted, "submission.json": unstated])).map(\.severity) == [.error, .error])
        let sameRun = #"{"seeds": [999], "seed_results": {"999": {"val_bpb": 1.09, "model_bytes": 15994543}}}"#
        let judged = Self.overCap(try Self.audit(["seed999.log": smoke + submitted, "submission.json": sameRun]))
        #expect(judged.count == 3 && judged.allSatisfy { $0.severity == .error })
        // `5628b9b151f6`: the size stated is the later run's, but the score claimed is the earlier run's, over the cap.
        let mixed = #"{"seeds": [999], "seed_results": {"999": {"val_bpb": 1.09, "artifact_bytes": 15950105}}}"#
        #expect(Self.overCap(try Self.audit(["seed999.log": smoke + submitted, "submission.json": mixed])).map(\.severity) == [.error, .error])
    }

    @Test func theLastExportOverTheCapStillFails() throws {
        // An earlier export under the cap does not excuse the last one over it.
        let log = Self.run(seed: 42, bpb: "1.08200000", exports: [("int6+lzma", 15_500_000, 15_550_000), ("int6+brotli", 16_100_000, 16_150_000)])
        let context = try Self.audit(["train_seed42.log": log, "submission.json": #"{"val_bpb": 1.0820}"#])
        #expect(Self.overCap(context).map(\.severity) == [.error, .error])
        #expect(Self.overCap(context).allSatisfy { $0.message.contains("train_seed42.log:9") || $0.message.contains("train_seed42.log:8") })
        #expect(context.size.status == .fail)
    }

    @Test func aLogOfSeveralRunsHasOneArtifactPerRun() throws {
        // `ff8cb31a1426`'s results_summary.log: one section per seed, each its own training and export.
        let summary = """
            === Seed 1337 ===
            stopping_early: wallclock train_time:600106ms step:5583/20000
            Serialized model int8+zlib: 30111815 bytes
            final_int8_zlib_roundtrip_exact val_loss:2.02064813 val_bpb:1.19674164
            === Seed 42 ===
            stopping_early: wallclock train_time:600xxx step:~5500/20000
            Serialized model int8+zlib: 30130131 bytes
            final_int8_zlib_roundtrip_exact val_loss:2.01931206 val_bpb:1.19595034

            """
        let context = try Self.audit(["results_summary.log": summary, "submission.json": #"{"val_bpb": 1.1962}"#])
        #expect(Self.overCap(context).map(\.severity) == [.error, .error])
    }

    @Test func aLogWithoutASeedBesideEveryNamedSeedsStatedRunIsAnotherRun() throws {
        // `d13905b5e29f`: `seed_results.42.artifact_bytes` is `training_stdout_seed42.txt`'s total; a requantization
        // experiment's log, with no seed and none of submission.json's figures, is not the submitted artifact's.
        let training = "seed:42\nSerialized model int6+lzma: 15746820 bytes\nTotal submission size int6+lzma: 15869503 bytes\n"
        let requant = "code_bytes_est: 123310\nSerialized mixed int6/int7+lzma: 16672060 bytes (15.900 MB)\nartifact_bytes:     16672060\n"
        let json = #"{"seeds": [42], "seed_results": {"42": {"artifact_bytes": 15869503, "model_bytes": 15746820}}}"#
        let context = try Self.audit(["training_stdout_seed42.txt": training, "supporting_files/requant_mixed_v1.log": requant,
                                      "submission.json": json])
        #expect(Self.overCap(context).map(\.severity) == [.note])
        #expect(Self.overCap(context).first?.message.contains("supporting_files/requant_mixed_v1.log states no seed") == true)
        #expect(Self.overCap(context).first?.message.contains("seed 42: submission.json: seed_results.42.artifact_bytes at training_stdout_seed42.txt:3") == true)
        // While a named seed's run is not identified by a stated size, the log may be that seed's run: judged.
        let twoSeeds = #"{"seeds": [42, 7], "seed_results": {"42": {"artifact_bytes": 15869503}}}"#
        let open = try Self.audit(["training_stdout_seed42.txt": training, "supporting_files/requant_mixed_v1.log": requant,
                                   "submission.json": twoSeeds])
        #expect(Self.overCap(open).map(\.severity) == [.error])
        // A log without a seed that prints a stated figure is not set aside by this (its excess, if any, is judged).
        let reexport = "Serialized model int6+lzma: 15746820 bytes\nTotal submission size int6+lzma: 16100000 bytes\n"
        let printed = try Self.audit(["training_stdout_seed42.txt": training, "export.log": reexport, "submission.json": json])
        #expect(Self.overCap(printed).map(\.severity) == [.error])
    }

    @Test func anotherConfigurationWithTheClaimedRunsSeedIsNotJudged() throws {
        // Two seed-1337 runs of different configurations; submission.json's seed-1337 score is `run_single_hash.log`'s.
        let files = [
            "run_multi_hash.log": Self.run(seed: 1337, bpb: "1.11738440", exports: [("int6+lzma", 16_147_853, 16_197_853)]),
            "run_single_hash.log": Self.run(seed: 1337, bpb: "1.11959957", exports: [("int6+lzma", 15_887_956, 15_937_956)]),
            "submission.json": #"{"seed_results": {"1337": {"val_bpb": 1.11959957}}, "bytes_total": 15937956}"#,
        ]
        let context = try Self.audit(files)
        #expect(context.runs.map(\.log) == ["run_single_hash.log"])
        #expect(context.exploratoryRuns.map(\.run.log) == ["run_multi_hash.log"])
        #expect(context.exploratoryRuns.first?.reason.contains("submission.json's val_bpb is that of run_single_hash.log") == true)
        #expect(Self.overCap(context).map(\.severity) == [.note, .note])
        #expect(context.size.status != .fail)
    }

    @Test func aPlainTopLevelScoreSetsNoReplicateAside() throws {
        // `2026-03-17_LoRA_TTT`: four seed-1337 runs, the README reports all four, the claim is the last one's.
        var files = ["submission.json": #"{"val_bpb": 1.1929}"#]
        for (index, bpb) in ["1.19350000", "1.19270000", "1.19210000", "1.19290000"].enumerated() {
            files["train_v\(index).txt"] = Self.run(seed: 1337, bpb: bpb, exports: [("int8+zlib", 15_800_000, 15_850_000)])
        }
        let context = try Self.audit(files)
        #expect(context.exploratoryRuns.isEmpty)
        #expect(context.runs.count == 4)
    }

    @Test func theClaimedRunOverTheCapStillFails() throws {
        // `bb6b0170d703`: the score submission.json claims is the over-cap run's; the other is set aside.
        let files = [
            "parallel_swiglu_1x4090.txt": Self.run(seed: 1337, bpb: "1.21928201", exports: [("int8+zlib", 20_138_273, 20_186_723)]),
            "parallel_swiglu_h100.txt": Self.run(seed: 1337, bpb: "1.36427749", exports: [("int8+zlib", 11_077_764, 11_126_214)]),
            "submission.json": #"{"seed_results": {"1337": {"val_bpb": "1.2193"}}}"#,
        ]
        let context = try Self.audit(files)
        #expect(context.runs.map(\.log) == ["parallel_swiglu_1x4090.txt"])
        #expect(Self.overCap(context).map(\.severity) == [.error, .error])
        #expect(context.size.status == .fail)
    }

    @Test func replicatesOfOtherSeedsStaySubmitted() throws {
        // The claimed score is seed 42's; the seed-7 run may be a replicate of it: still judged.
        let files = [
            "train_seed42.log": Self.run(seed: 42, bpb: "1.10000000", exports: [("int6+lzma", 15_000_000, 15_050_000)]),
            "train_seed7.log": Self.run(seed: 7, bpb: "1.10500000", exports: [("int6+lzma", 16_200_000, 16_250_000)]),
            "submission.json": #"{"seed_results": {"42": {"val_bpb": 1.1000}}}"#,
        ]
        let context = try Self.audit(files)
        #expect(context.runs.count == 2)
        #expect(context.exploratoryRuns.isEmpty)
        #expect(Self.overCap(context).map(\.severity) == [.error, .error])
    }

    @Test func aSeparateEvaluationLogDoesNotSetAsideItsTrainingLog() throws {
        // The claimed score is the eval-only log's (no training time): the training log of that seed is the same run.
        let training = Self.run(seed: 42, bpb: "1.15000000", exports: [("int6+lzma", 16_300_000, 16_350_000)])
        let evaluation = "seed:42\nfinal_ttt_exact val_loss:1.90000000 val_bpb:1.10000000 eval_time:400000ms\n"
        let context = try Self.audit(["train_seed42.log": training, "eval_seed42.log": evaluation,
                                      "submission.json": #"{"seed_results": {"42": {"val_bpb": 1.1000}}}"#])
        #expect(context.exploratoryRuns.isEmpty)
        #expect(Self.overCap(context).map(\.severity) == [.error, .error])
    }

    @Test func theMeanOverOneRunPerNamedSeedPicksTheSubmittedArm() throws {
        // `43a1d5c75e0f`: a 2×2 ablation, the claimed mean is the `qat` arm's; the `control` arm's over-cap run is not judged.
        let files = [
            "logs/qat_seed42.log": Self.run(seed: 42, bpb: "1.13968856", exports: [("int8+zlib", 15_700_000, 15_750_000)]),
            "logs/qat_seed1337.log": Self.run(seed: 1337, bpb: "1.14009800", exports: [("int8+zlib", 15_720_000, 15_770_000)]),
            "logs/control_seed42.log": Self.run(seed: 42, bpb: "1.14335055", exports: [("int8+zlib", 16_431_825, 16_481_825)]),
            "logs/control_seed1337.log": Self.run(seed: 1337, bpb: "1.14350233", exports: [("int8+zlib", 15_970_722, 16_020_722)]),
            "submission.json": #"{"val_bpb": 1.13989, "seeds": [42, 1337]}"#,
        ]
        let context = try Self.audit(files)
        #expect(Set(context.runs.map(\.log)) == ["logs/qat_seed42.log", "logs/qat_seed1337.log"])
        #expect(Set(context.exploratoryRuns.map(\.run.log)) == ["logs/control_seed42.log", "logs/control_seed1337.log"])
        #expect(Self.overCap(context).allSatisfy { $0.severity == .note })
        #expect(Self.overCap(context).count == 4)
    }

    @Test(arguments: [
        ("logs/ablation_no_ttt_seed42.log", true), ("run_overcap_multi_hash.log", true), ("exploratory/p11_s42.txt", true),
        ("data/pg_logs/lb_baseline.txt", true), ("train_seed42.log", false), ("runs/seed_1338/train.log", false),
        ("baseline_seed42.log", false), ("data.log", false),
    ])
    func pathsThatMarkALogAsNotSubmitted(path: String, marked: Bool) {
        #expect((RunSelection.markedNotSubmitted(path) != nil) == marked)
    }

    @Test func markedLogsAreSetAsideUnlessEveryLogIsMarked() throws {
        let over = Self.run(seed: 1, bpb: "1.30000000", exports: [("int8+zlib", 16_500_000, 16_550_000)])
        let under = Self.run(seed: 2, bpb: "1.20000000", exports: [("int8+zlib", 15_500_000, 15_550_000)])
        // Other submissions' logs a study keeps under data/ (`2c73ba6a9456`).
        let study = try Self.audit(["data/pg_logs/lb_11l.txt": over, "train.log": under, "submission.json": "{}"])
        #expect(study.exploratoryRuns.map(\.run.log) == ["data/pg_logs/lb_11l.txt"])
        #expect(Self.overCap(study).map(\.severity) == [.note, .note])
        // A marked log whose score submission.json claims is the submitted run (`fc60451d95aa`).
        let claimed = try Self.audit(["smart_roles_ablation.log": over, "train.log": under,
                                      "submission.json": #"{"val_bpb": 1.30000000}"#])
        #expect(claimed.exploratoryRuns.isEmpty)
        #expect(Self.overCap(claimed).map(\.severity) == [.error, .error])
        // Every log under data/: still inputs, none is the submission's run.
        let onlyData = try Self.audit(["data/pg_logs/lb_11l.txt": over, "data/hardware.txt": "world_size:8\n", "submission.json": "{}"])
        #expect(onlyData.exploratoryRuns.map(\.run.log) == ["data/pg_logs/lb_11l.txt"])
        #expect(Self.overCap(onlyData).map(\.severity) == [.note, .note])
        // Every log marked by its name: the marks name the submission itself; judged.
        let ablations = try Self.audit(["ablation_a.txt": over, "ablation_b.txt": under, "submission.json": "{}"])
        #expect(ablations.exploratoryRuns.isEmpty)
        #expect(Self.overCap(ablations).map(\.severity) == [.error, .error])
    }
}

/// Which run a folder submits, from the sizes submission.json states: the log of a seed that prints that figure
/// is the submitted run of the seed; figures under a named configuration of submission.json are that configuration's.
extension SubmittedArtifactTests {
    @Test func theLogPrintingSubmissionJSONsSizeIsTheSubmittedRunOfItsSeed() throws {
        // `a08d55a7396d`: three seed-1337 policy runs; submission.json's bytes_total is train.log's export.
        let files = [
            "train.log": Self.run(seed: 1337, bpb: "1.52481100", exports: [("int6+zlib", 13_092_044, 13_144_462)]),
            "train_policy_allcats.log": Self.run(seed: 1337, bpb: "1.48822256", exports: [("int6+zlib", 16_158_133, 16_210_551)]),
            "submission.json": #"{"val_bpb": 1.52481100, "bytes_total": 13144462}"#,
        ]
        let context = try Self.audit(files)
        #expect(Self.overCap(context).map(\.severity) == [.note, .note])
        #expect(Self.overCap(context).allSatisfy {
            $0.message.contains("is the export printed at train.log:7, the submitted run of seed 1337; train_policy_allcats.log is another run")
        })
        #expect(context.size.status != .fail)
    }

    @Test func anotherSeedsLogOverTheCapStillFails() throws {
        // submission.json's figure is seed 42's export; seed 7's over-cap log is another seed, judged.
        let files = [
            "train_seed42.log": Self.run(seed: 42, bpb: "1.10000000", exports: [("int6+lzma", 15_000_000, 15_050_000)]),
            "train_seed7.log": Self.run(seed: 7, bpb: "1.10500000", exports: [("int6+lzma", 16_200_000, 16_250_000)]),
            "submission.json": #"{"val_bpb": 1.1025, "bytes_total": 15050000}"#,
        ]
        #expect(Self.overCap(try Self.audit(files)).map(\.severity) == [.error, .error])
        // Logs without a seed are not matched: either may be any seed's run.
        let unseeded = [
            "a.log": Self.run(seed: 42, bpb: "1.10000000", exports: [("int6+lzma", 15_000_000, 15_050_000)])
                .replacingOccurrences(of: "seed:42\n", with: ""),
            "b.log": Self.run(seed: 7, bpb: "1.10500000", exports: [("int6+lzma", 16_200_000, 16_250_000)])
                .replacingOccurrences(of: "seed:7\n", with: ""),
            "submission.json": #"{"val_bpb": 1.1025, "bytes_total": 15050000}"#,
        ]
        #expect(Self.overCap(try Self.audit(unseeded)).map(\.severity) == [.error, .error])
    }

    @Test func aNamedConfigurationsFigureIsNotTheSubmissions() throws {
        // `ed3e5357cec2`: a Pareto curve of other bit widths beside the submitted seed-42 figure.
        let json = #"{"seed_results": {"42": {"val_bpb": 1.0872, "artifact_bytes": 15879906}}, "#
            + #""pareto_curve": {"int5": {"val_bpb": 1.07308, "artifact_bytes": 23856991}}}"#
        let context = try Self.audit(["submission.json": json])
        let findings = Self.overCap(context)
        #expect(findings.map(\.severity) == [.note])
        #expect(findings.first?.message.contains("it is under `pareto_curve.int5`, a configuration submission.json names beside "
            + "the submission's own figure (submission.json: seed_results.42.artifact_bytes: 15879906 bytes)") == true)
        // Without a figure of its own, a qualified figure over the cap is the only one there is: judged.
        let alone = try Self.audit(["submission.json": #"{"compliance_rerun": {"bytes_total": 16100000}}"#])
        #expect(Self.overCap(alone).map(\.severity) == [.error])
    }
}
