import Foundation
import Testing
@testable import Verifier

/// A throwaway submission folder for edge cases that are easier to build than to commit.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        try write(name, Data(text.utf8))
    }

    func write(_ name: String, _ data: Data) throws {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    /// Copies every file of a committed fixture folder here.
    func copy(fixture: String) throws {
        let source = Paths.fixture("submissions/\(fixture)")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: url.appendingPathComponent(name))
        }
    }

    /// A sparse file of `size` bytes: its size is real, its blocks are not written.
    func sparse(_ name: String, size: UInt64) throws {
        let file = url.appendingPathComponent(name)
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: size)
        try handle.close()
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

@Suite struct SubmissionReadingTests {
    @Test func readsThePassingFixture() throws {
        let submission = try Submission.read(at: Paths.fixture("submissions/passing"))
        #expect(submission.readme?.name == "README.md")
        #expect(submission.metadata?.name == "submission.json")
        #expect(submission.logs.map(\.name) == ["train_seed42.log", "train_seed7.log"])
        // 228: Python 3.12's lzma.compress(FORMAT_RAW, LZMA2 preset 9) of the same file.
        #expect(submission.code == SubmissionCode(name: "train_gpt.py", bytes: 282, packing: .plain, referencedFiles: [],
                                                  compressedBytes: 228))
        #expect(submission.artifact == SubmissionFileInfo(name: "final_model.int8.ptz", bytes: 4096))
        #expect(submission.trackFolder == nil)
        // The README quotes the exact metric; submission.json and both logs state their own.
        let scores = submission.claims(.valBPB).map { "\($0.source)=\($0.value)" }
        #expect(scores == ["submission.json: val_bpb=1.41284567", "submission.json: seed_results.42.val_bpb=1.41234567",
                           "submission.json: seed_results.7.val_bpb=1.41334567", "README.md:3=1.41234567",
                           "train_seed42.log:13=1.41234567", "train_seed7.log:13=1.41334567"])
    }

    @Test func scoreAndSeedShortcuts() throws {
        let submission = try Submission.read(at: Paths.fixture("submissions/passing"))
        #expect(submission.claimedScore?.value == .number(1.41284567, literal: "1.41284567"))
        #expect(submission.claimedScore?.aggregate == .mean)
        #expect(submission.loggedScores.map(\.value.description) == ["1.41234567", "1.41334567"])
        #expect(submission.loggedScores.map(\.seed) == [42, 7])
        #expect(submission.seeds == [7, 42])
    }

    @Test func missingLogsAreRecordedNotThrown() throws {
        let submission = try Submission.read(at: Paths.fixture("submissions/missing-logs"))
        #expect(submission.logs.isEmpty)
        #expect(submission.artifacts.isEmpty)
        #expect(submission.claims.map(\.kind) == [.valLoss, .valBPB, .totalBytes, .codeBytes])  // document order
    }

    @Test func malformedJSONNamesTheFileAndOffset() throws {
        let folder = Paths.fixture("submissions/malformed-json")
        let submission = try Submission.read(at: folder)
        #expect(submission.metadata == nil)
        #expect(submission.metadataProblem?.error == SubmissionError.malformedJSON(
            .init(file: folder.appendingPathComponent("submission.json").path, offset: 53),
            reason: "expected a quoted key, found '}'"))
        #expect(submission.metadataProblem?.description == "submission.json: at byte 53: malformed JSON: expected a quoted key, found '}'")
        #expect(submission.code?.name == "train_gpt.py")
    }

    @Test func notAFolder() {
        #expect(throws: SubmissionError.notADirectory(path: "/nonexistent/pgverify")) {
            try Submission.read(at: URL(fileURLWithPath: "/nonexistent/pgverify"))
        }
    }

    @Test func jsonMustBeAnObject() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("submission.json", "[1, 2]")
        #expect(try Submission.read(at: folder.url).metadataProblem?.error
                == SubmissionError.jsonNotAnObject(file: folder.url.appendingPathComponent("submission.json").path))
    }

    @Test func oddFilesStillRead() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // Not UTF-8 in a log, an empty README, a directory named like a log, a pickle beside a .ptz.
        try folder.write("train.log", Data([0x66, 0xFF, 0xFE, 0x0A] + Array("Code size: 12 bytes\n".utf8)))
        try folder.write("README.md", "")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("notes.log"), withIntermediateDirectories: true)
        try folder.write("final_model.pt", Data(count: 10))
        try folder.write("final_model.int8.ptz", Data(count: 7))
        try folder.write("requirements.txt", "torch\n")
        let submission = try Submission.read(at: folder.url)
        #expect(submission.logs.map(\.name) == ["train.log"])
        #expect(submission.claims(.codeBytes).first?.source == .line(file: "train.log", line: 2))
        #expect(submission.artifacts.map(\.name) == ["final_model.int8.ptz", "final_model.pt"])
        #expect(submission.artifact?.name == "final_model.int8.ptz")
        #expect(submission.metadata == nil)
        #expect(submission.code == nil)
    }

    @Test func hostileFilesAreTypedErrorsNotHangsOrCrashes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // A 65 MiB sparse "log": over the text limit, refused before it is read.
        try folder.sparse("train.log", size: 65 << 20)
        let log = folder.url.appendingPathComponent("train.log").path
        #expect(throws: SubmissionError.unreadable(file: log, reason: "68157440 bytes is over the 67108864-byte limit for text files")) {
            try Submission.read(at: folder.url)
        }
        try FileManager.default.removeItem(atPath: log)
        // An "artifact" that is a link to a device: outside the folder, so never opened, only reported.
        let artifact = folder.url.appendingPathComponent("final_model.int8.ptz").path
        try FileManager.default.createSymbolicLink(atPath: artifact, withDestinationPath: "/dev/zero")
        let linked = try Submission.read(at: folder.url)
        #expect(linked.artifacts.isEmpty)
        #expect(linked.outsideLinks == [SubmissionLink(name: "final_model.int8.ptz", target: "/dev/zero")])
        try FileManager.default.removeItem(atPath: artifact)
        // A FIFO in the folder: not a regular file, so it is not measured (nor opened, which would block).
        #expect(mkfifo(artifact, 0o600) == 0)
        #expect(throws: SubmissionError.unreadable(file: artifact, reason: "not a regular file")) {
            try Submission.read(at: folder.url)
        }
    }

    @Test func wrapperAndReferencedHelpers() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("train_gpt.py", "import lzma as L,base64 as B\nexec(L.decompress(B.b85decode(\"abc\")))\n")
        try folder.write("loader.py", "x = 1\n")
        let wrapped = try Submission.read(at: folder.url)
        #expect(wrapped.code?.packing == .selfExtracting)
        #expect(wrapped.code?.referencedFiles == [])
        #expect(wrapped.otherCode == [SubmissionFileInfo(name: "loader.py", bytes: 6)])

        // `3f6c4656bf49`: the payload is bound to a name over 26 KB, and `exec` comes after it.
        let payload = String(repeating: "q|8c_SvdluBKzp|7vc;L3kQ3*yTeDgV-Kbn2(}yE((tCe3*AJ7KGrvI+$jd9UE6jR<G~0Xcsa!k\n", count: 400)
        try folder.write("train_gpt.py", "import lzma,base64\n_b=b\"\"\"\n" + payload + "\"\"\"\n"
            + "exec(lzma.decompress(base64.b85decode(_b.replace(b\"\\n\",b\"\"))).decode(\"utf-8\"))\n")
        #expect(try Submission.read(at: folder.url).code?.packing == .selfExtracting)

        try folder.write("train_gpt.py", "exec(open(__file__.replace(\"train_gpt.py\",\"loader.py\")).read())\n")
        let loader = try Submission.read(at: folder.url)
        #expect(loader.code?.packing == .plain)
        #expect(loader.code?.referencedFiles == [SubmissionFileInfo(name: "loader.py", bytes: 6)])
    }

    /// `3f6c4656bf49` ships `final_model_source.log` (a copy of a training log) and no artifact: a text file named
    /// like the model is not the artifact, and a model file still is.
    @Test func aTextFileNamedLikeTheModelIsNotTheArtifact() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("train_gpt.py", "print(1)\n")
        try folder.write("final_model_source.log", "Serialized model quantized+brotli: 15965726 bytes\n")
        let submission = try Submission.read(at: folder.url)
        #expect(submission.artifacts.isEmpty)
        #expect(submission.logs.map(\.name) == ["final_model_source.log"])
        try folder.write("final_model.int6.ptz", "x")
        #expect(try Submission.read(at: folder.url).artifacts.map(\.name) == ["final_model.int6.ptz"])
        // pgverify's JSON weights format is an artifact.
        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("final_model.int6.ptz"))
        try folder.write("final_model.json", "{}")
        #expect(try Submission.read(at: folder.url).artifacts.map(\.name) == ["final_model.json"])
    }

    @Test func scriptChoiceWithoutTrainGPT() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write("train_mdlm.py", "print(1)\n")
        #expect(try Submission.read(at: folder.url).code?.name == "train_mdlm.py")
        try folder.write("train_other.py", "print(2)\n")
        let ambiguous = try Submission.read(at: folder.url)
        #expect(ambiguous.code == nil)
        #expect(ambiguous.codeCandidates == ["train_mdlm.py", "train_other.py"])
    }
}
