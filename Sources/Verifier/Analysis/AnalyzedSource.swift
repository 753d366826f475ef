import Foundation

/// One parsed and analysed Python module, as the rules see it.
public struct AnalyzedSource: Sendable {
    /// The file the code comes from, as given or found.
    public var file: String
    public var tree: PyNode
    /// Every node of `tree` in source order (depth first), listed once for the rules.
    public var nodes: [PyNode]
    /// Set when this is code decoded from a self-extracting wrapper in `file`; line numbers
    /// then refer to the decoded code.
    public var wrapper: SelfExtractingWrapper?
    /// Wrappers found in this module (their decoded code is analysed separately).
    public var wrappers: [SelfExtractingWrapper]
    /// `exec`/`eval` calls whose code could not be decoded: code that runs but is not read here.
    public var opaqueCode: [SelfExtractingWrapper.Opaque]
    public var analysis: ModuleAnalysis
    /// `os.environ.get(NAME, literal)` settings of the module, found once.
    public var environmentDefaults: [EnvironmentDefault]
    /// The validation updates of `analysis`, classified once for the TTT rules.
    public var validationUpdates: [ValidationUpdate]
    /// The submission's README.md and submission.json beside the file, when present.
    public var documents: SubmissionDocuments

    public init(file: String, tree: PyNode, wrapper: SelfExtractingWrapper?, wrappers: [SelfExtractingWrapper],
                opaqueCode: [SelfExtractingWrapper.Opaque] = [], documents: SubmissionDocuments) {
        self.file = file
        self.tree = tree
        var nodes: [PyNode] = []
        tree.walk { nodes.append($0) }
        self.nodes = nodes
        self.wrapper = wrapper
        self.wrappers = wrappers
        self.opaqueCode = opaqueCode
        self.analysis = ModuleAnalysis(module: tree)
        self.validationUpdates = ValidationUpdate.find(in: analysis)
        self.environmentDefaults = EnvironmentDefault.find(in: nodes, aliases: analysis.index.aliases)
        self.documents = documents
    }
}

/// The human-written claims next to a submission's code, and the logs of its runs.
public struct SubmissionDocuments: Sendable, Equatable {
    /// A text file beside the code, named relative to the code's folder.
    public struct NamedText: Sendable, Equatable {
        public var name: String
        public var text: String
        public init(name: String, text: String) {
            self.name = name
            self.text = text
        }
    }

    public var readme: String?
    public var submissionJSON: String?
    /// Train logs (`*.log`, `*.txt` but `requirements*.txt`) in the folder and its subfolders,
    /// sorted by name.
    public var logs: [NamedText]
    /// Native sources and libraries in the folder (`.c`, `.cu`, `.cpp`, `.so`...), relative to
    /// it, sorted: code the Python analysis does not read.
    public var nativeFiles: [String]
    /// Shell scripts in the folder (`.sh`, `.bash`), relative to it, sorted: the Python they run
    /// inline is analysed as modules of their own.
    public var shellScripts: [String]
    /// The lines of the folder's Python files, trimmed (those of 8 characters or more): a log line
    /// that is one of them is the script's source printed into the log, not a statement of the run.
    public var codeLines: Set<String>

    public init(readme: String? = nil, submissionJSON: String? = nil, logs: [NamedText] = [], nativeFiles: [String] = [],
                shellScripts: [String] = [], codeLines: Set<String> = []) {
        self.readme = readme
        self.submissionJSON = submissionJSON
        self.logs = logs
        self.nativeFiles = nativeFiles
        self.shellScripts = shellScripts
        self.codeLines = codeLines
    }

    /// `text`'s lines that may identify source printed into a log.
    static func codeLines(of text: String) -> Set<String> {
        var lines: Set<String> = []
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.count >= 8 { lines.insert(trimmed) }
        }
        return lines
    }

    /// Code files the analysis does not read; Jupyter notebooks count (their cells are code).
    static let nativeExtensions: Set<String> = ["c", "cc", "cpp", "cxx", "cu", "cuh", "h", "hpp", "so", "rs", "metal", "zig", "ipynb"]

    /// At most this many logs are read, each up to `maximumLogBytes`.
    static let maximumLogs = 64
    static let maximumLogBytes = 8 << 20
    /// At most this many entries are listed, this many folders deep, looking for logs and native code.
    static let maximumListedEntries = 20_000
    static let maximumDepth = 4

    /// Reads README.md and submission.json (at most 1 MB each) and the logs from `folder`.
    public static func load(folder: URL) -> SubmissionDocuments {
        func read(_ url: URL, limit: Int) -> String? {
            guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
            defer { try? handle.close() }
            guard let data = try? handle.read(upToCount: limit) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        var logNames: [String] = []
        var nativeFiles: [String] = []
        var shellScripts: [String] = []
        var pythonNames: [String] = []
        if let enumerator = FileManager.default.enumerator(atPath: folder.path) {
            // A submission folder is small; a lone file in a big folder must not cost a tree walk.
            var seen = 0
            while let relative = enumerator.nextObject() as? String, seen < maximumListedEntries {
                seen += 1
                if enumerator.level >= maximumDepth { enumerator.skipDescendants() }
                let name = (relative as NSString).lastPathComponent.lowercased()
                if nativeExtensions.contains((name as NSString).pathExtension) { nativeFiles.append(relative) }
                if name.hasSuffix(".sh") || name.hasSuffix(".bash") { shellScripts.append(relative) }
                if name.hasSuffix(".py") { pythonNames.append(relative) }
                guard name.hasSuffix(".log") || (name.hasSuffix(".txt") && !name.hasPrefix("requirements")) else { continue }
                logNames.append(relative)
            }
        }
        let logs = logNames.sorted().prefix(maximumLogs).compactMap { name in
            read(folder.appendingPathComponent(name), limit: maximumLogBytes).map { NamedText(name: name, text: $0) }
        }
        var codeLines: Set<String> = []
        if !logs.isEmpty {
            for name in pythonNames.sorted().prefix(maximumLogs) {
                if let text = read(folder.appendingPathComponent(name), limit: maximumLogBytes) { codeLines.formUnion(Self.codeLines(of: text)) }
            }
        }
        return SubmissionDocuments(
            readme: read(folder.appendingPathComponent("README.md"), limit: 1 << 20),
            submissionJSON: read(folder.appendingPathComponent("submission.json"), limit: 1 << 20),
            logs: logs, nativeFiles: nativeFiles.sorted(), shellScripts: shellScripts.sorted(), codeLines: codeLines)
    }
}

extension AnalyzedSource {
    /// The environment read an assignment to `identifier` makes
    /// (`SLOT_STEPS = int(os.environ.get("SLOT_STEPS", "96"))`): the variable of the first
    /// `os.environ.get` / `os.getenv` call whose arguments `accepts`, in source order, and the whole
    /// value assigned (which may work out a default from it).
    func environmentRead(assignedTo identifier: String,
                         where accepts: ([PyNode]) -> Bool = { _ in true }) -> (variable: String, value: PyNode)? {
        var found: (variable: String, value: PyNode)?
        tree.walk { node in
            guard found == nil, node.type == "Assign" || node.type == "AnnAssign", let value = node.child("value") else { return }
            let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
            guard targets.contains(where: { $0.terminalName == identifier }) else { return }
            value.walk { inner in
                guard found == nil, inner.type == "Call",
                      let callee = analysis.index.aliases.resolve(inner.child("func")),
                      ImportAliases.environmentReaders.contains(callee) else { return }
                let arguments = inner.children("args")
                guard let name = arguments.first?.stringLiteral, accepts(arguments) else { return }
                found = (name, value)
            }
        }
        return found
    }

    /// The variable of ``environmentRead(assignedTo:where:)``.
    func environmentVariable(assignedTo identifier: String,
                             where accepts: ([PyNode]) -> Bool = { _ in true }) -> String? {
        environmentRead(assignedTo: identifier, where: accepts)?.variable
    }
}
