/// A value built by ``PickleReader``: only plain data, tensors and storages — never an object of
/// arbitrary type, and never the result of calling anything outside the torch.save allow-list.
public indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An allow-listed global (a tensor rebuild function, a storage type, a dtype, `OrderedDict`).
    case global(module: String, name: String)
    /// A storage reached through a persistent id.
    case storage(StorageReference)
    /// A tensor view built by `torch._utils._rebuild_tensor_v2` and friends.
    case tensor(TensorReference)

    /// A short name of the value's kind, for error messages.
    public var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(let module, let name): "\(module).\(name)"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var intValue: Int? {
        switch self {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
    public var dictValue: PickleDict? { if case .dict(let d) = self { d } else { nil } }
    public var tensorValue: TensorReference? { if case .tensor(let t) = self { t } else { nil } }
    /// The nesting depth a list or dict keeps (`nil` for other values, whose depth the reader tracks).
    var containerDepth: Int? {
        switch self {
        case .list(let list): list.depth
        case .dict(let dict): dict.depth
        default: nil
        }
    }

    /// Records the depth of a list or dict; other values ignore it.
    func setContainerDepth(_ depth: Int) {
        switch self {
        case .list(let list): list.depth = depth
        case .dict(let dict): dict.depth = depth
        default: break
        }
    }

    /// Whether this list or dict is already held by another container.
    var isNested: Bool {
        switch self {
        case .list(let list): list.isNested
        case .dict(let dict): dict.isNested
        default: false
        }
    }

    /// Records that a container holds this list or dict, which may then no longer change.
    func markNested() {
        switch self {
        case .list(let list): list.isNested = true
        case .dict(let dict): dict.isNested = true
        default: break
        }
    }

    public var tupleValue: [PickleValue]? {
        switch self {
        case .tuple(let items): items
        case .list(let list): list.items
        default: nil
        }
    }
}

/// A pickled list: a reference, because pickle programs append to a list after memoizing it.
public final class PickleList: @unchecked Sendable {
    public internal(set) var items: [PickleValue] = []
    /// Nesting depth (1 + the deepest item's), kept by ``PickleReader`` as the list grows.
    var depth: Int
    /// Set once another container holds this list; the reader then refuses to change it.
    var isNested = false
    init(_ items: [PickleValue] = [], depth: Int = 1) {
        self.items = items
        self.depth = depth
    }
}

/// A pickled dict (plain or `OrderedDict`): insertion-ordered, a reference for the same reason as
/// ``PickleList``. Lookups by string key, which is all torch.save's state dicts use.
public final class PickleDict: @unchecked Sendable {
    public internal(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]
    /// Nesting depth (1 + the deepest key's or value's), kept by ``PickleReader`` as the dict grows.
    var depth = 1
    /// Set once another container holds this dict; the reader then refuses to change it.
    var isNested = false

    init() {}

    func set(_ key: PickleValue, _ value: PickleValue) {
        if let name = key.stringValue {
            if let index = stringIndex[name] { entries[index].value = value; return }
            stringIndex[name] = entries.count
        }
        entries.append((key, value))
    }

    /// The value stored under the string `key`.
    public subscript(key: String) -> PickleValue? {
        stringIndex[key].map { entries[$0].value }
    }

    /// String keys in insertion order (non-string keys are rendered by kind).
    public var keys: [String] { entries.map { $0.key.stringValue ?? "<\($0.key.kind)>" } }
}
