import CLZMA
import CZlib
import CZstd
import Foundation
import Testing
@testable import Verifier

/// Decompression bombs of every form are refused by `verify inspect` holding at most 1.25× the
/// output limit (measured as the executable's peak resident memory above that of inspecting a small
/// real artifact). The bombs are generated here, from zeros, a little past the limit.
@Suite struct BombMemoryTests {
    static let limit = 128 << 20
    static let chunk = [UInt8](repeating: 0, count: 1 << 20)

    /// zlib of `count` zero bytes, streamed chunk by chunk.
    static func zlibZeros(_ count: Int) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit_(&stream, 9, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        var out = [UInt8](repeating: 0, count: 1 << 16)
        var remaining = count
        repeat {
            let take = min(remaining, chunk.count)
            remaining -= take
            let flush = remaining == 0 ? Z_FINISH : Z_NO_FLUSH
            chunk.withUnsafeBufferPointer { input in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(take)
                repeat {
                    out.withUnsafeMutableBufferPointer { buffer in
                        stream.next_out = buffer.baseAddress
                        stream.avail_out = UInt32(buffer.count)
                        _ = deflate(&stream, flush)
                        output += buffer[0..<(buffer.count - Int(stream.avail_out))]
                    }
                } while stream.avail_out == 0
            }
        } while remaining > 0
        return output
    }

    /// xz of `count` zero bytes.
    static func xzZeros(_ count: Int) -> [UInt8] {
        var stream = lzma_stream()
        precondition(lzma_easy_encoder(&stream, 0, LZMA_CHECK_CRC64) == LZMA_OK)
        defer { lzma_end(&stream) }
        var output: [UInt8] = []
        var out = [UInt8](repeating: 0, count: 1 << 16)
        var remaining = count
        var status = LZMA_OK
        repeat {
            let take = min(remaining, chunk.count)
            remaining -= take
            let action = remaining == 0 ? LZMA_FINISH : LZMA_RUN
            chunk.withUnsafeBufferPointer { input in
                stream.next_in = input.baseAddress
                stream.avail_in = take
                repeat {
                    out.withUnsafeMutableBufferPointer { buffer in
                        stream.next_out = buffer.baseAddress
                        stream.avail_out = buffer.count
                        status = lzma_code(&stream, action)
                        output += buffer[0..<(buffer.count - stream.avail_out)]
                    }
                } while stream.avail_in > 0 || (action == LZMA_FINISH && status == LZMA_OK)
            }
        } while remaining > 0
        return output
    }

    /// zstd of `prefix` then `count` zero bytes.
    static func zstdZeros(_ count: Int, after prefix: [UInt8] = []) -> [UInt8] {
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        var output: [UInt8] = []
        var out = [UInt8](repeating: 0, count: 1 << 16)
        var pieces: [(bytes: [UInt8], count: Int)] = [(prefix, prefix.count)]
        var remaining = count
        while remaining > 0 {
            pieces.append((chunk, min(remaining, chunk.count)))
            remaining -= chunk.count
        }
        for (index, piece) in pieces.enumerated() {
            let directive = index == pieces.count - 1 ? ZSTD_e_end : ZSTD_e_continue
            piece.bytes.withUnsafeBufferPointer { input in
                var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: piece.count, pos: 0)
                var pending = 1
                while inBuffer.pos < inBuffer.size || (directive == ZSTD_e_end && pending != 0) {
                    out.withUnsafeMutableBufferPointer { buffer in
                        var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                        pending = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
                        output += buffer[0..<outBuffer.pos]
                    }
                }
            }
        }
        return output
    }

    /// A torch-like ZIP with one stored entry `archive/data.pkl`: a protocol-2 header and `count` zeros.
    static func zipWithPickle(zeros count: Int) -> [UInt8] {
        let name = Array("archive/data.pkl".utf8)
        var crc = crc32(0, [0x80, 0x02], 2)
        var remaining = count
        while remaining > 0 {
            let take = min(remaining, chunk.count)
            crc = crc32(crc, chunk, UInt32(take))
            remaining -= take
        }
        func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        let size = UInt32(count + 2)
        let local = le(UInt32(0x0403_4B50)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0)) + le(UInt32(0))
            + le(UInt32(crc)) + le(size) + le(size) + le(UInt16(name.count)) + le(UInt16(0)) + name
        let central = le(UInt32(0x0201_4B50)) + le(UInt16(20)) + le(UInt16(20)) + le(UInt16(0)) + le(UInt16(0))
            + le(UInt32(0)) + le(UInt32(crc)) + le(size) + le(size) + le(UInt16(name.count)) + [UInt8](repeating: 0, count: 12)
            + le(UInt32(0)) + name
        let centralOffset = local.count + count + 2
        let end = le(UInt32(0x0605_4B50)) + le(UInt32(0)) + le(UInt16(1)) + le(UInt16(1))
            + le(UInt32(central.count)) + le(UInt32(centralOffset)) + le(UInt16(0))
        return local + [0x80, 0x02] + [UInt8](repeating: 0, count: count) + central + end
    }

    static let bombs: [String] = ["zlib", "xz", "zstd", "tagged zstd", "brotli", "BSHF", "ZIP entry"]

    static func bomb(_ kind: String) -> [UInt8] {
        let past = limit + (16 << 20)
        switch kind {
        case "zlib": return zlibZeros(past)
        case "xz": return xzZeros(past)
        case "zstd": return zstdZeros(past)
        case "tagged zstd": return Array("ZSTD".utf8) + zstdZeros(past)
        // Under the limit as decompressed, but unshuffling would hold it twice.
        case "BSHF": return zstdZeros(limit * 3 / 4, after: Array("BSHF".utf8) + [2])
        // Under the limit as decompressed, but reading the pickle would copy it.
        case "ZIP entry": return zstdZeros(0, after: zipWithPickle(zeros: limit * 3 / 4))
        default: return []
        }
    }

    /// Runs `verify arguments` under a small python3 that starts it and reports its peak resident
    /// memory (`RUSAGE_CHILDREN`). Not measured on verify started from this process directly: helpers
    /// start with vfork, and the kernel counts the memory a process had before `exec` into its peak,
    /// which would be this whole test process's; python3's is a few megabytes, far below verify's.
    static func peakResidentBytes(_ arguments: [String]) throws -> (HelperProcess.Ended, Int) {
        let binary = try #require(VerifyExecutable.url)
        let limits = HelperLimits(wallSeconds: 120, cpuSeconds: 120, memoryBytes: 4 << 30, outputBytes: 1 << 24)
        let script = """
            import resource, subprocess, sys
            done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            sys.stderr.write(done.stderr.decode("utf-8", "replace"))
            print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            sys.exit(done.returncode)
            """
        let ended = try HelperProcess.run(URL(fileURLWithPath: "/usr/bin/python3"), arguments: ["-c", script, binary.path] + arguments,
                                          limits: limits)
        let kib = try #require(Int(String(decoding: ended.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        return (ended, kib * 1024)
    }

    @Test(arguments: bombs)
    func bombIsRefusedWithinAQuarterOverTheLimit(kind: String) throws {
        let (baselineRun, baseline) = try Self.peakResidentBytes(
            ["inspect", Paths.fixture("artifacts/taleef7-baseline-2L64d/final_model.int8.ptz").path])
        #expect(baselineRun.exitStatus == 0)
        let path: String
        var folder: URL?
        if kind == "brotli" {
            path = Paths.fixture("hostile/bomb.ptz").path  // 2 GiB of zeros
        } else {
            let created = try HelperFolder.create(purpose: "test")
            folder = created
            path = created.appendingPathComponent("bomb").path
            try Data(Self.bomb(kind)).write(to: URL(fileURLWithPath: path))
        }
        defer { folder.map { try? FileManager.default.removeItem(at: $0) } }
        let (ended, peak) = try Self.peakResidentBytes(["inspect", path, "--max-decompressed-bytes", "\(Self.limit)"])
        #expect(ended.exitStatus == ExitStatus.badInput.rawValue)
        #expect(ended.errorTail.contains("exceeds the decompression limit of \(Self.limit) bytes"))
        let used = Double(peak - baseline) / Double(Self.limit)
        // Above half: the measurement saw the bomb's output (it decodes at least 3/4 of the limit).
        #expect(used > 0.5, "\(kind): \(peak - baseline) bytes above the baseline")
        #expect(used <= 1.25, "\(kind): \(peak - baseline) bytes above the baseline, \(used)× the limit")
    }
}
