import Reference

/// One axis of a tensor's shape while reading the code: a number, or a size only the input fixes
/// (`B`, `T`).
enum SymbolicDim: Hashable {
    case n(Int)
    case sym(String)

    var text: String {
        switch self {
        case .n(let value): return String(value)
        case .sym(let name): return name
        }
    }
}

/// A mutable Python list (`skips`), shared by every name bound to it.
final class SymbolicList {
    var items: [SymbolicValue]
    /// An `nn.ModuleList`: torch registers the modules it holds (a plain list it does not).
    let registersModules: Bool
    init(_ items: [SymbolicValue], registersModules: Bool = false) {
        self.items = items
        self.registersModules = registersModules
    }
}

/// An `nn.Module` built by reading its class's `__init__`: its attributes, and its place in the
/// state dict (`blocks.0.attn`).
final class ModuleInstance {
    /// The user class (`CausalSelfAttention`) or the torch module (`torch.nn.Linear`).
    let className: String
    var path: String = ""
    var attributes: [String: SymbolicValue] = [:]
    /// Attributes holding parameters (`nn.Parameter`, a Linear's `weight`): read as the parameter named by the path.
    var parameters: Set<String> = []

    init(className: String) { self.className = className }

    /// Gives this module and every module it holds their state-dict prefix. A module's place in what torch
    /// registers (attributes, `nn.ModuleList`s; the last of several places in one list, as loading a state dict
    /// leaves it) wins over a plain Python list that holds it too (a schedule repeating the blocks); a module
    /// only a plain list holds gets its place there.
    func setPath(_ path: String) {
        var placed = Set<ObjectIdentifier>(), visited = Set<ObjectIdentifier>()
        place(path, registeredOnly: true, &placed, &visited)
        visited = []
        place(path, registeredOnly: false, &placed, &visited)
    }

    private func place(_ path: String, registeredOnly: Bool, _ placed: inout Set<ObjectIdentifier>,
                       _ visited: inout Set<ObjectIdentifier>) {
        let id = ObjectIdentifier(self)
        if registeredOnly || !placed.contains(id) {
            self.path = path
            placed.insert(id)
        }
        guard visited.insert(id).inserted || registeredOnly else { return }
        for (name, value) in attributes { Self.place(value, Self.join(self.path, name), registeredOnly, &placed, &visited) }
    }

    /// Modules at `path`, in lists at `path.index`, nested lists (a ModuleList of ModuleLists) at `path.i.j`.
    private static func place(_ value: SymbolicValue, _ path: String, _ registeredOnly: Bool,
                              _ placed: inout Set<ObjectIdentifier>, _ visited: inout Set<ObjectIdentifier>) {
        switch value {
        case .module(let child): child.place(path, registeredOnly: registeredOnly, &placed, &visited)
        case .list(let list) where list.registersModules || !registeredOnly:
            for (index, item) in list.items.enumerated() { place(item, path + ".\(index)", registeredOnly, &placed, &visited) }
        default: break
        }
    }

    static func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
}

/// What an expression evaluates to when the code is read against the configuration pgverify runs.
indirect enum SymbolicValue {
    /// A node of the extracted graph and its shape when known.
    case tensor(Int, [SymbolicDim]?)
    case int(Int)
    case real(Double)
    case bool(Bool)
    case none
    case string(String)
    /// A size only the input fixes (`T`).
    case dim(String)
    case tuple([SymbolicValue])
    case list(SymbolicList)
    case module(ModuleInstance)
    /// A module-level `def`.
    case function(String)
    /// A class defined in the code.
    case classRef(String)
    /// A torch (or `math`) object by its dotted name: `torch.nn.functional.relu`, `math.sqrt`.
    case library(String)
    /// A Python builtin: `range`, `len`, `super`.
    case builtin(String)
    /// The `Hyperparameters` instance the model is built from (`args`).
    case hyperparameters
    /// A method bound to its receiver (`x.reshape`, `self.rotary`, `skips.append`).
    case method(SymbolicValue, String)
    case slice(SymbolicValue, SymbolicValue, SymbolicValue)
    case ellipsis
    /// Something without effect on the numbers (a dtype, a device), or not known; using it in
    /// arithmetic or as a tensor is an error that shows `description`.
    case opaque(String)

    var isNone: Bool { if case .none = self { return true } else { return false } }

    var kind: String {
        switch self {
        case .tensor: return "tensor"
        case .int, .real: return "number"
        case .bool: return "bool"
        case .none: return "None"
        case .string: return "string"
        case .dim(let name): return "size \(name)"
        case .tuple: return "tuple"
        case .list: return "list"
        case .module(let module): return "module \(module.className)"
        case .function(let name): return "function \(name)"
        case .classRef(let name): return "class \(name)"
        case .library(let name): return name
        case .builtin(let name): return name
        case .hyperparameters: return "Hyperparameters"
        case .method(_, let name): return "method \(name)"
        case .slice: return "slice"
        case .ellipsis: return "..."
        case .opaque(let text): return text
        }
    }
}
