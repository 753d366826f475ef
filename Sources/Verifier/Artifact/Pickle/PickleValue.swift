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
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A pickled dict (plain or `OrderedDict`): insertion-ordered, a reference for the same reason as
/// ``PickleList``. Lookups by string key, which is all torch.save's state dicts use.
public final class PickleDict: @unchecked Sendable {
    public internal(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]

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
