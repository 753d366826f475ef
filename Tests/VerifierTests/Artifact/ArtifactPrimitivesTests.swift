import Foundation
import Reference
import Testing
@testable import Verifier

@Suite struct CompressionDetectionTests {
    @Test func magicBytesPickTheDecoder() {
        #expect(Compression.detect([0x78, 0xDA, 0, 0]) == .zlib)
        #expect(Compression.detect([0x78, 0x9C, 0, 0]) == .zlib)
        #expect(Compression.detect([0x28, 0xB5, 0x2F, 0xFD, 0]) == .zstd)
        #expect(Compression.detect([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0]) == .xz)
        #expect(Compression.detect([0x5D, 0x00, 0x00, 0x80, 0x00] + [UInt8](repeating: 0xFF, count: 8) + [0]) == .lzmaAlone)
        #expect(Compression.detect(Array("PK\u{3}\u{4}rest".utf8)) == .none)
        #expect(Compression.detect(Array("BSHF\u{2}rest".utf8)) == .none)
        #expect(Compression.detect([0x1B, 0x2F, 0x00, 0x00]) == .brotli)
        #expect(Compression.detect([]) == .brotli)
    }
}

@Suite struct ByteShuffleTests {
    /// Shuffles as the records' `_byte_shuffle` does: lane i holds bytes i, i + stride, ...
    func shuffle(_ data: [UInt8], stride: Int, headerBytes: Int) -> [UInt8] {
        var lanes: [UInt8] = []
        for lane in 0..<stride { lanes += Swift.stride(from: lane, to: data.count, by: stride).map { data[$0] } }
        let header = headerBytes == 1 ? [UInt8(stride)] : [UInt8(stride & 0xFF), UInt8(stride >> 8)]
        return Array("BSHF".utf8) + header + lanes
    }

    @Test(arguments: [(2, 1), (2, 2), (3, 1), (4, 2), (7, 1)])
    func unshuffleRestoresTheArchive(stride: Int, headerBytes: Int) throws {
        let original: [UInt8] = Array("PK\u{3}\u{4}".utf8) + (0..<1001).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let (header, restored) = try ByteShuffle.unshuffle(shuffle(original, stride: stride, headerBytes: headerBytes), file: "x")
        #expect(header == ByteShuffle.Header(stride: stride, headerLength: 4 + headerBytes))
        #expect(restored == original)
    }

    /// Payloads large enough to be split across cores, with a partial last group.
    @Test(arguments: [2, 3, 4])
    func largePayloadsUnshuffleInParts(stride: Int) throws {
        let count = 3 * ByteShuffle.parallelMinimum + stride - 1
        var original: [UInt8] = Array("PK\u{3}\u{4}".utf8)
        var state: UInt32 = 12345
        while original.count < count {
            state = state &* 1_664_525 &+ 1_013_904_223
            original.append(UInt8(truncatingIfNeeded: state >> 24))
        }
        let (_, restored) = try ByteShuffle.unshuffle(shuffle(original, stride: stride, headerBytes: 1), file: "x")
        #expect(restored.count == original.count)
        #expect(restored == original)
    }

    @Test func truncatedHeaderIsATypedError() {
        #expect(throws: ArtifactError.self) { try ByteShuffle.unshuffle(Array("BSHF".utf8), file: "x") }
    }
}

@Suite struct FloatBitsTests {
    #if !(os(macOS) && arch(x86_64))
    @Test func halfToFloatIsExactForEveryPattern() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = FloatBits.halfToFloat(bits)
            if expected.isNaN { #expect(actual.isNaN) } else { #expect(actual.bitPattern == expected.bitPattern, "\(bits)") }
        }
    }

    @Test func floatToHalfRoundsToNearestEven() {
        var generator = SystemRandomNumberGenerator()
        var samples: [Float] = [0, -0, 1, 65504, 65519.99, 65520, 1e-8, 5.96e-8, 2.98e-8, 2.9802322e-8, 6.1035156e-5,
                                6.097555e-5, 1.0009765625, 1.00048828125, 1.00146484375, -3.14159, .infinity, -.infinity]
        for _ in 0..<20_000 { samples.append(Float(bitPattern: UInt32.random(in: 0x3000_0000...0x4780_0000, using: &generator))) }
        for value in samples {
            #expect(FloatBits.floatToHalf(value) == Float16(value).bitPattern, "\(value)")
            #expect(FloatBits.floatToHalf(-value) == Float16(-value).bitPattern, "\(-value)")
        }
    }
    #endif

    @Test func bfloat16RoundsLikePyTorch() {
        #expect(FloatBits.floatToBFloat16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, to even
        #expect(FloatBits.floatToBFloat16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, to even (up)
        #expect(FloatBits.floatToBFloat16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(FloatBits.floatToBFloat16(.nan) == 0x7FC0)
        #expect(FloatBits.floatToBFloat16(.infinity) == 0x7F80)
        #expect(FloatBits.bfloat16ToFloat(0x3FC0) == 1.5)
    }

    @Test func float8E4M3FNDecodes() {
        #expect(FloatBits.e4m3fnToFloat(0x7E) == 448)
        #expect(FloatBits.e4m3fnToFloat(0xFE) == -448)
        #expect(FloatBits.e4m3fnToFloat(0x7F).isNaN)
        #expect(FloatBits.e4m3fnToFloat(0x01) == 0x1p-9)
        #expect(FloatBits.e4m3fnToFloat(0x38) == 1)
        #expect(FloatBits.e4m3fnToFloat(0x3C) == 1.5)
    }
}
