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
        let model = statements.first { $0.model != nil }
        // A count stated with another model (the README's `8xH100` beside a log run through MLX) is not this run's,
        // nor is a count stated without a model (`--nproc_per_node=8`) for a run that is not on NVIDIA GPUs.
        let family = knownModel(in: model?.model ?? "H100")
        let gpus = statements.first { statement in
            guard statement.gpus != nil else { return false }
            if let stated = statement.model { return knownModel(in: stated) == family }
            return family != nil
        }
        guard gpus != nil || model != nil else { return nil }
        var sources: [String] = []
        for statement in [gpus, model].compactMap({ $0 }) where !sources.contains(statement.source) { sources.append(statement.source) }
        return RunHardware(gpus: gpus?.gpus, model: model?.model, source: sources.joined(separator: ", "))
    }

    /// What a README states by `<count>x<GPU>` (`8xA100`, `8× H100`, `1x NVIDIA RTX 4090`), only when it is
    /// unambiguous: every such mention names one model (else nil), and the count too when all agree on it.
    /// READMEs also name the challenge's 8×H100 or the hardware of earlier records, so a README that names
    /// two models states nothing.
    /// The launch commands' `--nproc_per_node=N` count the GPUs too (`torchrun --standalone --nproc_per_node=8`).
    static func stated(inReadme readme: SubmissionTextFile) -> RunHardware? {
        var mentions: [(gpus: Int, model: String, line: Int)] = []
        var launches: [(gpus: Int, line: Int)] = []
        for (index, line) in readme.lines.enumerated() {
            mentions += countedModels(in: line).map { ($0.gpus, $0.model, index + 1) }
            if let count = processesPerNode(in: line) { launches.append((count, index + 1)) }
        }
        let counts = mentions.map(\.gpus) + launches.map(\.gpus)
        let agreedCount = counts.allSatisfy { $0 == counts.first } ? counts.first : nil
        guard let first = mentions.first else {
            return launches.first.flatMap { launch in
                agreedCount.map { RunHardware(gpus: $0, model: nil, source: "\(readme.name):\(launch.line)") }
            }
        }
        guard mentions.allSatisfy({ $0.model == first.model }) else { return nil }
        return RunHardware(gpus: agreedCount, model: first.model, source: "\(readme.name):\(first.line)")
    }

    /// `N` of `--nproc_per_node=N` or `--nproc_per_node N` (not of `--nproc_per_node=$NGPUS`).
    static func processesPerNode(in line: String) -> Int? {
        guard let range = line.range(of: "nproc_per_node") else { return nil }
        let rest = line[range.upperBound...].drop { $0 == "=" || $0 == " " }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(digits)
    }

    /// What a log's path states by `<count>x<GPU>` (`…_3000_8xA40.log`, `train_seed42_1xH100.log`): its first such
    /// mention; else a model named as a word of the path without a count (`B1_A100_SXM_seed1337.log`: A100) and
    /// a count of GPUs without a model (`adaptive_ttt_eval_1gpu.log`: 1).
    static func stated(inName path: String) -> RunHardware? {
        if let counted = countedModels(in: path).first {
            return RunHardware(gpus: counted.gpus, model: counted.model, source: "\(path) (its name)")
        }
        let model = namedModel(inPath: path), gpus = gpuCount(inPath: path)
        guard model != nil || gpus != nil else { return nil }
        return RunHardware(gpus: gpus, model: model, source: "\(path) (its name)")
    }

    /// `N` of `<N>gpu` or `<N>gpus` in `path`, `-` or `_` allowed between (`eval_1gpu.log`, `8gpu_depth_ttt.txt`,
    /// `runs_2-gpus/`): a 1–3 digit count not inside a word or a number, and `gpu` not followed by a letter.
    static func gpuCount(inPath path: String) -> Int? {
        let characters = Array(path.lowercased())
        var index = 0
        while index < characters.count {
            let start = index
            guard characters[index].isASCII, characters[index].isNumber else { index += 1; continue }
            while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            let before = start > 0 ? characters[start - 1] : "/"
            guard index - start <= 3, !(before.isLetter || before.isNumber || before == "."),
                  let count = Int(String(characters[start..<index])) else { continue }
            var cursor = index
            if cursor < characters.count, characters[cursor] == "-" || characters[cursor] == "_" { cursor += 1 }
            guard String(characters[cursor...].prefix(3)) == "gpu" else { continue }
            cursor += 3
            if cursor < characters.count, characters[cursor] == "s" { cursor += 1 }
            if cursor < characters.count, characters[cursor].isLetter { continue }
            return count
        }
        return nil
    }

    /// A GPU family that is a whole word of `path` (words split at anything not a letter or digit): `A100` in
    /// `B1_A100_SXM_6485steps.log`, `RTX` in `run_rtx4090.log`. Families of fewer than four characters (`L4`, `T4`,
    /// `A10`, `A40`) are not read alone: as words of a file name they are as often layer counts or trial numbers.
    static func namedModel(inPath path: String) -> String? {
        let words = path.uppercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }.map(String.init)
        for word in words {
            if word.count >= 4, let family = families.first(where: { $0 == word }) { return family }
            if word.hasPrefix("RTX"), word.count > 3, word.dropFirst(3).allSatisfy(\.isNumber) { return "RTX" }
        }
        return nil
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
            if model == nil, let name = nvidiaModel(in: line) ?? appleSilicon(in: line) {
                model = name
                modelLine = index + 1
            }
        }
        guard gpus != nil || model != nil else { return nil }
        return RunHardware(gpus: gpus, model: model, source: "\(log.name):\(gpus != nil ? gpuLine : modelLine)")
    }

    /// The model of a run through MLX, Apple's array framework for its own chips, when the log prints the MLX
    /// version it ran (`mlx_version:0.29.3`, `MLX 0.31.1`): not an NVIDIA GPU.
    static func appleSilicon(in line: String) -> String? {
        let version: Substring
        if line.hasPrefix("mlx_version:") || line.hasPrefix("mlx_version=") {
            version = line.dropFirst("mlx_version:".count).drop { $0 == " " }
        } else if line.hasPrefix("MLX ") {
            version = line.dropFirst(4)
        } else {
            return nil
        }
        let number = version.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard number.contains("."), number.first?.isNumber == true else { return nil }
        return "Apple silicon (MLX \(number))"
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
                           "L40", "L20", "L4", "V100", "T4", "RTX", "GEFORCE", "TITAN", "MI300", "MI250"]

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
