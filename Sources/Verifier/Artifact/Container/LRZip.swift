import Foundation
import Reference

/// Decompression of lrzip streams through Debian's `lrzip` program (there is no lrzip library to
/// link). An optional dependency: only the PGRP container of one record needs it, and its absence is
/// reported as such. The expanded size in the `LRZI` header is checked against the output limit
/// before the program runs, and the output size again after.
enum LRZip {
    /// The `lrzip` executable on `PATH`, if any.
    static var executable: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("lrzip")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    static func decompress(_ stream: [UInt8], location: InputLocation, limit: Int) throws(ArtifactError) -> [UInt8] {
        let reader = ByteReading(bytes: stream, file: location.file)
        guard reader.matches(0, Array("LRZI".utf8)) else {
            throw .corruptStream(location, codec: "lrzip", detail: "no LRZI magic (found \(hexPrefix(stream, count: 4)))")
        }
        let expanded = try reader.uint64(6, "lrzip header")
        guard expanded <= UInt64(limit) else {
            throw .outputLimitExceeded(location, codec: "lrzip", limit: limit)
        }
        guard let lrzip = executable else {
            throw .unsupportedFormat(location, detail: "this artifact needs the lrzip program to decompress (Debian package lrzip), and none is on PATH")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-lrzip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("stream.lrz"), output = folder.appendingPathComponent("stream.bin")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(stream).write(to: input)
            let process = Process()
            process.executableURL = lrzip
            process.arguments = ["-q", "-d", "-f", "-o", output.path, input.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ArtifactError.corruptStream(location, codec: "lrzip", detail: "lrzip exited with status \(process.terminationStatus)")
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: output.path)
            let size = (attributes[.size] as? NSNumber)?.intValue ?? Int.max
            guard size <= limit, UInt64(size) == expanded else {
                throw ArtifactError.corruptStream(location, codec: "lrzip", detail: "produced \(size) bytes, header says \(expanded)")
            }
            return Array(try Data(contentsOf: output))
        } catch let error as ArtifactError {
            throw error
        } catch {
            throw .corruptStream(location, codec: "lrzip", detail: "could not run lrzip: \(error)")
        }
    }
}
