/// PG-COMPRESSOR-FALLBACK — the compressor silently changes when a package is missing.
///
/// ## What it flags
/// `try: import zstandard` (or brotli, zstd, lz4...) whose `except ImportError` (or broader)
/// handler carries on with another compressor instead of raising.
///
/// ## Why
/// The artifact's size, and whether it fits under 16,000,000 bytes, depends on the compressor.
/// A reproduction on a machine without the package produces a different (often larger)
/// artifact with no error, so the submission is not reproducible as claimed.
///
/// ## Source
/// README ("artifact must be self-contained and reproducible"); Issue #677 reproduction notes.
///
/// ## Legal example
/// `import zstandard` at the top (a missing package fails loudly), or a fallback that raises.
///
/// ## Illegal example (warning)
/// `try: import zstandard; COMPRESSOR = "zstd"` / `except ImportError: COMPRESSOR = "zlib"`.
public enum CompressorFallback: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-COMPRESSOR-FALLBACK", name: "compressor-fallback", severity: .warning,
        summary: "A missing compression package silently switches the artifact's compressor.",
        source: "README (reproducible, self-contained artifact)")

    private static let compressors: Set<String> = ["zstandard", "zstd", "brotli", "lz4", "lzma", "bz2", "pyzstd", "zopfli"]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        var findings: [Finding] = []
        for node in source.nodes {
            guard node.type == "Try" else { continue }
            var imported: [String] = []
            for statement in node.children("body") {
                for alias in statement.children("names") where statement.type == "Import" || statement.type == "ImportFrom" {
                    let module = statement.string("module") ?? alias.string("name") ?? ""
                    if let head = module.split(separator: ".").first, compressors.contains(String(head)) {
                        imported.append(String(head))
                    }
                }
            }
            guard let package = imported.first else { continue }
            for handler in node.children("handlers") {
                let caught = handler.child("type").flatMap { $0.dottedName } ?? "everything"
                guard ["ImportError", "ModuleNotFoundError", "Exception", "everything", "BaseException"].contains(caught)
                else { continue }
                var raises = false
                for statement in handler.children("body") { statement.walk { if $0.type == "Raise" { raises = true } } }
                if !raises {
                    findings.append(finding(source, line: handler.line,
                        "if \(package) is missing, this handler silently continues with another compressor"))
                }
            }
        }
        return findings
    }
}
