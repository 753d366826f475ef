import Foundation
import Reference

/// A text file of a submission (README, train log), split into lines for citing.
public struct SubmissionTextFile: Sendable, Equatable {
    /// Path relative to the submission folder (`train_seed42.log`, `logs/train0.txt`).
    public var name: String
    /// Size on disk in bytes.
    public var bytes: Int
    /// The lines, without their terminators; line `n` (1-based) is `lines[n - 1]`.
    public var lines: [String]
}

/// A file whose size matters but whose content pgverify does not interpret here.
public struct SubmissionFileInfo: Sendable, Equatable {
    /// Path relative to the submission folder.
    public var name: String
    /// Size on disk in bytes.
    public var bytes: Int
}

/// The parsed `submission.json` (or a `submission_*.json` variant some records use instead).
public struct SubmissionMetadata: Sendable, Equatable {
    /// File name relative to the submission folder.
    public var name: String
    /// The document; its top level is always an object.
    public var json: JSONValue
}

/// Limits that keep a hostile folder from exhausting memory while it is read.
public enum SubmissionLimits {
    /// Largest text file (README, log, JSON, code) read into memory: 64 MiB.
    public static let maxTextBytes = 64 << 20
    /// How deep under the submission folder logs are looked for (`logs/`, `ttt_pr1767/`).
    public static let maxLogDepth = 2
}

enum SubmissionFileReader {
    /// Reads a whole file, refusing directories and files over `limit` bytes. Errors name the file by its path.
    static func readBytes(_ url: URL, name: String, limit: Int = SubmissionLimits.maxTextBytes) throws -> [UInt8] {
        let size = try fileSize(url, name: name)
        guard size <= limit else {
            throw SubmissionError.unreadable(file: url.path, reason: "\(size) bytes is over the \(limit)-byte limit for text files")
        }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw SubmissionError.unreadable(file: url.path, reason: error.localizedDescription)
        }
    }

    /// Size on disk of a regular file (following symbolic links).
    static func fileSize(_ url: URL, name: String) throws -> Int {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)
            guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
                throw SubmissionError.unreadable(file: url.path, reason: "not a regular file")
            }
            return (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch let error as SubmissionError {
            throw error
        } catch {
            throw SubmissionError.unreadable(file: url.path, reason: error.localizedDescription)
        }
    }

    /// Reads a text file; bytes that are not UTF-8 become U+FFFD so one bad byte in a log does not hide its claims.
    static func readText(_ url: URL, name: String) throws -> SubmissionTextFile {
        text(try readBytes(url, name: name), name: name)
    }

    /// A text file's bytes split into lines, as ``readText(_:name:)`` reads them.
    static func text(_ bytes: [UInt8], name: String) -> SubmissionTextFile {
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        return SubmissionTextFile(name: name, bytes: bytes.count, lines: lines)
    }

    /// `submission.json`'s bytes as a document whose top level is an object; `path` names it in errors.
    static func metadata(_ bytes: [UInt8], name: String, path: String) throws -> SubmissionMetadata {
        let json = try JSONValue.parse(bytes, file: path)
        guard case .object = json else { throw SubmissionError.jsonNotAnObject(file: path) }
        return SubmissionMetadata(name: name, json: json)
    }
}
