import Foundation
import Reference

/// Everything read from an artifact on the way to weights: each layer of the pipeline
/// (compression → byte shuffle → torch.save ZIP → pickle → export format).
public struct ArtifactContents: Sendable {
    /// The artifact's path as given.
    public var file: String
    /// Size of the artifact file (the compressed model bytes the cap counts).
    public var fileBytes: Int
    /// The outer compression.
    public var compression: Compression
    /// The `BSHF` header, when the decompressed bytes were byte-shuffled.
    public var shuffle: ByteShuffle.Header?
    /// Size of the torch.save ZIP archive after decompression and unshuffling.
    public var archiveBytes: Int
    /// The torch.save archive and its unpickled root.
    public var archive: TorchArchive
    /// The export format that understood the root.
    public var format: any ArtifactFormat
}

/// Reads artifacts without executing anything from them:
/// detect → decompress (bounded) → unshuffle → ZIP → restricted pickle → tensors → format.
public enum ArtifactReader {
    /// Limits for reading.
    public struct Options: Sendable {
        /// Most bytes decompression may produce before the artifact is refused (default 1 GiB).
        public var maxDecompressedBytes: Int
        /// Limits of the helper programs some formats need (lrzip); nil: ``HelperLimits/fromEnvironment(_:)``.
        public var helperLimits: HelperLimits?
        public init(maxDecompressedBytes: Int = Decompression.defaultLimit, helperLimits: HelperLimits? = nil) {
            self.maxDecompressedBytes = maxDecompressedBytes
            self.helperLimits = helperLimits
        }
    }

    /// Reads the artifact file at `url`.
    ///
    /// A brotli artifact (the records' usual form) is decoded while the file is still being read;
    /// if that decoding fails, the whole file goes through ``read(bytes:file:options:)``, whose
    /// fallbacks (a method byte, another codec) and errors are the same either way.
    public static func read(url: URL, options: Options = Options()) throws(ArtifactError) -> ArtifactContents {
        // Other codecs read the file whole first (they are fast or far slower than the read).
        let leading = try FileBytes.read(url.path, upTo: leadingBytes)
        guard leading.count == leadingBytes, Compression.detect(leading) == .brotli else {
            return try read(bytes: try FileBytes.read(url.path), file: url.path, options: options)
        }
        let file = try ProgressiveFile(path: url.path)
        let payload: [UInt8]
        do {
            payload = try Decompression.unbrotli(progressive: file, limit: options.maxDecompressedBytes)
        } catch {
            if case .outputLimitExceeded = error { throw error }
            return try read(bytes: try file.allBytes(), file: url.path, options: options)
        }
        return try unpack(consume payload, compression: .brotli, file: url.path, fileBytes: try file.waitForCompletion(),
                          limit: options.maxDecompressedBytes)
    }

    /// Enough leading bytes for ``Compression/detect(_:)`` (its longest header check is 13 bytes).
    static let leadingBytes = 64

    /// Reads an artifact already in memory; `file` names it in errors.
    public static func read(bytes: [UInt8], file: String, options: Options = Options()) throws(ArtifactError) -> ArtifactContents {
        var compression = Compression.detect(bytes)
        if compression == .perGroup {
            let helperLimits: HelperLimits
            do { helperLimits = try options.helperLimits ?? HelperLimits.fromEnvironment() } catch {
                throw .helperUnavailable(InputLocation(file: file), program: "lrzip", detail: "\(error)")
            }
            let (root, archive, archiveBytes) = try PerGroupContainer.read(bytes, file: file, limit: options.maxDecompressedBytes,
                                                                           helperLimits: helperLimits)
            let format = try ArtifactFormats.recognize(root, location: InputLocation(file: "\(file) > PGRP remainder"))
            return ArtifactContents(file: file, fileBytes: bytes.count, compression: compression, shuffle: nil,
                                    archiveBytes: archiveBytes, archive: archive, format: format)
        }
        var payload: [UInt8]
        do {
            payload = try Decompression.decompress(bytes, as: compression, file: file, limit: options.maxDecompressedBytes)
        } catch let error {
            if case .outputLimitExceeded = error { throw error }
            switch compression {
            case .brotli:
                // A method byte 1 before a brotli stream (XNOR-Net's layout) cannot be told from a
                // brotli stream by its first byte; try it before giving up.
                if bytes.first == 1,
                   let body = try? Decompression.decompress(bytes, as: .methodByteBrotli, file: file,
                                                            limit: options.maxDecompressedBytes) {
                    compression = .methodByteBrotli
                    payload = body
                    break
                }
                // Brotli is only a guess by elimination: say so when it fails too.
                throw .unrecognizedCompression(InputLocation(file: file, offset: 0), firstBytes: hexPrefix(bytes),
                                               detail: "no zlib, zstd, xz, LZMA or ZIP magic, and not a valid brotli stream either (\(error))")
            case .zlib, .lzmaAlone:
                // Two-byte zlib headers and LZMA-alone headers can occur by chance at the start of a
                // brotli stream (which has no magic): try brotli before reporting the first error.
                guard let brotli = try? Decompression.decompress(bytes, as: .brotli, file: file,
                                                                 limit: options.maxDecompressedBytes) else { throw error }
                compression = .brotli
                payload = brotli
            default:
                throw error
            }
        }
        return try unpack(consume payload, compression: compression, file: file, fileBytes: bytes.count,
                          limit: options.maxDecompressedBytes)
    }

    /// Everything after decompression: unshuffle, ZIP, pickle, format.
    ///
    /// `limit` bounds what these stages hold beside the payload too: unshuffling holds the shuffled
    /// and the unshuffled bytes at once, and the pickle is read from a copy, so those copies count
    /// against it (no real artifact comes near: its archive is a few times its 16 MB).
    private static func unpack(_ payload: consuming [UInt8], compression: Compression, file: String,
                               fileBytes: Int, limit: Int) throws(ArtifactError) -> ArtifactContents {
        // `consuming`: the shuffled bytes are freed as soon as they are unshuffled.
        let decompressedName = compression == .none ? file : "\(file) (\(compression.rawValue)-decompressed)"
        var shuffle: ByteShuffle.Header?
        if ByteShuffle.isShuffled(payload) {
            let header = try ByteShuffle.header(of: payload, file: decompressedName)
            if header.stride < 2 {
                payload.removeFirst(header.headerLength)  // stored as is: no second buffer
            } else {
                guard payload.count <= limit / 2 else {
                    throw .outputLimitExceeded(InputLocation(file: decompressedName, offset: 0),
                                               codec: "BSHF unshuffling (shuffled and unshuffled bytes held together)", limit: limit)
                }
                payload = ByteShuffle.unshuffle(payload, header: header)
            }
            shuffle = header
        }
        let archiveBytes = payload.count
        let zip = try ZipArchive(bytes: payload, file: decompressedName)
        let archive = try TorchArchive(zip: zip, limit: limit)
        let format = try ArtifactFormats.recognize(archive.root, location: InputLocation(file: "\(decompressedName) > \(archive.prefix)/data.pkl"))
        return ArtifactContents(file: file, fileBytes: fileBytes, compression: compression, shuffle: shuffle,
                                archiveBytes: archiveBytes, archive: archive, format: format)
    }

    /// Dequantizes `contents` and checks every value is finite.
    ///
    /// - Parameter originalDTypes: each parameter's dtype in the model, for formats that cast to it
    ///   without recording it (``ArtifactFormat/needsOriginalDTypes``); float32 where absent.
    public static func weights(of contents: ArtifactContents,
                               originalDTypes: [String: TorchDType] = [:]) throws(ArtifactError) -> Weights {
        // Many views of one storage could ask for far more memory than the artifact holds.
        var total = 0
        for tensor in contents.format.tensors {
            total += tensor.shape.reduce(1, *)
            guard total <= TensorReference.maxElements else {
                throw .unsupportedFormat(InputLocation(file: contents.file),
                                         detail: "more than \(TensorReference.maxElements) parameters in all (at tensor \(tensor.name))")
            }
        }
        let weights = try contents.format.dequantize(originalDTypes: originalDTypes)
        // One branch-free scan per tensor, tensors spread over the cores; the first offender in name
        // order is reported, as a sequential scan would.
        let names = weights.keys.sorted()
        let tensors = names.map { weights[$0] }
        var offending = [Bool](repeating: false, count: names.count)
        offending.withUnsafeMutableBufferPointer { flags in
            guard let flag = flags.baseAddress else { return }
            ParallelParts.forEach(tensors.count, minimumPerPart: 1) { range in
                for index in range {
                    flag[index] = tensors[index].map { hasNonFinite($0.data) } ?? false
                }
            }
        }
        if let first = offending.firstIndex(of: true), let tensor = tensors[first],
           let index = tensor.data.firstIndex(where: { !$0.isFinite }) {
            throw .malformedFormat(InputLocation(file: contents.file),
                                   detail: "tensor \(names[first]) holds a non-finite value (\(tensor.data[index])) at element \(index)")
        }
        return weights
    }

    /// Whether any value is infinite or NaN: an all-ones exponent, found with integer operations the
    /// compiler vectorizes (exponent + 1 carries into the sign bit only when the exponent is all ones).
    static func hasNonFinite(_ data: [Float]) -> Bool {
        data.withUnsafeBufferPointer { values in
            values.withMemoryRebound(to: UInt32.self) { bits in
                var carries: UInt32 = 0
                for word in bits { carries |= (word & 0x7F80_0000) &+ 0x0080_0000 }
                return carries & 0x8000_0000 != 0
            }
        }
    }
}
