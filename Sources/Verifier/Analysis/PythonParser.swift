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
        var best: (url: URL, version: Int)?
        for name in ["python3.14", "python3.13", "python3.12", "python3"] {
            for directory in searchPath.split(separator: ":") where !directory.isEmpty {
                let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
                guard FileManager.default.isExecutableFile(atPath: candidate.path) else { continue }
                if let version = Self.version(of: candidate) {
                    if version > (best?.version ?? 0) { best = (candidate, version) }
                    break
                }
            }
            if let best, best.version >= 0x030c_0000 { self.python = best.url; return }
        }
        let pyenvRoot = environment["PYENV_ROOT"] ?? ((environment["HOME"] ?? "") + "/.pyenv")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: pyenvRoot + "/versions")) ?? []
        // Newest first by numeric version ("3.13.0" before "3.9.18"); the first that starts wins.
        let numbered = versions.map { name in (name, name.split(separator: ".").map { Int($0) ?? -1 }) }
            .sorted { $0.1.lexicographicallyPrecedes($1.1) }
        for (version, _) in numbered.reversed() {
            let candidate = URL(fileURLWithPath: pyenvRoot + "/versions/" + version + "/bin/python3")
            guard FileManager.default.isExecutableFile(atPath: candidate.path),
                  let found = Self.version(of: candidate) else { continue }
            if found > (best?.version ?? 0) { best = (candidate, found) }
            break
        }
        guard let best else { throw LintError.pythonNotFound(searchPath: searchPath) }
        self.python = best.url
    }

    /// `sys.hexversion` of the interpreter at `url`, nil when it does not start.
    static func version(of url: URL) -> Int? {
        let process = Process()
        process.executableURL = url
        process.arguments = ["-I", "-S", "-c", "import sys; print(sys.hexversion)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Parses every input; results in input order. A syntax error is a ``LintError/syntax``.
    public func parse(_ inputs: [Input], processes: Int = 2) throws -> [PyNode] {
        if inputs.isEmpty { return [] }
        let batchCount = max(1, min(processes, inputs.count))
        var batches: [[Input]] = Array(repeating: [], count: batchCount)
        for (offset, input) in inputs.enumerated() { batches[offset % batchCount].append(input) }
        let running = try batches.map { try start($0) }
        let outputs = try running.map { try finish($0) }
        let slots = ResultSlots<Result<[PyNode], LintError>>(count: batchCount)
        let batchInputs = batches
        DispatchQueue.concurrentPerform(iterations: batchCount) { index in
            do {
                slots.set(index, .success(try decode(outputs[index], inputs: batchInputs[index])))
            } catch let error as LintError {
                slots.set(index, .failure(error))
            } catch {
                slots.set(index, .failure(.parserOutputUnreadable(detail: "\(error)")))
            }
        }
        let decoded = try slots.values.map { slot -> [PyNode] in
            guard let slot else { throw LintError.parserOutputUnreadable(detail: "a batch was not decoded") }
            return try slot.get()
        }
        var results: [PyNode] = []
        results.reserveCapacity(inputs.count)
        for offset in inputs.indices { results.append(decoded[offset % batchCount][offset / batchCount]) }
        return results
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

    private func decode(_ data: Data, inputs: [Input]) throws -> [PyNode] {
        let schema = PyTreeSchema()
        let decoder = JSONDecoder()
        decoder.userInfo[PyTreeSchema.key] = schema
        let output: ParserOutput
        do { output = try decoder.decode(ParserOutput.self, from: data) } catch {
            throw LintError.parserOutputUnreadable(detail: "\(error)")
        }
        guard output.results.count == inputs.count else {
            throw LintError.parserOutputUnreadable(
                detail: "\(output.results.count) trees for \(inputs.count) inputs")
        }
        return try zip(inputs, output.results).map { input, result in
            if let tree = result.tree?.node { return tree }
            throw LintError.syntax(
                file: input.name, line: result.line ?? 0, message: result.error ?? "unknown parser error")
        }
    }
}
