import Foundation
import Testing

/// Hostile inputs through the built `verify`, as a user meets them: exit 2 and a message naming the
/// file (and byte offset), never a signal or a hang.
@Suite struct HostileInputCommandTests {
    static let folder = Paths.fixture("audit/reproducible")
    static func evalArguments(artifact: String) -> [String] {
        ["eval", artifact, "--code", folder.appendingPathComponent("train_gpt.py").path,
         "--log", folder.appendingPathComponent("train_seed1337.log").path,
         "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
         "--val", Paths.shared("val/small/fineweb_val_*.bin").path, "--threads", "1"]
    }

    @Test(arguments: ["deep_tuple.ptz", "deep_list.ptz", "deep_dict.ptz", "zip_duplicate_entry.pt",
                      "zip_eocd_wrong_count.pt", "zip_eocd_wrong_size.pt", "zip_eocd_wrong_offset.pt"])
    func inspectAndEvalRefuseWithTheFileAndOffset(fixture: String) throws {
        let path = Paths.fixture("hostile/\(fixture)").path
        for arguments in [["inspect", path], Self.evalArguments(artifact: path)] {
            let run = try VerifyExecutable.run(arguments)
            #expect(run.status == 2, "\(arguments[0]): \(run.stderr)")
            #expect(run.stderr.contains(path) && run.stderr.contains(": at byte "), "\(arguments[0]): \(run.stderr)")
        }
    }

    /// A folder holding a deeply nested artifact: the audit ends (the artifact is reported, not a crash).
    @Test func theAuditOfADeeplyNestedArtifactEnds() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["train_gpt.py", "train_seed1337.log", "submission.json"] {
            try FileManager.default.copyItem(at: Self.folder.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: Paths.fixture("hostile/deep_dict.ptz"), to: folder.appendingPathComponent("final_model.int8.ptz"))
        let run = try VerifyExecutable.run([folder.path, "--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
                                            "--val", Paths.shared("val/small/fineweb_val_*.bin").path, "--threads", "1"])
        #expect([1, 2, 3].contains(run.status), "\(run.stderr)")
        #expect((run.stdout + run.stderr).contains("nest deeper than 256 levels"))
    }

    /// Representative `verify eval` refusals whose own message names no file get the file at fault.
    @Test(arguments: [
        (["--seq-len", "4096", "--max-tokens", "100"], "val", "is too short for one window of 4096"),
        (["--mode", "ttt", "--seq-len", "4096", "--max-tokens", "100"], "val", "is too short for one window of 4096"),
        // A value given with --set is at fault: the message names the override.
        (["--set", "NUM_HEADS=3"], "override NUM_HEADS=3", "contradicts num_heads = 4"),
        (["--set", "ROPE_BASE=abc"], "override ROPE_BASE=abc", "rope_base = abc"),
        (["--set", "TRAIN_SEQ_LEN=-5"], "override TRAIN_SEQ_LEN=-5", "must be a positive integer"),
    ])
    func refusalsNameTheFileAtFault(extra: [String], file: String, message: String) throws {
        let artifact = Self.folder.appendingPathComponent("final_model.int8.ptz").path
        let run = try VerifyExecutable.run(Self.evalArguments(artifact: artifact) + extra)
        #expect(run.status == 2)
        if file == "val" {
            #expect(run.stderr.contains("error: \(Paths.shared("val/small/fineweb_val_*.bin").path): ") && run.stderr.contains(message),
                    "\(run.stderr)")
        } else {
            #expect(run.stderr.contains(file) && run.stderr.contains(message), "\(run.stderr)")
            #expect(!run.stderr.contains("error: \(artifact): "), "the artifact is not at fault: \(run.stderr)")
        }
    }
}
