/// PG-NETWORK — code that reaches the network (downloads, sockets, hub APIs).
///
/// ## What it flags
/// An import of `requests`, `urllib.request`, `urllib3`, `http.client`, `huggingface_hub`, `httpx`
/// or `aiohttp` (also `from urllib import request` and `importlib.import_module("requests")`);
/// a call of `urlopen`/`urlretrieve`, `torch.hub.load` (but with `source="local"`),
/// `torch.hub.load_state_dict_from_url`/`download_url_to_file`, `torch.utils.model_zoo.load_url`,
/// `datasets.load_dataset` of a Hub dataset (not a packaged builder such as `"json"` or a path
/// starting with `.`, `/` or `~`), a `socket` connection or name lookup (`create_connection`,
/// `getaddrinfo`, `gethostbyname`, `.connect`/`.sendto` on a `socket.socket`; not `gethostname`
/// or a bound local port); a command run through `subprocess`, `os.system`, `os.popen`,
/// `os.exec*`/`os.spawn*` whose literal words, also through a name the command is bound to in
/// the scope or a `for` over a list of commands, run `wget`, `curl`, `aria2c`, `huggingface-cli`
/// or `gsutil`, `pip`/`conda`/`apt-get` `install` (and the like) or `git clone`/`fetch`/`pull`.
/// Error in a training script (a file named `train*.py`, the code that also evaluates); a note
/// in other files (data preparation is setup, not evaluation, but reviewers should see it).
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
/// compiling a bundled C kernel, `socket.gethostname()` in a run's log, `pip freeze`.
///
/// ## Illegal example
/// `train_gpt.py` calling `hf_hub_download(...)` to fetch tables at evaluation time.
public enum NetworkAccess: LintRule {
    public static let descriptor = RuleDescriptor(
        id: "PG-NETWORK", name: "network-access", severity: .error,
        summary: "Code reaches the network (downloads, sockets, model hubs).",
        source: "README FAQ (no network calls during evaluation; self-contained artifact)")

    /// Modules whose purpose is to reach the network: importing one is the finding.
    static let modules = ["requests", "urllib.request", "urllib3", "http.client", "huggingface_hub", "httpx", "aiohttp"]
    static let calls: Set<String> = [
        "torch.hub.load", "torch.hub.download_url_to_file", "torch.hub.load_state_dict_from_url",
        "torch.utils.model_zoo.load_url", "urllib.request.urlopen", "urllib.request.urlretrieve",
        "socket.create_connection", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
    ]
    /// `socket` itself is local (`gethostname`, binding a free port); these methods of a socket reach out.
    static let socketConstructors: Set<String> = ["socket.socket", "socket.create_connection"]
    static let socketMethods: Set<String> = ["connect", "connect_ex", "sendto"]
    static let dynamicImports: Set<String> = ["importlib.import_module", "__import__"]
    static let commandRunners: Set<String> = [
        "os.system", "os.popen", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
    ]
    /// Programs that download whatever they are asked to.
    static let downloaders: Set<String> = ["wget", "curl", "aria2c", "huggingface-cli", "gsutil"]
    /// Programs that reach the network with some subcommands (`pip install`, not `pip freeze`).
    static let networkSubcommands: [String: Set<String>] = {
        let packageSubcommands: Set<String> = ["install", "download", "wheel", "index", "search", "update", "upgrade", "create"]
        return [
            "pip": packageSubcommands, "pip3": packageSubcommands, "conda": packageSubcommands,
            "mamba": packageSubcommands, "apt": packageSubcommands, "apt-get": packageSubcommands,
            "git": ["clone", "fetch", "pull", "push", "ls-remote"],
        ]
    }()
    /// `datasets.load_dataset` builders that read the files they are given.
    static let packagedBuilders: Set<String> = [
        "json", "csv", "text", "parquet", "arrow", "pandas", "sql", "xml", "webdataset", "imagefolder",
        "audiofolder", "videofolder", "generator",
    ]

    public static func check(_ source: AnalyzedSource) -> [Finding] {
        let fileName = source.file.split(separator: "/").last.map(String.init) ?? source.file
        let severity: Severity = fileName.hasPrefix("train") ? .error : .note
        let aliases = source.analysis.index.aliases
        let sockets = socketNames(source.nodes, aliases: aliases)
        var findings: [Finding] = []
        for node in source.nodes where node.type == "Import" || node.type == "ImportFrom" {
            let names: [String]
            if node.type == "ImportFrom" {
                // `from urllib import request` imports the submodule `urllib.request`.
                let module = node.string("module") ?? ""
                names = [module] + node.children("names").compactMap { $0.string("name") }.map { module + "." + $0 }
            } else {
                names = node.children("names").compactMap { $0.string("name") }
            }
            if let module = names.first(where: { networkModule($0) != nil }) {
                findings.append(finding(source, line: node.line, "imports \(module), which reaches the network", severity: severity))
            }
        }
        visitCalls(in: source.tree, scopes: [bindings(of: source.tree)]) { call, scopes in
            guard let message = network(call, scopes: scopes, aliases: aliases, sockets: sockets) else { return }
            findings.append(finding(source, line: call.line, message, severity: severity))
        }
        return findings
    }

    static func networkModule(_ name: String) -> String? {
        modules.first { name == $0 || name.hasPrefix($0 + ".") }
    }

    /// What `call` does on the network, nil when nothing.
    static func network(_ call: PyNode, scopes: [[String: [PyNode]]], aliases: ImportAliases, sockets: Set<String>) -> String? {
        let function = call.child("func")
        if function?.type == "Attribute", let method = function?.string("attr"), socketMethods.contains(method),
           let receiver = function?.child("value"), isSocket(receiver, aliases: aliases, sockets: sockets) {
            return "calls \(method) on a socket"
        }
        guard let callee = aliases.resolve(function) else { return nil }
        if calls.contains(callee) {
            if callee == "torch.hub.load", keyword("source", of: call)?.stringLiteral == "local" { return nil }
            return "calls \(callee)"
        }
        if dynamicImports.contains(callee), let name = call.children("args").first?.stringLiteral,
           let module = networkModule(name) {
            return "imports \(module) through \(callee), which reaches the network"
        }
        if callee == "datasets.load_dataset" {
            return loadsHubDataset(call) ? "calls datasets.load_dataset on a Hugging Face Hub dataset" : nil
        }
        if callee.hasPrefix("subprocess.") || commandRunners.contains(callee) || callee.hasPrefix("os.exec")
            || callee.hasPrefix("os.spawn") {
            let arguments = call.children("args") + call.children("keywords").filter { $0.string("arg") == "args" }
                .compactMap { $0.child("value") }
            var words: [String] = []
            var seen: Set<String> = []
            for argument in arguments { collectWords(argument, scopes: scopes, into: &words, seen: &seen) }
            return networkCommand(words).map { "runs \($0) through \(callee)" }
        }
        return nil
    }

    /// The network command among `words` (`curl`, `pip install`, `git clone`), nil when none.
    static func networkCommand(_ words: [String]) -> String? {
        for (index, word) in words.enumerated() {
            if downloaders.contains(word) { return word }
            if let subcommands = networkSubcommands[word],
               let subcommand = words[(index + 1)...].first(where: { !$0.hasPrefix("-") }), subcommands.contains(subcommand) {
                return word + " " + subcommand
            }
        }
        return nil
    }

    /// Whether `datasets.load_dataset` names a Hub dataset: any name but a packaged builder or a
    /// local path; a name computed at run time is the Hub too unless it is a literal path.
    static func loadsHubDataset(_ call: PyNode) -> Bool {
        guard let name = call.children("args").first ?? keyword("path", of: call) else { return false }
        guard let literal = name.stringLiteral else { return true }
        return !(packagedBuilders.contains(literal) || literal.hasPrefix(".") || literal.hasPrefix("/") || literal.hasPrefix("~"))
    }

    static func keyword(_ name: String, of call: PyNode) -> PyNode? {
        call.children("keywords").first { $0.string("arg") == name }?.child("value")
    }

    /// The words of the string literals in `node`, reading a name through what the enclosing
    /// scopes bind it to (`command = ["curl", url]`, `for step in STEPS`).
    static func collectWords(_ node: PyNode, scopes: [[String: [PyNode]]], into words: inout [String], seen: inout Set<String>) {
        node.walk { inner in
            if let text = inner.stringLiteral {
                words.append(contentsOf: text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
            } else if inner.type == "Name", let name = inner.string("id"), !seen.contains(name),
                      let values = scopes.reversed().lazy.compactMap({ $0[name] }).first {
                seen.insert(name)
                for value in values { collectWords(value, scopes: scopes, into: &words, seen: &seen) }
            }
        }
    }

    /// Visits every call with the bindings of the scopes around it, innermost last.
    static func visitCalls(in node: PyNode, scopes: [[String: [PyNode]]], _ visit: (PyNode, [[String: [PyNode]]]) -> Void) {
        if node.type == "Call" { visit(node, scopes) }
        let inner = node.type == "FunctionDef" || node.type == "AsyncFunctionDef" ? scopes + [bindings(of: node)] : scopes
        for child in node.childNodes { visitCalls(in: child, scopes: inner, visit) }
    }

    /// Names bound in `scope`'s own body (not in functions defined in it): `x = value`,
    /// `x: T = value`, `x += value`, and `for x in value` (bound to the iterable's elements).
    static func bindings(of scope: PyNode) -> [String: [PyNode]] {
        var result: [String: [PyNode]] = [:]
        func visit(_ node: PyNode) {
            switch node.type {
            case "FunctionDef", "AsyncFunctionDef", "Lambda":
                return
            case "Assign", "AnnAssign", "AugAssign":
                let targets = node.type == "Assign" ? node.children("targets") : [node.child("target")].compactMap { $0 }
                if let value = node.child("value") {
                    for target in targets where target.type == "Name" {
                        if let name = target.string("id") { result[name, default: []].append(value) }
                    }
                }
            case "For", "AsyncFor", "comprehension":
                if let target = node.child("target"), target.type == "Name", let name = target.string("id"),
                   let iterable = node.child("iter") {
                    result[name, default: []].append(iterable)
                }
            default:
                break
            }
            node.childNodes.forEach(visit)
        }
        scope.childNodes.forEach(visit)
        return result
    }

    /// Names bound to a socket anywhere in the module: `s = socket.socket(...)`,
    /// `with socket.create_connection(...) as s`.
    static func socketNames(_ nodes: [PyNode], aliases: ImportAliases) -> Set<String> {
        var names: Set<String> = []
        func makesSocket(_ value: PyNode?) -> Bool {
            guard let value, value.type == "Call", let callee = aliases.resolve(value.child("func")) else { return false }
            return socketConstructors.contains(callee)
        }
        for node in nodes {
            switch node.type {
            case "Assign":
                guard makesSocket(node.child("value")) else { continue }
                names.formUnion(node.children("targets").compactMap { $0.type == "Name" ? $0.string("id") : nil })
            case "withitem":
                guard makesSocket(node.child("context_expr")), let target = node.child("optional_vars"),
                      target.type == "Name", let name = target.string("id") else { continue }
                names.insert(name)
            default:
                continue
            }
        }
        return names
    }

    static func isSocket(_ node: PyNode, aliases: ImportAliases, sockets: Set<String>) -> Bool {
        if node.type == "Name", let name = node.string("id") { return sockets.contains(name) }
        if node.type == "Call", let callee = aliases.resolve(node.child("func")) { return socketConstructors.contains(callee) }
        return false
    }
}
