/// Gathers the claims of a submission from its folder path, `submission.json`, logs and README.
enum ClaimExtractor {
    static func claims(of submission: Submission) -> [Claim] {
        var claims: [Claim] = []
        if let track = submission.trackFolder {
            let name = submission.folder.standardizedFileURL.lastPathComponent
            let relative = name == track ? track : track + "/" + name
            claims.append(Claim(kind: .track, value: .text(String(track.dropFirst("track_".count))),
                                source: .folder(relative)))
        } else if let declared = nonRecordParent(of: submission) {
            claims.append(declared)
        }
        if let metadata = submission.metadata {
            claims += MetadataClaims.claims(from: metadata)
            // "non_record" beside a README calling it a non-record 10-minute submission means "not a record".
            if let declared = MetadataClaims.nonRecordStatus(in: metadata),
               !(submission.readme.map(ReadmeClaims.keepsTheTenMinuteTrack) ?? false) {
                claims.append(declared)
            }
        }
        for log in submission.logs { claims += LogClaims.claims(from: log) }
        if let readme = submission.readme {
            claims += ReadmeClaims.claims(from: readme)
            if let declared = ReadmeClaims.nonRecordDeclaration(in: readme) { claims.append(declared) }
        }
        // Stable order: the folder, then submission.json in document order, then text files by name and line.
        return claims.enumerated().sorted { lhs, rhs in
            let left = orderKey(lhs.element.source), right = orderKey(rhs.element.source)
            if left != right { return left < right }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// A folder outside the `track_*` folders whose parent is named for the non-record track (`records/non_record/…`,
    /// `records/non-record/…`): the path places it there as a `track_non_record_*` parent would.
    static func nonRecordParent(of submission: Submission) -> Claim? {
        let url = submission.folder.standardizedFileURL
        let parent = url.deletingLastPathComponent().lastPathComponent
        let normalized = parent.lowercased().replacingOccurrences(of: "-", with: "_")
        guard normalized.hasPrefix("non_record") || normalized.hasPrefix("nonrecord") else { return nil }
        return Claim(kind: .track, value: .text("non_record (folder)"), source: .folder("\(parent)/\(url.lastPathComponent)"))
    }

    private static func orderKey(_ source: ClaimSource) -> (Int, String, Int) {
        switch source {
        case .folder(let path): return (0, path, 0)
        case .jsonKey(let file, _): return (1, file, 0)
        case .fileName(let name): return (2, name, 0)
        case .line(let file, let line): return (2, file, line)
        }
    }
}

/// Claims a README states unambiguously: log lines it quotes verbatim in backticks, such as
/// `` `final_int8_zlib_roundtrip_exact val_bpb:1.22436570` `` or `` `Total submission size int8+zlib: 15863489 bytes` ``.
/// Prose ("about 1.19 BPB") is not read: its meaning is for a human to judge.
enum ReadmeClaims {
    /// The challenge lets a submission place itself on the non-record track in its README ("Just note as
    /// such in your README file"): a heading naming it non-record, a line labelled `Status:` naming it
    /// non-record, or a line saying "non-record submission", "non-record track" or "unlimited compute". A line
    /// that also names the 10-minute track or a 10-minute submission ("a non-record 10min/16MB submission": one
    /// that does not beat the record) does not.
    static func nonRecordDeclaration(in readme: SubmissionTextFile) -> Claim? {
        for (index, line) in readme.lines.enumerated() {
            let lower = normalized(line)
            // `> **Status: non-record preliminary run.**`: the label without its emphasis or quote marks.
            let label = lower.filter { $0 != "*" && $0 != "_" }.drop { $0 == ">" || $0 == " " }
            let heading = (lower.hasPrefix("#") || label.hasPrefix("status:")) && lower.contains("non-record")
            let phrase = ["non-record submission", "non-record track", "unlimited compute"].contains { lower.contains($0) }
            if (heading || phrase) && !namesTenMinutes(lower) {
                return Claim(kind: .track, value: .text("non_record (README)"), source: .line(file: readme.name, line: index + 1))
            }
        }
        return nil
    }

    /// Whether a README line calls the submission non-record and names the 10-minute track or a 10-minute
    /// submission ("a non-record 10-minute entry"): one that does not beat the record, on the 10-minute track.
    static func keepsTheTenMinuteTrack(_ readme: SubmissionTextFile) -> Bool {
        readme.lines.contains { line in
            let lower = normalized(line)
            return lower.contains("non-record") && namesTenMinutes(lower)
        }
    }

    private static func normalized(_ line: String) -> String {
        line.lowercased().replacingOccurrences(of: "non_record", with: "non-record")
            .replacingOccurrences(of: "nonrecord", with: "non-record").replacingOccurrences(of: "non record", with: "non-record")
    }

    private static func namesTenMinutes(_ lower: String) -> Bool {
        ["10min/16mb", "10min_16mb", "10min track", "10-min track", "10-minute track", "10 minute track",
         "10min sub", "10-min sub", "10-minute sub", "10 minute sub", "10-minute entry", "10min entry"].contains { lower.contains($0) }
    }

    static func claims(from readme: SubmissionTextFile) -> [Claim] {
        var claims: [Claim] = []
        for (index, line) in readme.lines.enumerated() {
            let source = ClaimSource.line(file: readme.name, line: index + 1)
            for span in backtickSpans(line) {
                if span.hasPrefix("Total submission size"),
                   let (scheme, bytes) = LogClaims.sizeLine(span, prefix: "Total submission size"),
                   let scheme, !LogClaims.isUncompressedScheme(scheme),
                   let value = ClaimValue.number(literal: bytes) {
                    claims.append(Claim(kind: .totalBytes, value: value, qualifier: scheme, source: source))
                } else if span.hasPrefix("Code size"),
                          let (scheme, bytes) = LogClaims.sizeLine(span, prefix: "Code size"),
                          let value = ClaimValue.number(literal: bytes) {
                    claims.append(Claim(kind: .codeBytes, value: value, qualifier: scheme, source: source))
                } else if let labelEnd = span.firstIndex(of: " "), span[..<labelEnd].hasSuffix("_exact"),
                          let bpb = LogClaims.token(after: "val_bpb", in: span, separators: true),
                          let value = ClaimValue.number(literal: bpb) {
                    claims.append(Claim(kind: .valBPB, value: value, qualifier: String(span[..<labelEnd]), source: source))
                }
            }
        }
        return claims
    }

    static func backtickSpans(_ line: String) -> [String] {
        let parts = line.split(separator: "`", omittingEmptySubsequences: false)
        return stride(from: 1, to: parts.count - 1, by: 2).map { String(parts[$0]) }
    }
}
