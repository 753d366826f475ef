import Foundation
import Reference

/// Decompression of lrzip streams through Debian's `lrzip` program (there is no lrzip library to
/// link). An optional dependency: only the PGRP container of one record needs it, and its absence is
/// reported as such. The expanded size in the `LRZI` header is checked against the output limit
/// before the program runs, and the output size again after. The program runs under
/// ``HelperLimits`` (``HelperProcess``): a stream that makes it spin or grow is stopped and refused.
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

    static func decompress(_ stream: [UInt8], location: InputLocation, limit: Int,
                           helperLimits: HelperLimits) throws(ArtifactError) -> [UInt8] {
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
        let folder: URL
        do { folder = try HelperFolder.create(purpose: "lrzip") } catch {
            throw .helperUnavailable(location, program: "lrzip", detail: "cannot create a temporary folder: \(error)")
        }
        // Removed on every way out, errors and limits included.
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("stream.lrz"), output = folder.appendingPathComponent("stream.bin")
        var runLimits = helperLimits
        // lrzip writes its result to a file: no more than the decompression limit allows.
        runLimits.outputBytes = min(helperLimits.outputBytes, limit)
        let ended: HelperProcess.Ended
        do {
            try Data(stream).write(to: input)
            ended = try HelperProcess.run(lrzip, arguments: ["-q", "-d", "-f", "-o", output.path, input.path],
                                          directory: folder.path, limits: runLimits, fileOutput: true)
        } catch let failure as HelperProcess.Failure {
            switch failure {
            case .limitExceeded(let exceeded, _):
                throw .helperLimitExceeded(location, program: "lrzip", limit: exceeded)
            case .cannotStart(let detail):
                throw .helperUnavailable(location, program: "lrzip", detail: detail)
            }
        } catch {
            throw .helperUnavailable(location, program: "lrzip", detail: "cannot prepare its input: \(error)")
        }
        guard ended.succeeded else {
            // lrzip reports an allocation it could not make as running out of memory.
            let tail = ended.errorTail.trimmingCharacters(in: .whitespacesAndNewlines)
            if tail.localizedCaseInsensitiveContains("out of memory") || tail.localizedCaseInsensitiveContains("failed to malloc") {
                throw .helperLimitExceeded(location, program: "lrzip", limit: .memory(bytes: helperLimits.memoryBytes))
            }
            let lastLine = tail.split(whereSeparator: \.isNewline).last.map { ": \($0)" } ?? ""
            throw .corruptStream(location, codec: "lrzip", detail: "lrzip exited with \(ended.summary)\(lastLine)")
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: output.path))?[.size] as? NSNumber)?.intValue ?? Int.max
        guard size <= limit, UInt64(size) == expanded else {
            throw .corruptStream(location, codec: "lrzip", detail: "produced \(size) bytes, header says \(expanded)")
        }
        do {
            return try FileBytes.read(output.path)
        } catch {
            throw .corruptStream(location, codec: "lrzip", detail: "its output cannot be read: \(error)")
        }
    }
}
