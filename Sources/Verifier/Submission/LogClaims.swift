/// Claims from a train log, found by the line formats the records' scripts print (surveyed over
/// every log in the corpus; see `fixtures/submissions/README.md`).
///
/// Logs often begin with a copy of the script, so only lines that start at column 0 with a known
/// label and carry literal numbers count; `log(f"Code size: {code_bytes} bytes")` never matches.
/// What loggers and launchers print before the message (timestamps, `[rank0]:`, `INFO:`) is ignored
/// (``stripLinePrefix(_:)``).
enum LogClaims {
    static func claims(from log: SubmissionTextFile) -> [Claim] {
        var claims: [Claim] = []
        // The run's seed: from the file name, else from the first seed setting the log prints, else from the
        // first line of settings that lists it after other settings (``settingsLineSeed(_:)``).
        let nameSeed = seedFromName(log.name)
        let lineSeed = log.lines.lazy.compactMap(contentSeed).first
        let listedSeed = nameSeed == nil && lineSeed == nil
            ? log.lines.lazy.enumerated().compactMap { index, line in settingsLineSeed(line).map { (line: index + 1, seed: $0) } }.first
            : nil
        let seed = nameSeed ?? lineSeed ?? listedSeed?.seed
        var seedClaimed = false
        if let seed = nameSeed {
            claims.append(Claim(kind: .seed, value: .number(Double(seed), literal: String(seed)), seed: seed,
                                source: .fileName(log.name)))
            seedClaimed = true
        } else if let listedSeed {
            claims.append(Claim(kind: .seed, value: .number(Double(listedSeed.seed), literal: String(listedSeed.seed)),
                                seed: listedSeed.seed, source: .line(file: log.name, line: listedSeed.line)))
            seedClaimed = true
        }
        var evaluations: [(line: Int, label: String, text: String, loss: ClaimValue, bpb: ClaimValue)] = []
        var lastSerializedWasRaw = true
        var trainTime: (line: Int, literal: String)?
        var stoppedEarly = false
        var tokenizerSeen = false
        var tttSeen: Set<String> = []
        var totalEvalTime: (line: Int, literal: String)?

        func add(_ kind: ClaimKind, _ literal: String, line: Int, qualifier: String? = nil, divisor: Double = 1) {
            guard let value = ClaimValue.number(literal: literal), let number = value.double else { return }
            let scaled: ClaimValue = divisor == 1 ? value : .number(number / divisor, literal: literal)
            claims.append(Claim(kind: kind, value: scaled, seed: seed, qualifier: qualifier,
                                source: .line(file: log.name, line: line)))
        }

        for (index, rawLine) in log.lines.enumerated() {
            let lineNumber = index + 1
            let line = stripLinePrefix(rawLine)

            // Hyperparameter dumps: "  ttt_lr: 0.005", "  seed: 42", "  tokenizer_path: ...".
            if line.hasPrefix("  "), let (key, value) = dumpSetting(line) {
                if key.hasPrefix("ttt_"), !tttSeen.contains(key) {
                    tttSeen.insert(key)
                    claims.append(Claim(kind: .tttSetting, value: ClaimValue.number(literal: value) ?? .text(value),
                                        seed: seed, qualifier: key, source: .line(file: log.name, line: lineNumber)))
                } else if key == "seed", !seedClaimed, let number = Int(value) {
                    seedClaimed = true
                    claims.append(Claim(kind: .seed, value: .number(Double(number), literal: value), seed: number,
                                        source: .line(file: log.name, line: lineNumber)))
                } else if key == "tokenizer_path", !tokenizerSeen {
                    tokenizerSeen = true
                    claims.append(Claim(kind: .tokenizer, value: .text(value), seed: seed,
                                        source: .line(file: log.name, line: lineNumber)))
                }
                continue
            }
            guard let first = line.first, first.isLetter else { continue }

            if !seedClaimed, let value = seedSetting(line), let number = Int(value) {
                seedClaimed = true
                claims.append(Claim(kind: .seed, value: .number(Double(number), literal: value), seed: number,
                                    source: .line(file: log.name, line: lineNumber)))
            }
            if !tokenizerSeen, line.hasPrefix("val_bpb:enabled"), let path = word(after: "tokenizer_path=", in: line) {
                tokenizerSeen = true
                claims.append(Claim(kind: .tokenizer, value: .text(path), seed: seed,
                                    source: .line(file: log.name, line: lineNumber)))
            }
            if line.hasPrefix("ttt_sliding:start") {
                for (key, value) in keyValuePairs(line) where key.hasPrefix("ttt_") && !tttSeen.contains(key) {
                    tttSeen.insert(key)
                    claims.append(Claim(kind: .tttSetting, value: ClaimValue.number(literal: value) ?? .text(value),
                                        seed: seed, qualifier: key, source: .line(file: log.name, line: lineNumber)))
                }
            }

            // Sizes.
            if line.hasPrefix("Serialized model") {
                if let (scheme, bytes) = sizeLine(line, prefix: "Serialized model") {
                    lastSerializedWasRaw = scheme.map(isUncompressedScheme) ?? true
                    if let scheme, !lastSerializedWasRaw { add(.modelBytes, bytes, line: lineNumber, qualifier: scheme) }
                }
            } else if line.hasPrefix("Code size") {
                if let (scheme, bytes) = sizeLine(line, prefix: "Code size") {
                    add(.codeBytes, bytes, line: lineNumber, qualifier: scheme)
                }
            } else if line.hasPrefix("Total submission size") {
                // An unqualified total after a raw "Serialized model:" line is the uncompressed size: not capped.
                // So is one whose scheme names an uncompressed form (`(raw)`, `fp16/bf16`).
                if let (scheme, bytes) = sizeLine(line, prefix: "Total submission size"),
                   scheme.map { !isUncompressedScheme($0) } ?? !lastSerializedWasRaw {
                    add(.totalBytes, bytes, line: lineNumber, qualifier: scheme)
                }
            } else if let (kind, bytes, qualifier) = packSummarySize(line) {
                add(kind, bytes, line: lineNumber, qualifier: qualifier)
            } else if let export = exportSummary(line) {
                add(.modelBytes, export.model, line: lineNumber, qualifier: export.label)
                add(.codeBytes, export.code, line: lineNumber)
                add(.totalBytes, export.total, line: lineNumber, qualifier: export.label)
            } else if line.hasPrefix("budget:"), let total = digits(at: line.index(line.startIndex, offsetBy: 7), in: line) {
                add(.totalBytes, total, line: lineNumber, qualifier: "budget")
            } else if line.hasPrefix("artifact:"), let code = token(after: " code:", in: line) {
                add(.codeBytes, code, line: lineNumber)
            } else if line.hasPrefix("artifact_bytes:"), let total = token(after: "artifact_bytes:", in: line) {
                add(.totalBytes, total, line: lineNumber, qualifier: "artifact_bytes")
            } else if let (stage, key, bytes) = stageSize(line) {
                // `storage_pass quant_bytes=15815344`, `storage_pass estimated_total=15908232`: an export pass's sizes.
                add(key == "quant_bytes" ? .modelBytes : .totalBytes, bytes, line: lineNumber, qualifier: stage)
            } else if line.hasPrefix("Raw model:"), let code = token(after: "| Code:", in: line) {
                add(.codeBytes, code, line: lineNumber)
            } else if line.contains(" model: "), line.contains("| Total submission:"),
                      let model = token(after: " model:", in: line), let total = token(after: "| Total submission:", in: line) {
                add(.modelBytes, model, line: lineNumber, qualifier: String(line.prefix { $0 != " " }))
                add(.totalBytes, total, line: lineNumber, qualifier: String(line.prefix { $0 != " " }))
            }

            // Times.
            if line.hasPrefix("stopping_early"), let ms = token(after: "train_time:", in: line, unit: "ms") {
                trainTime = (lineNumber, ms)
                stoppedEarly = true
            } else if !stoppedEarly, line.hasPrefix("step:"), let ms = token(after: "train_time:", in: line, unit: "ms") {
                trainTime = (lineNumber, ms)
            }
            if line.hasPrefix("total_eval_time:"), let seconds = token(after: "total_eval_time:", in: line, unit: "s") {
                totalEvalTime = (lineNumber, seconds)
            }

            // Evaluations: "<label> val_loss:X val_bpb:Y ..." (also "=" and "sliding val_bpb:").
            if !line.hasPrefix("step"), let lossRange = line.range(of: "val_loss"),
               let loss = token(after: "val_loss", in: line, separators: true),
               let bpb = token(after: "val_bpb", in: line, separators: true),
               let lossValue = ClaimValue.number(literal: loss), let bpbValue = ClaimValue.number(literal: bpb) {
                let label = line[..<lossRange.lowerBound].trimming(" ")
                if !label.isEmpty { evaluations.append((lineNumber, label, line, lossValue, bpbValue)) }
            }
        }

        if let trainTime { add(.trainSeconds, trainTime.literal, line: trainTime.line, divisor: 1000) }

        // The score is the last evaluation that is not a diagnostic (pre-quantization, post-EMA probes).
        if let headline = evaluations.last(where: { !isDiagnostic($0.label) }) {
            let source = ClaimSource.line(file: log.name, line: headline.line)
            claims.append(Claim(kind: .valLoss, value: headline.loss, seed: seed, qualifier: headline.label, source: source))
            claims.append(Claim(kind: .valBPB, value: headline.bpb, seed: seed, qualifier: headline.label, source: source))
            claims.append(Claim(kind: .evalMode, value: .text(evalMode(headline.label)), seed: seed,
                                qualifier: headline.label, source: source))
            // The rounded line printed just before an "_exact" one carries its stride and timing.
            let plainLabel = headline.label.hasSuffix("_exact") ? String(headline.label.dropLast(6)) : headline.label
            let related = [headline] + evaluations.filter { $0.label == plainLabel && $0.line < headline.line }.suffix(1)
            for evaluation in related {
                if let stride = token(after: "stride", in: evaluation.text, separators: true) {
                    add(.evalStride, stride, line: evaluation.line)
                    break
                }
            }
            if let totalEvalTime {
                add(.evalSeconds, totalEvalTime.literal, line: totalEvalTime.line, qualifier: "total_eval_time")
            } else {
                for evaluation in related {
                    if let ms = token(after: "eval_time:", in: evaluation.text, unit: "ms") {
                        add(.evalSeconds, ms, line: evaluation.line, qualifier: evaluation.label, divisor: 1000)
                        break
                    }
                }
            }
        }
        return claims
    }

    // MARK: - Line helpers

    /// Whether a size line's scheme (`raw`, `fp32`, `fp16/bf16` against `int6+lzma`, `fp16+lzma`) describes
    /// the uncompressed model: it names an uncompressed form and no compressor.
    static func isUncompressedScheme(_ scheme: String) -> Bool {
        let words = Set(scheme.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init))
        let uncompressed: Set<String> = ["raw", "uncompressed", "fp32", "fp16", "bf16", "float32", "float16", "pt"]
        let compressors = ["zlib", "zstd", "lzma", "xz", "brotli", "brot", "lrzip", "gzip", "bz2", "compressed"]
        return !words.isDisjoint(with: uncompressed)
            && !words.contains { word in compressors.contains { word.hasPrefix($0) } }
    }

    static func isDiagnostic(_ label: String) -> Bool {
        let lower = label.lowercased()
        return ["diagnostic", "pre-quant", "pre_quant", "prequant"].contains { lower.contains($0) }
    }

    static func evalMode(_ label: String) -> String {
        let lower = label.lowercased()
        if lower.contains("ttt") { return "ttt" }
        if lower.contains("sliding") { return "sliding_window" }
        return "standard"
    }

    /// The seed a log's path states: its file name (`train_seed42.log`, `seed_1337.log`, `log_10mins_seed-7.txt`,
    /// `..._s1337.txt`), else the nearest folder that names one (`runs/seed_1338/logs/train.txt`).
    static func seedFromName(_ path: String) -> Int? {
        for component in path.split(separator: "/").reversed() {
            if let seed = seedInName(component.lowercased()) { return seed }
        }
        return nil
    }

    private static func seedInName(_ name: String) -> Int? {
        if let range = name.range(of: "seed") {
            var rest = name[range.upperBound...]
            if let first = rest.first, first == "_" || first == "-" { rest = rest.dropFirst() }
            let number = rest.prefix { $0.isASCII && $0.isNumber }
            if !number.isEmpty { return Int(number) }
        }
        var search = name[...]
        while let range = search.range(of: "_s") {
            let number = search[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
            let after = search[range.upperBound...].dropFirst(number.count).first
            if !number.isEmpty, after == nil || after == "." || after == "_" { return Int(number) }
            search = search[range.upperBound...]
        }
        return nil
    }

    /// The line without what loggers and launchers put before the message: any run of a Unix timestamp
    /// (`1776144163.319 `), a date and/or time (`2026-03-20 12:00:01 `, `2026-04-30T20:16:31Z `,
    /// `2026-04-29 18:46:49+08:00 `, `05:38:40 `), a bracketed tag (`[05:38:40] `, `[2026-03-20 12:00:01] `,
    /// `[eval] `, or `[default0]:` / `[rank0]:` prepended by the launcher), a log level (`INFO: `,
    /// `WARNING - `), each optionally followed by a `|` or `-` separator. One space after a prefix is
    /// dropped, so a hyperparameter dump's two-space indent survives; a line without a prefix is returned unchanged.
    static func stripLinePrefix(_ line: String) -> String {
        var rest = Substring(line)
        var stripped = false
        while let next = dropOnePrefix(rest) {
            rest = next
            stripped = true
        }
        return stripped ? String(rest) : line
    }

    /// `rest` after one leading prefix element and its separator, or nil when it starts with none.
    private static func dropOnePrefix(_ rest: Substring) -> Substring? {
        var after: Substring
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]"), rest.distance(from: rest.startIndex, to: close) <= 64 else { return nil }
            after = rest[rest.index(after: close)...]
            // `[default0]:` and `[rank0]:` are prepended to the line as it was printed, indent included.
            if after.first == ":" { return after.dropFirst() }
        } else if let timestamp = dropTimestamp(rest) {
            after = timestamp
        } else if let level = logLevels.first(where: { rest.hasPrefix($0) }) {
            after = rest.dropFirst(level.count)
            if after.first == ":" { after = after.dropFirst() } else if after.first != " " { return nil }
        } else {
            return nil
        }
        // A separator between the prefix and the message: " | ", " - ", or just one space.
        for separator in [" | ", " - ", "| ", "- "] where after.hasPrefix(separator) {
            return after.dropFirst(separator.count)
        }
        return after.first == " " ? after.dropFirst() : nil
    }

    private static let logLevels = ["INFO", "DEBUG", "WARNING", "WARN", "ERROR"]

    /// A Unix timestamp (9+ digits, optional fraction), or a date and/or clock time with optional fraction and zone.
    private static func dropTimestamp(_ text: Substring) -> Substring? {
        func digits(_ s: Substring, count: Int) -> Substring? {
            let run = s.prefix { $0.isASCII && $0.isNumber }
            return run.count == count ? s.dropFirst(count) : nil
        }
        func fraction(_ s: Substring) -> Substring {
            guard s.first == "." || s.first == "," else { return s }
            let run = s.dropFirst().prefix { $0.isASCII && $0.isNumber }
            return run.isEmpty ? s : s.dropFirst(1 + run.count)
        }
        func clock(_ s: Substring) -> Substring? {
            guard let h = digits(s, count: 2), h.first == ":", let m = digits(h.dropFirst(), count: 2),
                  m.first == ":", let sec = digits(m.dropFirst(), count: 2) else { return nil }
            var rest = fraction(sec)
            if rest.first == "Z" { rest = rest.dropFirst() }
            if let sign = rest.first, sign == "+" || sign == "-", let zh = digits(rest.dropFirst(), count: 2),
               zh.first == ":", let zm = digits(zh.dropFirst(), count: 2) { rest = zm }
            return rest
        }
        let unix = text.prefix { $0.isASCII && $0.isNumber }
        if unix.count >= 9 { return fraction(text.dropFirst(unix.count)) }
        if let year = digits(text, count: 4), year.first == "-", let month = digits(year.dropFirst(), count: 2),
           month.first == "-", let day = digits(month.dropFirst(), count: 2) {
            if let separator = day.first, separator == " " || separator == "T", let time = clock(day.dropFirst()) {
                return time
            }
            return day
        }
        return clock(text)
    }

    /// `"  key: value"` with a single-token value, as hyperparameter dumps print.
    static func dumpSetting(_ line: String) -> (String, String)? {
        let trimmed = line.drop { $0 == " " }
        guard line.count - trimmed.count == 2, let colon = trimmed.firstIndex(of: ":") else { return nil }
        let key = trimmed[..<colon]
        guard !key.isEmpty, key.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else { return nil }
        let value = trimmed[trimmed.index(after: colon)...].trimming(" ")
        guard !value.isEmpty, !value.contains(" ") else { return nil }
        return (String(key), value)
    }

    /// A seed stated inside a log line (`seed:42`, `  seed: 42`, `... seed=42 ...`).
    static func contentSeed(_ rawLine: String) -> Int? {
        let line = stripLinePrefix(rawLine)
        if line.hasPrefix("  "), let (key, value) = dumpSetting(line), key == "seed" { return Int(value) }
        guard let first = line.first, first.isLetter else { return nil }
        return seedSetting(line).flatMap { Int($0) }
    }

    /// `seed:N` as a later word of a line of `key:value` settings (`bigram_buckets:8192 bigram_embed_dim:128
    /// trigram_buckets:0 trigram_embed_dim:96 seed:1337`): the line starts at column 0 with a `key:value` word.
    /// Used only when the log states its seed nowhere else: other components print their own seeds this way
    /// (`spinquant:baked seed:0 …`), and every such log on the pull-request corpus also states the run's seed.
    static func settingsLineSeed(_ rawLine: String) -> Int? {
        let line = stripLinePrefix(rawLine)
        let words = line.split(separator: " ")
        guard line.first?.isLetter == true, let first = words.first,
              let colon = first.firstIndex(of: ":"), colon != first.index(before: first.endIndex) else { return nil }
        for word in words.dropFirst() where word.hasPrefix("seed:") {
            let digits = word.dropFirst(5)
            if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) { return Int(digits) }
        }
        return nil
    }

    /// An export pass's size line: `<stage> quant_bytes=N` (the compressed model) or `<stage> estimated_total=N`
    /// (model plus code), the stage a single word without `=` or `:`.
    static func stageSize(_ line: String) -> (stage: String, key: String, bytes: String)? {
        let words = line.split(separator: " ")
        guard words.count == 2, let stage = words.first, !stage.contains("="), !stage.contains(":"),
              let equals = words[1].firstIndex(of: "=") else { return nil }
        let key = String(words[1][..<equals]), value = words[1][words[1].index(after: equals)...]
        guard ["quant_bytes", "estimated_total"].contains(key), !value.isEmpty,
              value.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return (String(stage), key, String(value))
    }

    /// `seed:42` at the start of a line, or `seed=42` inside a `key=value` dump.
    static func seedSetting(_ line: String) -> String? {
        if line.hasPrefix("seed:") || line.hasPrefix("seed=") {
            let value = line.dropFirst(5).prefix { $0.isASCII && $0.isNumber }
            return value.isEmpty ? nil : String(value)
        }
        for (key, value) in keyValuePairs(line) where key == "seed" { return value }
        return nil
    }

    /// Space-separated `key=value` pairs of a line.
    static func keyValuePairs(_ line: String) -> [(String, String)] {
        line.split(separator: " ").compactMap { part in
            guard let equals = part.firstIndex(of: "=") else { return nil }
            let key = part[..<equals], value = part[part.index(after: equals)...]
            guard !key.isEmpty, !value.isEmpty else { return nil }
            return (String(key), String(value.trimming(",")))
        }
    }

    /// For `"<prefix>[ <scheme>| (<scheme>)]: N bytes"`: the scheme (nil when absent) and N.
    /// A packing step's summary (`Packed code: 19646 bytes (raw=70361 bytes)`, `Model blob : 15976105 bytes`,
    /// `Submission size: 15995751 bytes`): code, model and total figures. Only the unqualified labels count
    /// (`Submission size limit: …` states the cap); packed code with a raw figure beside it is compressed.
    static func packSummarySize(_ line: String) -> (ClaimKind, String, String)? {
        let labels: [(String, ClaimKind)] = [("Packed code", .codeBytes), ("Model blob", .modelBytes), ("Submission size", .totalBytes)]
        for (label, kind) in labels where line.hasPrefix(label) {
            guard let (scheme, bytes) = sizeLine(line, prefix: label), scheme == nil else { return nil }
            let compressed = kind == .codeBytes && line.contains("(raw=")
            return (kind, bytes, compressed ? "packed (compressed)" : label)
        }
        return nil
    }

    /// An export's one-line summary, `gptq_int6_brotli: 14,984,356 bytes | code: 90,756 | total: 15,075,112`:
    /// the model, code and total figures (digits, optionally grouped by thousands with commas).
    static func exportSummary(_ line: String) -> (label: String, model: String, code: String, total: String)? {
        let parts = line.components(separatedBy: " | ")
        guard parts.count == 3, let colon = parts[0].firstIndex(of: ":") else { return nil }
        let label = String(parts[0][..<colon])
        guard !label.isEmpty, !label.contains(" "), let first = label.first, first.isLetter else { return nil }
        func figure(_ text: Substring, unit: String) -> String? {
            let body = text.drop { $0 == " " }
            guard body.hasSuffix(unit) else { return nil }
            let number = body.dropLast(unit.count)
            let groups = number.split(separator: ",", omittingEmptySubsequences: false)
            guard let head = groups.first, (1...3).contains(head.count) || groups.count == 1,
                  groups.dropFirst().allSatisfy({ $0.count == 3 }),
                  groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
            return groups.joined()
        }
        // The total may be followed by a parenthesised restatement: `total: 15,075,112 (15.08MB)`.
        var last = Substring(parts[2])
        if last.hasSuffix(")"), let open = last.range(of: " (") { last = last[..<open.lowerBound] }
        guard let model = figure(parts[0][parts[0].index(after: colon)...], unit: " bytes"),
              parts[1].hasPrefix("code:"), let code = figure(parts[1].dropFirst("code:".count), unit: ""),
              last.hasPrefix("total:"), let total = figure(last.dropFirst("total:".count), unit: "") else { return nil }
        return (label, model, code, total)
    }

    static func sizeLine(_ line: String, prefix: String) -> (String?, String)? {
        let rest = line.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        var scheme = rest[..<colon].trimming(" ")
        if scheme.hasPrefix("("), scheme.hasSuffix(")") { scheme = String(scheme.dropFirst().dropLast()) }
        guard !scheme.contains(" ") else { return nil }
        let after = rest[rest.index(after: colon)...].drop { $0 == " " }
        let number = after.prefix { $0.isASCII && $0.isNumber }
        guard !number.isEmpty, after.dropFirst(number.count).hasPrefix(" bytes") else { return nil }
        return (scheme.isEmpty ? nil : scheme, String(number))
    }

    /// The number right after `key` (then optional `:`/`=` and spaces when `separators`), optionally
    /// followed by `unit`; `nil` unless it is a literal number.
    static func token(after key: String, in line: String, separators: Bool = false, unit: String? = nil) -> String? {
        guard let range = line.range(of: key) else { return nil }
        var rest = line[range.upperBound...]
        if separators {
            guard let first = rest.first, first == ":" || first == "=" else { return nil }
            rest = rest.dropFirst()
        }
        rest = rest.drop { $0 == " " }
        let number = rest.prefix { ($0.isASCII && $0.isNumber) || $0 == "." || $0 == "e" || $0 == "-" || $0 == "+" }
        guard let first = number.first, first.isNumber || first == "-" else { return nil }
        if let unit {
            guard rest.dropFirst(number.count).hasPrefix(unit) else { return nil }
        }
        return String(number)
    }

    /// The space-delimited word right after `key`, if any.
    static func word(after key: String, in line: String) -> String? {
        guard let range = line.range(of: key) else { return nil }
        let word = line[range.upperBound...].prefix { $0 != " " }
        return word.isEmpty ? nil : String(word)
    }

    static func digits(at index: String.Index, in line: String) -> String? {
        let number = line[index...].prefix { $0.isASCII && $0.isNumber }
        return number.isEmpty ? nil : String(number)
    }
}

extension Substring {
    fileprivate func trimming(_ character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}

extension String {
    fileprivate func trimming(_ character: Character) -> String {
        self[...].trimming(character)
    }
}
