import Foundation
import Testing
@testable import Verifier

/// Decoding into the bounded output buffer: streams many times their input size, and limits that
/// are exactly met (accepted) or passed by one byte (refused), for every codec.
@Suite struct BoundedDecompressionTests {
    /// What every `fixtures/artifacts/compressible/pattern.*` stream holds (see its SOURCE).
    static let payload: [UInt8] = Array((0..<1500).map { _ in (0..<200).map { UInt8($0) } }.joined())

    static let streams: [(file: String, compression: Compression, codec: String)] = [
        ("pattern.zlib", .zlib, "zlib"),
        ("pattern.zstd", .zstd, "zstd"),
        ("pattern.zstd-unsized", .zstd, "zstd"),
        ("pattern.xz", .xz, "xz"),
        ("pattern.lzma-alone", .lzmaAlone, "lzma-alone"),
        ("pattern.brotli", .brotli, "brotli"),
    ]

    static func bytes(_ file: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Paths.fixture("artifacts/compressible/\(file)")))
    }

    @Test(arguments: streams.map(\.file))
    func streamLargerThanTheFirstGuessDecodesWhole(file: String) throws {
        let stream = try #require(Self.streams.first { $0.file == file })
        let input = try Self.bytes(file)
        #expect(input.count * 8 < Self.payload.count)
        let output = try Decompression.decompress(input, as: stream.compression, file: file)
        #expect(output == Self.payload)
    }

    @Test(arguments: streams.map(\.file))
    func limitEqualToTheOutputIsAccepted(file: String) throws {
        let stream = try #require(Self.streams.first { $0.file == file })
        let output = try Decompression.decompress(try Self.bytes(file), as: stream.compression, file: file,
                                                  limit: Self.payload.count)
        #expect(output == Self.payload)
    }

    @Test(arguments: streams.map(\.file))
    func limitOneByteShortIsRefused(file: String) throws {
        let stream = try #require(Self.streams.first { $0.file == file })
        do {
            _ = try Decompression.decompress(try Self.bytes(file), as: stream.compression, file: file,
                                             limit: Self.payload.count - 1)
            Issue.record("decoded past a limit one byte below the output")
        } catch let error as ArtifactError {
            guard case .outputLimitExceeded(let location, let codec, let limit) = error else {
                Issue.record("expected outputLimitExceeded, got \(error)"); return
            }
            #expect(codec == stream.codec)
            #expect(limit == Self.payload.count - 1)
            #expect(location.file == file)
        }
    }
}
