import Foundation

/// A minimal SARIF 2.1.0 log (one run, one tool) that GitHub code scanning accepts: rules with
/// IDs and help, results with `ruleId`, `level` and a physical location.
public struct SARIFLog: Encodable, Sendable {
    /// A rule as SARIF's `reportingDescriptor`.
    public struct Rule: Sendable {
        public var id: String
        public var name: String
        public var shortDescription: String
        public var help: String
        public var helpURI: String?
        /// `error`, `warning` or `note`.
        public var defaultLevel: String

        public init(id: String, name: String, shortDescription: String, help: String, helpURI: String? = nil, defaultLevel: String) {
            self.id = id
            self.name = name
            self.shortDescription = shortDescription
            self.help = help
            self.helpURI = helpURI
            self.defaultLevel = defaultLevel
        }
    }

    /// A result at one line of one file.
    public struct Result: Sendable {
        public var ruleId: String
        public var level: String
        public var message: String
        /// Relative path (forward slashes) from the repository root, as code scanning expects.
        public var uri: String
        public var startLine: Int

        public init(ruleId: String, level: String, message: String, uri: String, startLine: Int) {
            self.ruleId = ruleId
            self.level = level
            self.message = message
            self.uri = uri
            self.startLine = startLine
        }
    }

    public var toolName: String
    public var toolVersion: String
    public var informationURI: String?
    public var rules: [Rule]
    public var results: [Result]

    public init(toolName: String, toolVersion: String, informationURI: String? = nil, rules: [Rule], results: [Result]) {
        self.toolName = toolName
        self.toolVersion = toolVersion
        self.informationURI = informationURI
        self.rules = rules
        self.results = results
    }

    /// The log as pretty-printed JSON with sorted keys (stable output).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    private struct Text: Encodable { var text: String }

    public func encode(to encoder: any Encoder) throws {
        struct Configuration: Encodable { var level: String }
        struct Descriptor: Encodable {
            var id: String
            var name: String
            var shortDescription: Text
            var fullDescription: Text
            var help: Text
            var helpUri: String?
            var defaultConfiguration: Configuration
        }
        struct Driver: Encodable {
            var name: String
            var version: String
            var informationUri: String?
            var rules: [Descriptor]
        }
        struct Tool: Encodable { var driver: Driver }
        struct Region: Encodable { var startLine: Int }
        struct ArtifactLocation: Encodable { var uri: String }
        struct PhysicalLocation: Encodable { var artifactLocation: ArtifactLocation; var region: Region }
        struct Location: Encodable { var physicalLocation: PhysicalLocation }
        struct Entry: Encodable {
            var ruleId: String
            var ruleIndex: Int
            var level: String
            var message: Text
            var locations: [Location]
        }
        struct Run: Encodable { var tool: Tool; var results: [Entry] }
        struct Log: Encodable {
            var version = "2.1.0"
            var schema = "https://json.schemastore.org/sarif-2.1.0.json"
            var runs: [Run]
            enum CodingKeys: String, CodingKey { case version, schema = "$schema", runs }
        }
        let ruleIndex = Dictionary(rules.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let run = Run(
            tool: Tool(driver: Driver(
                name: toolName, version: toolVersion, informationUri: informationURI,
                rules: rules.map {
                    Descriptor(
                        id: $0.id, name: $0.name, shortDescription: Text(text: $0.shortDescription),
                        fullDescription: Text(text: $0.help), help: Text(text: $0.help), helpUri: $0.helpURI,
                        defaultConfiguration: Configuration(level: $0.defaultLevel))
                })),
            results: results.map {
                Entry(
                    ruleId: $0.ruleId, ruleIndex: ruleIndex[$0.ruleId] ?? 0, level: $0.level, message: Text(text: $0.message),
                    locations: [Location(physicalLocation: PhysicalLocation(
                        artifactLocation: ArtifactLocation(uri: $0.uri), region: Region(startLine: max(1, $0.startLine))))])
            })
        try Log(runs: [run]).encode(to: encoder)
    }
}
