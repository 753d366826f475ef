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
    /// Wrappers found at the top of this module (their decoded code is analysed separately).
    public var wrappers: [SelfExtractingWrapper]
    public var analysis: ModuleAnalysis
    /// `os.environ.get(NAME, literal)` settings of the module, found once.
    public var environmentDefaults: [EnvironmentDefault]
    /// The validation updates of `analysis`, classified once for the TTT rules.
    public var validationUpdates: [ValidationUpdate]
    /// The submission's README.md and submission.json beside the file, when present.
    public var documents: SubmissionDocuments

    public init(file: String, tree: PyNode, wrapper: SelfExtractingWrapper?, wrappers: [SelfExtractingWrapper],
                documents: SubmissionDocuments) {
        self.file = file
        self.tree = tree
        var nodes: [PyNode] = []
        tree.walk { nodes.append($0) }
        self.nodes = nodes
        self.wrapper = wrapper
        self.wrappers = wrappers
        self.analysis = ModuleAnalysis(module: tree)
        self.validationUpdates = ValidationUpdate.find(in: analysis)
        self.environmentDefaults = EnvironmentDefault.find(in: nodes, aliases: analysis.index.aliases)
        self.documents = documents
    }
}

/// The human-written claims next to a submission's code.
public struct SubmissionDocuments: Sendable, Equatable {
    public var readme: String?
    public var submissionJSON: String?

    public init(readme: String? = nil, submissionJSON: String? = nil) {
        self.readme = readme
        self.submissionJSON = submissionJSON
    }

    /// Reads README.md and submission.json from `folder` (at most 1 MB each).
    public static func load(folder: URL) -> SubmissionDocuments {
        func read(_ name: String) -> String? {
            let url = folder.appendingPathComponent(name)
            guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
            defer { try? handle.close() }
            guard let data = try? handle.read(upToCount: 1 << 20) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        return SubmissionDocuments(readme: read("README.md"), submissionJSON: read("submission.json"))
    }
}
