import Foundation
import Testing

/// Runs the built `verify` binary: exit codes and messages as a user sees them.
@Suite struct InspectCommandTests {
    /// The `verify` executable of this build: beside the test bundle in the products folder, or
    /// `.build/debug/verify` under the package.
    static var verifyBinary: URL? {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("verify"))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("verify"))
        }
        candidates.append(Paths.packageRoot.appendingPathComponent(".build/debug/verify"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func verify(_ arguments: [String]) throws -> Run {
        let binary = try #require(Self.verifyBinary, "the verify executable was not built next to the tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func osSystemPickleExitsWithCode2AndNamesTheGlobal() throws {
        let run = try verify(["inspect", Paths.fixture("hostile/os_system.ptz").path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("os_system.ptz (zlib-decompressed) > archive/data.pkl: at byte 2"))
        #expect(run.stderr.contains("forbidden global os.system"))
        #expect(run.stdout.isEmpty)
    }

    @Test(arguments: ["hostile/truncated_zip.pt", "hostile/bad_zstd.ptz", "hostile/storage_too_short.pt", "hostile/zip_entry_past_end.pt"])
    func brokenArtifactsExitWithCode2(fixture: String) throws {
        let run = try verify(["inspect", Paths.fixture(fixture).path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(URL(fileURLWithPath: fixture).lastPathComponent))
        #expect(run.stderr.contains(": at byte "))
    }

    @Test func bombWithALowLimitExitsWithCode2() throws {
        let run = try verify(["inspect", "--max-decompressed-bytes", "65536", Paths.fixture("hostile/bomb.ptz").path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("exceeds the decompression limit of 65536 bytes"))
    }

    @Test func jsonReportsTheRealArtifact() throws {
        let path = Paths.fixture("artifacts/taleef7-baseline-2L64d/final_model.int8.ptz").path
        let run = try verify(["inspect", "--json", path])
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["compression"] as? String == "zlib")
        #expect(object["format"] as? String == "int8_clean_per_row_v1")
        // 22 tensors; 1024·64 embedding + 2 blocks of (3·64² + 2·32·64 + 4 + 64 + 64 + 128) + 64 skip weights.
        let tensors = try #require(object["tensors"] as? [[String: Any]])
        #expect(tensors.count == 22)
        #expect(object["dequantized_parameters"] as? Int == 1024 * 64 + 2 * (4 * 64 * 64 + 2 * 32 * 64 + 4 + 64 + 64 + 128) + 64)
        let names = tensors.compactMap { $0["name"] as? String }
        #expect(names == names.sorted())
        let embedding = try #require(tensors.first { $0["name"] as? String == "tok_emb.weight" })
        #expect(embedding["dtype"] as? String == "float16")
        #expect(embedding["shape"] as? [Int] == [1024, 64])
        #expect(embedding["scheme"] as? String == "passthrough float16 -> bfloat16")
        // Deterministic: the same bytes twice.
        #expect(try verify(["inspect", "--json", path]).stdout == run.stdout)
    }
}
