import Foundation
import Reference
import Testing
@testable import Verifier

/// The engine examples' own commands, each shard a separate process, on tiny record folders: the
/// Slurm script (with a stand-in `sbatch` that runs the jobs it is given at once, an array's tasks one
/// after another), the Kubernetes Jobs' pod scripts (with `/data` laid out in a folder) and the GitHub
/// Actions workflow's run steps (in the workspace layout the workflow gives them). Each merged result
/// must be bit for bit the unsharded `verify eval`, in standard mode and in ttt-phased mode (a prefix
/// job, suffix shards from its state, then the merge).
@Suite("Sharded evaluation examples", .serialized)
struct ShardedEvalExamplesTests {
    /// A record folder, its artifact's name, the validation glob and the mode the examples get.
    struct Record {
        var folder: URL
        var artifact: String
        var validation: String
        var mode: String
    }

    static let tokenizer = Paths.shared("tokenizers/fineweb_1024_bpe.model")

    /// fixtures/audit/reproducible (baseline, its log states the model) on the small shared shard.
    static var standardRecord: Record {
        Record(folder: Paths.fixture("audit/reproducible"), artifact: "final_model.int8.ptz",
               validation: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: "standard")
    }

    /// The phased record folder of the audit's phased parts test (its log states every setting).
    static func phasedRecord(in scratch: URL) throws -> Record {
        let (folder, validation) = try PhasedTTTPartsAuditTests.folder(in: scratch)
        return Record(folder: folder, artifact: "final_model.json", validation: validation, mode: "ttt-phased")
    }

    /// The unsharded run of what the examples run: the folder's artifact, code and logs.
    static func unsharded(_ record: Record) throws -> [String: Any] {
        var arguments = ["eval", record.folder.appendingPathComponent(record.artifact).path,
                         "--tokenizer", tokenizer.path, "--val", record.validation, "--mode", record.mode, "--json"]
        if FileManager.default.fileExists(atPath: record.folder.appendingPathComponent("train_gpt.py").path) {
            arguments += ["--code", record.folder.appendingPathComponent("train_gpt.py").path]
        }
        for log in try logs(of: record.folder) { arguments += ["--log", log.path] }
        return try PhasedTTTShardingTests.object(VerifyExecutable.run(arguments))
    }

    static func logs(of folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "log" }.sorted { $0.path < $1.path }
    }

    /// The merged JSON equals the unsharded run's but for its timing and threads, and the record
    /// folder's path where the provenance names its files (`named`: the path the example gave).
    static func expectSame(_ merged: [String: Any], as whole: [String: Any], _ example: String, named: String, record: Record) throws {
        for key in ["val_loss", "val_bpb"] {
            let a = try #require(whole[key] as? Double), b = try #require(merged[key] as? Double, "\(example): \(key)")
            #expect(a.bitPattern == b.bitPattern, "\(example) \(key): whole \(a), merged \(b)")
        }
        #expect(Set(whole.keys) == Set(merged.keys), "\(example)")
        for key in whole.keys where !["seconds", "tokens_per_second", "threads"].contains(key) {
            // A whole run also times its CPU (`ttt_phased.cpu_seconds`), which a merge of parts cannot.
            var value = whole[key] ?? NSNull()
            if var object = value as? [String: Any] { object["cpu_seconds"] = nil; value = object }
            let a = try JSONSerialization.data(withJSONObject: ["v": value], options: [.sortedKeys])
            let b = try JSONSerialization.data(withJSONObject: ["v": merged[key] ?? NSNull()], options: [.sortedKeys])
            let text = String(decoding: b, as: UTF8.self).replacingOccurrences(of: named.replacingOccurrences(of: "/", with: "\\/"),
                                                                               with: record.folder.path.replacingOccurrences(of: "/", with: "\\/"))
            #expect(String(decoding: a, as: UTF8.self) == text, "\(example): \(key) differs")
        }
    }

    static func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-examples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A folder for PATH holding `verify` (the built binary) and any other stand-ins.
    static func bin(in scratch: URL, _ scripts: [String: String] = [:]) throws -> URL {
        let bin = scratch.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("verify"),
                                                   withDestinationURL: try #require(VerifyExecutable.url))
        for (name, text) in scripts {
            let file = bin.appendingPathComponent(name)
            try Data(text.utf8).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
        }
        return bin
    }

    /// Runs a bash script (a file, or `-c` text) in `directory`; returns its exit status and output.
    static func bash(_ arguments: [String], in directory: URL, environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-example-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: output), as: UTF8.self))
    }

    // MARK: - Slurm

    /// Slurm's `sbatch` as the examples use it: records the call, runs the job now (each array task
    /// as its own process, with the task id), prints a job id. Jobs come in dependency order.
    static let sbatch = """
        #!/usr/bin/env bash
        set -euo pipefail
        script=${*: -1}
        echo "$*" >> "$SBATCH_LOG"
        last=$(sed -n 's/^#SBATCH --array=0-\\([0-9]*\\)$/\\1/p' "$script")
        for task in $(seq 0 "${last:-0}"); do
          SLURM_ARRAY_TASK_ID=$task SLURM_CPUS_PER_TASK=1 bash "$script" >> "$SBATCH_LOG.out" 2>&1
        done
        wc -l < "$SBATCH_LOG"
        """

    static func slurm(_ record: Record, shards: Int, in scratch: URL) throws -> [String: Any] {
        let bin = try bin(in: scratch, ["sbatch": sbatch])
        let parts = scratch.appendingPathComponent("slurm-parts")
        let log = scratch.appendingPathComponent("sbatch.log").path
        let run = try bash([Paths.packageRoot.appendingPathComponent("examples/slurm/sharded-eval.sh").path,
                            record.folder.path, record.artifact, tokenizer.path, record.validation, "\(shards)", record.mode],
                           in: scratch, environment: ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? ""),
                                                      "VERIFY": bin.appendingPathComponent("verify").path,
                                                      "PARTS": parts.path, "SBATCH_LOG": log])
        let jobs = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(run.status == 0, "\(run.output)\n\((try? String(contentsOfFile: log + ".out", encoding: .utf8)) ?? "")")
        // The array waits for the prefix (job 1) in ttt-phased mode; the merge for the array.
        let submitted = jobs.split(separator: "\n").map(String.init)
        if record.mode == "ttt-phased" {
            #expect(submitted.count == 3 && submitted[0].hasSuffix("prefix.sbatch") && submitted[1].contains("--dependency=afterok:1 "),
                    "\(submitted)")
        } else {
            #expect(submitted.count == 2 && submitted[0].hasSuffix("shard.sbatch"), "\(submitted)")
        }
        #expect(submitted.last?.contains("--dependency=afterok:\(submitted.count - 1) ") == true, "\(submitted)")
        return try #require(JSONSerialization.jsonObject(with: Data(contentsOf: parts.appendingPathComponent("merged.json"))) as? [String: Any])
    }

    // MARK: - Kubernetes

    /// One Job of a manifest: its name, its pods' script, their environment, and how many indexes.
    struct Job {
        var name: String
        var script: String
        var environment: [String: String]
        var completions: Int?
    }

    /// The Jobs of a manifest in order, read from its documents (the block scalar under `args:`, the
    /// container's `env:` pairs, `completions:` of an Indexed Job).
    static func jobs(_ manifest: URL) throws -> [Job] {
        try String(contentsOf: manifest, encoding: .utf8).components(separatedBy: "\n---\n").map { document in
            let lines = document.components(separatedBy: "\n")
            func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
            func block(after index: Int) -> [String] {
                let own = indent(lines[index])
                return Array(lines[(index + 1)...].prefix { $0.trimmingCharacters(in: .whitespaces).isEmpty || indent($0) > own })
            }
            let metadata = try #require(lines.firstIndex(of: "metadata:"))
            let name = try #require(lines[metadata + 1].split(separator: ":").last).trimmingCharacters(in: .whitespaces)
            let scriptStart = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "- |" })
            let scriptLines = block(after: scriptStart)
            let margin = scriptLines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(indent).min() ?? 0
            var environment: [String: String] = [:]
            if let env = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "env:" }) {
                var key: String?
                for line in block(after: env) {
                    let text = line.trimmingCharacters(in: .whitespaces)
                    if text.hasPrefix("- name: ") { key = String(text.dropFirst(8)) }
                    if text.hasPrefix("value: "), let key {
                        environment[key] = String(text.dropFirst(7)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    }
                }
            }
            let completions = lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("completions: ") }
                .flatMap { Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) }
            return Job(name: name, script: scriptLines.map { String($0.dropFirst(margin)) }.joined(separator: "\n"),
                       environment: environment, completions: completions)
        }
    }

    /// Runs the manifest's Jobs in order as `run.sh` applies them, every pod a process, with `/data`
    /// in a folder of `scratch` and `SHARDS` (with the completions) set to `shards`.
    static func kubernetes(_ record: Record, manifest: String, shards: Int, in scratch: URL) throws -> (merged: [String: Any], named: String) {
        let bin = try bin(in: scratch)
        let data = scratch.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data.appendingPathComponent("val"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: data.appendingPathComponent("submission"), withDestinationURL: record.folder)
        try FileManager.default.createSymbolicLink(at: data.appendingPathComponent("tokenizer.model"), withDestinationURL: tokenizer)
        for shard in try ValidationShard.files(matching: record.validation) {
            try FileManager.default.createSymbolicLink(at: data.appendingPathComponent("val/" + shard.lastPathComponent),
                                                       withDestinationURL: shard)
        }
        let jobs = try jobs(Paths.packageRoot.appendingPathComponent("examples/kubernetes/" + manifest))
        #expect(jobs.last?.name == "pgverify-merge")
        for job in jobs {
            var environment = job.environment.merging(["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")]) { $1 }
            if environment["ARTIFACT"] != nil { environment["ARTIFACT"] = record.artifact }
            if environment["MODE"] != nil { environment["MODE"] = record.mode }
            if environment["SHARDS"] != nil { environment["SHARDS"] = "\(shards)" }
            let script = job.script.replacingOccurrences(of: "/data/", with: data.path + "/")
            for index in 0..<(job.completions == nil ? 1 : shards) {
                if job.completions != nil { environment["JOB_COMPLETION_INDEX"] = "\(index)" }
                let pod = try bash(["-c", script], in: scratch, environment: environment)
                #expect(pod.status == 0, "\(job.name) \(index): \(pod.output)")
            }
        }
        return (try #require(JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("parts/merged.json")))
            as? [String: Any]), data.appendingPathComponent("submission").path)
    }

    // MARK: - GitHub Actions

    /// The `run:` block of the workflow step named `name` (a prefix of its name).
    static func runBlock(step name: String, in workflow: String) throws -> String {
        let lines = workflow.components(separatedBy: "\n")
        let stepLine = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("- name: " + name) })
        let run = try #require(lines[stepLine...].firstIndex { $0.trimmingCharacters(in: .whitespaces) == "run: |" })
        let own = lines[run].prefix { $0 == " " }.count
        let body = lines[(run + 1)...].prefix { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.prefix { $0 == " " }.count > own }
        return body.map { String($0.dropFirst(own + 2)) }.joined(separator: "\n")
    }

    /// The prefix job (in ttt-phased mode), the matrix's shard jobs and the merge job's run steps, in the
    /// workspace the workflow lays out (the caller's repository in `submission-repo`, the binary and the
    /// downloaded parts beside it); pgverify's install script is a stand-in here (the libraries are installed).
    static func actions(_ record: Record, shards: Int, in scratch: URL) throws
        -> (merged: [String: Any], named: String, outputs: String, report: URL) {
        let workflow = try String(contentsOf: Paths.packageRoot.appendingPathComponent(".github/workflows/sharded-eval.yml"), encoding: .utf8)
        let workspace = scratch.appendingPathComponent("workspace")
        let repository = workspace.appendingPathComponent("submission-repo")
        try FileManager.default.createDirectory(at: repository.appendingPathComponent("records"), withIntermediateDirectories: true)
        // A copy: the workflow's `find` does not follow a symbolic link it starts from.
        try FileManager.default.copyItem(at: record.folder, to: repository.appendingPathComponent("records/record"))
        try FileManager.default.createDirectory(at: workspace.appendingPathComponent("pgverify/scripts"), withIntermediateDirectories: true)
        let install = workspace.appendingPathComponent("pgverify/scripts/install-system-deps.sh")
        try Data("#!/usr/bin/env bash\n".utf8).write(to: install)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: install.path)
        try FileManager.default.createSymbolicLink(at: workspace.appendingPathComponent("verify"),
                                                   withDestinationURL: try #require(VerifyExecutable.url))
        let inputs = ["SUBMISSION": "records/record", "ARTIFACT": record.artifact, "TOKENIZER": tokenizer.path,
                      "VAL": record.validation, "VAL_BYTES": "", "MODE": record.mode, "STRIDE": "64", "SHARDS": "\(shards)"]
        // GitHub's bash steps run as `bash --noprofile --norc -eo pipefail {0}`.
        func step(_ name: String, in directory: URL, _ environment: [String: String]) throws {
            let script = scratch.appendingPathComponent("step-\(UUID().uuidString).sh")
            try Data(try runBlock(step: name, in: workflow).utf8).write(to: script)
            let run = try bash(["--noprofile", "--norc", "-eo", "pipefail", script.path], in: directory, environment: environment)
            #expect(run.status == 0, "\(name): \(run.output)")
        }
        let parts = workspace.appendingPathComponent("parts")
        try FileManager.default.createDirectory(at: parts, withIntermediateDirectories: true)
        if record.mode == "ttt-phased" {
            try step("Evaluate the prefix", in: repository, inputs)
            try FileManager.default.copyItem(at: workspace.appendingPathComponent("part-prefix.json"),
                                             to: parts.appendingPathComponent("part-prefix.json"))
        }
        for index in 0..<shards {
            try step("Evaluate shard", in: repository, inputs.merging(["INDEX": "\(index)"]) { $1 })
            try FileManager.default.copyItem(at: workspace.appendingPathComponent("part-\(index).json"),
                                             to: parts.appendingPathComponent("part-\(index).json"))
        }
        let outputs = scratch.appendingPathComponent("github-output")
        try step("Merge the parts", in: workspace, ["SUBMISSION": "records/record", "GITHUB_OUTPUT": outputs.path,
                                                    "GITHUB_STEP_SUMMARY": scratch.appendingPathComponent("summary.md").path])
        let merged = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: workspace.appendingPathComponent("merged.json")))
            as? [String: Any])
        return (merged, repository.appendingPathComponent("records/record").path, try String(contentsOf: outputs, encoding: .utf8),
                workspace.appendingPathComponent("report.json"))
    }

    // MARK: - Tests

    /// Runs the three examples on `record` and checks each merged result against `whole`.
    static func expectExamplesMergeExactly(_ record: Record, whole: [String: Any], manifest: String, shards: Int, in scratch: URL)
        throws -> (outputs: String, report: URL) {
        for engine in ["slurm", "k8s", "actions"] {
            try FileManager.default.createDirectory(at: scratch.appendingPathComponent(engine), withIntermediateDirectories: true)
        }
        try expectSame(try slurm(record, shards: shards, in: scratch.appendingPathComponent("slurm")), as: whole, "slurm",
                       named: record.folder.path, record: record)
        let kubernetes = try kubernetes(record, manifest: manifest, shards: shards, in: scratch.appendingPathComponent("k8s"))
        try expectSame(kubernetes.merged, as: whole, "kubernetes", named: kubernetes.named, record: record)
        let actions = try actions(record, shards: shards, in: scratch.appendingPathComponent("actions"))
        try expectSame(actions.merged, as: whole, "actions", named: actions.named, record: record)
        #expect(actions.outputs == "val_bpb=\(try #require(whole["val_bpb"] as? Double))\n")
        return (actions.outputs, actions.report)
    }

    /// The REPRODUCED-VAL-BPB check of the audit report the Actions merge job wrote.
    static func reproducedCheck(_ report: URL) throws -> [String: Any] {
        let object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])
        return try #require((object["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "REPRODUCED-VAL-BPB" })
    }

    @Test("standard mode: the Slurm array, the Kubernetes Indexed Job and the Actions matrix merge to the unsharded run")
    func standardExamples() throws {
        let scratch = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let record = Self.standardRecord
        let (_, report) = try Self.expectExamplesMergeExactly(record, whole: try Self.unsharded(record), manifest: "sharded-eval.yaml",
                                                              shards: 3, in: scratch)
        #expect(try Self.reproducedCheck(report)["status"] as? String == "pass")
    }

    @Test("ttt-phased: a prefix job, suffix shards from its state and the merge give the unsharded run in every example")
    func phasedExamples() throws {
        let scratch = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let record = try Self.phasedRecord(in: scratch)
        let whole = try Self.unsharded(record)
        try PhasedTTTPartsAuditTests.logClaim(of: whole, in: record.folder)
        let (_, report) = try Self.expectExamplesMergeExactly(record, whole: whole, manifest: "sharded-eval-phased.yaml",
                                                              shards: 2, in: scratch)
        // The merge job's audit took the parts as the reproduction of the logged claim.
        let check = try Self.reproducedCheck(report)
        #expect(check["status"] as? String == "pass", "\(check)")
        let evidence = (check["evidence"] as? [[String: Any]])?.first?["text"] as? String ?? ""
        #expect(evidence.hasPrefix("merged 3 partial results of a sharded re-run"), "\(evidence)")
    }
}
