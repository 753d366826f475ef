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
        return try input.withUnsafeBufferPointer { inBuffer throws(ArtifactError) in
            stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
            stream.avail_in = UInt32(clamping: inBuffer.count)
            let total = inBuffer.count
            return try BoundedOutput.decode(
                limit: limit,
                limitError: { .outputLimitExceeded(location.at(Int(stream.total_in)), codec: "zlib", limit: limit) }
            ) { destination, space in
                stream.next_out = destination
                stream.avail_out = UInt32(clamping: space)
                let given = Int(stream.avail_out)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                let produced = given - Int(stream.avail_out)
                let consumed = Int(stream.total_in)
                switch status {
                case Z_STREAM_END: return (produced, .finished)
                case Z_OK: return (produced, .proceed)
                case Z_BUF_ERROR where consumed >= total:
                    return (produced, .failed(.truncated(location.at(consumed), what: "zlib stream", needed: 1, available: 0)))
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    return (produced, .failed(.corruptStream(location.at(consumed), codec: "zlib", detail: message)))
                }
            }
        }
    }

    // MARK: zstd

    private static func unzstd(_ input: [UInt8], location: InputLocation, limit: Int) throws(ArtifactError) -> [UInt8] {
        guard let stream = ZSTD_createDStream() else {
            throw .corruptStream(location, codec: "zstd", detail: "the decoder could not start")
        }
        defer { ZSTD_freeDStream(stream) }
        ZSTD_initDStream(stream)
        return try input.withUnsafeBufferPointer { inBuffer throws(ArtifactError) in
            var inBuf = ZSTD_inBuffer(src: inBuffer.baseAddress, size: inBuffer.count, pos: 0)
            return try BoundedOutput.decode(
                limit: limit,
                limitError: { .outputLimitExceeded(location.at(inBuf.pos), codec: "zstd", limit: limit) }
            ) { destination, space in
                var outBuf = ZSTD_outBuffer(dst: destination, size: space, pos: 0)
                let status = ZSTD_decompressStream(stream, &outBuf, &inBuf)
                if ZSTD_isError(status) != 0 {
                    let name = String(cString: ZSTD_getErrorName(status))
                    return (0, .failed(.corruptStream(location.at(inBuf.pos), codec: "zstd", detail: name)))
                }
                let produced = outBuf.pos
                if status == 0 && inBuf.pos == inBuf.size { return (produced, .finished) }
                if inBuf.pos == inBuf.size && produced < space {
                    // All input consumed, the frame is unfinished and no output is pending.
                    return (produced, .failed(.truncated(location.at(inBuf.pos), what: "zstd frame", needed: status, available: 0)))
                }
                return (produced, .proceed)
            }
        }
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
        return try input.withUnsafeBufferPointer { inBuffer throws(ArtifactError) in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = inBuffer.count
            return try BoundedOutput.decode(
                limit: limit,
                limitError: { .outputLimitExceeded(location.at(Int(stream.total_in)), codec: codec, limit: limit) }
            ) { destination, space in
                stream.next_out = destination
                stream.avail_out = space
                let status = lzma_code(&stream, LZMA_FINISH)
                let produced = space - stream.avail_out
                let consumed = Int(stream.total_in)
                switch status {
                case LZMA_STREAM_END: return (produced, .finished)
                case LZMA_OK: return (produced, .proceed)
                case LZMA_BUF_ERROR:
                    return (produced, .failed(.truncated(location.at(consumed), what: "\(codec) stream", needed: 1, available: 0)))
                case LZMA_MEMLIMIT_ERROR, LZMA_MEM_ERROR:
                    return (produced, .failed(.corruptStream(location.at(consumed), codec: codec,
                                                             detail: "the stream asks for more than \(memoryLimit) bytes of decoder memory")))
                default:
                    return (produced, .failed(.corruptStream(location.at(consumed), codec: codec, detail: "liblzma error \(status.rawValue)")))
                }
            }
        }
    }

    // MARK: brotli

    /// Decodes a brotli file while it is still being read (``ProgressiveFile``): the decoder takes
    /// input as the reader publishes it, and only input missing at the end of the file is a
    /// truncation.
    static func unbrotli(progressive file: ProgressiveFile, limit: Int = defaultLimit) throws(ArtifactError) -> [UInt8] {
        let (available, complete) = try file.waitForBytes(beyond: 0)
        return try unbrotli(from: UnsafePointer(file.base), available: available, complete: complete,
                            location: InputLocation(file: file.path, offset: 0),
                            limit: limit) { published throws(ArtifactError) in try file.waitForBytes(beyond: published) }
    }

    private static func unbrotli(_ input: [UInt8], location: InputLocation, limit: Int) throws(ArtifactError) -> [UInt8] {
        try input.withUnsafeBufferPointer { inBuffer throws(ArtifactError) in
            guard let base = inBuffer.baseAddress else {
                throw .truncated(location, what: "brotli stream", needed: 1, available: 0)
            }
            return try unbrotli(from: base, available: inBuffer.count, complete: true,
                                location: location, limit: limit) { published in (published, true) }
        }
    }

    /// The brotli loop over input at `base`: `available` bytes now, and `more(available)` waits for
    /// further bytes (or the end) while the input is incomplete.
    private static func unbrotli(
        from base: UnsafePointer<UInt8>, available: Int, complete: Bool,
        location: InputLocation, limit: Int,
        more: (Int) throws(ArtifactError) -> (available: Int, complete: Bool)
    ) throws(ArtifactError) -> [UInt8] {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else {
            throw .corruptStream(location, codec: "brotli", detail: "the decoder could not start")
        }
        defer { BrotliDecoderDestroyInstance(state) }
        var published = available, complete = complete
        var availableIn = available
        var nextIn: UnsafePointer<UInt8>? = base
        return try BoundedOutput.decode(
            limit: limit,
            limitError: { .outputLimitExceeded(location.at(published - availableIn), codec: "brotli", limit: limit) }
        ) { destination, space in
            var availableOut = space
            var nextOut: UnsafeMutablePointer<UInt8>? = destination
            let status = BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
            let produced = space - availableOut
            let consumed = published - availableIn
            switch status {
            case BROTLI_DECODER_RESULT_SUCCESS: return (produced, .finished)
            case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: return (produced, .proceed)
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                guard !complete else {
                    return (produced, .failed(.truncated(location.at(consumed), what: "brotli stream", needed: 1, available: 0)))
                }
                do throws(ArtifactError) {
                    let (now, done) = try more(published)
                    availableIn += now - published
                    published = now
                    complete = done
                } catch {
                    return (produced, .failed(error))
                }
                return (produced, .proceed)
            default:
                let code = BrotliDecoderGetErrorCode(state)
                let name = BrotliDecoderErrorString(code).map { String(cString: $0) } ?? "error"
                return (produced, .failed(.corruptStream(location.at(consumed), codec: "brotli", detail: name)))
            }
        }
    }
}
