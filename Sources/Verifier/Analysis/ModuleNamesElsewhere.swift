/// The names that other files of a folder may use to call a module's functions, so that
/// ``ScriptOnlyCode`` does not count a function another file calls as script-only.
///
/// A file names a function by an attribute (`helper.main`, whatever object it is read from), a
/// string (`getattr(helper, "main")`), an import of that name (`from helper import main`), or, after
/// a star import, any bare name. It reads modules by a computed name with `getattr(m, name)`,
/// `vars(m)`, `dir(m)`, `inspect.getmembers(m)` or `m.__dict__` on a module of the folder (a name
/// bound by importing or loading one), an entry of `sys.modules`, or a call's result: then any
/// function may be called.
struct ModuleNamesElsewhere {
    private var attributesAndStrings: Set<String> = []
    private var importedNames: Set<String> = []
    private var bareNames: Set<String> = []
    private var starImport = false
    private(set) var readsModulesByComputedName = false

    /// Calls whose result is a module object.
    static let moduleLoadingCalls: Set<String> = ["module_from_spec", "import_module", "__import__", "load_source", "load_module"]
    /// Calls that list or fetch a module's attributes.
    static let namespaceReaders: Set<String> = ["vars", "dir", "getmembers"]

    init(_ sources: [AnalyzedSource], references: ScriptReferences) {
        for source in sources {
            let modules = Self.moduleNames(in: source, references: references)
            for node in source.nodes {
                switch node.type {
                case "Name":
                    if let id = node.string("id") { bareNames.insert(id) }
                case "Attribute":
                    if let attr = node.string("attr") { attributesAndStrings.insert(attr) }
                    if node.string("attr") == "__dict__", Self.mayBeModule(node.child("value"), modules: modules) {
                        readsModulesByComputedName = true
                    }
                case "Constant":
                    if let text = node.stringLiteral, text.utf8.count < 256 { attributesAndStrings.insert(text) }
                case "ImportFrom":
                    for alias in node.children("names") {
                        guard let name = alias.string("name") else { continue }
                        if name == "*" { starImport = true } else { importedNames.insert(name) }
                    }
                case "Call":
                    guard let callee = node.child("func")?.terminalName else { continue }
                    let arguments = node.children("args")
                    let computed = callee == "getattr" && arguments.count >= 2 && arguments[1].stringLiteral == nil
                    if computed || Self.namespaceReaders.contains(callee),
                       Self.mayBeModule(arguments.first, modules: modules) {
                        readsModulesByComputedName = true
                    }
                default:
                    continue
                }
            }
        }
    }

    /// Whether another file may call a function named `name`.
    func contains(_ name: String) -> Bool {
        attributesAndStrings.contains(name) || importedNames.contains(name) || (starImport && bareNames.contains(name))
    }

    /// A name bound to a folder module, an entry of `sys.modules` or any call's result.
    static func mayBeModule(_ node: PyNode?, modules: Set<String>) -> Bool {
        guard let node else { return false }
        switch node.type {
        case "Name": return modules.contains(node.string("id") ?? "")
        case "Subscript", "Call": return true
        default: return false
        }
    }

    /// The names `source` binds to modules of the folder: imports that resolve to its files, and
    /// assignments from a module-loading call.
    static func moduleNames(in source: AnalyzedSource, references: ScriptReferences) -> Set<String> {
        var names: Set<String> = []
        for node in source.nodes {
            switch node.type {
            case "Import":
                for alias in node.children("names") {
                    guard let module = alias.string("name"), !references.moduleFiles(module).isEmpty else { continue }
                    names.insert(alias.string("asname") ?? String(module.split(separator: ".").first ?? ""))
                }
            case "ImportFrom":
                let module = node.string("module") ?? ""
                for alias in node.children("names") {
                    guard let name = alias.string("name") else { continue }
                    let qualified = module.isEmpty ? name : module + "." + name
                    if !references.moduleFiles(qualified).isEmpty { names.insert(alias.string("asname") ?? name) }
                }
            case "Assign":
                guard let callee = node.child("value")?.terminalName, node.child("value")?.type == "Call",
                      moduleLoadingCalls.contains(callee) else { continue }
                for target in node.children("targets") { if let id = target.string("id") { names.insert(id) } }
            default:
                continue
            }
        }
        return names
    }
}
