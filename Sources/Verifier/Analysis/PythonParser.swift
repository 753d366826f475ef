import Foundation

/// Parses Python source with CPython's own `ast` module in a subprocess and decodes the tree.
///
/// The embedded script only calls `ast.parse` and serializes the tree: it never compiles to
/// bytecode, executes or imports the submission. Many sources go to one subprocess (Python's start
/// dominates otherwise), split over two processes to use two cores.
public struct PythonParser: Sendable {
    /// What to parse: a file on disk or source text (decoded from a self-extracting wrapper).
    public enum Input: Sendable {
        case file(path: String)
        case source(name: String, text: String)

        var name: String {
            switch self {
            case .file(let path): return path
            case .source(let name, _): return name
            }
        }
    }

    /// The interpreter used as parser.
    public let python: URL

    /// Uses `PGVERIFY_PYTHON` when set; otherwise the newest of `python3.14`, `python3.13`,
    /// `python3.12`, `python3` on `PATH` that starts (decoded wrappers use 3.12 f-string syntax),
    /// then pyenv's installed versions when `PATH` offers nothing newer than 3.11.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let override = environment["PGVERIFY_PYTHON"], !override.isEmpty {
            guard Self.version(of: URL(fileURLWithPath: override)) != nil else {
                throw LintError.pythonNotFound(searchPath: "PGVERIFY_PYTHON=\(override)")
            }
            self.python = URL(fileURLWithPath: override)
            return
        }
        let searchPath = environment["PATH"] ?? ""
        // Candidates are probed concurrently (a pyenv shim takes most of a second to answer, even
        // to fail), then chosen in the order below as if they had been probed one by one.
        let names = ["python3.14", "python3.13", "python3.12", "python3"]
        let onPath = names.map { name in
            searchPath.split(separator: ":").filter { !$0.isEmpty }
                .map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
                .filter { FileManager.default.isExecutableFile(atPath: $0.path) }
        }
        let onPathVersions = Self.versions(of: onPath.flatMap { $0 })
        var probed = onPathVersions.makeIterator()
        var best: (url: URL, version: Int)?
        for candidates in onPath {
            // The first candidate of a name that starts counts; the rest of its versions are skipped.
            let versions = candidates.map { _ in probed.next() ?? nil }
            if let (candidate, version) = zip(candidates, versions).first(where: { $0.1 != nil }).map({ ($0.0, $0.1!) }) {
                if version > (best?.version ?? 0) { best = (candidate, version) }
            }
            if let best, best.version >= 0x030c_0000 { self.python = best.url; return }
        }
        let pyenvRoot = environment["PYENV_ROOT"] ?? ((environment["HOME"] ?? "") + "/.pyenv")
        let installed = (try? FileManager.default.contentsOfDirectory(atPath: pyenvRoot + "/versions")) ?? []
        // Newest first by numeric version ("3.13.0" before "3.9.18"); the first that starts wins.
        let pyenvCandidates = installed.map { name in (name, name.split(separator: ".").map { Int($0) ?? -1 }) }
            .sorted { $1.1.lexicographicallyPrecedes($0.1) }
            .map { URL(fileURLWithPath: pyenvRoot + "/versions/" + $0.0 + "/bin/python3") }
            .filter { FileManager.default.isExecutableFile(atPath: $0.path) }
        if let (candidate, found) = zip(pyenvCandidates, Self.versions(of: pyenvCandidates))
            .first(where: { $0.1 != nil }).map({ ($0.0, $0.1!) }), found > (best?.version ?? 0) {
            best = (candidate, found)
        }
        guard let best else { throw LintError.pythonNotFound(searchPath: searchPath) }
        self.python = best.url
    }

    /// `sys.hexversion` of every interpreter, nil for one that does not start; all are started
    /// before any is waited for. Results in input order.
    static func versions(of urls: [URL]) -> [Int?] {
        let running = urls.map { url -> (process: Process, output: Pipe)? in
            let process = Process()
            process.executableURL = url
            process.arguments = ["-I", "-S", "-c", "import sys; print(sys.hexversion)"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            return (process, output)
        }
        return running.map { started in
            guard let (process, output) = started else { return nil }
            // A version line fits in the pipe's buffer, so reading one process after another cannot block.
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return nil }
            return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// `sys.hexversion` of the interpreter at `url`, nil when it does not start.
    static func version(of url: URL) -> Int? {
        versions(of: [url])[0]
    }

    /// Parses every input; results in input order. A syntax error is a ``LintError/syntax``.
    ///
    /// Inputs are spread over `processes` subprocesses by size (largest first, each to the least
    /// loaded), so the processes finish together; each batch is decoded as soon as its process ends.
    public func parse(_ inputs: [Input], processes: Int = 2) throws -> [PyNode] {
        if inputs.isEmpty { return [] }
        let batchCount = max(1, min(processes, inputs.count))
        var batches: [[Int]] = Array(repeating: [], count: batchCount)
        var loads = Array(repeating: 0, count: batchCount)
        let sizes = inputs.map(Self.size(of:))
        for offset in inputs.indices.sorted(by: { (sizes[$0], $1) > (sizes[$1], $0) }) {
            let lightest = loads.indices.min { loads[$0] < loads[$1] } ?? 0
            batches[lightest].append(offset)
            loads[lightest] += sizes[offset]
        }
        batches = batches.map { $0.sorted() }
        let running = try batches.map { batch in try start(batch.map { inputs[$0] }) }
        let slots = ResultSlots<Result<[PyTreeReader.Outcome], LintError>>(count: batchCount)
        DispatchQueue.concurrentPerform(iterations: batchCount) { index in
            do {
                slots.set(index, .success(try PyTreeReader.read(try finish(running[index]))))
            } catch let error as LintError {
                slots.set(index, .failure(error))
            } catch {
                slots.set(index, .failure(.parserOutputUnreadable(detail: "\(error)")))
            }
        }
        var outcomes: [PyTreeReader.Outcome?] = Array(repeating: nil, count: inputs.count)
        for (batch, slot) in zip(batches, slots.values) {
            guard let slot else { throw LintError.parserOutputUnreadable(detail: "a batch was not decoded") }
            let batchOutcomes = try slot.get()
            guard batchOutcomes.count == batch.count else {
                throw LintError.parserOutputUnreadable(detail: "\(batchOutcomes.count) trees for \(batch.count) inputs")
            }
            for (offset, outcome) in zip(batch, batchOutcomes) { outcomes[offset] = outcome }
        }
        // The first error in input order is the one reported, whichever process met it.
        return try zip(inputs, outcomes).map { input, outcome in
            switch outcome {
            case .tree(let tree)?: return tree
            case .error(let line, let message)?: throw LintError.syntax(file: input.name, line: line, message: message)
            case nil: throw LintError.parserOutputUnreadable(detail: "no result for \(input.name)")
            }
        }
    }

    /// The bytes an input holds (0 when a file cannot be measured: it then fails in the parser).
    private static func size(of input: Input) -> Int {
        switch input {
        case .file(let path):
            return ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
        case .source(_, let text):
            return text.utf8.count
        }
    }

    private struct Running {
        let process: Process
        let stdout: Pipe
        let stderrFile: URL
    }

    private func start(_ batch: [Input]) throws -> Running {
        let request: [[String: String]] = batch.map { input in
            switch input {
            case .file(let path): return ["name": path, "path": path]
            case .source(let name, let text): return ["name": name, "source": text]
            }
        }
        let payload = try JSONEncoder().encode(request)
        let process = Process()
        process.executableURL = python
        process.arguments = ["-I", "-S", "-c", Self.script]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderrFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("pgverify-parser-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        do { try process.run() } catch {
            throw LintError.parserFailed(status: -1, detail: "cannot start \(python.path): \(error)")
        }
        // The script reads all of stdin before writing anything, so this write cannot deadlock.
        stdin.fileHandleForWriting.write(payload)
        try? stdin.fileHandleForWriting.close()
        return Running(process: process, stdout: stdout, stderrFile: stderrFile)
    }

    private func finish(_ running: Running) throws -> Data {
        let data = running.stdout.fileHandleForReading.readDataToEndOfFile()
        running.process.waitUntilExit()
        let stderr = (try? String(contentsOf: running.stderrFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: running.stderrFile)
        guard running.process.terminationStatus == 0 else {
            throw LintError.parserFailed(
                status: running.process.terminationStatus,
                detail: String(stderr.suffix(2000)))
        }
        return data
    }
}
