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
    /// Its `sys.hexversion` (0x030c0000 and up is 3.12+).
    public let pythonVersion: Int
    /// The limits the parser process runs under.
    public var limits: HelperLimits
    /// Larger code files are refused before parsing (``LintError/fileTooLarge(file:bytes:limit:)``).
    public var maxSourceBytes: Int

    /// The submission cap: a code file larger than the whole submission may be cannot be part of a
    /// valid one. The largest `train_gpt.py` among the challenge's records is 1.6 MB.
    public static let defaultMaxSourceBytes = 16_000_000
    /// The environment variable that sets ``maxSourceBytes`` (bytes, K/M/G suffixes allowed).
    public static let maxSourceBytesVariable = "PGVERIFY_MAX_CODE_BYTES"
    /// Python 3.12 (PEP 701 f-strings, used by decoded wrappers) as `sys.hexversion`.
    static let preferredVersion = 0x030c_0000

    /// Uses `PGVERIFY_PYTHON` when set; otherwise the newest of `python3.14`, `python3.13`,
    /// `python3.12`, `python3` on `PATH` that starts (decoded wrappers use 3.12 f-string syntax),
    /// then pyenv's installed versions when `PATH` offers nothing newer than 3.11. Limits come from
    /// ``HelperLimits/fromEnvironment(_:)`` and `PGVERIFY_MAX_CODE_BYTES`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        do { limits = try HelperLimits.fromEnvironment(environment) } catch {
            throw LintError.invalidSetting(error.description)
        }
        maxSourceBytes = Self.defaultMaxSourceBytes
        if let text = environment[Self.maxSourceBytesVariable] {
            guard let bytes = HelperLimits.byteCount(text) else {
                throw LintError.invalidSetting("\(Self.maxSourceBytesVariable)=\(text): expected a positive number of bytes (K, M, G suffixes allowed)")
            }
            maxSourceBytes = bytes
        }
        (python, pythonVersion) = try Self.locate(environment: environment)
    }

    private static func locate(environment: [String: String]) throws -> (URL, Int) {
        if let override = environment["PGVERIFY_PYTHON"], !override.isEmpty {
            guard let found = Self.version(of: URL(fileURLWithPath: override)) else {
                throw LintError.pythonNotFound(searchPath: "PGVERIFY_PYTHON=\(override)")
            }
            return (URL(fileURLWithPath: override), found)
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
            if let best, best.version >= preferredVersion { return best }
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
        return best
    }

    /// `sys.hexversion` of every interpreter, nil for one that does not start; all are started
    /// before any is waited for. Results in input order.
    static func versions(of urls: [URL]) -> [Int?] {
        // A probe prints one line at once; one that does not is not a usable interpreter.
        let probeLimits = HelperLimits(wallSeconds: 20, cpuSeconds: 20, memoryBytes: 1 << 30, outputBytes: 1 << 10)
        let slots = ResultSlots<Int>(count: urls.count)
        DispatchQueue.concurrentPerform(iterations: urls.count) { index in
            guard let ended = try? HelperProcess.run(urls[index], arguments: ["-I", "-S", "-c", "import sys; print(sys.hexversion)"],
                                                     limits: probeLimits), ended.succeeded else { return }
            let text = String(decoding: ended.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if let version = Int(text) { slots.set(index, version) }
        }
        return slots.values
    }

    /// `sys.hexversion` of the interpreter at `url`, nil when it does not start.
    static func version(of url: URL) -> Int? {
        versions(of: [url])[0]
    }

    /// Parses every input; results in input order. A syntax error is a ``LintError/syntax``; an
    /// input over ``maxSourceBytes`` is refused before any parsing starts.
    ///
    /// Inputs are spread over `processes` subprocesses by size (largest first, each to the least
    /// loaded), so the processes finish together; each batch is decoded as soon as its process ends.
    public func parse(_ inputs: [Input], processes: Int = 2) throws -> [PyNode] {
        if inputs.isEmpty { return [] }
        let sizes = inputs.map(Self.size(of:))
        for (input, size) in zip(inputs, sizes) where size > maxSourceBytes {
            throw LintError.fileTooLarge(file: input.name, bytes: size, limit: maxSourceBytes)
        }
        let batchCount = max(1, min(processes, inputs.count))
        var batches: [[Int]] = Array(repeating: [], count: batchCount)
        var loads = Array(repeating: 0, count: batchCount)
        for offset in inputs.indices.sorted(by: { (sizes[$0], $1) > (sizes[$1], $0) }) {
            let lightest = loads.indices.min { loads[$0] < loads[$1] } ?? 0
            batches[lightest].append(offset)
            loads[lightest] += sizes[offset]
        }
        let batchInputs = batches.map { batch in batch.sorted().map { inputs[$0] } }
        batches = batches.map { $0.sorted() }
        let slots = ResultSlots<Result<[PyTreeReader.Outcome], LintError>>(count: batchCount)
        DispatchQueue.concurrentPerform(iterations: batchCount) { index in
            do {
                slots.set(index, .success(try PyTreeReader.read(Data(try run(batchInputs[index])))))
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
            case .error(let line, let message)?:
                throw LintError.syntax(file: input.name, line: line, message: message, olderPython: olderPythonNote)
            case nil: throw LintError.parserOutputUnreadable(detail: "no result for \(input.name)")
            }
        }
    }

    /// Said with a syntax error met by an interpreter older than 3.12, which rejects valid 3.12 code;
    /// nil for 3.12 and newer.
    var olderPythonNote: String? {
        guard pythonVersion < Self.preferredVersion else { return nil }
        let major = pythonVersion >> 24, minor = (pythonVersion >> 16) & 0xff
        return "the parser is Python \(major).\(minor) (\(python.path)), which rejects syntax new in 3.12 such as quotes nested in f-strings, so this file may be valid and was not analysed; install python3.12 or newer, or point PGVERIFY_PYTHON at one"
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

    /// Runs the parser on one batch under ``limits``; its standard output (the trees).
    ///
    /// The script names each input on standard error before parsing it, so a limit met on the way
    /// is reported against the input being parsed.
    private func run(_ batch: [Input]) throws -> [UInt8] {
        let request: [[String: String]] = batch.map { input in
            switch input {
            case .file(let path): return ["name": path, "path": path]
            case .source(let name, let text): return ["name": name, "source": text]
            }
        }
        let payload = Array(try JSONEncoder().encode(request))
        let ended: HelperProcess.Ended
        do {
            ended = try HelperProcess.run(python, arguments: ["-I", "-S", "-c", Self.script], input: payload, limits: limits)
        } catch {
            switch error {
            case .cannotStart(let detail):
                throw LintError.parserFailed(status: -1, detail: "cannot start \(python.path): \(detail)")
            case .limitExceeded(let limit, let errorTail):
                throw LintError.parserLimitExceeded(file: Self.current(in: errorTail, of: batch), limit: limit)
            }
        }
        guard ended.succeeded else {
            // 75: the script ran out of memory while parsing; a MemoryError elsewhere ends with a traceback.
            if ended.exitStatus == Self.memoryExitStatus || ended.errorTail.contains("MemoryError") {
                throw LintError.parserLimitExceeded(file: Self.current(in: ended.errorTail, of: batch),
                                                    limit: .memory(bytes: limits.memoryBytes))
            }
            let detail = ended.errorTail.split(separator: "\n").filter { !$0.hasPrefix(Self.itemMarker) }.joined(separator: "\n")
            throw LintError.parserFailed(status: ended.exitStatus ?? -(ended.signal ?? 0), detail: String(detail.suffix(2000)))
        }
        return ended.output
    }

    /// What the script writes to standard error before each input: the marker and the input's index.
    static let itemMarker = "@pgverify-parsing "
    /// The script's exit status when parsing ran out of memory.
    static let memoryExitStatus: Int32 = 75

    /// The name of the last input the script announced in `errorTail` (the batch when none was).
    private static func current(in errorTail: String, of batch: [Input]) -> String {
        let announced = errorTail.split(separator: "\n").last { $0.hasPrefix(itemMarker) }
            .flatMap { Int($0.dropFirst(itemMarker.count)) }
        if let announced, batch.indices.contains(announced) { return batch[announced].name }
        return batch.map(\.name).joined(separator: ", ")
    }
}
