import CBrotli
import CLZMA
import CZlib
import CZstd
import Reference

/// Streaming decompression through the system libraries, stopping as soon as the output would pass
/// `limit` bytes, so a decompression bomb costs at most `limit` bytes of memory.
public enum Decompression {
    /// The default output limit: 1 GiB, far above any 16 MB artifact's torch.save archive.
    public static let defaultLimit = 1 << 30

    static let chunkSize = 1 << 20
    /// liblzma's `LZMA_CONCATENATED` flag (a macro Swift does not import): accept concatenated .xz streams.
    private static let lzmaConcatenated: UInt32 = 0x08

    /// Decompresses `input` (the whole file) with `compression`. `file` names it in errors.
    public static func decompress(
        _ input: [UInt8], as compression: Compression, file: String, limit: Int = defaultLimit
    ) throws(ArtifactError) -> [UInt8] {
        let location = InputLocation(file: file, offset: 0)
        switch compression {
        case .none:
            guard input.count <= limit else {
                throw .outputLimitExceeded(location, codec: "uncompressed input", limit: limit)
            }
            return input
        case .zlib: return try inflate(input, location: location, limit: limit)
        case .zstd: return try unzstd(input, location: location, limit: limit)
        case .xz, .lzmaAlone: return try unxz(input, alone: compression == .lzmaAlone, location: location, limit: limit)
        case .brotli: return try unbrotli(input, location: location, limit: limit)
        case .perGroup:
            throw .unsupportedFormat(location, detail: "a PGRP container holds several streams; ArtifactReader reads it")
        case .methodByteXz, .methodByteBrotli, .methodByteZstd:
            let body = Array(input.dropFirst(1))
            let inner: Compression = compression == .methodByteXz ? .xz : compression == .methodByteZstd ? .zstd : .brotli
            return try decompress(body, as: inner, file: "\(file) after its method byte", limit: limit)
        case .taggedZstd, .taggedZlib:
            // Offsets in errors count from the end of the tag, and the name says so.
            let body = Array(input.dropFirst(4))
            let bodyName = "\(file) after its 4-byte tag"
            return try decompress(body, as: compression == .taggedZstd ? .zstd : .zlib, file: bodyName, limit: limit)
        }
    }

    // MARK: zlib

    private static func inflate(_ input: [UInt8], location: InputLocation, limit: Int) throws(ArtifactError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corruptStream(location, codec: "zlib", detail: "the decoder could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var input = input
        let total = input.count
        let result: Result<Void, ArtifactError> = input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(clamping: inBuffer.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(outBuffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunkSize - Int(stream.avail_out)
                guard produced <= limit - output.count else {
                    return .failure(.outputLimitExceeded(location.at(Int(stream.total_in)), codec: "zlib", limit: limit))
                }
                chunk.withUnsafeBufferPointer { output.append(contentsOf: $0[0..<produced]) }
                let consumed = Int(stream.total_in)
                switch status {
                case Z_STREAM_END: return .success(())
                case Z_OK: continue
                case Z_BUF_ERROR where consumed >= total:
                    return .failure(.truncated(location.at(consumed), what: "zlib stream", needed: 1, available: 0))
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    return .failure(.corruptStream(location.at(consumed), codec: "zlib", detail: message))
                }
            }
        }
        try result.get()
        return output
    }

    // MARK: zstd

    private static func unzstd(_ input: [UInt8], location: InputLocation, limit: Int) throws(ArtifactError) -> [UInt8] {
        guard let stream = ZSTD_createDStream() else {
            throw .corruptStream(location, codec: "zstd", detail: "the decoder could not start")
        }
        defer { ZSTD_freeDStream(stream) }
        ZSTD_initDStream(stream)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        let result: Result<Void, ArtifactError> = input.withUnsafeBufferPointer { inBuffer in
            var inBuf = ZSTD_inBuffer(src: inBuffer.baseAddress, size: inBuffer.count, pos: 0)
            var producedInStep = 0
            while true {
                let status: Int = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    var outBuf = ZSTD_outBuffer(dst: outBuffer.baseAddress, size: outBuffer.count, pos: 0)
                    let status = ZSTD_decompressStream(stream, &outBuf, &inBuf)
                    if ZSTD_isError(status) == 0 {
                        producedInStep = outBuf.pos
                    }
                    return status
                }
                if ZSTD_isError(status) != 0 {
                    let name = String(cString: ZSTD_getErrorName(status))
                    return .failure(.corruptStream(location.at(inBuf.pos), codec: "zstd", detail: name))
                }
                let produced = producedInStep
                guard produced <= limit - output.count else {
                    return .failure(.outputLimitExceeded(location.at(inBuf.pos), codec: "zstd", limit: limit))
                }
                chunk.withUnsafeBufferPointer { output.append(contentsOf: $0[0..<produced]) }
                if status == 0 && inBuf.pos == inBuf.size { return .success(()) }
                if inBuf.pos == inBuf.size && produced < chunkSize {
                    // All input consumed, the frame is unfinished and no output is pending.
                    return .failure(.truncated(location.at(inBuf.pos), what: "zstd frame", needed: status, available: 0))
                }
            }
        }
        try result.get()
        return output
    }

    // MARK: xz / LZMA alone

    private static func unxz(
        _ input: [UInt8], alone: Bool, location: InputLocation, limit: Int
    ) throws(ArtifactError) -> [UInt8] {
        let codec = alone ? "lzma-alone" : "xz"
        var stream = lzma_stream()
        let memoryLimit: UInt64 = 1 << 31
        let initStatus = alone
            ? lzma_alone_decoder(&stream, memoryLimit)
            : lzma_stream_decoder(&stream, memoryLimit, lzmaConcatenated)
        guard initStatus == LZMA_OK else {
            throw .corruptStream(location, codec: codec, detail: "the decoder could not start (\(initStatus.rawValue))")
        }
        defer { lzma_end(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        let result: Result<Void, ArtifactError> = input.withUnsafeBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = inBuffer.count
            while true {
                let status: lzma_ret = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = outBuffer.count
                    return lzma_code(&stream, LZMA_FINISH)
                }
                let produced = chunkSize - stream.avail_out
                guard produced <= limit - output.count else {
                    return .failure(.outputLimitExceeded(location.at(Int(stream.total_in)), codec: codec, limit: limit))
                }
                chunk.withUnsafeBufferPointer { output.append(contentsOf: $0[0..<produced]) }
                let consumed = Int(stream.total_in)
                switch status {
                case LZMA_STREAM_END: return .success(())
                case LZMA_OK: continue
                case LZMA_BUF_ERROR:
                    return .failure(.truncated(location.at(consumed), what: "\(codec) stream", needed: 1, available: 0))
                case LZMA_MEMLIMIT_ERROR, LZMA_MEM_ERROR:
                    return .failure(.corruptStream(location.at(consumed), codec: codec,
                                                   detail: "the stream asks for more than \(memoryLimit) bytes of decoder memory"))
                default:
                    return .failure(.corruptStream(location.at(consumed), codec: codec, detail: "liblzma error \(status.rawValue)"))
                }
            }
        }
        try result.get()
        return output
    }

    // MARK: brotli

    private static func unbrotli(_ input: [UInt8], location: InputLocation, limit: Int) throws(ArtifactError) -> [UInt8] {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else {
            throw .corruptStream(location, codec: "brotli", detail: "the decoder could not start")
        }
        defer { BrotliDecoderDestroyInstance(state) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        let result: Result<Void, ArtifactError> = input.withUnsafeBufferPointer { inBuffer in
            var availableIn = inBuffer.count
            var nextIn = inBuffer.baseAddress
            while true {
                var availableOut = chunkSize
                let status = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    var nextOut = outBuffer.baseAddress
                    return BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
                }
                let produced = chunkSize - availableOut
                guard produced <= limit - output.count else {
                    return .failure(.outputLimitExceeded(location.at(inBuffer.count - availableIn), codec: "brotli", limit: limit))
                }
                chunk.withUnsafeBufferPointer { output.append(contentsOf: $0[0..<produced]) }
                let consumed = inBuffer.count - availableIn
                switch status {
                case BROTLI_DECODER_RESULT_SUCCESS: return .success(())
                case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: continue
                case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                    return .failure(.truncated(location.at(consumed), what: "brotli stream", needed: 1, available: 0))
                default:
                    let code = BrotliDecoderGetErrorCode(state)
                    let name = BrotliDecoderErrorString(code).map { String(cString: $0) } ?? "error"
                    return .failure(.corruptStream(location.at(consumed), codec: "brotli", detail: name))
                }
            }
        }
        try result.get()
        return output
    }
}
