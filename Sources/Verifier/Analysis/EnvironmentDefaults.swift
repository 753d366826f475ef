/// The hyperparameters a module reads from the environment with a literal default:
/// `int(os.environ.get("SWA_EVERY", 50))`, `os.getenv("QAT", "0")`.
public struct EnvironmentDefault: Sendable, Equatable {
    public var name: String
    /// The default as written (`50`, `0.5`, `"1"` without quotes).
    public var value: String
    public var line: Int

    /// Every `os.environ.get`/`os.getenv` call with a literal name and a literal default.
    public static func find(in nodes: [PyNode], aliases: ImportAliases) -> [EnvironmentDefault] {
        var found: [EnvironmentDefault] = []
        for node in nodes where node.type == "Call" {
            guard let function = node.child("func"), let callee = aliases.resolve(function),
                  callee == "os.environ.get" || callee == "os.getenv" else { continue }
            let arguments = node.children("args")
            guard arguments.count >= 2, let name = arguments[0].stringLiteral,
                  let value = literalText(arguments[1]) else { continue }
            found.append(EnvironmentDefault(name: name, value: value, line: node.line))
        }
        return found
    }

    /// The settings read less directly: through a helper that reads the variable its caller names
    /// (`env_int("NUM_LAYERS", 9)` with `def env_int(name, default): return int(os.environ.get(name,
    /// default))`, or the helper's own parameter default), and reads whose default is a module-level
    /// name bound once to a literal (`os.environ.get("MODEL_DIM", DEFAULT_WIDTH)`).
    public static func findIndirect(in module: PyNode, nodes: [PyNode], aliases: ImportAliases) -> [EnvironmentDefault] {
        let constants = moduleConstants(module)
        func text(_ node: PyNode) -> String? {
            if node.type == "Name", let name = node.string("id") { return constants[name] }
            return literalText(node)
        }
        let readers = FeatureFlags.environmentReaders(in: module, aliases: aliases)
        var found: [EnvironmentDefault] = []
        for node in nodes where node.type == "Call" {
            guard let function = node.child("func") else { continue }
            let arguments = node.children("args")
            if let callee = aliases.resolve(function), callee == "os.environ.get" || callee == "os.getenv" {
                guard arguments.count >= 2, arguments[1].type == "Name", let name = arguments[0].stringLiteral,
                      let value = text(arguments[1]) else { continue }
                found.append(EnvironmentDefault(name: name, value: value, line: node.line))
            } else if function.type == "Name", let helper = function.string("id"), let reader = readers[helper],
                      reader.nameParameter < arguments.count, let name = arguments[reader.nameParameter].stringLiteral {
                var value = reader.defaultValue
                if let position = reader.defaultParameter, position < arguments.count { value = arguments[position] }
                guard let value, let text = text(value) else { continue }
                found.append(EnvironmentDefault(name: name, value: text, line: node.line))
            }
        }
        return found
    }

    /// Module-level names bound exactly once, to a literal (`DEFAULT_WIDTH = 512`).
    static func moduleConstants(_ module: PyNode) -> [String: String] {
        var values: [String: String] = [:]
        var repeated: Set<String> = []
        for statement in module.children("body") where statement.type == "Assign" || statement.type == "AnnAssign" {
            let targets = statement.type == "Assign" ? statement.children("targets") : [statement.child("target")].compactMap { $0 }
            for target in targets {
                guard target.type == "Name", let name = target.string("id") else { continue }
                if values[name] != nil || repeated.contains(name) { repeated.insert(name); values[name] = nil; continue }
                if targets.count == 1, let value = statement.child("value"), let text = literalText(value) { values[name] = text }
                else { repeated.insert(name) }
            }
        }
        return values
    }

    static func literalText(_ node: PyNode) -> String? {
        if node.type == "UnaryOp", node.child("op")?.type == "USub", let operand = node.child("operand"),
           let text = literalText(operand) {
            return "-" + text
        }
        switch node.constant {
        case .int(let text)?: return text
        case .float(let value)?: return String(value)
        case .string(let text)?: return text
        case .bool(let flag)?: return flag ? "True" : "False"
        default: return nil
        }
    }

    /// The default as a number, when it is one (`"0.5"` included).
    public var number: Double? { Double(value.replacingOccurrences(of: "_", with: "")) }
}
