import Foundation
import Testing
@testable import Verifier

/// The time limits are for 8×H100: a time over 600 s from a run on fewer GPUs or a slower model
/// (as its log or submission.json states) is a warning that the limit cannot be judged, not a failure.
@Suite struct RunHardwareTests {
    @Test func readsGPUCountsAndModels() {
        #expect(RunHardware.worldSize(in: "world_size:1 grad_accum_steps:8") == 1)
        #expect(RunHardware.worldSize(in: "world_size: 8") == 8)
        #expect(RunHardware.worldSize(in: "rank=0 world_size=4 local_rank=0") == 4)
        #expect(RunHardware.worldSize(in: "log0(f\"world_size:{world_size} grad_accum_steps:{grad_accum_steps}\")") == nil)
        #expect(RunHardware.nvidiaModel(in: "|   0  NVIDIA GeForce RTX 5090        Off |   00000000:01:00.0 Off |") == "GeForce RTX 5090")
        #expect(RunHardware.nvidiaModel(in: "|   0  NVIDIA H100 80GB HBM3          On  |") == "H100 80GB HBM3")
        #expect(RunHardware.nvidiaModel(in: "| NVIDIA-SMI 550.127.05   Driver Version: 550.127.05") == nil)
        #expect(RunHardware.leadingCount(in: "8xH100 80GB SXM") == 8)
        #expect(RunHardware.leadingCount(in: "1×H100 80GB") == 1)
        #expect(RunHardware.leadingCount(in: "8 x H100") == 8)
        #expect(RunHardware.leadingCount(in: "H100 SXM") == nil)
        #expect(RunHardware(gpus: 8, model: "H100 80GB HBM3", source: "").isBelowReference == false)
        #expect(RunHardware(gpus: 8, model: "H200", source: "").isBelowReference == false)
        #expect(RunHardware(gpus: nil, model: nil, source: "").isBelowReference == false)
        #expect(RunHardware(gpus: 2, model: "H100", source: "").isBelowReference == true)
        #expect(RunHardware(gpus: 8, model: "A100-SXM4-80GB", source: "").isBelowReference == true)
        #expect(RunHardware(gpus: nil, model: "GeForce RTX 5090", source: "").isBelowReference == true)
        #expect(RunHardware.knownModel(in: "8xA800-SXM4-80GB") == "A800")
    }

    /// A one-log folder: `log` as `train.log`, submission.json with `metadata` members.
    static func folder(log: String, metadata: String = "") throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pgverify-hardware-\(UUID().uuidString)/track_10min_16mb/run")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(log.utf8).write(to: directory.appendingPathComponent("train.log"))
        try Data("{\"val_bpb\": 1.2945\(metadata)}".utf8).write(to: directory.appendingPathComponent("submission.json"))
        try Data("print('train')\n".utf8).write(to: directory.appendingPathComponent("train_gpt.py"))
        return directory
    }

    static func timeTrain(_ folder: URL) throws -> AuditCheck {
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent().deletingLastPathComponent()) }
        let context = AuditContext(submission: try Submission.read(at: folder), options: AuditOptions())
        return try #require(try TimeLimitCheckProvider().checks(for: context).first { $0.id == "TIME-TRAIN" })
    }

    static let steps = """
        step:11603/20000 val_loss:2.1858 val_bpb:1.2945 train_time:1200050ms step_avg:103.43ms
        stopping_early: wallclock_cap train_time:1200050ms step:11603/20000
        final_int8_zlib_roundtrip_exact val_loss:2.18580000 val_bpb:1.29450000

        """

    @Test func anOverLimitTimeOnOneGPUIsNotAFailure() throws {
        let check = try Self.timeTrain(try Self.folder(log: "world_size:1 grad_accum_steps:8\n" + Self.steps))
        #expect(check.status == .incomplete)
        #expect(check.findings.map(\.severity) == [.warning])
        #expect(check.findings.first?.message.contains("s on 1 GPU (train.log:1), not on 8×H100") == true)
    }

    @Test func anOverLimitTimeOnEightH100sFails() throws {
        let smi = "|   0  NVIDIA H100 80GB HBM3          On  |\n"
        let check = try Self.timeTrain(try Self.folder(log: "world_size:8 grad_accum_steps:1\n" + smi + Self.steps))
        #expect(check.status == .fail)
        #expect(check.findings.map(\.severity) == [.error])
        // Eight GPUs stated, no model: the limit's own model is assumed.
        #expect(try Self.timeTrain(try Self.folder(log: "world_size:8\n" + Self.steps)).status == .fail)
    }

    /// Severity follows evidence: with no GPU count stated anywhere (`2e42217c3ad8`: 12,476 s, 624 ms a step), the
    /// time may be one GPU's; it is a warning and the check incomplete, not a failure.
    @Test func anOverLimitTimeWithoutAStatedGPUCountIsNotAFailure() throws {
        let check = try Self.timeTrain(try Self.folder(log: Self.steps))
        #expect(check.status == .incomplete)
        #expect(check.findings.map(\.severity) == [.warning])
        #expect(check.findings.first?.message.contains("no GPU count is stated for the run in its log, its name, submission.json or the README") == true)
        // A model without a count (`NVIDIA H100` in the log): still no count.
        let smi = "|   0  NVIDIA H100 80GB HBM3          On  |\n"
        #expect(try Self.timeTrain(try Self.folder(log: smi + Self.steps)).findings.first?.message
            .contains("(H100 80GB HBM3, train.log:1)") == true)
        // submission.json's figure takes the count its submitted logs agree on.
        let json = try Self.timeTrain(try Self.folder(log: "world_size:8\n" + Self.steps.replacingOccurrences(of: "1200050", with: "590000"),
                                                     metadata: ", \"wallclock_seconds\": 702.7"))
        #expect(json.status == .fail)
        #expect(json.findings.filter { $0.severity == .error }.map(\.message) == ["submission.json: training took 702.7 s, over the 600 s limit"])
    }

    /// `a9a9cd65d7c9`: the logs print no `world_size`; the README's launch command runs 8 processes.
    @Test func theReadmesLaunchCommandStatesTheCount() throws {
        #expect(RunHardware.processesPerNode(in: "torchrun --standalone --nproc_per_node=8 train_gpt.py") == 8)
        #expect(RunHardware.processesPerNode(in: "torchrun --nproc_per_node 1 train_gpt.py") == 1)
        #expect(RunHardware.processesPerNode(in: "torchrun --nproc_per_node=$NGPUS train_gpt.py") == nil)
        #expect(RunHardware.stated(inReadme: Self.readme("```\ntorchrun --standalone --nproc_per_node=8 train_gpt.py\n```"))
            == RunHardware(gpus: 8, model: nil, source: "README.md:2"))
        // A smoke-test launch on one GPU beside the 8×H100 run: the count is not agreed on.
        #expect(RunHardware.stated(inReadme: Self.readme("8xH100 run\nsmoke: torchrun --nproc_per_node=1 train_gpt.py"))
            == RunHardware(gpus: nil, model: "H100", source: "README.md:1"))
        let folder = try Self.folder(log: Self.steps)
        try Data("torchrun --standalone --nproc_per_node=8 train_gpt.py\n".utf8).write(to: folder.appendingPathComponent("README.md"))
        #expect(try Self.timeTrain(folder).status == .fail)
    }

    /// `c54697a039cf`, `06e98b4a27a7`: a log printing the MLX version it ran is an Apple-silicon run, whatever the README's `8xH100`.
    @Test func anMLXRunIsNotOnEightH100s() throws {
        #expect(RunHardware.appleSilicon(in: "mlx_version:0.29.3") == "Apple silicon (MLX 0.29.3)")
        #expect(RunHardware.appleSilicon(in: "MLX 0.31.1") == "Apple silicon (MLX 0.31.1)")
        #expect(RunHardware.appleSilicon(in: "MLX arrays are lazy") == nil)
        #expect(RunHardware.appleSilicon(in: "mlx_version:unknown") == nil)
        let folder = try Self.folder(log: "run_id:mlx_smoke\nmlx_version:0.29.3\n" + Self.steps)
        try Data("Records run on 8xH100\n".utf8).write(to: folder.appendingPathComponent("README.md"))
        let check = try Self.timeTrain(folder)
        #expect(check.status == .incomplete)
        #expect(check.findings.first?.message.contains("s on Apple silicon (MLX 0.29.3) (train.log:2), not on 8×H100") == true)
    }
}

extension RunHardwareTests {
    /// `fb1dc53dc27a`'s `B1_A100_SXM_6485steps_seed1337.log`: the model is a word of the name, without a count.
    @Test func aModelNamedInTheLogsNameWithoutACount() throws {
        #expect(RunHardware.namedModel(inPath: "B1_A100_SXM_6485steps_seed1337.log") == "A100")
        #expect(RunHardware.namedModel(inPath: "logs/run_rtx4090_seed1.txt") == "RTX")
        #expect(RunHardware.namedModel(inPath: "train_seed42_h100_80m_base.log") == "H100")
        // Short families are not read alone (layer counts, trial numbers), nor families inside a word.
        #expect(RunHardware.namedModel(inPath: "train_L4_T4_A40.log") == nil)
        #expect(RunHardware.namedModel(inPath: "trainA100x.log") == nil)
        #expect(RunHardware.stated(inName: "B1_A100_SXM_seed1337.log") == RunHardware(gpus: nil, model: "A100", source: "B1_A100_SXM_seed1337.log (its name)"))
        let folder = try Self.folder(log: "world_size:8\n" + Self.steps)
        try FileManager.default.moveItem(at: folder.appendingPathComponent("train.log"),
                                         to: folder.appendingPathComponent("B1_A100_SXM_seed1337.log"))
        let check = try Self.timeTrain(folder)
        #expect(check.status == .incomplete)
        #expect(check.findings.first?.message.contains("on 8 GPUs × A100 (B1_A100_SXM_seed1337.log:1, B1_A100_SXM_seed1337.log (its name))") == true)
    }

    @Test func aSlowerModelOrSubmissionJSONsHardwareCounts() throws {
        let smi = "|   0  NVIDIA A100-SXM4-80GB          On  |\n"
        let a100 = try Self.timeTrain(try Self.folder(log: "world_size:8\n" + smi + Self.steps))
        #expect(a100.status == .incomplete)
        #expect(a100.findings.first?.message.contains("on 8 GPUs × A100-SXM4-80GB (train.log:1)") == true)
        let rtx = try Self.timeTrain(try Self.folder(log: Self.steps, metadata: ", \"hardware\": \"1xRTX 5090\", \"wallclock_seconds\": 1200"))
        #expect(rtx.status == .incomplete)
        #expect(rtx.findings.map(\.severity) == [.warning, .warning])
        #expect(rtx.findings.allSatisfy { $0.message.contains("(submission.json: hardware)") })
    }
}

extension RunHardwareTests {
    /// A run whose last step line is before its planned step count stopped early, on its wallclock cap:
    /// up to 1 s past 600 s is the cap's overshoot (a note), as with a `stopping_early` line.
    @Test func aRunEndingBeforeItsPlannedStepsStoppedOnTheCap() throws {
        let early = "step:7344/20000 val_loss:2.2679 val_bpb:1.3552 train_time:600075ms step_avg:81.71ms\n"
        let check = try Self.timeTrain(try Self.folder(log: early))
        #expect(check.status == .pass)
        #expect(check.findings.map(\.severity) == [.note])
        let planned = "world_size:8\nstep:20000/20000 val_loss:2.2679 val_bpb:1.3552 train_time:600075ms step_avg:30.00ms\n"
        #expect(try Self.timeTrain(try Self.folder(log: planned)).status == .fail)
    }
}

/// One hardware resolution for every time check: each of the GPU count and the model from the first of
/// the log, submission.json and the README that states it; a README only when it names one model.
extension RunHardwareTests {
    static func readme(_ text: String) -> SubmissionTextFile {
        SubmissionTextFile(name: "README.md", bytes: 0, lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    @Test func readsCountedModelsInAReadme() {
        #expect(RunHardware.countedModels(in: "**15.99 MB** | 8xA100, 3600s").map { "\($0.gpus) \($0.model)" } == ["8 A100"])
        #expect(RunHardware.countedModels(in: "on 8× H100 SXM and 1x NVIDIA RTX 4090").map { "\($0.gpus) \($0.model)" } == ["8 H100", "1 RTX"])
        #expect(RunHardware.countedModels(in: "A100 is ~2.3x slower than H100; 3600s A100 ≈ 1565s H100").isEmpty)
        #expect(RunHardware.countedModels(in: "v1.8xH100 and 12x faster").isEmpty)
        let a100 = RunHardware.stated(inReadme: Self.readme("# A100 run\n8xA100, 3600s\n\n- 8xA100 (SXM)"))
        #expect(a100 == RunHardware(gpus: 8, model: "A100", source: "README.md:2"))
        // One model, counts that differ: the model only.
        #expect(RunHardware.stated(inReadme: Self.readme("dev on 1xH100\nfinal on 8xH100")) == RunHardware(gpus: nil, model: "H100", source: "README.md:1"))
        // Two models (the challenge's 8×H100 and the 1×RTX 4090 of a smoke test): nothing stated.
        #expect(RunHardware.stated(inReadme: Self.readme("records need 8xH100\nwe ran on 1xRTX 4090")) == nil)
    }

    /// `fb1dc53dc27a`: the GPUs are named only in the log's file name.
    @Test func aLogsFileNameStatesItsHardware() throws {
        #expect(RunHardware.stated(inName: "variant_10L_bigramhash_3000_8xA40.log") == RunHardware(gpus: 8, model: "A40", source: "variant_10L_bigramhash_3000_8xA40.log (its name)"))
        #expect(RunHardware.stated(inName: "logs/train_seed42_1xH100.log")?.gpus == 1)
        #expect(RunHardware.stated(inName: "train_seed42.log") == nil)
        let folder = try Self.folder(log: "world_size:8\n" + Self.steps)
        try FileManager.default.moveItem(at: folder.appendingPathComponent("train.log"),
                                         to: folder.appendingPathComponent("variant_3000_8xA40.log"))
        let check = try Self.timeTrain(folder)
        #expect(check.status == .incomplete)
        #expect(check.findings.first?.message.contains("on 8 GPUs × A40 (variant_3000_8xA40.log:1, variant_3000_8xA40.log (its name))") == true)
    }

    /// `260f3827569e`: the log prints `world_size:8`, submission.json names no hardware, the README says 8xA100.
    @Test func theReadmeCompletesTheLogsStatement() throws {
        let folder = try Self.folder(log: "world_size:8 grad_accum_steps:1\n" + Self.steps)
        try Data("# 11L + TTT on A100\n**val_bpb: 1.0855** | 8xA100, 3600s\n".utf8).write(to: folder.appendingPathComponent("README.md"))
        let check = try Self.timeTrain(folder)
        #expect(check.status == .incomplete)
        #expect(check.findings.map(\.severity) == [.warning])
        #expect(check.findings.first?.message.contains("on 8 GPUs × A100 (train.log:1, README.md:2)") == true)
    }

    @Test func theLogAndSubmissionJSONComeBeforeTheReadme() throws {
        // The log names its H100s; a README naming A100s (an earlier experiment) does not change it.
        let smi = "|   0  NVIDIA H100 80GB HBM3          On  |\n"
        let folder = try Self.folder(log: "world_size:8\n" + smi + Self.steps)
        try Data("first tried on 8xA100\n".utf8).write(to: folder.appendingPathComponent("README.md"))
        #expect(try Self.timeTrain(folder).status == .fail)
        let metadataOnly = try Self.folder(log: Self.steps, metadata: ", \"hardware\": \"8xH100 SXM\"")
        defer { try? FileManager.default.removeItem(at: metadataOnly.deletingLastPathComponent().deletingLastPathComponent()) }
        let resolved = RunHardware.resolved(log: nil, in: try Submission.read(at: metadataOnly))
        #expect(resolved == RunHardware(gpus: 8, model: "H100", source: "submission.json: hardware"))
    }

    @Test func calibrationUsesTheSameResolution() throws {
        // Training to the cap, then calibrating, on 8×A100 per the README: a warning, as TIME-TRAIN's.
        let log = "world_size:8\nstep:6667/20000 val_loss:1.9473 val_bpb:1.1533 train_time:590000ms step_avg:88.49ms\n"
            + "stopping_early: wallclock_cap train_time:590000ms step:6667/20000\nGPTQ:collected 66 Hessians in 12.0s\n"
            + "final_int6_roundtrip_exact val_loss:1.95 val_bpb:1.2945\n"
        let folder = try Self.folder(log: log)
        try Data("8xA100 run\n".utf8).write(to: folder.appendingPathComponent("README.md"))
        let check = try Self.timeTrain(folder)
        let calibration = try #require(check.findings.first { $0.rule == "TIME-TRAIN-CALIBRATION" })
        #expect(calibration.severity == .warning)
        #expect(calibration.message.contains("on 8 GPUs × A100 (train.log:1, README.md:1)"))
        #expect(try Self.timeTrain(try Self.folder(log: log)).findings.first { $0.rule == "TIME-TRAIN-CALIBRATION" }?.severity == .error)
    }

    /// `6894eb4ed93d`: submission.json's 600.030 s and no log: within the cap's overshoot, nothing shows more.
    @Test func aSubmissionJSONOvershootWithoutLogsIsNotJudged() throws {
        let folder = try Self.folder(log: "", metadata: ", \"seed_results\": {\"1337\": {\"wallclock_seconds\": 600.030}}")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("train.log"))
        let check = try Self.timeTrain(folder)
        #expect(check.status == .warn)
        #expect(check.findings.map(\.severity) == [.warning])
        #expect(check.findings.first?.message.contains("no log states a training time") == true)
        // A log that states its time and did not stop on the cap: the figure is judged.
        let withLog = try Self.folder(log: "world_size:8\nstep:20000/20000 val_loss:2.2679 val_bpb:1.3552 train_time:590000ms step_avg:29.50ms\n",
                                      metadata: ", \"wallclock_seconds\": 600.030")
        #expect(try Self.timeTrain(withLog).status == .fail)
        // Past the 1 s overshoot: a failure with or without logs.
        let long = try Self.folder(log: "", metadata: ", \"wallclock_seconds\": 601.5, \"hardware\": \"8xH100\"")
        try FileManager.default.removeItem(at: long.appendingPathComponent("train.log"))
        #expect(try Self.timeTrain(long).status == .fail)
    }
}
