import Foundation
import Reference

/// A submission folder as found on disk (as in `records/track_10min_16mb/<date>_<name>/`), with the
/// claims it makes. Reading it never runs anything from it.
///
/// Missing pieces are recorded, not thrown: a folder without logs or without an artifact still
/// reads, and the checks report what could not be verified. A `submission.json` that cannot be read
/// or parsed is recorded too (``metadataProblem``, with the file and byte offset), so every other
/// check still runs. Other unreadable input throws (``SubmissionError``).
public struct Submission: Sendable {
    /// The folder.
    public var folder: URL
    /// The track folder it sits in (`track_10min_16mb`), when its parent is named `track_*`.
    public var trackFolder: String?
    /// `README.md`, if present.
    public var readme: SubmissionTextFile?
    /// `submission.json` (or the single `submission_*.json`), if present and readable.
    public var metadata: SubmissionMetadata?
    /// Why `submission.json` could not be read (malformed JSON, not an object, unreadable); ``metadata`` is then nil.
    public var metadataProblem: MetadataProblem?
    /// Train logs: every `*.log` and `*.txt` (except `requirements*.txt`) in the folder and below it
    /// (down to ``SubmissionLimits/maxLogDepth`` levels), sorted by path.
    public var logs: [SubmissionTextFile]
    /// The submitted script: `train_gpt.py`, or the only `train*.py` when there is no `train_gpt.py`.
    public var code: SubmissionCode?
    /// When ``code`` is `nil` but several `train*.py` scripts exist: their names, for the report.
    public var codeCandidates: [String]
    /// Every other code file (`.py`, `.c`, `.cpp`, `.cu`, `.h`, `.sh`) in the folder and below it.
    public var otherCode: [SubmissionFileInfo]
    /// Candidate model artifacts: top-level `*.ptz`, `*.pt`, and `final_model.*` files.
    public var artifacts: [SubmissionFileInfo]
    /// Everything the folder claims, sorted by source then kind.
    public var claims: [Claim]
    /// Symbolic links that resolve outside the folder (or to nothing): skipped, never read.
    public var outsideLinks: [SubmissionLink] = []

    /// The artifact whose bytes count as the model bytes: the only candidate, or the only compressed
    /// (`.ptz`) one when an uncompressed `.pt` sits beside it. `nil` when absent or ambiguous.
    public var artifact: SubmissionFileInfo? {
        if artifacts.count == 1 { return artifacts[0] }
        let compressed = artifacts.filter { $0.name.hasSuffix(".ptz") }
        return compressed.count == 1 ? compressed[0] : nil
    }

    /// The claims of one kind, in ``claims`` order.
    public func claims(_ kind: ClaimKind) -> [Claim] { claims.filter { $0.kind == kind } }

    /// Reads the folder at `folder`.
    public static func read(at folder: URL) throws -> Submission {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SubmissionError.notADirectory(path: folder.path)
        }
        let (files, outsideLinks) = try listFiles(in: folder)
        let topLevel = files.filter { !$0.contains("/") }

        let readme = try topLevel.first { $0.lowercased() == "readme.md" }
            .map { try SubmissionFileReader.readText(folder.appendingPathComponent($0), name: $0) }

        let metadataName = topLevel.contains("submission.json")
            ? "submission.json"
            : uniqueElement(topLevel.filter { $0.hasPrefix("submission") && $0.hasSuffix(".json") })
        var metadata: SubmissionMetadata?
        var metadataProblem: MetadataProblem?
        if let metadataName {
            do {
                metadata = try readMetadata(folder.appendingPathComponent(metadataName), name: metadataName)
            } catch let error as SubmissionError {
                metadataProblem = MetadataProblem(file: metadataName, error: error)
            }
        }

        let logs = try files.filter(isLogName).map {
            try SubmissionFileReader.readText(folder.appendingPathComponent($0), name: $0)
        }

        let codeFiles = files.filter(isCodeName)
        let scripts = topLevel.filter { $0.hasPrefix("train") && $0.hasSuffix(".py") }
        let codeName = topLevel.contains("train_gpt.py") ? "train_gpt.py" : uniqueElement(scripts)
        var otherCode: [SubmissionFileInfo] = []
        for name in codeFiles where name != codeName {
            otherCode.append(SubmissionFileInfo(
                name: name, bytes: try SubmissionFileReader.fileSize(folder.appendingPathComponent(name), name: name)))
        }
        let code = try codeName.map { try readCode(folder.appendingPathComponent($0), name: $0, others: otherCode) }

        var artifacts: [SubmissionFileInfo] = []
        for name in topLevel where isArtifactName(name) {
            artifacts.append(SubmissionFileInfo(
                name: name, bytes: try SubmissionFileReader.fileSize(folder.appendingPathComponent(name), name: name)))
        }

        // The track folder is the parent, or the folder itself when a pull request changes a track folder's files.
        let own = folder.standardizedFileURL.lastPathComponent
        let parent = folder.standardizedFileURL.deletingLastPathComponent().lastPathComponent
        var submission = Submission(
            folder: folder, trackFolder: parent.hasPrefix("track_") ? parent : own.hasPrefix("track_") ? own : nil, readme: readme,
            metadata: metadata, metadataProblem: metadataProblem, logs: logs, code: code,
            codeCandidates: code == nil ? scripts : [], otherCode: otherCode, artifacts: artifacts, claims: [],
            outsideLinks: outsideLinks)
        submission.claims = ClaimExtractor.claims(of: submission)
        return submission
    }

    // MARK: - Discovery

    /// Regular files under `folder` (relative paths, sorted), down to the log depth; hidden files skipped.
    /// Symbolic links are followed only where they resolve inside the folder; the others are returned
    /// apart, never read (a README linked to /etc/passwd is not the submission's).
    private static func listFiles(in folder: URL) throws -> (files: [String], outsideLinks: [SubmissionLink]) {
        var result: [String] = []
        var links: [SubmissionLink] = []
        let root = FolderContainment.resolved(folder.path) ?? folder.standardizedFileURL.path
        func walk(_ url: URL, prefix: String, depth: Int) throws {
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            } catch {
                throw SubmissionError.unreadable(file: prefix.isEmpty ? url.path : prefix, reason: error.localizedDescription)
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                let child = url.appendingPathComponent(name)
                let relative = prefix.isEmpty ? name : prefix + "/" + name
                if let target = FolderContainment.linkTarget(child.path),
                   !FolderContainment.resolvesInside(child.path, root: root) {
                    links.append(SubmissionLink(name: relative, target: target))
                    continue
                }
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if depth < SubmissionLimits.maxLogDepth { try walk(child, prefix: relative, depth: depth + 1) }
                } else {
                    result.append(relative)
                }
            }
        }
        try walk(folder, prefix: "", depth: 0)
        return (result.sorted(), links.sorted { $0.name < $1.name })
    }

    private static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    static func isLogName(_ path: String) -> Bool {
        let name = baseName(path).lowercased()
        guard name.hasSuffix(".log") || name.hasSuffix(".txt") else { return false }
        return !name.hasPrefix("requirements")
    }

    static func isCodeName(_ path: String) -> Bool {
        [".py", ".c", ".cpp", ".cu", ".h", ".sh"].contains { path.lowercased().hasSuffix($0) }
    }

    static func isArtifactName(_ name: String) -> Bool {
        let lower = name.lowercased()
        // `final_model_source.log` is a log about the model, not the model: logs, prose and code are never artifacts
        // (`final_model.json` is: pgverify's JSON weights format).
        let textExtensions = [".log", ".txt", ".md", ".py", ".sh", ".csv", ".yaml", ".yml", ".toml", ".ipynb"]
        guard !textExtensions.contains(where: lower.hasSuffix) else { return false }
        return lower.hasSuffix(".ptz") || lower.hasSuffix(".pt") || lower.hasPrefix("final_model")
    }

    private static func uniqueElement(_ names: [String]) -> String? {
        names.count == 1 ? names[0] : nil
    }

    static func readMetadata(_ url: URL, name: String) throws -> SubmissionMetadata {
        try SubmissionFileReader.metadata(SubmissionFileReader.readBytes(url, name: name), name: name, path: url.path)
    }

    private static func readCode(_ url: URL, name: String, others: [SubmissionFileInfo]) throws -> SubmissionCode {
        let bytes = try SubmissionFileReader.readBytes(url, name: name)
        let text = String(decoding: bytes, as: UTF8.self)
        // A file is referenced when its base name appears in the script (e.g. exec(open("train_gpt_decode.py"))).
        let referenced = others.filter { text.contains(baseName($0.name)) }
        var code = SubmissionCode(
            name: name, bytes: bytes.count, packing: CodePacking.detect(in: text), referencedFiles: referenced,
            compressedBytes: CompressedSize.lzma2(bytes))
        let folder = url.deletingLastPathComponent()
        code.copies = try others.filter { $0.bytes == bytes.count }.compactMap { other in
            try SubmissionFileReader.readBytes(folder.appendingPathComponent(other.name), name: other.name) == bytes ? other.name : nil
        }
        return code
    }
}

/// Why a folder's `submission.json` could not be read, located by its name in the folder (never an absolute path).
public struct MetadataProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file, relative to the submission folder.
    public var file: String
    /// The byte offset of the problem, when it has one.
    public var offset: Int?
    public var reason: String
    /// The error as reading threw it (with the path as given), for commands that refuse the folder.
    public var error: SubmissionError

    init(file: String, error: SubmissionError) {
        self.file = file
        self.error = error
        switch error {
        case .malformedJSON(let location, let reason):
            offset = location.offset
            self.reason = "malformed JSON: \(reason)"
        case .jsonNotAnObject:
            reason = "the top level must be a JSON object"
        case .unreadable(_, let reason):
            self.reason = "cannot read: \(reason)"
        case .notADirectory, .notUTF8:
            reason = error.description
        }
    }

    /// `submission.json: at byte 53: malformed JSON: ...`
    public var description: String {
        "\(InputLocation(file: file, offset: offset)): \(reason)"
    }
}
