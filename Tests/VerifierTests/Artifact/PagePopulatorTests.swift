import CZlib
import Foundation
import Testing
@testable import Verifier

/// The helper that maps output pages ahead of a decoder: it must never change a byte, and streams
/// big enough to start it must still decode exactly and respect the output limit.
@Suite struct PagePopulatorTests {
    /// 12 MiB of low-entropy bytes (16 symbols): about 2× compressible, so the zlib stream is
    /// several MiB and the output buffer (as large as the limit) starts the helper.
    static let payload: [UInt8] = {
        var state: UInt32 = 2_463_534_242
        return (0..<(12 << 20)).map { _ in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return UInt8(state & 0x0F)
        }
    }()

    static let stream: [UInt8] = {
        var size = compressBound(uLong(payload.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = output.withUnsafeMutableBufferPointer { out in
            payload.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &size, input.baseAddress, uLong(input.count), 1)
            }
        }
        precondition(status == Z_OK, "zlib could not compress the test payload")
        return Array(output.prefix(Int(size)))
    }()

    @Test func helperNeverChangesTheBuffer() throws {
        let capacity = 3 * PagePopulator.minimumCapacity + 123
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { pointer.deallocate() }
        let populator = PagePopulator.start(pointer, capacity: capacity)
        #if os(Linux)
        if ProcessInfo.processInfo.activeProcessorCount > 1 { #expect(populator != nil) }
        #endif
        // Write the buffer in steps while the helper maps pages at and ahead of the writer.
        var written = 0
        while written < capacity {
            let end = min(capacity, written + 700_001)
            populator?.advance(to: end)
            for index in written..<end { pointer[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
            written = end
        }
        populator?.stop()
        let intact = (0..<capacity).allSatisfy { pointer[$0] == UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(intact)
    }

    @Test func largeStreamDecodesExactlyWithTheHelper() throws {
        #expect(Self.stream.count * 8 >= PagePopulator.minimumCapacity)
        let output = try Decompression.decompress(Self.stream, as: .zlib, file: "large.zlib")
        #expect(output.count == Self.payload.count)
        #expect(output == Self.payload)
    }

    @Test func largeStreamStillStopsAtTheLimit() {
        let limit = Self.payload.count - 1
        do {
            _ = try Decompression.decompress(Self.stream, as: .zlib, file: "large.zlib", limit: limit)
            Issue.record("decoded past a limit one byte below the output")
        } catch {
            guard case .outputLimitExceeded(_, let codec, let reported) = error else {
                Issue.record("expected outputLimitExceeded, got \(error)")
                return
            }
            #expect(codec == "zlib")
            #expect(reported == limit)
        }
    }
}
