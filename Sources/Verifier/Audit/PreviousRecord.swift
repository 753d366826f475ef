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
                let losses = RunSelection.select(RunResult.runs(of: submission), of: submission).submitted
                    .compactMap { $0.valLoss?.value.double }
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

    /// The best merged record of the same track that predates `submission`, when the folder sits in a
    /// checkout of the challenge's repository (`…/records/track_<name>/<folder>`): among the other folders
    /// of its track folder dated strictly earlier (``recordDate(of:)``; a same-day record cannot be ordered
    /// and is left out), the lowest val_bpb (submission.json's top-level `val_bpb`, else the mean of the
    /// submitted runs' logged scores) that has val_loss values (its submitted runs' logged `val_loss`,
    /// else submission.json's top-level `val_loss`, one value). `nil` outside a track folder, on the
    /// non-record tracks, without a date, or when no earlier record qualifies. Unreadable folders are skipped.
    public static func bestEarlierRecord(for submission: Submission) -> PreviousRecord? {
        guard let track = submission.trackFolder, !track.hasPrefix("track_non_record"),
              let date = recordDate(of: submission) else { return nil }
        let folder = submission.folder.standardizedFileURL
        let trackURL = folder.deletingLastPathComponent()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: trackURL.path) else { return nil }
        var best: (score: Double, record: PreviousRecord)?
        for name in names.sorted() where name != folder.lastPathComponent && !name.hasPrefix(".") {
            let url = trackURL.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue,
                  let candidate = try? Submission.read(at: url), let candidateDate = recordDate(of: candidate),
                  candidateDate < date else { continue }
            let runs = RunSelection.select(RunResult.runs(of: candidate), of: candidate).submitted
            let loggedScores = runs.compactMap { $0.valBPB?.value.double }
            let metadataScore = topLevelValue(.valBPB, of: candidate)
            guard let score = metadataScore ?? (loggedScores.isEmpty ? nil : loggedScores.reduce(0, +) / Double(loggedScores.count))
            else { continue }
            // One value per seed (a folder may keep a copy of a seed's log).
            var seen: Set<Int> = []
            var losses = runs.filter { run in run.seed.map { seen.insert($0).inserted } ?? true }
                .compactMap { $0.valLoss?.value.double }
            if losses.isEmpty, let loss = topLevelValue(.valLoss, of: candidate) { losses = [loss] }
            guard !losses.isEmpty, best.map({ score < $0.score }) ?? true else { continue }
            best = (score, PreviousRecord(valLosses: losses, source: "\(track)/\(name), the best earlier record of the track "
                + "(val_bpb \(AuditFormat.fixed(score, digits: 5)), dated \(candidateDate))"))
        }
        return best?.record
    }

    /// A record's date as `YYYY-MM-DD`: its folder name's prefix (`2026-03-17_…` or `20260430_…`), else
    /// submission.json's `date` (its first ten characters, `2026-03-19T10:00:00Z`).
    static func recordDate(of submission: Submission) -> String? {
        let name = submission.folder.standardizedFileURL.lastPathComponent
        func isDate(_ text: Substring) -> Bool {
            text.count == 10 && text.enumerated().allSatisfy { index, character in
                index == 4 || index == 7 ? character == "-" : character.isASCII && character.isNumber
            }
        }
        if isDate(name.prefix(10)) { return String(name.prefix(10)) }
        let compact = name.prefix(8)
        if compact.count == 8, compact.allSatisfy({ $0.isASCII && $0.isNumber }), name.dropFirst(8).first.map({ !$0.isNumber }) ?? true {
            return "\(compact.prefix(4))-\(compact.dropFirst(4).prefix(2))-\(compact.suffix(2))"
        }
        if case .object(let members)? = submission.metadata?.json,
           case .string(let text)? = members.first(where: { $0.key == "date" })?.value, isDate(text.prefix(10)[...]) {
            return String(text.prefix(10))
        }
        return nil
    }

    private static func topLevelValue(_ kind: ClaimKind, of submission: Submission) -> Double? {
        submission.claims(kind).first {
            if case .jsonKey(let file, let path) = $0.source { return file == submission.metadata?.name && !path.contains(".") }
            return false
        }?.value.double
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
