/// The names a module's imports bind: `import lzma as L` makes `L.decompress` mean
/// `lzma.decompress`; `from base64 import b85decode as d` makes `d` mean `base64.b85decode`.
public struct ImportAliases: Sendable {
    private var bindings: [String: String] = [:]

    /// Collects the imports anywhere in `module` (imports inside functions included: the
    /// analysis is not precise enough for their scope to matter).
    public init(module: PyNode) {
        module.walk { node in
            switch node.type {
            case "Import":
                for alias in node.children("names") {
                    guard let name = alias.string("name") else { continue }
                    if let asName = alias.string("asname") {
                        bindings[asName] = name
                    } else if let head = name.split(separator: ".").first {
                        bindings[String(head)] = String(head)
                    }
                }
            case "ImportFrom":
                guard let module = node.string("module") else { return }
                for alias in node.children("names") {
                    guard let name = alias.string("name"), name != "*" else { continue }
                    bindings[alias.string("asname") ?? name] = module + "." + name
                }
            default:
                break
            }
        }
        // A name bound to an environment reader (`_e = os.environ.get`) reads the environment
        // when called, like the reader itself.
        module.walk { node in
            guard node.type == "Assign", let value = node.child("value"), ["Attribute", "Name"].contains(value.type),
                  let reader = resolve(value), Self.environmentReaders.contains(reader) else { return }
            for target in node.children("targets") where target.type == "Name" {
                if let name = target.string("id"), bindings[name] == nil { bindings[name] = reader }
            }
        }
    }

    static let environmentReaders: Set<String> = ["os.environ.get", "os.getenv"]

    /// The dotted name of `node` with its first component replaced by what the import bound.
    public func resolve(_ node: PyNode?) -> String? {
        guard let dotted = node?.dottedName else { return nil }
        return resolve(dotted)
    }

    /// `dotted` with its first component replaced by what the import bound.
    public func resolve(_ dotted: String) -> String {
        let parts = dotted.split(separator: ".", maxSplits: 1)
        guard let head = parts.first, let bound = bindings[String(head)] else { return dotted }
        return parts.count > 1 ? bound + "." + parts[1] : bound
    }

    /// Whether some import brings in `module` (or a submodule of it).
    public func imports(_ module: String) -> Bool {
        bindings.values.contains { $0 == module || $0.hasPrefix(module + ".") }
    }
}
