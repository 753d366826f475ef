import Foundation

/// A setting whose default a test chooses between an on and an off literal
/// (`_ngram_default = "1" if world_size > 1 else "0"`, then
/// `os.environ.get("NGRAM_CACHE", _ngram_default)`): the feature is on by default only where the
/// test holds (here, launches with more than one process), so code behind it is gated by the
/// setting or by the test, and which one ran is a question for the evidence.
public struct ConditionalDefault: Sendable {
    /// The environment variable read with this default.
    public var variable: String
    /// The test of the choice (`world_size > 1`).
    public var test: PyNode
    /// Whether the on literal is the one chosen when the test holds.
    public var onWhenTestHolds: Bool

    /// The test as written, for simple comparisons of a name with a number (`world_size > 1`).
    public var testText: String {
        guard let comparison = Comparison(test) else { return "the test at line \(test.line)" }
        return "\(comparison.name) \(comparison.symbol) \(comparison.boundText)"
    }

    /// Names every binding of which is a choice between an on and an off literal, with that choice.
    static func choiceNames(_ assignments: [(targets: [String], value: PyNode)]) -> [String: PyNode] {
        var names: [String: PyNode] = [:]
        var opaque: Set<String> = []
        for assignment in assignments {
            for target in assignment.targets {
                if isChoice(assignment.value) { names[target] = names[target] ?? assignment.value } else { opaque.insert(target) }
            }
        }
        for name in opaque { names[name] = nil }
        return names
    }

    /// `"1" if test else "0"` (either order): one arm an off literal, the other a literal that is not.
    private static func isChoice(_ node: PyNode) -> Bool {
        onWhenTestHolds(node) != nil
    }

    private static func onWhenTestHolds(_ node: PyNode) -> Bool? {
        guard node.type == "IfExp", let body = node.child("body"), let otherwise = node.child("orelse"),
              let whenTrue = EnvironmentDefault.literalText(body),
              let whenFalse = EnvironmentDefault.literalText(otherwise) else { return nil }
        let trueIsOff = FeatureFlags.offDefaults.contains(whenTrue), falseIsOff = FeatureFlags.offDefaults.contains(whenFalse)
        guard trueIsOff != falseIsOff else { return nil }
        return falseIsOff
    }

    /// The environment read in `expression` whose default is such a choice, written inline or
    /// through a name in `choices`.
    static func find(in expression: PyNode, aliases: ImportAliases, choices: [String: PyNode]) -> ConditionalDefault? {
        var found: ConditionalDefault?
        expression.walk { node in
            guard found == nil, node.type == "Call", let callee = aliases.resolve(node.child("func")),
                  callee == "os.environ.get" || callee == "os.getenv" else { return }
            let arguments = node.children("args")
            guard arguments.count >= 2, let name = arguments[0].stringLiteral else { return }
            var choice = arguments[1]
            if choice.type == "Name", let id = choice.string("id"), let bound = choices[id] { choice = bound }
            guard let onWhenTrue = onWhenTestHolds(choice), let test = choice.child("test") else { return }
            found = ConditionalDefault(variable: name, test: test, onWhenTestHolds: onWhenTrue)
        }
        return found
    }

    /// The setting the evidence resolves the test to: the compared name's value stated in a log,
    /// README command or submission.json (`world_size:1`), or, for the launcher's process count
    /// (`WORLD_SIZE`), the `--nproc_per_node=N` of the README's and shell scripts' launch commands
    /// when they all agree on one node. Nil when nothing states it.
    func setting(in documents: SubmissionDocuments, folder: String) -> FeatureSetting? {
        guard let comparison = Comparison(test) else { return nil }
        var stated = documents.statedCount(of: comparison.name.uppercased(), identifier: comparison.name)
        if stated == nil, comparison.name.uppercased() == "WORLD_SIZE" {
            stated = Self.launchedProcesses(documents: documents, folder: folder)
        }
        guard let stated else { return nil }
        let holds = comparison.holds(for: Double(stated.value))
        let defaultsOn = holds == onWhenTestHolds
        let evidence = "\(stated.evidence) makes `\(testText)` \(holds ? "true" : "false"), so \(variable) defaults " +
            (defaultsOn ? "on" : "off")
        return defaultsOn ? .on(evidence: evidence) : .off(evidence: evidence)
    }

    /// The processes per node every launch command in the README and the shell scripts starts,
    /// when there is at least one, they agree, and none names several nodes.
    static func launchedProcesses(documents: SubmissionDocuments, folder: String) -> (value: Int, evidence: String)? {
        let texts = (documents.readme.map { [SubmissionDocuments.NamedText(name: "README.md", text: $0)] } ?? [])
            + documents.shellScriptTexts(folder: folder)
        var launches: [(count: Int, evidence: String)] = []
        for (name, text) in texts.map({ ($0.name, $0.text) }) {
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = String(line)
                if let nodes = line.range(of: "nnodes") {
                    let count = line[nodes.upperBound...].drop { $0 == "=" || $0 == " " }.prefix { $0.isASCII && $0.isNumber }
                    if count != "1" { return nil }
                }
                if let count = RunHardware.processesPerNode(in: line) {
                    launches.append((count, "\(name):\(number + 1): `\(line.trimmingCharacters(in: .whitespaces))`"))
                }
            }
        }
        guard let first = launches.first, launches.allSatisfy({ $0.count == first.count }) else { return nil }
        return (first.count, first.evidence)
    }

    /// `name OP number` or `number OP name`, read as `name OP' number`.
    struct Comparison {
        var name: String
        var operation: String
        var bound: Double
        var boundText: String

        init?(_ test: PyNode) {
            guard test.type == "Compare", test.children("ops").count == 1, let operation = test.children("ops").first?.type,
                  let left = test.child("left"), let right = test.children("comparators").first else { return nil }
            let mirrored = ["Gt": "Lt", "Lt": "Gt", "GtE": "LtE", "LtE": "GtE", "Eq": "Eq", "NotEq": "NotEq"]
            let read: (name: String, operation: String, text: String)
            if let text = EnvironmentDefault.literalText(right), left.type != "Call", let name = left.terminalName {
                read = (name, operation, text)
            } else if let text = EnvironmentDefault.literalText(left), right.type != "Call", let name = right.terminalName,
                      let flipped = mirrored[operation] {
                read = (name, flipped, text)
            } else {
                return nil
            }
            guard let bound = Double(read.text), ["Gt", "Lt", "GtE", "LtE", "Eq", "NotEq"].contains(read.operation) else { return nil }
            name = read.name
            self.operation = read.operation
            self.bound = bound
            boundText = read.text
        }

        var symbol: String {
            ["Gt": ">", "Lt": "<", "GtE": ">=", "LtE": "<=", "Eq": "==", "NotEq": "!="][operation] ?? operation
        }

        func holds(for value: Double) -> Bool {
            switch operation {
            case "Gt": return value > bound
            case "Lt": return value < bound
            case "GtE": return value >= bound
            case "LtE": return value <= bound
            case "Eq": return value == bound
            default: return value != bound
            }
        }
    }
}
