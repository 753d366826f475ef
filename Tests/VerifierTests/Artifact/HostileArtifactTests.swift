import Foundation
import Reference
import Testing
@testable import Verifier

/// Hostile and broken artifacts: each is refused with a typed error naming the file and offset.
@Suite struct HostileArtifactTests {
    func readError(_ fixture: String, options: ArtifactReader.Options = .init()) -> ArtifactError? {
        do {
            _ = try ArtifactReader.weights(of: ArtifactReader.read(url: Paths.fixture(fixture), options: options))
            return nil
        } catch {
            return error
        }
    }

    @Test func pickleCallingOsSystemIsRefusedBeforeAnythingRuns() throws {
        let error = try #require(readError("hostile/os_system.ptz"))
        guard case .forbiddenGlobal(let location, let module, let name) = error else {
            Issue.record("expected forbiddenGlobal, got \(error)"); return
        }
        #expect(module == "os" && name == "system")
        #expect(location.offset == 2)
        #expect(location.file.hasSuffix("os_system.ptz (zlib-decompressed) > archive/data.pkl"))
        #expect(error.description.contains("forbidden global os.system"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pwnd"))
    }

    @Test func truncatedZipIsRefused() throws {
        let error = try #require(readError("hostile/truncated_zip.pt"))
        guard case .malformedZip(let location, let detail) = error else {
            Issue.record("expected malformedZip, got \(error)"); return
        }
        #expect(detail.contains("no end-of-central-directory record"))
        #expect(location.file.hasSuffix("truncated_zip.pt"))
        #expect(location.offset == 946)
    }

    @Test func badZstdFrameIsRefused() throws {
        let error = try #require(readError("hostile/bad_zstd.ptz"))
        guard case .corruptStream(let location, let codec, _) = error else {
            Issue.record("expected corruptStream, got \(error)"); return
        }
        #expect(codec == "zstd")
        #expect(location.file.hasSuffix("bad_zstd.ptz"))
        #expect(error.description.contains("corrupt zstd stream"))
    }

    @Test func decompressionBombStopsAtTheDefaultLimit() throws {
        let error = try #require(readError("hostile/bomb.ptz"))
        guard case .outputLimitExceeded(let location, let codec, let limit) = error else {
            Issue.record("expected outputLimitExceeded, got \(error)"); return
        }
        #expect(codec == "brotli")
        #expect(limit == 1 << 30)
        #expect(location.file.hasSuffix("bomb.ptz"))
    }

    @Test func decompressionBombStopsAtAConfiguredLimit() throws {
        let error = try #require(readError("hostile/bomb.ptz", options: .init(maxDecompressedBytes: 1 << 20)))
        guard case .outputLimitExceeded(_, _, let limit) = error else {
            Issue.record("expected outputLimitExceeded, got \(error)"); return
        }
        #expect(limit == 1 << 20)
        #expect(error.description.contains("exceeds the decompression limit of 1048576 bytes"))
    }

    @Test func limitIsExactForALegitimateArtifact() throws {
        let bytes = Array(try Data(contentsOf: Paths.fixture("artifacts/wrappers/model.zstd.ptz")))
        let size = try Decompression.decompress(bytes, as: .zstd, file: "m").count
        #expect(try Decompression.decompress(bytes, as: .zstd, file: "m", limit: size).count == size)
        #expect(throws: ArtifactError.self) { try Decompression.decompress(bytes, as: .zstd, file: "m", limit: size - 1) }
    }

    @Test func tensorViewLongerThanItsStorageIsRefused() throws {
        let error = try #require(readError("hostile/storage_too_short.pt"))
        guard case .storageTooShort(let location, let storage, let needed, let available) = error else {
            Issue.record("expected storageTooShort, got \(error)"); return
        }
        #expect(storage == "archive/data/0")
        #expect(needed == 8 && available == 6)  // shape (2, 5) with strides (3, 1) reaches element 7
        #expect(location.file.hasSuffix("storage_too_short.pt > archive/data.pkl"))
        #expect(location.offset != nil)
    }

    @Test func zipEntryPointingPastTheEndIsRefused() throws {
        let error = try #require(readError("hostile/zip_entry_past_end.pt"))
        guard case .malformedZip(let location, let detail) = error else {
            Issue.record("expected malformedZip, got \(error)"); return
        }
        #expect(detail.contains("archive/data/0"))
        #expect(detail.contains("runs past the end"))
        #expect(location.offset != nil)
    }

    @Test func unknownBytesAreNotMistakenForBrotli() throws {
        let error: ArtifactError
        do {
            _ = try ArtifactReader.read(bytes: Array("hello, this is not an artifact".utf8), file: "notes.txt")
            Issue.record("plain text was accepted"); return
        } catch let caught { error = caught }
        guard case .unrecognizedCompression(let location, let first, _) = error else {
            Issue.record("expected unrecognizedCompression, got \(error)"); return
        }
        #expect(location.file == "notes.txt")
        #expect(first == "68 65 6C 6C 6F 2C 20 74")
    }

    @Test func unknownStructureNamesItsTopLevelKeys() throws {
        // A pickle of {"r": {}, "m": {}} (like a PGRP remainder) in a torch-like archive is not a format we dequantize (yet).
        let pickle: [UInt8] = [0x80, 0x02, 0x7D, 0x28] + PickleBytes.shortString("r") + [0x7D]
            + PickleBytes.shortString("m") + [0x7D, 0x75, 0x2E]
        let zip = PickleBytes.storedZip(["archive/data.pkl": pickle])
        #expect {
            try ArtifactReader.read(bytes: zip, file: "f4.ptz")
        } throws: { error in
            guard let error = error as? ArtifactError, case .unsupportedFormat(_, let detail) = error else { return false }
            return detail.contains("top-level keys [r, m]")
        }
    }
}

@Suite struct TruncatedStreamTests {
    @Test(arguments: [("model.zlib.ptz", "zlib"), ("model.zstd.ptz", "zstd"), ("model.xz.ptz", "xz"),
                      ("model.lzma-alone.ptz", "lzma-alone"), ("model.bshf1-brotli.ptz", "brotli")])
    func everyDecoderReportsATruncatedStream(file: String, codec: String) throws {
        let bytes = Array(try Data(contentsOf: Paths.fixture("artifacts/wrappers/\(file)")))
        let half = Array(bytes.prefix(bytes.count / 2))
        let detected = Compression.detect(half)
        #expect(detected.rawValue == codec)
        #expect {
            try Decompression.decompress(half, as: detected, file: file)
        } throws: { error in
            guard let error = error as? ArtifactError, case .truncated(let location, _, _, _) = error else { return false }
            return location.file == file && (location.offset ?? 0) > 0
        }
    }
}

@Suite struct PerGroupContainerTests {
    @Test func truncatedStreamTableIsATypedError() throws {
        let bytes = Array(try Data(contentsOf: Paths.fixture("artifacts/record-pergroup-lrzip/model.int6.ptz")))
        #expect {
            try ArtifactReader.read(bytes: Array(bytes.prefix(5000)), file: "cut.ptz")
        } throws: { error in
            guard let error = error as? ArtifactError, case .truncated(let location, let what, _, _) = error else { return false }
            return location.file == "cut.ptz" && what.hasPrefix("PGRP stream")
        }
    }

    @Test func lrzipOutputLimitIsCheckedFromTheHeader() throws {
        let bytes = Array(try Data(contentsOf: Paths.fixture("artifacts/record-pergroup-lrzip/model.int6.ptz")))
        #expect {
            try ArtifactReader.read(bytes: bytes, file: "m.ptz", options: .init(maxDecompressedBytes: 40_000))
        } throws: { error in
            guard let error = error as? ArtifactError, case .outputLimitExceeded(_, let codec, _) = error else { return false }
            return codec == "lrzip"
        }
    }
}
