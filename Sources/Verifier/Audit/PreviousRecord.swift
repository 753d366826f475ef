import Foundation
import Reference

/// The previous record's per-seed validation losses (nats per token), against which a new record
/// must show its improvement.
public struct PreviousRecord: Sendable, Equatable {
    public var valLosses: [Double]
    /// Where they came from: `command line`, a file name, or a record folder's name.
    public var source: String

    public init(valLosses: [Double], source: String) {
        self.valLosses = valLosses
        self.source = source
    }

    /// Reads `argument`: a previous record's folder (its logs' headline `val_loss` per run), a text file
    /// of numbers (separated by commas, spaces or newlines; `#` starts a comment), or the numbers
    /// themselves (`2.0712,2.0731,2.0699`).
    public static func parse(_ argument: String) throws -> PreviousRecord {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) {
            let url = URL(fileURLWithPath: argument)
            if isDirectory.boolValue {
                let submission = try Submission.read(at: url)
                let losses = RunResult.runs(of: submission).compactMap { $0.valLoss?.value.double }
                guard !losses.isEmpty else { throw PreviousRecordError.noValues(source: argument) }
                return PreviousRecord(valLosses: losses, source: Audit.subject(of: submission))
            }
            guard let data = FileManager.default.contents(atPath: argument) else {
                throw PreviousRecordError.unreadable(file: argument)
            }
            return try parseNumbers(String(decoding: data, as: UTF8.self), file: argument, source: url.lastPathComponent)
        }
        return try parseNumbers(argument, file: nil, source: "command line")
    }

    static func parseNumbers(_ text: String, file: String?, source: String) throws -> PreviousRecord {
        var values: [Double] = []
        var offset = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            var tokenStart = offset
            for part in content.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if !part.isEmpty {
                    guard let value = Double(part), value.isFinite, value > 0 else {
                        throw PreviousRecordError.notANumber(String(part), InputLocation(file: file ?? "--previous-record", offset: file == nil ? nil : tokenStart))
                    }
                    values.append(value)
                }
                tokenStart += part.utf8.count + 1
            }
            offset += line.utf8.count + 1
        }
        guard !values.isEmpty else { throw PreviousRecordError.noValues(source: file ?? "--previous-record") }
        return PreviousRecord(valLosses: values, source: source)
    }
}

/// Why `--previous-record` could not be read.
public enum PreviousRecordError: InputError, Equatable {
    case notANumber(String, InputLocation)
    case noValues(source: String)
    case unreadable(file: String)

    public var description: String {
        switch self {
        case .notANumber(let token, let location):
            return "\(location): '\(token)' is not a positive validation loss in nats"
        case .noValues(let source):
            return "\(source): no previous-record validation losses found"
        case .unreadable(let file):
            return "\(file): cannot read"
        }
    }
}
