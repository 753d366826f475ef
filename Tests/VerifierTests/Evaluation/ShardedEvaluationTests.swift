import Foundation
import Reference
import Testing
@testable import Verifier

/// `verify eval --shard K/N --partial-out` and `verify merge`: parts evaluated apart add up, bit for
/// bit, to the unsharded evaluation, and parts that do not belong together are refused.
@Suite("Sharded evaluation")
struct ShardedEvaluationTests {
    /// The real tiny artifact of fixtures/eval with the baseline's code, on 8,192 real tokens.
    static func baselineRequest(_ mode: EvalMode) -> ReevaluationRequest {
        ReevaluationRequest(
            artifact: Paths.fixture("eval/tiny.int8.ptz"), overrides: ["ROPE_BASE": "500", "LOGIT_SOFTCAP": "20"],
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: mode, seqLen: 512,
            maxTokens: 8192, threads: 2)
    }

    /// `verify eval` arguments for `request` (its artifact, code, overrides, data, mode).
    static func arguments(_ request: ReevaluationRequest) -> [String] {
        var arguments = ["eval", request.artifact.path, "--tokenizer", request.tokenizer.path, "--val", request.validationPattern]
        if let code = request.code { arguments += ["--code", code.path] }
        for (key, value) in request.overrides.sorted(by: { $0.key < $1.key }) { arguments += ["--set", "\(key)=\(value)"] }
        if let seqLen = request.seqLen { arguments += ["--seq-len", "\(seqLen)"] }
        if let maxTokens = request.maxTokens { arguments += ["--max-tokens", "\(maxTokens)"] }
        if case .sliding(let stride) = request.mode { arguments += ["--mode", "sliding", "--stride", "\(stride)"] }
        return arguments
    }

    static func json(_ outcome: VerifyExecutable.Outcome) throws -> [String: Any] {
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
    }

    /// Runs `request` whole and as `count` shards, each a separate `verify` process (as on separate
    /// machines; a process's OpenBLAS state is its own), merges the parts with `verify merge --json`,
    /// and checks the merged numbers are bit for bit the whole run's. Returns the merged JSON.
    @discardableResult
    static func expectShardsMergeExactly(_ request: ReevaluationRequest, count: Int) throws -> [String: Any] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let common = arguments(request)
        let whole = try json(VerifyExecutable.run(common + ["--threads", "2", "--json"]))
        var files: [String] = []
        for index in (0..<count).reversed() {  // any order, any thread count
            let file = folder.appendingPathComponent("part\(index).json").path
            let part = try VerifyExecutable.run(common + ["--threads", "\(1 + index % 2)", "--shard", "\(index)/\(count)", "--partial-out", file])
            #expect(part.status == 0, "\(part.stderr)")
            #expect(part.stdout.contains("shard \(index)/\(count): "))
            files.append(file)
        }
        let merged = try json(VerifyExecutable.run(["merge", "--json"] + files))
        for key in ["val_loss", "val_bpb"] {
            let a = try #require(whole[key] as? Double), b = try #require(merged[key] as? Double)
            #expect(a.bitPattern == b.bitPattern, "\(key): whole \(a), merged \(b)")
        }
        for key in ["tokens", "bytes", "seq_len"] {
            #expect(whole[key] as? Int != nil && whole[key] as? Int == merged[key] as? Int, "\(key)")
        }
        #expect(whole["stride"] as? Int == merged["stride"] as? Int)
        #expect(whole["mode"] as? String == merged["mode"] as? String)
        #expect(whole["evaluation"] as? String == merged["evaluation"] as? String)
        #expect(Set(whole.keys) == Set(merged.keys))
        return merged
    }

    /// Parts written by the library, for the refusal tests (which compare no bits).
    static func parts(_ base: ReevaluationRequest, count: Int) throws -> [PartialEvaluation] {
        try (0..<count).map { index in
            var request = base
            request.shard = try EvalShard(index: index, count: count)
            request.digestsInputs = true
            let result = try Reevaluation.run(request)
            let identity = PartialEvaluation.Identity(
                inputs: try #require(result.inputs), mode: request.mode.name, stride: nil, seqLen: result.resolved.seqLen,
                maxTokens: request.maxTokens, overrides: request.overrides,
                evaluation: result.familyEvaluation?.evaluation.description,
                itemKind: result.scored.kind, totalItems: result.scored.total)
            return PartialEvaluation(identity: identity, config: [:], shard: request.shard,
                                     scored: result.scored, score: result.score, seconds: result.seconds)
        }
    }

    @Test("baseline standard and sliding: 3 and 7 shards merge to the unsharded numbers", arguments: [3, 7])
    func baseline(count: Int) throws {
        for mode in [EvalMode.standard, .sliding(stride: 128)] {
            let merged = try Self.expectShardsMergeExactly(Self.baselineRequest(mode), count: count)
            #expect(merged["tokens"] as? Int == 8192)
        }
    }

    @Test("more shards than windows: the empty parts merge too")
    func moreShardsThanWindows() throws {
        // 8,192 targets in windows of 512: 16 windows over 20 parts, 4 of them empty.
        try Self.expectShardsMergeExactly(Self.baselineRequest(.standard), count: 20)
    }

    @Test("record families: document-segmented eval_val batches and eval_val_sliding batches shard exactly")
    func families() throws {
        let golden = try CombinedPipelineTests.golden("outgate-brotli-sp1024")
        var request = CombinedPipelineTests.request("outgate-brotli-sp1024", golden)
        let merged = try Self.expectShardsMergeExactly(request, count: 3)
        #expect(abs(try #require(merged["val_bpb"] as? Double) - golden.val_bpb) <= 1e-4)
        // Sliding batches carry SmearGate across windows inside a batch: shards split between batches.
        let sliding = try #require(golden.sliding)
        request.mode = .sliding(stride: sliding.stride)
        let mergedSliding = try Self.expectShardsMergeExactly(request, count: 4)
        #expect(abs(try #require(mergedSliding["val_bpb"] as? Double) - sliding.val_bpb) <= 1e-4)
    }

    @Test("the thread count does not change a window's losses (OpenBLAS runs single-threaded per worker)")
    func threadCountDoesNotMatter() throws {
        var request = Self.baselineRequest(.standard)
        request.maxTokens = 512  // one window: more threads than windows
        let one = try Self.json(VerifyExecutable.run(Self.arguments(request) + ["--threads", "1", "--json"]))
        let two = try Self.json(VerifyExecutable.run(Self.arguments(request) + ["--threads", "2", "--json"]))
        #expect((one["val_loss"] as? Double)?.bitPattern == (two["val_loss"] as? Double)?.bitPattern)
    }

    @Test("shards are contiguous and cover every item exactly once, for any total and count")
    func shardRanges() throws {
        for total in [0, 1, 2, 5, 16, 97, 1000] {
            for count in [1, 2, 3, 7, 16, 100] {
                var next = 0
                for index in 0..<count {
                    let range = try EvalShard(index: index, count: count).range(of: total)
                    #expect(range.lowerBound == next)
                    next = range.upperBound
                }
                #expect(next == total)
            }
        }
    }

    @Test("a shard is K/N with 0 ≤ K < N", arguments: ["3/3", "-1/2", "0/0", "a/b", "1", "1/2/3", "0/100001", ""])
    func badShards(text: String) {
        #expect(throws: EvalError.self) { try EvalShard(parsing: text) }
    }

    @Test("merge refuses a gap, an overlap, another evaluation's part and a file that is not a part")
    func refusals() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-merge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let parts = try Self.parts(Self.baselineRequest(.standard), count: 3)
        let named = parts.enumerated().map { ("part\($0.offset).json", $0.element) }

        #expect(throws: PartialEvaluationError.gap(items: 5..<10, total: 16)) {
            try PartialEvaluation.merge([named[0], named[2]])
        }
        #expect(throws: PartialEvaluationError.gap(items: 10..<16, total: 16)) {
            try PartialEvaluation.merge([named[0], named[1]])
        }
        #expect(throws: PartialEvaluationError.overlap(file: "again.json", other: "part1.json", items: 5..<10)) {
            try PartialEvaluation.merge(named + [("again.json", parts[1])])
        }
        var other = parts[2]
        other.identity.maxTokens = 4096
        other.identity.inputs.validationTokens = String(repeating: "0", count: 64)
        #expect(throws: PartialEvaluationError.differentEvaluation(
            file: "other.json", reference: "part0.json", fields: ["validation tokens", "max tokens"])) {
            try PartialEvaluation.merge([named[0], named[1], ("other.json", other)])
        }

        let notAPart = folder.appendingPathComponent("report.json")
        try Data(#"{"val_bpb": 1.2}"#.utf8).write(to: notAPart)
        do {
            _ = try PartialEvaluation.read(notAPart)
            Issue.record("a report was read as a part")
        } catch {
            #expect(error.description.hasPrefix(notAPart.path + ": not a pgverify-eval-partial file"))
        }
        var inconsistent = parts[0]
        inconsistent.upper = 17
        let inconsistentFile = folder.appendingPathComponent("inconsistent.json")
        try inconsistent.write(to: inconsistentFile)
        #expect(throws: PartialEvaluationError.self) { try PartialEvaluation.read(inconsistentFile) }
    }

    @Test("the CLI refuses a missing part (exit 2, naming the gap) and sharded TTT")
    func commandLineRefusals() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-cli-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let common = Self.arguments(Self.baselineRequest(.standard))
        var files: [String] = []
        for index in [0, 2] {
            let file = folder.appendingPathComponent("part\(index).json").path
            #expect(try VerifyExecutable.run(common + ["--shard", "\(index)/3", "--partial-out", file]).status == 0)
            files.append(file)
        }
        let partial = try VerifyExecutable.run(["merge"] + files)
        #expect(partial.status == 2)
        #expect(partial.stderr.contains("no part scores items 5..<10 of 16"))
        let ttt = try VerifyExecutable.run(common + ["--mode", "ttt", "--shard", "0/2", "--partial-out", files[0]])
        #expect(ttt.status == 2)
        #expect(ttt.stderr.contains("not sharded"))
        let noOut = try VerifyExecutable.run(common + ["--shard", "0/2"])
        #expect(noOut.status == 2)
        #expect(noOut.stderr.contains("--partial-out"))
    }

    @Test("the audit takes merged parts as its reproduction, only of the folder's own artifact, code and logs, whole")
    func auditTakesParts() throws {
        let folder = Paths.fixture("audit/reproducible")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-audit-parts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = ["--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
                    "--val", Paths.shared("val/small").path + "/fineweb_val_*.bin"]
        func shards(_ extra: [String], artifact: String = "final_model.int8.ptz", name: String) throws -> [String] {
            try (0..<2).map { index in
                let file = scratch.appendingPathComponent("\(name)\(index).json").path
                let run = try VerifyExecutable.run(
                    ["eval", folder.appendingPathComponent(artifact).path, "--code", folder.appendingPathComponent("train_gpt.py").path,
                     "--log", folder.appendingPathComponent("train_seed1337.log").path] + data + extra
                    + ["--shard", "\(index)/2", "--partial-out", file])
                #expect(run.status == 0, "\(run.stderr)")
                return file
            }
        }
        func reproduced(_ arguments: [String]) throws -> [String: Any] {
            let run = try VerifyExecutable.run([folder.path, "--format", "json"] + arguments)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let checks = try #require(report["checks"] as? [[String: Any]])
            return try #require(checks.first { $0["id"] as? String == "REPRODUCED-VAL-BPB" })
        }
        func firstEvidence(_ check: [String: Any]) -> String {
            ((check["evidence"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        }

        let whole = try reproduced(data)
        let parts = try shards([], name: "part")
        let merged = try reproduced(parts.flatMap { ["--partial", $0] })
        #expect(whole["status"] as? String == "pass" && merged["status"] as? String == "pass")
        // The same val_loss, printed from the exact sums.
        let wholeLoss = firstEvidence(whole).components(separatedBy: "val_loss ").last?.prefix(10)
        #expect(wholeLoss != nil && firstEvidence(merged).contains("val_loss \(wholeLoss!)"))
        #expect(firstEvidence(merged).hasPrefix("merged 2 partial results"))

        // A prefix of the stream is not the claimed evaluation.
        let prefix = try reproduced(try shards(["--max-tokens", "8192"], name: "prefix").flatMap { ["--partial", $0] })
        #expect(prefix["status"] as? String == "incomplete")
        #expect((prefix["summary"] as? String)?.contains("--max-tokens") == true)
        // Parts without the folder's log were configured differently: refused, not compared.
        var noLog: [String] = []
        for index in 0..<2 {
            let file = scratch.appendingPathComponent("nolog\(index).json").path
            _ = try VerifyExecutable.run(["eval", folder.appendingPathComponent("final_model.int8.ptz").path,
                                          "--code", folder.appendingPathComponent("train_gpt.py").path,
                                          "--set", "ROPE_BASE=10000", "--set", "LOGIT_SOFTCAP=30", "--set", "TRAIN_SEQ_LEN=64"]
                                         + data + ["--shard", "\(index)/2", "--partial-out", file])
            noLog.append(file)
        }
        let otherLogs = try reproduced(noLog.flatMap { ["--partial", $0] })
        #expect(otherLogs["status"] as? String == "incomplete")
        #expect((otherLogs["summary"] as? String)?.contains("other logs") == true)
    }
}
