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
