import Foundation
import Testing

/// Runs the built `verify` binary: exit codes and messages as a user sees them.
@Suite struct InspectCommandTests {
    /// The `verify` executable of this build: beside the test bundle in the products folder, or
    /// `.build/debug/verify` under the package.
    func verify(_ arguments: [String]) throws -> VerifyExecutable.Outcome { try VerifyExecutable.run(arguments) }

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

    /// The heap policy (huge pages, one arena; Sources/verify/HugePageHeap.swift) changes speed only:
    /// a BSHF + brotli record artifact reads to the same report with it and without it.
    @Test func hugePageHeapChangesNothingButSpeed() throws {
        let path = Paths.fixture("combined/lqerasym-brotli-sp1024/final_model.int6.ptz").path
        let withPolicy = try VerifyExecutable.run(["inspect", "--json", path])
        let without = try VerifyExecutable.run(["inspect", "--json", path], environment: ["PGVERIFY_HUGE_PAGES": "0"])
        #expect(withPolicy.status == 0)
        #expect(without.status == 0)
        #expect(withPolicy.stdout.contains("BSHF stride 2"))
        #expect(withPolicy.stdout == without.stdout)
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
