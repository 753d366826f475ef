import Foundation

/// Settings that choose a mode by a text read from the environment
/// (`ngram_mode = os.environ.get("NGRAM_MODE", "single_pass")`), and the comparisons of such a setting
/// with text literals (`if args.ngram_mode == "two_pass":`, `if mode == "off": return`). A comparison
/// false at the default holds code that runs only when the variable is set to another mode: the
/// variable gates it like a default-off flag. A comparison true at the default gates what runs only when
/// it is false (its `else`, or what follows an early `return`).
public struct TextModeSettings: Sendable {
    public struct Test: Sendable, Equatable {
        public var variable: String
        /// Whether the comparison holds with the variable unset (its default text).
        public var trueAtDefault: Bool
    }

    /// A setting's environment variable and its default, with the text methods applied (`.strip().lower()`).
    struct Setting: Equatable {
        var variable: String
        var defaultText: String
    }

    /// Per comparison node: what it tests.
    private var tests: [ObjectIdentifier: Test] = [:]
    /// The default of each text-mode variable, and the identifiers bound to it (for the logs' dumps).
    public private(set) var defaults: [String: String] = [:]
    public private(set) var identifiers: [String: [String]] = [:]

    public init(module: PyNode, aliases: ImportAliases) {
        // Identifiers every binding of which, anywhere in the module, reads the same setting.
        var global: [String: Setting?] = [:]
        module.walk { node in
            for (target, value) in Self.bindings(node) {
                let setting = Self.read(value, aliases: aliases, settings: [:])
                if let known = global[target], known != setting { global[target] = .some(nil) } else if global[target] == nil { global[target] = .some(setting) }
            }
        }
        let settings = global.compactMapValues { $0 }
        for (identifier, setting) in settings.sorted(by: { $0.key < $1.key }) {
            defaults[setting.variable] = setting.defaultText
            identifiers[setting.variable, default: []].append(identifier)
        }
        record(in: module, locals: [:], settings: settings, aliases: aliases)
        // Names a function binds to a setting (`mode = args.auto_rescue_mode.strip().lower()`): a name is
        // one when every binding of it in that function reads the same setting. Nested functions come
        // later in the walk and so decide for their own comparisons.
        module.walk { function in
            guard function.type == "FunctionDef" || function.type == "AsyncFunctionDef" else { return }
            var locals: [String: Setting?] = [:]
            function.walk { node in
                guard node !== function else { return }
                for (target, value) in Self.bindings(node) where node.type != "keyword" {
                    let setting = Self.read(value, aliases: aliases, settings: settings)
                    if let known = locals[target], known != setting { locals[target] = .some(nil) } else if locals[target] == nil { locals[target] = .some(setting) }
                }
            }
            record(in: function, locals: locals, settings: settings, aliases: aliases)
        }
    }

    /// What `node` compares, when it compares a text-mode setting with text literals.
    public func test(_ node: PyNode) -> Test? { tests[ObjectIdentifier(node)] }

    private mutating func record(in scope: PyNode, locals: [String: Setting?], settings: [String: Setting], aliases: ImportAliases) {
        scope.walk { node in
            guard node.type == "Compare", node.children("ops").count == 1, let operation = node.children("ops").first?.type,
                  var left = node.child("left"), var right = node.children("comparators").first else { return }
            if left.stringLiteral != nil, ["Eq", "NotEq"].contains(operation) { swap(&left, &right) }
            let setting: Setting?
            if left.type == "Name", let name = left.string("id"), let local = locals[name] {
                setting = local
            } else {
                setting = Self.read(left, aliases: aliases, settings: settings)
            }
            guard let setting else { return }
            let literals: [String]
            if let text = right.stringLiteral {
                literals = [text]
            } else if ["Tuple", "List", "Set"].contains(right.type) {
                let elements = right.children("elts").compactMap(\.stringLiteral)
                guard !elements.isEmpty, elements.count == right.children("elts").count else { return }
                literals = elements
            } else {
                return
            }
            let truth: Bool
            switch operation {
            case "Eq" where literals.count == 1, "In": truth = literals.contains(setting.defaultText)
            case "NotEq" where literals.count == 1, "NotIn": truth = !literals.contains(setting.defaultText)
            default: return
            }
            tests[ObjectIdentifier(node)] = Test(variable: setting.variable, trueAtDefault: truth)
        }
    }

    /// `target = value` pairs a node binds: assignments and keyword arguments.
    private static func bindings(_ node: PyNode) -> [(String, PyNode)] {
        switch node.type {
        case "Assign":
            guard let value = node.child("value") else { return [] }
            return node.children("targets").compactMap { target in target.terminalName.map { ($0, value) } }
        case "AnnAssign":
            guard let value = node.child("value"), let target = node.child("target")?.terminalName else { return [] }
            return [(target, value)]
        case "keyword":
            guard let name = node.string("arg"), let value = node.child("value") else { return [] }
            return [(name, value)]
        default:
            return []
        }
    }

    /// The setting `expression` reads: an environment read with a text default, or an identifier bound
    /// to one, through `str(...)` and the text methods that keep a mode's identity.
    static func read(_ expression: PyNode, aliases: ImportAliases, settings: [String: Setting]) -> Setting? {
        var node = expression
        var methods: [String] = []
        while node.type == "Call" {
            let arguments = node.children("args")
            if let callee = node.child("func"), callee.type == "Attribute", let method = callee.string("attr"),
               textMethods.contains(method), arguments.isEmpty, let receiver = callee.child("value") {
                methods.append(method)
                node = receiver
            } else if node.child("func")?.dottedName == "str", arguments.count == 1 {
                node = arguments[0]
            } else {
                break
            }
        }
        var setting: Setting?
        if node.type == "Call", let callee = aliases.resolve(node.child("func")),
           callee == "os.environ.get" || callee == "os.getenv" {
            let arguments = node.children("args")
            guard arguments.count >= 2, let variable = arguments[0].stringLiteral, let text = arguments[1].stringLiteral else { return nil }
            setting = Setting(variable: variable, defaultText: text)
        } else if node.type == "Name" || node.type == "Attribute", let name = node.terminalName {
            setting = settings[name]
        }
        guard var result = setting else { return nil }
        for method in methods.reversed() {
            switch method {
            case "lower", "casefold": result.defaultText = result.defaultText.lowercased()
            case "upper": result.defaultText = result.defaultText.uppercased()
            default: result.defaultText = result.defaultText.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return result
    }

    private static let textMethods: Set<String> = ["strip", "lower", "upper", "casefold"]
}

extension SubmissionDocuments {
    /// The value `line` states for one of `names` (`ngram_mode: two_pass`, `NGRAM_MODE=two_pass`,
    /// quotes allowed), lowercased. A name counts only where no letter, digit, `_` or `.` precedes it.
    static func statedValue(in line: Substring, names: [String]) -> String? {
        let lower = line.lowercased()
        for name in names {
            var start = lower.startIndex
            while let range = lower.range(of: name.lowercased(), range: start..<lower.endIndex) {
                start = range.upperBound
                if range.lowerBound > lower.startIndex {
                    let before = lower[lower.index(before: range.lowerBound)]
                    if before.isLetter || before.isNumber || before == "_" || before == "." { continue }
                }
                var rest = lower[range.upperBound...].drop { $0 == " " || $0 == "\"" || $0 == "'" }
                guard let separator = rest.first, separator == ":" || separator == "=" else { continue }
                rest = rest.dropFirst().drop { $0 == " " || $0 == "\"" || $0 == "'" }
                let value = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
                if !value.isEmpty { return String(value) }
            }
        }
        return nil
    }

    /// The first log line stating one of `names` (``statedValue(in:names:)``), with its citation. Lines of
    /// 400 characters or more, lines that read the environment and the submission's own code lines
    /// printed into a log state nothing.
    func statedInLogs(_ names: [String]) -> (value: String, evidence: String)? {
        for log in logs {
            for (number, line) in log.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.count < 400 && !line.contains("environ") && !line.contains("getenv")
                && !codeLines.contains(line.trimmingCharacters(in: .whitespaces)) {
                if let value = Self.statedValue(in: line, names: names) {
                    return (value, "\(log.name):\(number + 1): `\(line.trimmingCharacters(in: .whitespaces))`")
                }
            }
        }
        return nil
    }

    /// The setting of the text-mode variable `variable` (default `defaultText`): stated in a log
    /// (`ngram_mode: two_pass`, `identifier=value`), then on a README line (`NGRAM_MODE=two_pass`).
    /// Its default stated is off; another mode stated is on.
    public func modeSetting(of variable: String, identifiers: [String], defaultText: String) -> FeatureSetting {
        let names = [variable] + identifiers
        func setting(_ value: String, _ citation: String) -> FeatureSetting {
            value == defaultText.lowercased() ? .off(evidence: citation) : .on(evidence: citation)
        }
        if let stated = statedInLogs(names) { return setting(stated.value, stated.evidence) }
        if let readme {
            for (number, line) in readme.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains(variable + "=") {
                if let value = Self.statedValue(in: line, names: names) {
                    return setting(value, "README.md:\(number + 1): `\(line.trimmingCharacters(in: .whitespaces))`")
                }
            }
        }
        return .codeDefault
    }
}
