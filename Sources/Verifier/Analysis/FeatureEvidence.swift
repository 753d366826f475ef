import Foundation

/// Whether a feature the code turns off by default (`NGRAM_CACHE`, `SLOT_ENABLED`) was on in the
/// runs a submission reports, read from the files beside the code, in this order: the train logs
/// (hyperparameter dumps `slot_enabled: True`, feature lines `ngram_cache:enabled`), the README's
/// run commands (`NGRAM_CACHE=1 torchrun ...`), submission.json; for a finding's gate also lines
/// only the gated code prints, the shell scripts' commands and, for a default a test chooses, the
/// test read from the evidence; otherwise the code's default.
public enum FeatureSetting: Sendable, Equatable {
    /// Set in the submission's runs; `evidence` cites it (`train.log:57: ngram_cache:enabled`).
    case on(evidence: String)
    /// Stated off; `evidence` cites it.
    case off(evidence: String)
    /// Nothing beside the code states it: only the code's default (off) is known.
    case codeDefault
}

/// How a default-off feature guarding a finding changes it: severity follows the evidence
/// (on: the rule's severity; off with evidence: note; no evidence: warning), and the message says
/// which, citing the line.
public struct FeatureGate: Sendable, Equatable {
    public var variable: String
    public var setting: FeatureSetting
    /// The test that chooses the variable's default when a test does (`world_size > 1`): the
    /// feature is then off by default only where the test fails.
    public var defaultCondition: String? = nil

    public func severity(_ normal: Severity) -> Severity {
        switch setting {
        case .on: return normal
        case .off: return .note
        case .codeDefault: return min(normal, .warning)
        }
    }

    public var note: String {
        if let condition = defaultCondition {
            switch setting {
            case .on(let evidence):
                return " (behind \(variable), on by default only when `\(condition)`; on in this submission: \(evidence))"
            case .off(let evidence):
                return " (only when \(variable) is set or `\(condition)` holds; off in this submission: \(evidence))"
            case .codeDefault:
                return " (only when \(variable) is set or `\(condition)` holds, which chooses its default; no log, README command, launch script or submission.json states either, so whether it ran is not known)"
            }
        }
        switch setting {
        case .on(let evidence):
            return " (behind \(variable), off by default in the code but on in this submission: \(evidence))"
        case .off(let evidence):
            return " (only when \(variable) is set; off by default, and off in this submission: \(evidence))"
        case .codeDefault:
            return " (only when \(variable) is set; off by default; no log, README command or submission.json beside the code states it, so only the code default is known)"
        }
    }
}

extension Optional where Wrapped == FeatureGate {
    /// The severity of a finding under this gate (unchanged without one).
    func severity(_ normal: Severity) -> Severity { self?.severity(normal) ?? normal }
    /// The text appended to a finding's message under this gate.
    var note: String { self?.note ?? "" }
}

extension SubmissionDocuments {
    /// The setting of the environment variable `variable`, also known in the code (and so in
    /// hyperparameter dumps) by the identifiers `aliases` (`slot_enabled`, `use_ngram`).
    /// `labels` are names the code prints the setting under: they state it in logs only.
    public func setting(of variable: String, aliases: [String], labels: [String] = []) -> FeatureSetting {
        let names = Set([variable.lowercased()] + aliases.map { $0.lowercased() })
        let logNames = names.union(labels.map { $0.lowercased() })
        var offEvidence: String?
        for log in logs {
            for (number, line) in log.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                guard line.count < 400, !line.contains("environ"), !line.contains("getenv"),
                      !codeLines.contains(line.trimmingCharacters(in: .whitespaces)),
                      let value = Self.statedValue(in: line, names: logNames) else { continue }
                let citation = "\(log.name):\(number + 1): `\(line.trimmingCharacters(in: .whitespaces))`"
                if value { return .on(evidence: citation) }
                if offEvidence == nil { offEvidence = citation }
            }
        }
        if let offEvidence { return .off(evidence: offEvidence) }
        if let readme, let stated = Self.commandSetting(of: variable, in: readme) { return stated }
        if let submissionJSON, let stated = Self.jsonSetting(names: names, in: submissionJSON) { return stated }
        return .codeDefault
    }

    private static let truthy: Set<String> = ["1", "true", "enabled", "on", "yes"]
    private static let falsy: Set<String> = ["0", "false", "disabled", "off", "no", "none"]

    /// Whether a stated value turns the setting on: a word above, or a number (a count such as
    /// `TTT_EPOCHS=20` is on above zero, as is any non-zero flag `bool(int(...))` reads).
    static func isOn(_ value: String) -> Bool? {
        if truthy.contains(value) { return true }
        if falsy.contains(value) { return false }
        if let number = Double(value), number.isFinite { return number != 0 }
        return nil
    }

    /// `name: True`, `name=1`, `name:enabled`, `"name": true`: the boolean a log line states for
    /// one of `names` (a whole identifier, not part of a dotted or longer one).
    static func statedValue(in line: Substring, names: Set<String>) -> Bool? {
        let characters = Array(line.lowercased().utf8)
        func isIdentifier(_ byte: UInt8) -> Bool {
            (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 95 || byte == 46
        }
        var start = 0
        while start < characters.count {
            guard isIdentifier(characters[start]) else { start += 1; continue }
            var end = start
            while end < characters.count, isIdentifier(characters[end]) { end += 1 }
            let word = String(decoding: characters[start..<end], as: UTF8.self)
            if names.contains(word) {
                var cursor = end
                if cursor < characters.count, characters[cursor] == 34 || characters[cursor] == 39 { cursor += 1 }
                while cursor < characters.count, characters[cursor] == 32 { cursor += 1 }
                if cursor < characters.count, characters[cursor] == 58 || characters[cursor] == 61 {
                    cursor += 1
                    while cursor < characters.count, characters[cursor] == 32 || characters[cursor] == 34 || characters[cursor] == 39 {
                        cursor += 1
                    }
                    var valueEnd = cursor
                    while valueEnd < characters.count, isIdentifier(characters[valueEnd]) { valueEnd += 1 }
                    let value = String(decoding: characters[cursor..<valueEnd], as: UTF8.self)
                    if let on = isOn(value) { return on }
                }
            }
            start = end
        }
        return nil
    }

    /// `NAME=value` on a README run command (a fenced block, a `torchrun`/`python` line).
    static func commandSetting(of variable: String, in readme: String) -> FeatureSetting? {
        var inFence = false
        var off: FeatureSetting?
        for (number, rawLine) in readme.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") { inFence.toggle(); continue }
            guard inFence || line.contains("torchrun") || line.contains("python ") || line.hasSuffix("\\") else { continue }
            // Also inside a quoted list of settings (`--extra-env "A=1;TTT_ENABLED=1"`).
            for token in line.split(whereSeparator: { " \t`;\"'".contains($0) }) {
                guard token.hasPrefix(variable + "=") else { continue }
                let value = token.dropFirst(variable.count + 1).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")).lowercased()
                let citation = "README.md:\(number + 1): `\(line)`"
                if isOn(value) == true { return .on(evidence: citation) }
                if isOn(value) == false || value.isEmpty { off = off ?? .off(evidence: citation) }
            }
        }
        return off
    }

    /// A top-level submission.json key naming the setting, with a boolean, number or string value.
    static func jsonSetting(names: Set<String>, in json: String) -> FeatureSetting? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        for key in object.keys.sorted() where names.contains(key.lowercased()) {
            let value = object[key]
            let text = (value as? NSNumber).map { $0 == 0 ? "0" : "1" } ?? (value as? String)?.lowercased() ?? ""
            let citation = "submission.json: `\(key)`"
            if truthy.contains(text) { return .on(evidence: citation) }
            if falsy.contains(text) { return .off(evidence: citation) }
        }
        return nil
    }
}

extension SubmissionDocuments {
    /// A whole number the submission states for a setting: `NAME=3` on a README run command or
    /// in a log, `identifier: 3` / `identifier=3` in a log, or a top-level submission.json key.
    public func statedCount(of variable: String, identifier: String) -> (value: Int, evidence: String)? {
        let keys = [variable, identifier.lowercased()]
        func count(in line: Substring) -> Int? {
            let lower = line.lowercased()
            for key in keys {
                var searchStart = lower.startIndex
                while let range = lower.range(of: key.lowercased(), range: searchStart..<lower.endIndex) {
                    searchStart = range.upperBound
                    if range.lowerBound > lower.startIndex {
                        let before = lower[lower.index(before: range.lowerBound)]
                        if before.isLetter || before.isNumber || before == "_" || before == "." { continue }
                    }
                    var rest = lower[range.upperBound...].drop { $0 == " " || $0 == "\"" || $0 == "'" }
                    guard let separator = rest.first, separator == ":" || separator == "=" else { continue }
                    rest = rest.dropFirst().drop { $0 == " " || $0 == "\"" || $0 == "'" }
                    let digits = rest.prefix { $0.isNumber }
                    if let value = Int(digits), !digits.isEmpty { return value }
                }
            }
            return nil
        }
        for log in logs {
            for (number, line) in log.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.count < 400 && !line.contains("environ") && !line.contains("getenv") {
                if let value = count(in: line) {
                    return (value, "\(log.name):\(number + 1): `\(line.trimmingCharacters(in: .whitespaces))`")
                }
            }
        }
        if let readme {
            for (number, line) in readme.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(variable + "=") {
                if let value = count(in: line) {
                    return (value, "README.md:\(number + 1): `\(line.trimmingCharacters(in: .whitespaces))`")
                }
            }
        }
        if let submissionJSON,
           let object = try? JSONSerialization.jsonObject(with: Data(submissionJSON.utf8)) as? [String: Any] {
            for key in object.keys.sorted() where keys.contains(key.lowercased()) {
                if let value = (object[key] as? NSNumber)?.intValue { return (value, "submission.json: `\(key)`") }
            }
        }
        return nil
    }
}

extension AnalyzedSource {
    /// The gate of a finding guarded by the default-off feature `variable`, with its setting in
    /// this submission; nil without a variable. A gate any of several features opens
    /// (`A or B`) is on when one of them is, off when every one is stated off.
    public func featureGate(_ variable: String?) -> FeatureGate? {
        guard let variable else { return nil }
        let names = variable.components(separatedBy: FeatureFlags.anyOf)
        let folder = (file as NSString).deletingLastPathComponent
        let settings = names.map { name -> FeatureSetting in
            let flags = analysis.flags
            // A mode chosen by text: its default stated is off, another mode stated is on.
            if let defaultText = flags.textModes.defaults[name], !flags.disabled.values.contains(name) {
                let stated = documents.modeSetting(of: name, identifiers: flags.textModes.identifiers[name] ?? [], defaultText: defaultText)
                guard case .codeDefault = stated else { return stated }
                return printedOnlyWhenSet(name) ?? stated
            }
            let identifiers = bindings(of: name, in: analysis.flags.disabled)
            let stated = documents.setting(of: name, aliases: identifiers, labels: printedLabels(of: Set(identifiers)))
            guard case .codeDefault = stated else { return stated }
            if let printed = printedOnlyWhenSet(name) { return printed }
            if let scripted = documents.scriptSetting(of: name, folder: folder) { return scripted }
            return analysis.flags.conditionalDefaults[name]?.setting(in: documents, folder: folder) ?? stated
        }
        let condition = names.lazy.compactMap { self.analysis.flags.conditionalDefaults[$0]?.testText }.first
        var offEvidence: [String] = []
        for setting in settings {
            switch setting {
            case .on: return FeatureGate(variable: variable, setting: setting, defaultCondition: condition)
            case .off(let evidence): offEvidence.append(evidence)
            case .codeDefault: break
            }
        }
        let setting: FeatureSetting = offEvidence.count == settings.count
            ? .off(evidence: offEvidence.joined(separator: "; ")) : .codeDefault
        return FeatureGate(variable: variable, setting: setting, defaultCondition: condition)
    }

    /// The identifiers `bindings` ties to `variable`.
    func bindings(of variable: String, in bindings: [String: String]) -> [String] {
        bindings.filter { $0.value == variable }.map { $0.key }.sorted()
    }

    /// The labels an f-string prints the values of `identifiers` under (`f"... ttt={args.ttt_enabled}"`
    /// prints `ttt=True`), so a log line `ttt=True` states the setting. A label the code also
    /// prints for any other value names nothing.
    func printedLabels(of identifiers: Set<String>) -> [String] {
        guard !identifiers.isEmpty else { return [] }
        // A name bound more than once may hold other values when printed (minified code reuses
        // `J`, `e` for anything): only names bound once carry the setting into a label.
        var bindings: [String: Int] = [:]
        for node in nodes where node.type == "Assign" || node.type == "AnnAssign" || node.type == "AugAssign" {
            let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
            for target in targets {
                target.walk { if let name = $0.terminalName, ["Name", "Attribute"].contains($0.type) { bindings[name, default: 0] += 1 } }
            }
        }
        let identifiers = identifiers.filter { bindings[$0, default: 0] <= 1 }
        var printed: [String: Set<String>] = [:]
        for node in nodes where node.type == "JoinedStr" {
            let parts = node.children("values")
            for (position, part) in parts.enumerated().dropLast() {
                guard let text = part.stringLiteral, parts[position + 1].type == "FormattedValue",
                      let value = parts[position + 1].child("value") else { continue }
                let head = text.reversed().drop { $0 == " " }
                guard let separator = head.first, separator == "=" || separator == ":" else { continue }
                let label = String(head.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
                guard !label.isEmpty, label.first?.isNumber == false else { continue }
                let name = value.type == "Call" ? "" : (value.terminalName ?? "")
                printed[label.lowercased(), default: []].insert(name)
            }
        }
        return printed.filter { !identifiers.isEmpty && $0.value.isSubset(of: identifiers) }.map { $0.key }.sorted()
    }

    /// The note of a finding whose code a default-on gate lets run unless the submission's files
    /// state it closed, citing the statement; nil when none is stated closed. A log line or
    /// submission.json stating the setting closes it (`global_ttt_enabled: False`); on the
    /// README, every command that runs this script must close the branch: state a default-on
    /// gate closed (`GLOBAL_TTT_ENABLED=0`, `LEGAL_TTT=1` for `if not legal_ttt:`, also through an
    /// earlier `export` in its block) or leave the default-off feature `disabledBy` unset or off.
    public func closedGateNote(_ gates: [FeatureFlags.DefaultOnGate], disabledBy: String? = nil) -> String? {
        guard !gates.isEmpty else { return nil }
        for gate in gates {
            let bindings = gate.closedWhenOn ? analysis.flags.disabled : analysis.flags.enabled
            let identifiers = self.bindings(of: gate.variable, in: bindings)
            let setting = documents.setting(of: gate.variable, aliases: identifiers, labels: printedLabels(of: Set(identifiers)))
            switch (setting, gate.closedWhenOn) {
            case (.on(let evidence), true) where !evidence.hasPrefix("README.md:"):
                return " (only when \(gate.variable) is not set; off by default, but set in this submission: \(evidence))"
            case (.off(let evidence), false) where !evidence.hasPrefix("README.md:"):
                return " (only when \(gate.variable) is set; on by default, but off in this submission: \(evidence))"
            default:
                continue
            }
        }
        let script = (file as NSString).lastPathComponent
        let commands = documents.runCommands(of: script)
        guard !commands.isEmpty else { return nil }
        var citations: [String] = []
        for command in commands {
            var closing: String?
            for gate in gates {
                guard let value = command.settings[gate.variable],
                      let on = SubmissionDocuments.isOn(value.lowercased()), on == gate.closedWhenOn else { continue }
                closing = "\(gate.variable)=\(value)"
                break
            }
            if closing == nil, let variable = disabledBy, !variable.contains(FeatureFlags.anyOf),
               command.settings[variable].map({ SubmissionDocuments.isOn($0.lowercased()) != true }) ?? true {
                closing = "\(variable) unset or off"
            }
            guard let closing else { return nil }
            citations.append("README.md:\(command.line) (\(closing))")
        }
        return " (no README command that runs \(script) runs it: \(citations.joined(separator: "; ")))"
    }
}

extension SubmissionDocuments {
    /// The README's commands that run `script` (a `torchrun`/`python` line, joined over `\`
    /// continuations), each with its first line and the settings it states: `NAME=value` on the
    /// command and in `export` lines earlier in its fenced block.
    public func runCommands(of script: String) -> [(line: Int, settings: [String: String])] {
        guard let readme else { return [] }
        var commands: [(line: Int, settings: [String: String])] = []
        var exported: [String: String] = [:]
        var inFence = false
        var pending = ""
        var pendingLine = 0
        func settings(in text: String) -> [String: String] {
            var found: [String: String] = [:]
            for token in text.split(whereSeparator: { " \t`;\"'".contains($0) }) {
                guard let equals = token.firstIndex(of: "="), equals > token.startIndex else { continue }
                let name = token[..<equals]
                guard name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else { continue }
                found[String(name)] = String(token[token.index(after: equals)...])
            }
            return found
        }
        for (number, rawLine) in readme.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") { inFence.toggle(); exported = [:]; pending = ""; continue }
            if pending.isEmpty { pendingLine = number + 1 }
            if line.hasSuffix("\\") { pending += " " + line.dropLast(); continue }
            let command = pending + " " + line
            pending = ""
            if command.trimmingCharacters(in: .whitespaces).hasPrefix("export ") {
                if inFence { exported.merge(settings(in: command)) { $1 } }
                continue
            }
            guard inFence || command.contains("torchrun") || command.contains("python "),
                  command.contains(script) else { continue }
            commands.append((pendingLine, exported.merging(settings(in: command)) { $1 }))
        }
        return commands
    }
}
