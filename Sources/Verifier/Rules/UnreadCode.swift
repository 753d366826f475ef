import Foundation

/// PG-UNREAD-CODE — code the submission runs that the static analysis did not read.
///
/// ## What it flags
/// An `exec`/`exec(compile(...))` whose code is not a literal payload the analyzer decodes (code
/// read or built at run time, a compression it does not know), and an `eval` of a decoded or
/// decompressed value; native code the submission builds or loads (`ctypes`, `cffi`,
/// `torch.utils.cpp_extension.load`/`load_inline`, `torch.ops.load_library`, a `subprocess` or
/// `os.system` call running a compiler, `make` or a local binary); an import of a module that is
/// neither Python's standard library, nor a known third-party package, nor a file or package in
/// the folder (imports inside `try` with an `ImportError` handler, and the fallbacks such a handler
/// imports, are optional and not flagged);
/// and native sources or libraries in the folder (`.c`, `.cu`, `.cpp`, `.so`...), reported by
/// ``Linter`` once per folder, as is a `.py` symbolic link that leads out of the folder (never read through). An `exec` naming a `.py` file that is in the folder is read there.
/// Python run inline by the folder's shell scripts (``ShellEmbeddedPython``) is read as modules of
/// its own; a chunk that does not parse is flagged at its script's line.
///
/// ## Why
/// A clean static check on code nobody read is not a clean check: the audit's STATIC-FINDINGS is
/// incomplete, naming the file, whenever this rule fires.
///
/// ## Source
/// Project standard (never silently wrong); compliance guide §11 (bundled C kernels, PR #1514),
/// §14 (target-gated experts in `online_ngram_state.c`, PRs #1967/#2018) and §18 (wrapped code).
///
/// ## Legal example
/// Plain Python importing only `torch`, `numpy` and the folder's own modules.
///
/// ## Illegal example (warning; audit incomplete)
/// `exec(compile(open(path).read(), path, "exec"))` of a path computed at run time;
/// `lib = ctypes.CDLL("./ngram.so")`; `import my_helpers` with no `my_helpers.py` in the folder.
public enum UnreadCode: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-UNREAD-CODE", name: "unread-code", severity: .warning,
        summary: "Code the submission runs that static analysis did not read (undecodable exec, native code, missing modules).",
        source: "project standard; compliance guide §11, §14, §18")

    static let nativeLoaders: Set<String> = [
        "ctypes.CDLL", "ctypes.PyDLL", "ctypes.cdll.LoadLibrary", "ctypes.CDLL.LoadLibrary", "ctypes.pydll.LoadLibrary",
        "cffi.FFI", "torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline", "torch.ops.load_library",
        "cpp_extension.load", "cpp_extension.load_inline", "load_inline",
    ]
    static let buildCommands: Set<String> = ["gcc", "g++", "cc", "c++", "clang", "clang++", "nvcc", "make", "cmake", "cargo", "rustc"]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        let folder = URL(fileURLWithPath: source.file).deletingLastPathComponent()
        let aliases = source.analysis.index.aliases
        var findings: [Finding] = []
        for opaque in source.opaqueCode {
            // Only code read from a named file of the folder (`exec(open("x.py").read())`) was read here;
            // a name given to `compile` says nothing about where the code came from.
            let readHere = opaque.readsFile && opaque.literals.contains { name in
                name.hasSuffix(".py") && FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path)
            }
            if readHere { continue }
            findings.append(finding(source, line: opaque.line,
                "`\(opaque.construct)` runs code that could not be decoded statically; it was not analysed"))
        }
        let optionalImports = optionalImportLines(source.tree)
        for node in source.nodes {
            switch node.type {
            case "Call":
                guard let callee = aliases.resolve(node.child("func")) else { continue }
                if nativeLoaders.contains(callee) || callee.hasPrefix("ctypes.cdll.") || callee.hasSuffix("cpp_extension.load_inline") {
                    findings.append(finding(source, line: node.line,
                        "\(callee) builds or loads native code, which was not analysed"))
                } else if callee.hasPrefix("subprocess.") || callee == "os.system" || callee == "os.popen" {
                    var words: [String] = []
                    for argument in node.children("args") {
                        argument.walk { if let text = $0.stringLiteral { words.append(contentsOf: text.split(separator: " ").map(String.init)) } }
                    }
                    if let command = words.first(where: { buildCommands.contains(($0 as NSString).lastPathComponent) || $0.hasPrefix("./") }) {
                        findings.append(finding(source, line: node.line,
                            "\(callee) runs `\(command)`: code built or run outside Python was not analysed"))
                    }
                }
            case "Import", "ImportFrom":
                guard !optionalImports.contains(node.line) else { continue }
                for module in importedModules(node) where !isAvailable(module, relativeLevel: importLevel(node), folder: folder) {
                    findings.append(finding(source, line: node.line,
                        "imports `\(module)`, which is neither a known package nor a file in the submission's folder: its code was not analysed"))
                }
            default:
                continue
            }
        }
        return findings
    }

    private static func importLevel(_ node: PyNode) -> Int {
        if node.type == "ImportFrom", case .int(let level) = node[field: "level"] { return level }
        return 0
    }

    /// The modules an import statement loads: `import a.b` → `a.b`; `from .x import y` → `x`
    /// (with its level), `from . import y` → `y`.
    private static func importedModules(_ node: PyNode) -> [String] {
        if node.type == "Import" { return node.children("names").compactMap { $0.string("name") } }
        if let module = node.string("module") { return [module] }
        return node.children("names").compactMap { $0.string("name") }.filter { $0 != "*" }
    }

    private static func isAvailable(_ module: String, relativeLevel: Int, folder: URL) -> Bool {
        let parts = module.split(separator: ".").map(String.init)
        guard let head = parts.first else { return true }
        if relativeLevel == 0 && KnownModules.contains(head) { return true }
        var base = folder
        for _ in 0..<max(relativeLevel - 1, 0) { base = base.deletingLastPathComponent() }
        let manager = FileManager.default
        let file = base.appendingPathComponent(head + ".py").path
        let package = base.appendingPathComponent(head).path
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: file) { return true }
        if manager.fileExists(atPath: package, isDirectory: &isFolder), isFolder.boolValue { return true }
        // Native extension modules shipped beside the code (`mod.cpython-312-x86_64-linux-gnu.so`).
        let listing = (try? manager.contentsOfDirectory(atPath: base.path)) ?? []
        return listing.contains { $0.hasPrefix(head + ".") && ($0.hasSuffix(".so") || $0.hasSuffix(".pyd")) }
    }

    /// Lines of imports inside a `try` whose handlers catch `ImportError` (or everything).
    private static func optionalImportLines(_ tree: PyNode) -> Set<Int> {
        var lines: Set<Int> = []
        tree.walk { node in
            guard node.type == "Try" || node.type == "TryStar" else { return }
            let catchesImport = node.children("handlers").contains { handler in
                guard let type = handler.child("type") else { return true }
                var names: [String] = []
                type.walk { if let name = $0.dottedName { names.append(name) } }
                return names.contains { ["ImportError", "ModuleNotFoundError", "Exception", "BaseException"].contains($0) }
            }
            guard catchesImport else { return }
            // The body's imports are optional, and so are the fallbacks its handlers import.
            for statement in node.children("body") + node.children("handlers").flatMap({ $0.children("body") }) {
                statement.walk { if $0.type == "Import" || $0.type == "ImportFrom" { lines.insert($0.line) } }
            }
        }
        return lines
    }
}
