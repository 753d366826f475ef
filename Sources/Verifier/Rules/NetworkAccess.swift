/// PG-NETWORK — code that reaches the network (downloads, sockets, hub APIs).
///
/// ## What it flags
/// An import of, or a call into, `requests`, `urllib.request`, `http.client`, `socket`,
/// `huggingface_hub` (`hf_hub_download`, `snapshot_download`), `torch.hub`, or a `subprocess`
/// call whose literal arguments run `wget`, `curl` or `pip`. Error in a training script (a file
/// named `train*.py`, the code that also evaluates); a note in other files (data preparation is
/// setup, not evaluation, but reviewers should see it).
///
/// ## Why
/// "No external downloads, training dataset access, or network calls during evaluation"; the
/// artifact must be self-contained (README FAQ).
///
/// ## Source
/// README FAQ (evaluation restrictions); compliance guide §11.
///
/// ## Legal example
/// `cached_challenge_fineweb.py` downloading shards before training (a note), a `subprocess` call
/// compiling a bundled C kernel.
///
/// ## Illegal example
/// `train_gpt.py` calling `hf_hub_download(...)` to fetch tables at evaluation time.
public enum NetworkAccess: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-NETWORK", name: "network-access", severity: .error,
        summary: "Code reaches the network (downloads, sockets, model hubs).",
        source: "README FAQ (no network calls during evaluation; self-contained artifact)")

    static let modules = ["requests", "urllib.request", "urllib3", "http.client", "socket", "huggingface_hub", "httpx", "aiohttp"]
    static let calls: Set<String> = ["torch.hub.load", "torch.hub.download_url_to_file", "urllib.request.urlopen", "urllib.request.urlretrieve"]
    static let commands = ["wget", "curl", "pip"]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        let fileName = source.file.split(separator: "/").last.map(String.init) ?? source.file
        let severity: Severity = fileName.hasPrefix("train") ? .error : .note
        let aliases = source.analysis.index.aliases
        var findings: [Finding] = []
        for node in source.nodes {
            switch node.type {
            case "Import", "ImportFrom":
                let names = node.type == "ImportFrom" ? [node.string("module") ?? ""]
                    : node.children("names").compactMap { $0.string("name") }
                if let module = names.first(where: { name in modules.contains { name == $0 || name.hasPrefix($0 + ".") } }) {
                    findings.append(finding(source, line: node.line, "imports \(module), which reaches the network", severity: severity))
                }
            case "Call":
                guard let callee = aliases.resolve(node.child("func")) else { continue }
                if calls.contains(callee) {
                    findings.append(finding(source, line: node.line, "calls \(callee)", severity: severity))
                } else if callee.hasPrefix("subprocess.") || callee == "os.system" {
                    var words: [String] = []
                    for argument in node.children("args") {
                        argument.walk { if let text = $0.stringLiteral { words.append(contentsOf: text.split(separator: " ").map(String.init)) } }
                    }
                    if let command = words.first(where: { commands.contains($0) }) {
                        findings.append(finding(source, line: node.line, "runs \(command) through \(callee)", severity: severity))
                    }
                }
            default:
                continue
            }
        }
        return findings
    }
}
