import Foundation
import Testing
import Reference
@testable import Verifier

/// `verify eval --mode ttt-phased` in parts: the prefix once (`--prefix-state-out`), the suffix
/// batches as `--shard K/N` parts from its state (`--prefix-state`), each a separate `verify`
/// process, merged by `verify merge` into bit for bit the unsharded run; on the plain-sp1024 family
/// fixture and the record code of the phased TTT golden tests.
@Suite("Sharded phased TTT")
struct PhasedTTTShardingTests {
    /// The golden `adam_two_phases` run's arguments (PhasedTTTEvalCommandTests), then `extra` --set values.
    static func arguments(_ extra: [String: String] = [:]) throws -> [String] {
        let family = try PhasedTTTEvalCommandTests.json("families/plain-sp1024/golden.json")
        let adapted = try PhasedTTTEvalCommandTests.json("ttt/phased/adam_two_phases.json")
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        var settings = try #require(family["env"] as? [String: String]).filter { known.contains($0.key) }
        settings.merge(try #require(adapted["base_env"] as? [String: String]).filter { PhasedTTTSettingsResolver.handles($0.key) }) { _, ttt in ttt }
        settings.merge(extra) { _, extra in extra }
        return ["eval", Paths.fixture("families/plain-sp1024/model.weights.json").path,
                "--code", Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-04-14_MultiPhaseGlobalSGD_PhasedTTT/train_gpt.py").path,
                "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
                "--val", Paths.fixture("families/plain-sp1024/val_tokens.bin").path,
                "--mode", "ttt-phased", "--threads", "1"]
            + settings.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
    }

    static func object(_ outcome: VerifyExecutable.Outcome) throws -> [String: Any] {
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
    }

    static func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-phased-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Writes the prefix part and state, then `count` suffix parts (in reverse order); returns the files.
    static func parts(_ common: [String], count: Int, in folder: URL) throws -> (state: String, prefix: String, suffix: [String]) {
        let state = folder.appendingPathComponent("prefix.state").path, prefix = folder.appendingPathComponent("prefix.json").path
        let prefixRun = try VerifyExecutable.run(common + ["--prefix-state-out", state, "--partial-out", prefix])
        #expect(prefixRun.status == 0, "\(prefixRun.stderr)")
        #expect(prefixRun.stdout.contains("prefix: batches 0..<"), "\(prefixRun.stdout)")
        try expectWholeBatchCount(prefixRun.stdout)
        var suffix: [String] = []
        for index in (0..<count).reversed() {
            let file = folder.appendingPathComponent("part\(index).json").path
            let run = try VerifyExecutable.run(common + ["--prefix-state", state, "--shard", "\(index)/\(count)", "--partial-out", file])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("suffix part \(index)/\(count): batches "), "\(run.stdout)")
            try expectWholeBatchCount(run.stdout)
            suffix.append(file)
        }
        return (state, prefix, suffix)
    }

    /// A part's `ttp: bX/Y` lines count Y over the whole evaluation (`batches a..<b of Y`), as the
    /// records' log lines do, not over the part's own batches.
    static func expectWholeBatchCount(_ text: String) throws {
        let part = try #require(text.split(separator: "\n").first { $0.contains(": batches ") && $0.contains("written to") })
        let total = try #require(part.components(separatedBy: " of ").dropFirst().first?.prefix { $0.isNumber })
        #expect(!total.isEmpty, "\(part)")
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("ttp: b") }
        #expect(lines.allSatisfy { $0.split(separator: " ")[1].hasSuffix("/" + total) }, "\(lines) of \(total)")
    }

    /// The whole run and the merged parts print the same JSON but for the run's own timing and threads,
    /// every number bit for bit (JSON text of equal doubles is equal). The whole run also writes
    /// itself as one part (`whole.json`).
    @discardableResult
    static func expectPartsMergeExactly(_ common: [String], count: Int, in folder: URL) throws -> (merged: [String: Any], files: (state: String, prefix: String, suffix: [String])) {
        let whole = try object(VerifyExecutable.run(common + ["--json", "--partial-out", folder.appendingPathComponent("whole.json").path]))
        let files = try parts(common, count: count, in: folder)
        let merged = try object(VerifyExecutable.run(["merge", "--json", files.prefix] + files.suffix))
        for key in ["val_loss", "val_bpb"] {
            let a = try #require(whole[key] as? Double), b = try #require(merged[key] as? Double)
            #expect(a.bitPattern == b.bitPattern, "\(key): whole \(a), merged \(b)")
        }
        #expect(Set(whole.keys) == Set(merged.keys))
        let timing: Set = ["seconds", "tokens_per_second", "threads"]
        for key in whole.keys where !timing.contains(key) {
            let a = try JSONSerialization.data(withJSONObject: ["v": whole[key] ?? NSNull()], options: [.sortedKeys])
            let b = try JSONSerialization.data(withJSONObject: ["v": merged[key] ?? NSNull()], options: [.sortedKeys])
            #expect(a == b, "\(key) differs: whole \(String(decoding: a, as: UTF8.self)), merged \(String(decoding: b, as: UTF8.self))")
        }
        return (merged, files)
    }

    @Test("the golden's settings (4 prefix batches, 1 suffix batch over 2 parts, one empty) merge bit for bit")
    func goldenSettings() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let merged = try Self.expectPartsMergeExactly(try Self.arguments(), count: 2, in: folder).merged
        #expect(merged["tokens"] as? Int == 16_384)
        let phased = try #require(merged["ttt_phased"] as? [String: Any])
        #expect((phased["phases"] as? [Any])?.count == 2)
        #expect((phased["batches"] as? [Any])?.count == 5)
    }

    /// One document per batch on the first 8,192 targets (5 documents): phase boundaries after
    /// documents 1 and 2, so 2 prefix batches and 3 suffix batches.
    static let oneDocumentPerBatch = ["TTT_BATCH_SIZE": "1", "PHASED_TTT_PREFIX_DOCS": "2"]

    @Test("one document per batch: 2 prefix batches and 3 suffix parts merge bit for bit; other states, gaps and overlaps are refused")
    func suffixPartsAndRefusals() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let common = try Self.arguments(Self.oneDocumentPerBatch) + ["--max-tokens", "8192"]
        let (merged, files) = try Self.expectPartsMergeExactly(common, count: 3, in: folder)
        let phased = try #require(merged["ttt_phased"] as? [String: Any])
        let batches = try #require(phased["batches"] as? [[String: Any]])
        #expect(batches.map { $0["gd"] as? Bool } == [false, false, true, true, true])
        #expect((phased["phases"] as? [Any])?.count == 2)

        // Suffix parts from another prefix state (same evaluation, other weights) do not merge with this prefix.
        let stateURL = URL(fileURLWithPath: files.state)
        let original = try PhasedTTTPrefixState.read(stateURL, parameterCount: try Self.parameterCount(files.state))
        var parameters = original.state.parameters
        parameters[0] += 1
        let otherState = folder.appendingPathComponent("other.state").path
        try PhasedTTTPrefixState(identity: original.state.header.identity, prefixBatches: original.state.header.prefixBatches,
                                 totalBatches: original.state.header.totalBatches, parameters: parameters)
            .write(to: URL(fileURLWithPath: otherState))
        let otherPart = folder.appendingPathComponent("other1.json").path
        #expect(try VerifyExecutable.run(common + ["--prefix-state", otherState, "--shard", "1/3", "--partial-out", otherPart]).status == 0)
        let mixed = try VerifyExecutable.run(["merge", files.prefix, files.suffix[2], otherPart, files.suffix[0]])
        #expect(mixed.status == 2)
        #expect(mixed.stderr.contains("prefix state"), "\(mixed.stderr)")

        // The state of another evaluation (another LoRA learning rate) is refused before anything is scored.
        let otherSettings = try VerifyExecutable.run(try Self.arguments(Self.oneDocumentPerBatch.merging(["TTT_LORA_LR": "0.02"]) { $1 })
            + ["--max-tokens", "8192", "--prefix-state", files.state, "--shard", "0/2", "--partial-out", folder.appendingPathComponent("x.json").path])
        #expect(otherSettings.status == 2)
        #expect(otherSettings.stderr.contains("is the prefix state of another evaluation: its --set overrides, phased TTT settings differ"), "\(otherSettings.stderr)")

        // A truncated or altered state file: exit 2 with the file and offset.
        let bytes = try Data(contentsOf: stateURL)
        let truncated = folder.appendingPathComponent("truncated.state")
        try bytes.prefix(bytes.count - 4).write(to: truncated)
        let cut = try VerifyExecutable.run(common + ["--prefix-state", truncated.path, "--shard", "0/2", "--partial-out", folder.appendingPathComponent("y.json").path])
        #expect(cut.status == 2)
        #expect(cut.stderr.contains(truncated.path + ": at byte"), "\(cut.stderr)")
        var flipped = bytes
        flipped[flipped.count - 1] ^= 0x40
        let altered = folder.appendingPathComponent("altered.state")
        try flipped.write(to: altered)
        let changed = try VerifyExecutable.run(common + ["--prefix-state", altered.path, "--shard", "0/2", "--partial-out", folder.appendingPathComponent("z.json").path])
        #expect(changed.status == 2)
        #expect(changed.stderr.contains("SHA-256 differs"), "\(changed.stderr)")

        // Coverage: no prefix part, a missing suffix part, a part given twice, a whole run's part with the parts.
        let noPrefix = try VerifyExecutable.run(["merge"] + files.suffix)
        #expect(noPrefix.status == 2)
        #expect(noPrefix.stderr.contains("no part scores items 0..<2 of 5"), "\(noPrefix.stderr)")
        let missing = try VerifyExecutable.run(["merge", files.prefix, files.suffix[0], files.suffix[2]])  // parts 2/3 and 0/3
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no part scores items 3..<4 of 5"), "\(missing.stderr)")
        let twice = try VerifyExecutable.run(["merge", files.prefix] + files.suffix + [files.suffix[1]])
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("each item must be in exactly one part"), "\(twice.stderr)")
        let wholePart = folder.appendingPathComponent("whole.json").path
        let wholeAndParts = try VerifyExecutable.run(["merge", wholePart, files.suffix[0]])
        #expect(wholeAndParts.status == 2)
        #expect(wholeAndParts.stderr.contains("its prefix state differ"), "\(wholeAndParts.stderr)")
        let alone = try Self.object(VerifyExecutable.run(["merge", "--json", wholePart]))
        #expect(alone["tokens"] as? Int == 8192)
    }

    /// (PhasedTTTSplitTests checks that the prefix and the whole suffix as one part are exact with it.)
    @Test("TTT_WARM_START_A chains the suffix batches: --shard with more than one part is refused")
    func warmStartedA() throws {
        let common = try Self.arguments(Self.oneDocumentPerBatch.merging(["TTT_WARM_START_A": "1"]) { $1 })
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let refused = try VerifyExecutable.run(common + ["--prefix-state", folder.appendingPathComponent("none").path,
                                                          "--shard", "1/2", "--partial-out", folder.appendingPathComponent("p.json").path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("TTT_WARM_START_A") && refused.stderr.contains("only --shard 0/1 is exact"), "\(refused.stderr)")
    }

    @Test("flags that do not go together are usage errors")
    func usage() throws {
        let common = try Self.arguments()
        let cases: [([String], String)] = [
            (["--shard", "0/2", "--partial-out", "/tmp/p.json"], "--prefix-state-out STATE"),
            (["--prefix-state-out", "/tmp/s"], "--partial-out"),
            (["--prefix-state", "/tmp/s", "--partial-out", "/tmp/p.json"], "--shard K/N"),
            (["--prefix-state-out", "/tmp/s", "--shard", "0/2", "--partial-out", "/tmp/p.json"], "runs the prefix on its own"),
        ]
        for (extra, message) in cases {
            let run = try VerifyExecutable.run(common + extra)
            #expect(run.status == 2, "\(extra)")
            #expect(run.stderr.contains(message), "\(extra): \(run.stderr)")
        }
        let lora = try VerifyExecutable.run(common.map { $0 == "ttt-phased" ? "ttt-lora" : $0 } + ["--prefix-state-out", "/tmp/s", "--partial-out", "/tmp/p.json"])
        #expect(lora.status == 2)
    }

    /// The base parameter count the state file's header states (what the model of these arguments has).
    static func parameterCount(_ state: String) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: state)))
        let length = bytes[8..<16].reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + length)])) as? [String: Any])
        return try #require(header["parameter_count"] as? Int)
    }
}
