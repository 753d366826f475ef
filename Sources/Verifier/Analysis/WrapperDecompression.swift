import CLZMA
import CZlib

/// Decompressors for self-extracting code, matching Python's `lzma.decompress` and
/// `zlib.decompress`, with a cap on the output so a hostile blob cannot exhaust memory.
public enum WrapperDecompression {
    /// Decoded code larger than this is refused (real wrapped submissions are under 200 kB).
    public static let maximumOutput = 64 << 20

    /// The container `lzma.decompress(format=...)` reads.
    public enum LZMAFormat: Sendable, Equatable {
        /// `FORMAT_AUTO` (the default): `.xz` or legacy `.lzma`.
        case auto
        /// `FORMAT_RAW` with an LZMA2 filter whose dictionary holds `dictionarySize` bytes.
        case rawLZMA2(dictionarySize: UInt32)
    }

    // liblzma's LZMA_FILTER_LZMA2 and LZMA_VLI_UNKNOWN are macros with casts Swift does not import.
    private static let filterLZMA2: lzma_vli = 0x21
    private static let filterListEnd: lzma_vli = .max

    /// Why a payload does not decompress.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Decompresses `input` as `lzma.decompress` would.
    public static func lzma(_ input: [UInt8], format: LZMAFormat) throws -> [UInt8] {
        var stream = lzma_stream()
        var status: lzma_ret
        switch format {
        case .auto:
            status = lzma_auto_decoder(&stream, UInt64(maximumOutput) * 4, 0)
        case .rawLZMA2(let dictionarySize):
            var options = lzma_options_lzma()
            _ = lzma_lzma_preset(&options, 6)
            options.dict_size = dictionarySize
            status = withUnsafeMutablePointer(to: &options) { optionsPointer in
                var filters = [
                    lzma_filter(id: filterLZMA2, options: UnsafeMutableRawPointer(optionsPointer)),
                    lzma_filter(id: filterListEnd, options: nil),
                ]
                return lzma_raw_decoder(&stream, &filters)
            }
        }
        guard status == LZMA_OK else { throw Failure(description: "liblzma refused to start (code \(status.rawValue))") }
        defer { lzma_end(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        return try input.withUnsafeBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = inputBuffer.count
            while true {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = buffer.count
                    status = lzma_code(&stream, stream.avail_in == 0 ? LZMA_FINISH : LZMA_RUN)
                    return buffer.count - stream.avail_out
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > maximumOutput {
                    throw Failure(description: "decompressed code exceeds \(maximumOutput) bytes")
                }
                if status == LZMA_STREAM_END { return output }
                guard status == LZMA_OK else {
                    throw Failure(description: "corrupt or truncated LZMA data (liblzma code \(status.rawValue))")
                }
                if produced == 0 && stream.avail_in == 0 {
                    // Raw streams may end without an end marker: what was decoded is the code.
                    if case .rawLZMA2 = format { return output }
                    throw Failure(description: "truncated LZMA data")
                }
            }
        }
    }

    /// Decompresses `input` as `zlib.decompress(input, wbits)` would (15: zlib header,
    /// -15: raw deflate, 31: gzip, 47: either).
    public static func zlib(_ input: [UInt8], windowBits: Int32 = 15) throws -> [UInt8] {
        var stream = z_stream()
        var status = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Failure(description: "zlib refused to start (code \(status))") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = input
        return try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return buffer.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > maximumOutput {
                    throw Failure(description: "decompressed code exceeds \(maximumOutput) bytes")
                }
                if status == Z_STREAM_END { return output }
                guard status == Z_OK || (status == Z_BUF_ERROR && produced > 0) else {
                    throw Failure(description: "corrupt or truncated zlib data (code \(status))")
                }
                if produced == 0 { throw Failure(description: "truncated zlib data") }
            }
        }
    }

    /// Decompresses `input` as `brotli.decompress` would (the artifact reader's decoder, with
    /// this enum's output cap).
    public static func brotli(_ input: [UInt8]) throws -> [UInt8] {
        do {
            return try Decompression.decompress(input, as: .brotli, file: "wrapper payload", limit: maximumOutput)
        } catch {
            throw Failure(description: String(describing: error))
        }
    }
}
