import Foundation
import Testing
@testable import Verifier

/// Brotli decoded while its file is still being read: the same bytes, the same errors and the same
/// fallbacks as decoding the file once it is all in memory.
@Suite struct ProgressiveFileTests {
    static func temporaryFile(_ bytes: [UInt8], name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pgverify-progressive-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url
    }

    static func message(_ body: () throws(ArtifactError) -> ArtifactContents) -> String? {
        do { _ = try body(); return nil } catch { return "\(error)" }
    }

    /// Chunks from one byte up: the decoder waits for input many times and must resume exactly.
    @Test(arguments: [1, 7, 4096, 1 << 20])
    func progressiveDecodeMatchesTheStream(chunk: Int) throws {
        let file = try ProgressiveFile(path: Paths.fixture("artifacts/compressible/pattern.brotli").path, chunk: chunk)
        let output = try Decompression.unbrotli(progressive: file)
        #expect(output == BoundedDecompressionTests.payload)
    }

    @Test func progressiveDecodeStopsAtTheLimit() throws {
        let file = try ProgressiveFile(path: Paths.fixture("artifacts/compressible/pattern.brotli").path, chunk: 100)
        #expect(throws: ArtifactError.self) {
            _ = try Decompression.unbrotli(progressive: file, limit: BoundedDecompressionTests.payload.count - 1)
        }
    }

    @Test func aRecordArtifactReadsTheSameFromItsFileAsFromMemory() throws {
        let url = Paths.fixture("artifacts/record-wm-bshf-brotli/model.int6.ptz")
        let fromFile = try ArtifactReader.read(url: url)
        let fromMemory = try ArtifactReader.read(bytes: Array(try Data(contentsOf: url)), file: url.path)
        #expect(fromFile.compression == .brotli)
        #expect(fromFile.shuffle == fromMemory.shuffle)
        #expect(fromFile.fileBytes == fromMemory.fileBytes)
        #expect(fromFile.archiveBytes == fromMemory.archiveBytes)
        #expect(fromFile.format.tensors == fromMemory.format.tensors)
    }

    /// Truncated, empty and tiny files: the error the in-memory reader gives, word for word.
    @Test(arguments: [0, 10, 63, 64, 20_000])
    func cutFilesFailAsInMemory(keep: Int) throws {
        let whole = Array(try Data(contentsOf: Paths.fixture("artifacts/record-wm-bshf-brotli/model.int6.ptz")))
        let cut = Array(whole.prefix(keep))
        let url = try Self.temporaryFile(cut, name: "cut\(keep).ptz")
        defer { try? FileManager.default.removeItem(at: url) }
        let fromFile = Self.message { () throws(ArtifactError) in try ArtifactReader.read(url: url) }
        let fromMemory = Self.message { () throws(ArtifactError) in try ArtifactReader.read(bytes: cut, file: url.path) }
        #expect(fromFile != nil)
        #expect(fromFile == fromMemory)
    }

    @Test func missingFilesAndFoldersAreUnreadable() throws {
        #expect(throws: ArtifactError.self) { _ = try ProgressiveFile(path: "/nonexistent/pgverify/model.ptz") }
        do {
            _ = try ProgressiveFile(path: FileManager.default.temporaryDirectory.path)
            Issue.record("a folder opened as a file")
        } catch {
            #expect("\(error)".contains("not a regular file"))
        }
    }
}
