import Foundation

/// Which Python files of a submission folder its run executes, so that a finding in a file the
/// run never starts is not judged as the run's.
///
/// The run starts at its entry scripts: the submission's script (`train_gpt.py`, or the only
/// `train*.py`) of the folder and of every subfolder with its own `submission.json`; the `.py`
/// files that the README's or submission.json's run commands name (`torchrun …/train_gdn_7k.py`,
/// `python -m pkg.eval`, `python -m pytest tests/` for the test files pytest collects there); and
/// those that any shell script of the folder names. From a reached file the run reaches what it
/// imports (`import m`, `from . import m`, `importlib.import_module("m")`, resolved to the folder's
/// files wherever they lie) and, when the file launches code (`subprocess`, `os.system`, `os.exec*`,
/// `runpy`, `exec`, `compile`, importlib's file loaders), every folder file that one of its strings
/// names. A file nothing reaches is not the run; a file read as data (`Path("fixture.py").read_text()`
/// in a module that launches nothing) is not started.
///
/// Where this cannot be told there is no reachability and every file is judged: no entry script
/// found; a command or a launching module naming a script by a pattern (`*.py`, `f"{name}.py"`); an
/// `importlib.import_module` of a computed name; code the analysis could not read in a reached file
/// (it may start anything).
///
/// A file the run reaches only by import (an import statement, `importlib.import_module`, or
/// importlib's file loaders under a literal module name other than `"__main__"`), never as an entry
/// script nor by a launch that may run it as `__main__` (a process, `exec`, `runpy` whose program is
/// computed, or literal text naming it: `subprocess.run(["nvidia-smi"])` runs no folder file), does not run its
/// script-only code (``ScriptOnlyCode``): the body of `if __name__ == "__main__":` and the functions
/// only that body reaches, unless another file of the folder names them or reads the module's
/// namespace by a computed name.
public struct RunReachability: Sendable {
    /// The entry scripts, relative to the folder, sorted.
    public let entries: [String]
    /// Every reached `.py` file, relative to the folder.
    public let reached: Set<String>
    /// The folder's `.py` files, relative to it.
    public let pythonFiles: Set<String>
    /// The folder path with one trailing `/`, as the sources' paths start.
    let prefix: String
    /// The script-only code of each reached file that the run only imports, relative to the folder.
    let scriptOnly: [String: ScriptOnlyCode]

    /// At most this many entries of the folder are listed, and each README, submission.json and
    /// shell script is read up to `maximumTextBytes`.
    static let maximumListedEntries = 20_000
    static let maximumTextBytes = 1 << 20

    /// The reachability of `sources`, the modules of the `.py` files found in `folder`; nil when
    /// the entry scripts or what they start cannot be told.
    public init?(folder: String, sources: [AnalyzedSource]) {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        var byFile: [String: [AnalyzedSource]] = [:]
        for source in sources where source.file.hasPrefix(prefix) && source.file.hasSuffix(".py") {
            byFile[String(source.file.dropFirst(prefix.count)), default: []].append(source)
        }
        guard !byFile.isEmpty else { return nil }
        let references = ScriptReferences(pythonFiles: byFile.keys.sorted())
        guard let entries = Self.entries(folder: folder, references: references) else { return nil }
        var reached = entries
        var runAsScript = entries
        var pending = Array(entries)
        while let file = pending.popLast() {
            for source in byFile[file] ?? [] {
                guard let started = Self.started(by: source, file: file, references: references) else { return nil }
                runAsScript.formUnion(started.asScript)
                for next in started.all where reached.insert(next).inserted { pending.append(next) }
            }
        }
        self.entries = entries.sorted()
        self.reached = reached
        self.pythonFiles = Set(byFile.keys)
        self.prefix = prefix
        self.scriptOnly = Self.scriptOnlyCode(importedOnly: reached.subtracting(runAsScript), byFile: byFile, references: references)
    }

    /// The script-only code of each file in `importedOnly` read whole (no wrapper, no unread code).
    static func scriptOnlyCode(importedOnly: Set<String>, byFile: [String: [AnalyzedSource]],
                               references: ScriptReferences) -> [String: ScriptOnlyCode] {
        var result: [String: ScriptOnlyCode] = [:]
        for file in importedOnly {
            guard let sources = byFile[file], sources.count == 1, let source = sources.first, source.wrapper == nil,
                  source.wrappers.isEmpty, source.opaqueCode.isEmpty,
                  source.tree.children("body").contains(where: { $0.type == "If" && ScriptOnlyCode.testsRunAsScript($0.child("test")) })
            else { continue }
            let others = byFile.filter { $0.key != file }.values.flatMap { $0 }
            let names = ModuleNamesElsewhere(others, references: references)
            guard !names.readsModulesByComputedName else { continue }
            let code = ScriptOnlyCode(module: source.tree, namedElsewhere: names.contains)
            if !code.regions.isEmpty { result[file] = code }
        }
        return result
    }

    /// Whether `file` (a path as the sources give it) is a `.py` file of the folder that the run
    /// does not reach.
    public func isUnreached(_ file: String) -> Bool {
        guard file.hasPrefix(prefix) else { return false }
        let relative = String(file.dropFirst(prefix.count))
        return pythonFiles.contains(relative) && !reached.contains(relative)
    }

    /// `findings` with every error in a file the run does not reach lowered to a warning that says
    /// so. PG-UNREAD-CODE is kept as it is: code nobody read stays reported wherever it lies.
    public func judge(_ findings: [Finding]) -> [Finding] {
        findings.map { finding in
            guard finding.severity == .error, finding.rule != UnreadCode.descriptor.id, finding.file.hasPrefix(prefix) else {
                return finding
            }
            let relative = String(finding.file.dropFirst(prefix.count))
            let scripts = entries.count == 1 ? "script" : "scripts"
            var lowered = finding
            lowered.severity = .warning
            if isUnreached(finding.file) {
                lowered.message += "; not an error of the submitted run: \(relative) is not reached "
                    + "from its entry \(scripts) (\(entries.joined(separator: ", "))) by a run command, an import or a launch"
                return lowered
            }
            if let region = scriptOnly[relative]?.region(containing: finding.line) {
                lowered.message += "; not an error of the submitted run: the run only imports \(relative) (entry \(scripts): "
                    + "\(entries.joined(separator: ", "))), and line \(finding.line) runs only when that file is run as a script: "
                    + "it lies in \(region.construct)"
                return lowered
            }
            return finding
        }
    }

    // MARK: - Entry scripts

    /// The entry scripts; nil when there is none or a command names scripts by a pattern.
    static func entries(folder: String, references: ScriptReferences) -> Set<String>? {
        let listing = listFolder(folder)
        var entries: Set<String> = []
        // The folder and each subfolder with its own submission.json are submissions.
        var submissionFolders: Set<String> = [""]
        for file in listing where (file as NSString).lastPathComponent == "submission.json" {
            submissionFolders.insert((file as NSString).deletingLastPathComponent)
        }
        for submission in submissionFolders {
            if let script = defaultScript(in: submission, files: references.pythonFiles) { entries.insert(script) }
        }
        var pattern = false
        for file in listing {
            let directory = (file as NSString).deletingLastPathComponent
            let name = (file as NSString).lastPathComponent.lowercased()
            let isDocument = (name == "readme.md" || name == "submission.json") && submissionFolders.contains(directory)
            let isShellScript = name.hasSuffix(".sh") || name.hasSuffix(".bash")
            guard isDocument || isShellScript, let text = readText((folder as NSString).appendingPathComponent(file)) else { continue }
            let found = references.commandTargets(text, allLines: isShellScript)
            entries.formUnion(found.files)
            pattern = pattern || found.pattern
        }
        return pattern || entries.isEmpty ? nil : entries
    }

    /// `train_gpt.py` of `directory`, or its only `train*.py` (as the size check picks the script).
    static func defaultScript(in directory: String, files: [String]) -> String? {
        let here = files.filter { ($0 as NSString).deletingLastPathComponent == directory }
        let named = { (name: String) in directory.isEmpty ? name : directory + "/" + name }
        if here.contains(named("train_gpt.py")) { return named("train_gpt.py") }
        let scripts = here.filter { ($0 as NSString).lastPathComponent.hasPrefix("train") }
        return scripts.count == 1 ? scripts[0] : nil
    }

    /// The folder's files, relative to it, without those behind links that lead out of it.
    static func listFolder(_ folder: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        let root = FolderContainment.resolved(folder) ?? folder
        var files: [String] = []
        var seen = 0
        while let relative = enumerator.nextObject() as? String, seen < maximumListedEntries {
            seen += 1
            let path = (folder as NSString).appendingPathComponent(relative)
            if FolderContainment.linkTarget(path) != nil, !FolderContainment.resolvesInside(path, root: root) { continue }
            files.append(relative)
        }
        return files.sorted()
    }

    static func readText(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maximumTextBytes) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - What a file starts

    /// Callees that run other code: processes, `exec`/`compile` of text, runpy and importlib's loaders.
    static let launchers: Set<String> = [
        "os.system", "os.popen", "os.execv", "os.execve", "os.execvp", "os.execvpe", "os.execl", "os.execle",
        "os.execlp", "os.execlpe", "os.spawnv", "os.spawnve", "os.spawnvp", "os.spawnl", "os.spawnlp",
        "os.posix_spawn", "os.posix_spawnp", "runpy.run_path", "runpy.run_module", "exec", "execfile", "compile",
        "importlib.util.spec_from_file_location", "importlib.machinery.SourceFileLoader", "imp.load_source",
        "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
    ]

    /// What a file starts: every folder file, and those of them it may run as `__main__`.
    struct Started {
        var all: Set<String> = []
        var asScript: Set<String> = []
    }

    /// Importlib's loaders of a file as a module under the name in their first argument.
    static let moduleLoaders: Set<String> = [
        "importlib.util.spec_from_file_location", "importlib.machinery.SourceFileLoader", "imp.load_source",
    ]

    /// The folder files `source` starts; nil when that cannot be told.
    static func started(by source: AnalyzedSource, file: String, references: ScriptReferences) -> Started? {
        let aliases = source.analysis.index.aliases
        let directory = (file as NSString).deletingLastPathComponent
        var started: Set<String> = []
        var asScript: Set<String> = []
        // Code that was not read may start anything, unless it is a named file of the folder.
        for opaque in source.opaqueCode {
            let named = opaque.readsFile ? opaque.literals.flatMap { references.files(namedBy: $0) } : []
            guard !named.isEmpty else { return nil }
            started.formUnion(named)
            asScript.formUnion(named)
        }
        var launches = false
        // Whether a launch may run any named file as `__main__`: one whose program is not literal
        // text (a loader under a literal module name imports instead); a literal program runs the
        // files it names.
        var launchesAsScript = false
        var literalPrograms: [String] = []
        var literals: [String] = []
        for node in source.nodes {
            switch node.type {
            case "Import":
                for alias in node.children("names") {
                    guard let name = alias.string("name") else { continue }
                    started.formUnion(packages(of: name).flatMap { references.moduleFiles($0) })
                }
            case "ImportFrom":
                let module = node.string("module") ?? ""
                let names = node.children("names").compactMap { $0.string("name") }.filter { $0 != "*" }
                let level: Int
                if case .int(let value) = node[field: "level"] { level = value } else { level = 0 }
                if level > 0 {
                    var base = directory
                    for _ in 1..<level { base = (base as NSString).deletingLastPathComponent }
                    let modules = module.isEmpty ? names : [module] + names.map { module + "." + $0 }
                    for name in modules { started.formUnion(packages(of: name).flatMap { references.moduleFiles($0, base: base) }) }
                } else {
                    for name in packages(of: module) + names.map({ module + "." + $0 }) {
                        started.formUnion(references.moduleFiles(name))
                    }
                }
            case "Call":
                let callee = aliases.resolve(node.child("func")) ?? node.terminalName ?? ""
                if callee == "importlib.import_module" || callee == "__import__" || callee == "import_module" {
                    guard let name = node.children("args").first?.stringLiteral else { return nil }
                    started.formUnion(packages(of: name).flatMap { references.moduleFiles($0) })
                } else if callee.hasPrefix("subprocess.") || launchers.contains(callee) {
                    launches = true
                    if moduleLoaders.contains(callee), loadsUnderModuleName(node) {
                        continue
                    } else if let program = literalProgram(node) {
                        literalPrograms += program
                    } else {
                        launchesAsScript = true
                    }
                }
            case "Constant":
                if let text = node.stringLiteral, text.utf8.count < 4096 { literals.append(text) }
            default:
                continue
            }
        }
        guard launches else { return Started(all: started, asScript: asScript) }
        var launched: Set<String> = []
        for text in literals {
            let named = references.targets(ofCommand: text)
            if named.pattern { return nil }
            launched.formUnion(named.files)
            launched.formUnion(references.moduleFiles(text))
        }
        if launchesAsScript {
            asScript.formUnion(launched)
        } else {
            for text in literalPrograms {
                asScript.formUnion(references.targets(ofCommand: text).files)
                asScript.formUnion(references.moduleFiles(text))
            }
        }
        return Started(all: started.union(launched), asScript: asScript)
    }

    /// The literal text of a launch's program (its first argument, or `args=`/`cmd=`/`command=`):
    /// a string, or a list or tuple of strings; nil when any part is computed.
    static func literalProgram(_ call: PyNode) -> [String]? {
        let program = call.children("args").first
            ?? call.children("keywords").first { ["args", "cmd", "command"].contains($0.string("arg") ?? "") }?.child("value")
        guard let program else { return nil }
        if let text = program.stringLiteral { return [text] }
        guard program.type == "List" || program.type == "Tuple" else { return nil }
        let parts = program.children("elts").map(\.stringLiteral)
        return parts.contains(nil) ? nil : parts.compactMap { $0 }
    }

    /// A loader call whose module name (first argument, or `name=`/`fullname=`) is a literal other than `"__main__"`.
    static func loadsUnderModuleName(_ call: PyNode) -> Bool {
        let name = call.children("args").first
            ?? call.children("keywords").first { ["name", "fullname"].contains($0.string("arg") ?? "") }?.child("value")
        guard let literal = name?.stringLiteral else { return false }
        return literal != "__main__"
    }

    /// `a`, `a.b`, `a.b.c` for `a.b.c`: importing a module runs its packages' `__init__.py` too.
    static func packages(of module: String) -> [String] {
        let parts = module.split(separator: ".")
        return parts.indices.map { parts[...$0].joined(separator: ".") }
    }
}
