import ArgumentParser
import Foundation
import Reference
import Verifier

/// `verify inspect ARTIFACT [--json]`: what an artifact holds, read without executing anything.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an artifact's compression, container, format and every stored tensor.",
        discussion: "Reads the artifact safely (no code from it runs) and dequantizes it to count float32 values."
    )

    @Argument(help: "The compressed model artifact (e.g. final_model.int8.ptz).") var artifact: String
    @Flag(help: "Print a JSON object instead of text.") var json = false
    @Option(help: "Refuse artifacts that decompress to more than this many bytes.")
    var maxDecompressedBytes: Int = Decompression.defaultLimit

    func run() throws {
        let contents = try ArtifactReader.read(url: URL(fileURLWithPath: artifact),
                                               options: .init(maxDecompressedBytes: maxDecompressedBytes))
        let weights = try ArtifactReader.weights(of: contents)
        let report = InspectReport(contents: contents, weights: weights)
        print(json ? try report.json() : report.text())
    }
}

/// The facts `verify inspect` prints, in a stable order.
struct InspectReport: Encodable {
    struct Tensor: Encodable {
        var name: String
        var dtype: String
        var shape: [Int]
        var scheme: String
        var bytes: Int
    }

    var file: String
    var fileBytes: Int
    var compression: String
    var byteShuffle: String
    var container: String
    var archiveBytes: Int
    var format: String
    var tensors: [Tensor]
    var storedTensorBytes: Int
    var dequantizedParameters: Int
    /// False for formats that cast to the model's dtypes without recording them (float32 assumed here).
    var originalDTypesRecorded: Bool

    init(contents: ArtifactContents, weights: Weights) {
        file = contents.file
        fileBytes = contents.fileBytes
        compression = contents.compression.rawValue
        byteShuffle = contents.shuffle.map { "BSHF stride \($0.stride) (\($0.headerLength - 4)-byte header)" } ?? "none"
        let archive = contents.archive
        container = "torch.save zip (\(archive.prefix)/, pickle protocol \(archive.pickleProtocol)"
            + ", byteorder \(archive.byteOrder ?? "unrecorded")" + (archive.version.map { ", version \($0)" } ?? "") + ")"
        if contents.compression == .perGroup {
            container = "PGRP: lrzip int8 groups + brotli remainder in a " + container
        }
        archiveBytes = contents.archiveBytes
        format = contents.format.name
        tensors = contents.format.tensors.map {
            Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape, scheme: $0.scheme, bytes: $0.bytes)
        }
        storedTensorBytes = tensors.reduce(0) { $0 + $1.bytes }
        dequantizedParameters = weights.values.reduce(0) { $0 + $1.count }
        originalDTypesRecorded = !contents.format.needsOriginalDTypes
    }

    enum CodingKeys: String, CodingKey {
        case file, fileBytes = "file_bytes", compression, byteShuffle = "byte_shuffle", container
        case archiveBytes = "archive_bytes", format, tensors, storedTensorBytes = "stored_tensor_bytes"
        case dequantizedParameters = "dequantized_parameters"
        case originalDTypesRecorded = "original_dtypes_recorded"
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var lines = [
            "artifact:      \(file) (\(fileBytes) bytes)",
            "compression:   \(compression)",
            "byte shuffle:  \(byteShuffle)",
            "container:     \(container), \(archiveBytes) bytes",
            "format:        \(format)",
            "tensors:       \(tensors.count)",
        ]
        let nameWidth = min(48, tensors.map(\.name.count).max() ?? 0)
        for tensor in tensors {
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
            lines.append("  " + tensor.name.rightPadded(to: nameWidth)
                + "  " + tensor.dtype.rightPadded(to: 8)
                + "  " + shape.rightPadded(to: 14)
                + "  " + String(tensor.bytes).leftPadded(to: 9) + " B  " + tensor.scheme)
        }
        lines.append("totals:        \(storedTensorBytes) stored tensor bytes, \(dequantizedParameters) float32 parameters after dequantization")
        if !originalDTypesRecorded {
            lines.append("note:          the artifact does not record the model's parameter dtypes; values shown as float32"
                + " (bfloat16 parameters round differently once the model's dtypes are known)")
        }
        return lines.joined(separator: "\n")
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func rightPadded(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
