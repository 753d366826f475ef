import CZlib
import Testing
@testable import Verifier

/// The folding CRC-32 against zlib's on every short length, misaligned starts, long buffers and
/// continued checksums.
@Suite struct CRC32Tests {
    static let data: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<(3 << 20) + 77).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }()

    func zlib(_ bytes: ArraySlice<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(truncatingIfNeeded: CZlib.crc32(UInt(crc), $0.baseAddress, UInt32($0.count))) }
    }

    func ours(_ bytes: ArraySlice<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { CRC32.checksum($0, continuing: crc) }
    }

    @Test func knownValue() {
        // The CRC-32 check value of the ASCII digits 1-9.
        #expect(ours(ArraySlice(Array("123456789".utf8))) == 0xCBF4_3926)
        #expect(ours(ArraySlice([])) == 0)
    }

    @Test func everyLengthUpTo300AtEveryAlignment() {
        var mismatches = 0
        for start in 0..<16 {
            for length in 0...300 where ours(Self.data[start..<(start + length)]) != zlib(Self.data[start..<(start + length)]) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [64, 65, 127, 128, 1000, 4096 + 15, 1 << 20, (3 << 20) + 77])
    func longBuffersMatchZlib(length: Int) {
        let slice = Self.data[0..<length]
        #expect(ours(slice) == zlib(slice))
        #expect(ours(Self.data[3..<length]) == zlib(Self.data[3..<length]))
    }

    @Test func continuedChecksumsMatchOneChecksumOfTheWhole() {
        let whole = Self.data[0..<100_003]
        let first = ours(whole.prefix(40_001))
        #expect(ours(whole.dropFirst(40_001), continuing: first) == zlib(whole))
        #expect(ours(whole.dropFirst(40_001), continuing: first) == ours(whole))
    }

    @Test func foldingRunsOnX86() {
        #if arch(x86_64) && os(Linux)
        // The CI machines are x86-64 with PCLMULQDQ; if this fails the zlib fallback is being tested instead.
        #expect(CRC32.folds)
        #endif
    }
}
