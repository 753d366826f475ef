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
    /// How deep under the submission folder logs are looked for (`logs/`, `runs/seed_1338/logs/`); a bound,
    /// not a convention: it only stops a symbolic-link loop.
    public static let maxLogDepth = 8
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

    /// Reads a text file (see ``TextDecoding``); bytes that are not UTF-8 become U+FFFD so one bad byte in
    /// a log does not hide its claims.
    static func readText(_ url: URL, name: String) throws -> SubmissionTextFile {
        text(try readBytes(url, name: name), name: name)
    }

    /// A text file's bytes split into lines, as ``readText(_:name:)`` reads them.
    static func text(_ bytes: [UInt8], name: String) -> SubmissionTextFile {
        // "\r\n" is one Character in Swift, so CRLF line ends are split on explicitly.
        var lines = TextDecoding.decode(bytes, fallback: .replacingInvalidUTF8).text
            .split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        return SubmissionTextFile(name: name, bytes: bytes.count, lines: lines)
    }

    /// `submission.json`'s bytes as a document whose top level is an object; `path` names it in errors.
    /// Read in whatever encoding ``TextDecoding`` recognises (a UTF-8 byte-order mark, UTF-16 with one,
    /// else UTF-8, else Latin-1). Parse errors give the offset in the file's bytes for UTF-8 and in the
    /// decoded text otherwise (the reason says so).
    static func metadata(_ bytes: [UInt8], name: String, path: String) throws -> SubmissionMetadata {
        let (text, encoding) = TextDecoding.decode(bytes, fallback: .latin1)
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(text.utf8), file: path)
        } catch SubmissionError.malformedJSON(var location, var reason) {
            switch encoding {
            case .utf8: break
            case .utf8WithBOM: location.offset = location.offset.map { $0 + 3 }
            case .utf16LE, .utf16BE, .latin1: reason += " (offset in the text decoded from \(encoding.rawValue) to UTF-8)"
            }
            throw SubmissionError.malformedJSON(location, reason: reason)
        }
        guard case .object = json else { throw SubmissionError.jsonNotAnObject(file: path) }
        return SubmissionMetadata(name: name, json: json)
    }
}

/// How the submission's text files are decoded: a byte-order mark decides (UTF-8, UTF-16 LE/BE, as
/// Windows editors and PowerShell's `Tee-Object` write them); without one, UTF-8.
enum TextDecoding {
    enum Encoding: String, Sendable {
        case utf8 = "UTF-8"
        case utf8WithBOM = "UTF-8 with a byte-order mark"
        case utf16LE = "UTF-16LE"
        case utf16BE = "UTF-16BE"
        case latin1 = "Latin-1"
    }

    /// What to do with bytes that are not UTF-8 when there is no byte-order mark.
    enum Fallback {
        /// Each invalid sequence becomes U+FFFD (logs: one bad byte must not hide the rest).
        case replacingInvalidUTF8
        /// The whole file is read as Latin-1, where every byte is a character (submission.json).
        case latin1
    }

    static func decode(_ bytes: [UInt8], fallback: Fallback) -> (text: String, encoding: Encoding) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return (String(decoding: bytes.dropFirst(3), as: UTF8.self), .utf8WithBOM)
        }
        if bytes.starts(with: [0xFF, 0xFE]) { return (utf16(bytes.dropFirst(2), littleEndian: true), .utf16LE) }
        if bytes.starts(with: [0xFE, 0xFF]) { return (utf16(bytes.dropFirst(2), littleEndian: false), .utf16BE) }
        if fallback == .latin1, String(validating: bytes, as: UTF8.self) == nil {
            return (String(bytes.map { Character(Unicode.Scalar($0)) }), .latin1)
        }
        return (String(decoding: bytes, as: UTF8.self), .utf8)
    }

    /// UTF-16 code units from byte pairs; an odd last byte and unpaired surrogates become U+FFFD.
    private static func utf16(_ bytes: ArraySlice<UInt8>, littleEndian: Bool) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            let first = UInt16(bytes[index]), second = UInt16(bytes[index + 1])
            units.append(littleEndian ? first | second << 8 : first << 8 | second)
            index += 2
        }
        if index < bytes.endIndex { units.append(0xFFFD) }
        return String(decoding: units, as: UTF16.self)
    }
}
