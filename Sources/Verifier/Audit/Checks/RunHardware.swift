import Foundation

/// The hardware a run states it ran on, as far as its log or submission.json say: the number of
/// processes (`world_size:N`, `8xH100`) and the GPU model (`NVIDIA A100-SXM4-80GB` in an
/// `nvidia-smi` table, `"hardware": "1xRTX 5090"`). The time limits are for 8×H100: a time from
/// fewer GPUs or a slower model is not a time on that hardware, so it can neither show a run within
/// the limit nor one over it.
struct RunHardware: Equatable, Sendable {
    /// GPUs (processes) the run used, when stated.
    var gpus: Int?
    /// The GPU model named, when one is (the first distinct one).
    var model: String?
    /// Where it is stated (`train.log:12`, `submission.json: hardware`).
    var source: String

    /// Models at least as fast as the H100 the limits are set on: a time over the limit on them is over it on an H100.
    static let referenceOrFaster = ["H100", "H800", "H200", "B200", "B300", "GB200", "GB300"]

    /// The evidence is of a run that is not 8×H100 (or faster): fewer than 8 GPUs, or a slower model named.
    var isBelowReference: Bool {
        if let gpus, gpus < 8 { return true }
        if let model { return !Self.referenceOrFaster.contains { model.uppercased().contains($0) } }
        return false
    }

    var description: String {
        [gpus.map { "\($0) GPU\($0 == 1 ? "" : "s")" }, model].compactMap { $0 }.joined(separator: " × ")
    }

    /// The hardware of the run `log` reports (nil: a figure of submission.json's), each part from the first
    /// source that states it: the log, its path (`variant_3000_8xA40.log`), then submission.json, then the README (a log may print only
    /// `world_size:8`, the README name the `8xA100` it ran on). Every time check uses this one resolution.
    static func resolved(log: SubmissionTextFile?, in submission: Submission) -> RunHardware? {
        let statements = [log.flatMap { stated(in: $0) }, log.flatMap { stated(inName: $0.name) },
                          submission.metadata.flatMap { stated(in: $0) },
                          submission.readme.flatMap { stated(inReadme: $0) }].compactMap { $0 }
        let gpus = statements.first { $0.gpus != nil }
        let model = statements.first { $0.model != nil }
        guard gpus != nil || model != nil else { return nil }
        var sources: [String] = []
        for statement in [gpus, model].compactMap({ $0 }) where !sources.contains(statement.source) { sources.append(statement.source) }
        return RunHardware(gpus: gpus?.gpus, model: model?.model, source: sources.joined(separator: ", "))
    }

    /// What a README states by `<count>x<GPU>` (`8xA100`, `8× H100`, `1x NVIDIA RTX 4090`), only when it is
    /// unambiguous: every such mention names one model (else nil), and the count too when all agree on it.
    /// READMEs also name the challenge's 8×H100 or the hardware of earlier records, so a README that names
    /// two models states nothing.
    static func stated(inReadme readme: SubmissionTextFile) -> RunHardware? {
        var mentions: [(gpus: Int, model: String, line: Int)] = []
        for (index, line) in readme.lines.enumerated() {
            mentions += countedModels(in: line).map { ($0.gpus, $0.model, index + 1) }
        }
        guard let first = mentions.first, mentions.allSatisfy({ $0.model == first.model }) else { return nil }
        let gpus = mentions.allSatisfy { $0.gpus == first.gpus } ? first.gpus : nil
        return RunHardware(gpus: gpus, model: first.model, source: "\(readme.name):\(first.line)")
    }

    /// What a log's path states by `<count>x<GPU>` (`…_3000_8xA40.log`, `train_seed42_1xH100.log`): its first such mention.
    static func stated(inName path: String) -> RunHardware? {
        countedModels(in: path).first.map { RunHardware(gpus: $0.gpus, model: $0.model, source: "\(path) (its name)") }
    }

    /// Every `<count>x<GPU family>` in `line`: a 1–3 digit count not inside a word or a number (`_` may
    /// precede it, as in file names), `x`, `X` or
    /// `×` with optional spaces around it, an optional `NVIDIA `, and a known family (`8xA100-SXM4` → 8, A100).
    static func countedModels(in line: String) -> [(gpus: Int, model: String)] {
        let characters = Array(line)
        var found: [(gpus: Int, model: String)] = []
        var index = 0
        while index < characters.count {
            let start = index
            guard characters[index].isASCII, characters[index].isNumber else { index += 1; continue }
            while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            let before = start > 0 ? characters[start - 1] : " "
            guard index - start <= 3, !(before.isLetter || before.isNumber || before == "."),
                  let count = Int(String(characters[start..<index])) else { continue }
            var cursor = index
            if cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            guard cursor < characters.count, ["x", "X", "×"].contains(characters[cursor]) else { continue }
            cursor += 1
            if cursor < characters.count, characters[cursor] == " " { cursor += 1 }
            var rest = String(characters[cursor...].prefix(24))
            if rest.uppercased().hasPrefix("NVIDIA ") { rest = String(rest.dropFirst(7)) }
            let upper = rest.uppercased()
            if let family = families.first(where: { upper.hasPrefix($0) }) { found.append((count, family)) }
        }
        return found
    }

    /// What `log` states: its first `world_size:N` / `world_size=N` line and the first `NVIDIA <model>` it names.
    static func stated(in log: SubmissionTextFile) -> RunHardware? {
        var gpus: Int?
        var gpuLine = 0
        var model: String?
        var modelLine = 0
        for (index, raw) in log.lines.enumerated() where gpus == nil || model == nil {
            let line = LogClaims.stripLinePrefix(raw)
            if gpus == nil, let count = worldSize(in: line) {
                gpus = count
                gpuLine = index + 1
            }
            if model == nil, let name = nvidiaModel(in: line) {
                model = name
                modelLine = index + 1
            }
        }
        guard gpus != nil || model != nil else { return nil }
        return RunHardware(gpus: gpus, model: model, source: "\(log.name):\(gpus != nil ? gpuLine : modelLine)")
    }

    /// What submission.json's `hardware` or `gpu` string states (`8xH100 80GB SXM`, `1×H100`, `4xA100-40GB`).
    static func stated(in metadata: SubmissionMetadata) -> RunHardware? {
        for key in ["hardware", "gpu"] {
            guard case .string(let text)? = metadata.json[key] else { continue }
            let gpus = leadingCount(in: text)
            let model = knownModel(in: text)
            if gpus != nil || model != nil {
                return RunHardware(gpus: gpus, model: model, source: "\(metadata.name): \(key)")
            }
        }
        return nil
    }

    /// `N` of `world_size:N`, `world_size: N` or `world_size=N` (not of a format string such as `world_size:{world_size}`).
    static func worldSize(in line: String) -> Int? {
        guard let range = line.range(of: "world_size") else { return nil }
        var rest = line[range.upperBound...].drop { $0 == " " }
        guard let separator = rest.first, separator == ":" || separator == "=" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(digits)
    }

    /// The model after `NVIDIA ` (`NVIDIA GeForce RTX 5090`, `NVIDIA H100 80GB HBM3`), when it names a known GPU family.
    static func nvidiaModel(in line: String) -> String? {
        guard let range = line.range(of: "NVIDIA ") else { return nil }
        var name = String(line[range.upperBound...].prefix { $0 != "|" && $0 != "," && $0 != ")" && $0 != "'" && $0 != "\"" })
        // nvidia-smi pads its columns: the model ends where two spaces begin (`H100 80GB HBM3          On`).
        if let gap = name.range(of: "  ") { name = String(name[..<gap.lowerBound]) }
        let words = name.split(separator: " ").prefix(4).joined(separator: " ")
        return knownModel(in: words) != nil ? words.trimmingCharacters(in: .whitespaces) : nil
    }

    /// GPU families the corpus's logs and metadata name; anything else is not read as a model.
    static let families = ["H100", "H800", "H200", "B200", "B300", "GB200", "GB300", "GB10", "A100", "A800", "A10G", "A10", "A40", "A6000",
                           "L40", "L4", "V100", "T4", "RTX", "GEFORCE", "TITAN", "MI300", "MI250"]

    /// The first known family named in `text` (`A100` for `4xA100-40GB`).
    static func knownModel(in text: String) -> String? {
        let upper = text.uppercased()
        for family in families where upper.contains(family) {
            return family
        }
        return nil
    }

    /// `8` of `8xH100`, `8 x H100`, `8×H100`; nil without a count before an `x`.
    static func leadingCount(in text: String) -> Int? {
        let scalars = Array(text.trimmingCharacters(in: .whitespaces))
        let digits = scalars.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        let rest = scalars.dropFirst(digits.count).drop { $0 == " " }
        guard let mark = rest.first, mark == "x" || mark == "X" || mark == "×" else { return nil }
        return Int(String(digits))
    }
}
