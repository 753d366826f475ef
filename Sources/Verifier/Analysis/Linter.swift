import Foundation

/// Runs the static rules over Python files: collects them, parses them in one batch, decodes
/// self-extracting wrappers, analyses every module and returns the findings in report order.
public struct Linter: Sendable {
    public var parser: PythonParser
    public var rules: [any LintRule.Type]

    /// How many layers of self-extracting code are decoded (real submissions use one or two).
    static let wrapperDepth = 8

    public init(parser: PythonParser, rules: [any LintRule.Type] = LintRules.all) {
        self.parser = parser
        self.rules = rules
    }

    /// What `verify lint` reads from its paths: the `.py` files, and the `.py` links inside the
    /// folders that lead out of them (never read through, so reported as unread code).
    public struct Inputs: Sendable, Equatable {
        public var files: [String]
        public var linksOutside: [String]
    }

    /// The `.py` files named by `paths`: a file as is, a folder's `.py` files recursively,
    /// sorted by path.
    public static func collectFiles(_ paths: [String]) throws -> [String] {
        try collect(paths).files
    }

    /// The `.py` files named by `paths` (a file as is, a folder's `.py` files recursively, sorted
    /// by path) and each folder's `.py` links that resolve outside it or to nothing.
    public static func collect(_ paths: [String]) throws -> Inputs {
        var inputs = Inputs(files: [], linksOutside: [])
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw LintError.pathNotFound(path)
            }
            guard isFolder.boolValue else {
                inputs.files.append(path)
                continue
            }
            guard let enumerator = FileManager.default.enumerator(atPath: path) else {
                throw LintError.unreadable(file: path, reason: "folder cannot be listed")
            }
            var found: [String] = []
            var outside: [String] = []
            let root = FolderContainment.resolved(path) ?? path
            while let relative = enumerator.nextObject() as? String {
                let file = (path as NSString).appendingPathComponent(relative)
                // Links out of the folder are not the folder's code; never read through them.
                if FolderContainment.linkTarget(file) != nil, !FolderContainment.resolvesInside(file, root: root) {
                    if relative.hasSuffix(".py") { outside.append(file) }
                    continue
                }
                if relative.hasSuffix(".py") { found.append(file) }
            }
            if found.isEmpty && outside.isEmpty { throw LintError.noPythonFiles(path) }
            inputs.files.append(contentsOf: found.sorted())
            inputs.linksOutside.append(contentsOf: outside.sorted())
        }
        return inputs
    }

    /// PG-UNREAD-CODE for each `.py` link that leads out of its folder: code with the folder's
    /// name on it that the analysis did not read.
    public func linkFindings(_ links: [String]) -> [Finding] {
        guard rules.contains(where: { $0 == UnreadCode.self }) else { return [] }
        return links.map { link in
            let target = FolderContainment.linkTarget(link) ?? "?"
            return Finding(rule: UnreadCode.descriptor.id, severity: UnreadCode.descriptor.severity, file: link, line: 1,
                           message: "a symbolic link to \(target), outside the folder or to nothing; it was not read")
        }
    }

    /// Lints the files and folders in `paths`; one folder is judged as a submission (see
    /// ``check(_:submissionFolder:)``).
    public func lint(paths: [String]) throws -> [Finding] {
        let inputs = try Self.collect(paths)
        let sources = try analyze(files: inputs.files)
        return (check(sources, submissionFolder: Self.submissionFolder(paths)) + linkFindings(inputs.linksOutside))
            .sorted(by: Finding.reportOrder)
    }

    /// The folder `paths` name when they are exactly one folder: the submission whose run decides
    /// which files are judged as the run.
    public static func submissionFolder(_ paths: [String]) -> String? {
        guard paths.count == 1 else { return nil }
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: paths[0], isDirectory: &isFolder) && isFolder.boolValue ? paths[0] : nil
    }

    /// The findings of the rules on `sources`, the code of `submissionFolder` when given: errors in
    /// files its run does not reach (``RunReachability``) are warnings that say so. When the run's
    /// entry scripts cannot be told, every file is judged as the run.
    public func check(_ sources: [AnalyzedSource], submissionFolder: String?) -> [Finding] {
        let findings = check(sources)
        guard let submissionFolder, let reachability = RunReachability(folder: submissionFolder, sources: sources) else {
            return findings
        }
        return reachability.judge(findings)
    }

    /// Parses and analyses every file (and the code inside its wrappers), then applies the rules.
    public func lint(files: [String]) throws -> [Finding] {
        check(try analyze(files: files))
    }

    /// The findings of the rules on `sources`, checked concurrently, in report order.
    public func check(_ sources: [AnalyzedSource]) -> [Finding] {
        let slots = ResultSlots<[Finding]>(count: sources.count)
        DispatchQueue.concurrentPerform(iterations: sources.count) { position in
            slots.set(position, check(sources[position]))
        }
        return (slots.values.flatMap { $0 ?? [] } + nativeFileFindings(sources) + nativeGatedExpertFindings(sources))
            .sorted(by: Finding.reportOrder)
    }

    /// PG-UNREAD-CODE once per native source or library in the folders of `sources`.
    func nativeFileFindings(_ sources: [AnalyzedSource]) -> [Finding] {
        guard rules.contains(where: { $0 == UnreadCode.self }) else { return [] }
        var folders: Set<String> = []
        var paths: Set<String> = []
        var findings: [Finding] = []
        for source in sources where source.wrapper == nil {
            let folder = (source.file as NSString).deletingLastPathComponent
            guard folders.insert(folder).inserted else { continue }
            for name in source.documents.nativeFiles {
                // Reported as given; standardized only to tell repeats apart (standardizing can
                // resolve a symbolic link above the folder and change the reported path).
                let path = folder.isEmpty ? name : folder + "/" + name
                guard paths.insert((path as NSString).standardizingPath).inserted else { continue }
                findings.append(Finding(
                    rule: UnreadCode.descriptor.id, severity: UnreadCode.descriptor.severity,
                    file: path, line: 1,
                    message: (name as NSString).pathExtension.lowercased() == "ipynb"
                        ? "a Jupyter notebook in the submission's folder; its cells were not analysed"
                        : "native code (\((name as NSString).pathExtension)) in the submission's folder; only Python is analysed"))
            }
        }
        return findings
    }

    /// PG-TARGET-GATED-EXPERT in the C/C++/CUDA sources of the folders of `sources`.
    func nativeGatedExpertFindings(_ sources: [AnalyzedSource]) -> [Finding] {
        guard rules.contains(where: { $0 == TargetGatedExpert.self }) else { return [] }
        var folders: Set<String> = []
        var findings: [Finding] = []
        for source in sources where source.wrapper == nil {
            let folder = (source.file as NSString).deletingLastPathComponent
            guard folders.insert(folder).inserted else { continue }
            findings += TargetGatedExpert.nativeFindings(folder: folder, names: source.documents.nativeFiles)
        }
        // A source in a subfolder lists the same native files again.
        var seen: Set<String> = []
        return findings.filter { seen.insert("\($0.file):\($0.line)").inserted }
    }

    /// The findings of the rules on one analysed module.
    public func check(_ source: AnalyzedSource) -> [Finding] {
        rules.flatMap { $0.check(source) }
    }

    /// Every module to check: each file, then the decoded code of each wrapper.
    public func analyze(files: [String]) throws -> [AnalyzedSource] {
        for file in files where !FileManager.default.isReadableFile(atPath: file) {
            throw LintError.unreadable(file: file, reason: "permission denied or not a file")
        }
        let trees = try parser.parse(files.map { .file(path: $0) })
        var documents: [String: SubmissionDocuments] = [:]
        for file in files {
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            if documents[folder.path] == nil { documents[folder.path] = SubmissionDocuments.load(folder: folder) }
        }
        var pending: [(file: String, tree: PyNode, wrapper: SelfExtractingWrapper?)] =
            zip(files, trees).map { ($0, $1, nil) }
        var modules: [(file: String, tree: PyNode, wrapper: SelfExtractingWrapper?, wrappers: [SelfExtractingWrapper],
                       opaque: [SelfExtractingWrapper.Opaque])] = []
        let shell = try shellModules(folders: documents)
        pending += shell.parsed
        modules += shell.unparsed
        // Wrappers inside decoded code are followed several levels deep; code nested deeper
        // still is reported as unread at the wrapper that holds it.
        for _ in 0..<Self.wrapperDepth where !pending.isEmpty {
            var inner: [(file: String, wrapper: SelfExtractingWrapper)] = []
            for module in pending {
                let (wrappers, opaque) = try SelfExtractingWrapper.scan(module.tree, file: module.file)
                modules.append((module.file, module.tree, module.wrapper, wrappers, opaque))
                inner.append(contentsOf: wrappers.map { (module.file, $0) })
            }
            let innerTrees = try parser.parse(inner.map {
                .source(name: "\($0.file) (decoded from line \($0.wrapper.line))", text: $0.wrapper.innerSource)
            })
            pending = zip(inner, innerTrees).map { ($0.file, $1, $0.wrapper) }
        }
        for module in pending {
            let (wrappers, opaque) = try SelfExtractingWrapper.scan(module.tree, file: module.file)
            let tooDeep = wrappers.map { SelfExtractingWrapper.Opaque(
                line: $0.line, construct: "self-extracting code nested more than \(Self.wrapperDepth) levels deep") }
            modules.append((module.file, module.tree, module.wrapper, [], opaque + tooDeep))
        }
        let inputs = modules
        let folderDocuments = documents
        let results = ResultSlots<AnalyzedSource>(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { position in
            let module = inputs[position]
            let folder = URL(fileURLWithPath: module.file).deletingLastPathComponent().path
            results.set(position, AnalyzedSource(
                file: module.file, tree: module.tree, wrapper: module.wrapper, wrappers: module.wrappers,
                opaqueCode: module.opaque, documents: folderDocuments[folder] ?? SubmissionDocuments()))
        }
        return results.values.compactMap { $0 }
    }
}

extension Linter {
    /// The Python that the shell scripts of `folders` run inline, parsed: each chunk a module
    /// reported at its script (lines inside the chunk, `decodedFromLine` its command's line). A
    /// chunk that does not parse (often one the shell expands, `$VAR` inside) is unread code.
    func shellModules(folders: [String: SubmissionDocuments]) throws
        -> (parsed: [(file: String, tree: PyNode, wrapper: SelfExtractingWrapper?)],
            unparsed: [(file: String, tree: PyNode, wrapper: SelfExtractingWrapper?, wrappers: [SelfExtractingWrapper],
                        opaque: [SelfExtractingWrapper.Opaque])]) {
        var chunks: [(file: String, chunk: ShellEmbeddedPython)] = []
        var scripts: Set<String> = []
        for (folder, documents) in folders.sorted(by: { $0.key < $1.key }) {
            for name in documents.shellScripts {
                // A folder and its subfolder both list the subfolder's scripts.
                let path = ((folder as NSString).appendingPathComponent(name) as NSString).standardizingPath
                guard scripts.insert(path).inserted else { continue }
                guard let handle = FileHandle(forReadingAtPath: path) else { continue }
                let data = (try? handle.read(upToCount: ShellEmbeddedPython.maximumScriptBytes)) ?? Data()
                try? handle.close()
                chunks += ShellEmbeddedPython.chunks(in: String(decoding: data, as: UTF8.self)).map { (path, $0) }
            }
        }
        var remaining = chunks
        var unparsable: [(file: String, chunk: ShellEmbeddedPython, reason: String)] = []
        while !remaining.isEmpty {
            let names = remaining.map { "\($0.file) (\($0.chunk.form) at line \($0.chunk.line))" }
            do {
                let trees = try parser.parse(zip(names, remaining).map { .source(name: $0, text: $1.chunk.source) })
                let parsed = zip(remaining, trees).map { item, tree in
                    (file: item.file, tree: tree, wrapper: Optional(SelfExtractingWrapper(
                        line: item.chunk.line, scheme: "shell " + item.chunk.form, innerSource: item.chunk.source)))
                }
                return (parsed, try unparsedModules(unparsable))
            } catch LintError.syntax(let file, let line, let message, _) {
                // Set the chunk that failed aside and parse the others again.
                guard let position = names.firstIndex(of: file) else { throw LintError.syntax(file: file, line: line, message: message) }
                unparsable.append((remaining[position].file, remaining[position].chunk, "line \(line): \(message)"))
                remaining.remove(at: position)
            }
        }
        return ([], try unparsedModules(unparsable))
    }

    private func unparsedModules(_ chunks: [(file: String, chunk: ShellEmbeddedPython, reason: String)]) throws
        -> [(file: String, tree: PyNode, wrapper: SelfExtractingWrapper?, wrappers: [SelfExtractingWrapper],
             opaque: [SelfExtractingWrapper.Opaque])] {
        guard !chunks.isEmpty else { return [] }
        let empty = try parser.parse(chunks.map { .source(name: $0.file, text: "") })
        return zip(chunks, empty).map { item, tree in
            let expanded = item.chunk.expandedByShell ? ", and the shell expands it before Python reads it" : ""
            return (item.file, tree, nil, [], [SelfExtractingWrapper.Opaque(
                line: item.chunk.line,
                construct: "\(item.chunk.form) (its text does not parse as Python, \(item.reason)\(expanded))")])
        }
    }
}

/// Fixed slots filled from concurrent work, each slot written once.
final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private var storage: [Value?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ position: Int, _ value: Value) {
        lock.lock()
        storage[position] = value
        lock.unlock()
    }
    var values: [Value?] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
