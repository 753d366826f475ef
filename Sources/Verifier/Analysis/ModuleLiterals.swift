/// Byte strings a module spells out with literals, so that a wrapper whose payload is split
/// across statements (`_b = "..."`, `exec(L.decompress(B.b85decode(_b.replace(b"\n", b""))))`,
/// `"".join(_DATA)`) decodes like one written inline.
public struct ModuleLiterals: Sendable {
    /// Module-level names assigned exactly once, to the expression they are bound to.
    private var bindings: [String: PyNode] = [:]

    public init() {}

    public init(module: PyNode) {
        var counts: [String: Int] = [:]
        var values: [String: PyNode] = [:]
        for statement in module.children("body") {
            let targets: [PyNode]
            switch statement.type {
            case "Assign": targets = statement.children("targets")
            case "AnnAssign", "AugAssign": targets = [statement.child("target")].compactMap { $0 }
            default: continue
            }
            for target in targets where target.type == "Name" {
                guard let name = target.string("id") else { continue }
                counts[name, default: 0] += 1
                if statement.type == "AugAssign" { counts[name, default: 0] += 1 }
                if let value = statement.child("value") { values[name] = value }
            }
        }
        for (name, value) in values where counts[name] == 1 { bindings[name] = value }
    }

    /// The expression a module-level name assigned once is bound to.
    public func binding(of name: PyNode) -> PyNode? {
        name.string("id").flatMap { bindings[$0] }
    }

    /// The bytes of a string/bytes literal, implicit concatenations, `+` of literals,
    /// `"...".encode()`, a name bound once to one of these, `x.replace(a, b)` with literal
    /// `a` and `b`, and `sep.join([...])` over literals.
    public func bytes(of node: PyNode, depth: Int = 0) -> [UInt8]? {
        guard depth < 16 else { return nil }
        switch node.type {
        case "Constant":
            switch node.constant {
            case .string(let text)?: return Array(text.utf8)
            case .bytes(let bytes)?: return bytes
            default: return nil
            }
        case "Name":
            guard let name = node.string("id"), let value = bindings[name] else { return nil }
            return bytes(of: value, depth: depth + 1)
        case "BinOp":
            guard node.child("op")?.type == "Add", let left = node.child("left").flatMap({ bytes(of: $0, depth: depth + 1) }),
                  let right = node.child("right").flatMap({ bytes(of: $0, depth: depth + 1) }) else { return nil }
            return left + right
        case "Call":
            guard let function = node.child("func"), function.type == "Attribute",
                  let receiver = function.child("value") else { return nil }
            let arguments = node.children("args")
            switch function.string("attr") {
            case "encode":
                return bytes(of: receiver, depth: depth + 1)
            case "replace":
                guard arguments.count == 2, let text = bytes(of: receiver, depth: depth + 1),
                      let old = bytes(of: arguments[0], depth: depth + 1), !old.isEmpty,
                      let new = bytes(of: arguments[1], depth: depth + 1) else { return nil }
                return Self.replacing(old, with: new, in: text)
            case "join":
                guard arguments.count == 1, let separator = bytes(of: receiver, depth: depth + 1) else { return nil }
                var list = arguments[0]
                if list.type == "Name", let name = list.string("id"), let bound = bindings[name] { list = bound }
                // Joining a string iterates its characters: with an empty separator, the string itself.
                if separator.isEmpty, list.type != "List", list.type != "Tuple" { return bytes(of: list, depth: depth + 1) }
                guard ["List", "Tuple"].contains(list.type) else { return nil }
                var output: [UInt8] = []
                for (position, element) in list.children("elts").enumerated() {
                    guard let part = bytes(of: element, depth: depth + 1) else { return nil }
                    if position > 0 { output += separator }
                    output += part
                }
                return output
            default:
                return nil
            }
        default:
            return nil
        }
    }

    private static func replacing(_ old: [UInt8], with new: [UInt8], in text: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if index + old.count <= text.count, text[index..<(index + old.count)].elementsEqual(old) {
                output += new
                index += old.count
            } else {
                output.append(text[index])
                index += 1
            }
        }
        return output
    }
}
