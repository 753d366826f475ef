/// One node of a Python syntax tree as CPython's `ast` module produced it.
///
/// The tree is generic rather than one Swift type per Python node: the analysis only needs a few
/// dozen node types, and a generic node survives new Python versions adding fields. Fields keep
/// CPython's names (`func`, `args`, `body`, `id`, `attr`...), so `ast` documentation applies as is.
public final class PyNode: Sendable {
    /// CPython's class name of the node: `Call`, `Name`, `FunctionDef`, `BitXor`...
    public let type: String
    /// 1-based line of the node's first character, 0 for nodes without a position (operators).
    public let line: Int
    /// 1-based line of the node's last character, `line` when unknown.
    public let endLine: Int
    let layout: PyNodeLayout
    let values: [PyValue]

    init(type: String, line: Int, endLine: Int, layout: PyNodeLayout, values: [PyValue]) {
        self.type = type
        self.line = line
        self.endLine = max(endLine, line)
        self.layout = layout
        self.values = values
    }

    /// The stored value of field `name`, nil when the node has no such field.
    private func value(_ name: String) -> PyValue? {
        // A node has at most a handful of fields: comparing names beats hashing the query.
        let names = layout.names
        for index in names.indices where names[index] == name {
            return index < values.count ? values[index] : nil
        }
        return nil
    }

    /// The value of the field `name`, `.none` when absent.
    public subscript(field name: String) -> PyField {
        value(name)?.field ?? .none
    }

    /// The child node in field `name` (`func` of a `Call`, `value` of an `Attribute`...).
    public func child(_ name: String) -> PyNode? {
        if case .node(let node)? = value(name) { return node }
        return nil
    }

    /// The nodes of list field `name` (`body`, `args`, `targets`...), skipping absent entries.
    public func children(_ name: String) -> [PyNode] {
        switch value(name) {
        case .nodes(let nodes)?: return nodes
        case .sparseNodes(let nodes)?: return nodes.compactMap { $0 }
        default: return []
        }
    }

    /// The identifier or string in field `name` (`id` of a `Name`, `attr` of an `Attribute`...).
    public func string(_ name: String) -> String? {
        if case .string(let value)? = value(name) { return value }
        return nil
    }

    /// The literal of a `Constant` node.
    public var constant: PyConstant? {
        if case .constant(let value)? = value("value") { return value }
        return nil
    }

    /// Every direct child node, in field order.
    public var childNodes: [PyNode] {
        var result: [PyNode] = []
        for value in values {
            switch value {
            case .node(let node): result.append(node)
            case .nodes(let nodes): result.append(contentsOf: nodes)
            case .sparseNodes(let nodes): result.append(contentsOf: nodes.compactMap { $0 })
            default: break
            }
        }
        return result
    }

    /// This node and all its descendants, depth first in source order.
    public func walk(_ visit: (PyNode) -> Void) {
        visit(self)
        for value in values {
            switch value {
            case .node(let node): node.walk(visit)
            case .nodes(let nodes): for node in nodes { node.walk(visit) }
            case .sparseNodes(let nodes): for node in nodes { node?.walk(visit) }
            default: break
            }
        }
    }
}

/// How a ``PyNode`` stores a field: as ``PyField``, except that node lists without absent entries
/// (nearly all) are kept as `[PyNode]`, so ``PyNode/children(_:)`` returns them without copying.
enum PyValue: Sendable {
    case none
    case node(PyNode)
    case nodes([PyNode])
    case sparseNodes([PyNode?])
    case string(String)
    case strings([String])
    case int(Int)
    case constant(PyConstant)

    var field: PyField {
        switch self {
        case .none: .none
        case .node(let node): .node(node)
        case .nodes(let nodes): .list(nodes)
        case .sparseNodes(let nodes): .list(nodes)
        case .string(let text): .string(text)
        case .strings(let texts): .strings(texts)
        case .int(let number): .int(number)
        case .constant(let literal): .constant(literal)
        }
    }
}

/// A field of a ``PyNode``.
public enum PyField: Sendable {
    case none
    case node(PyNode)
    case list([PyNode?])
    case string(String)
    case strings([String])
    case int(Int)
    case constant(PyConstant)
}

/// A Python literal (`Constant.value`).
public enum PyConstant: Sendable, Equatable {
    case none
    case bool(Bool)
    /// Integers as their decimal text: Python integers are unbounded.
    case int(String)
    case float(Double)
    case string(String)
    /// `bytes` literals, one Character per byte (Latin-1), as the front-end sends them.
    case bytes([UInt8])
    /// `Ellipsis`, complex numbers: kept as their `repr`.
    case other(String)

    /// The value as an integer when it is one that fits.
    public var intValue: Int? {
        switch self {
        case .int(let text): return Int(text)
        case .bool(let flag): return flag ? 1 : 0
        default: return nil
        }
    }
}

/// Field names of one node type, shared by all nodes of that type.
final class PyNodeLayout: Sendable {
    let names: [String]
    init(names: [String]) {
        self.names = names
    }
}

extension PyNode {
    /// The dotted name of a `Name`/`Attribute` chain: `torch.nn.functional.cross_entropy`,
    /// `self.model`; nil when the chain starts with anything else (a call, a subscript).
    public var dottedName: String? {
        switch type {
        case "Name": return string("id")
        case "Attribute":
            guard let attr = string("attr") else { return nil }
            guard let base = child("value")?.dottedName else { return nil }
            return base + "." + attr
        default: return nil
        }
    }

    /// The last component of the callee of a `Call` (`step` for `optimizer.step()`), or of a
    /// `Name`/`Attribute` itself.
    public var terminalName: String? {
        switch type {
        case "Name": return string("id")
        case "Attribute": return string("attr")
        case "Call": return child("func")?.terminalName
        default: return nil
        }
    }

    /// The string of a `Constant` holding `str`.
    public var stringLiteral: String? {
        if case .string(let text)? = constant { return text }
        return nil
    }
}
