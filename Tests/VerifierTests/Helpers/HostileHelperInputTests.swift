import Foundation
import Reference
import Testing
@testable import Verifier

/// Inputs that make a helper program spin or grow: each ends in a typed error naming the file and
/// the limit, within the limit, and leaves no process or temporary folder behind.
@Suite struct HostileHelperInputTests {
    static let spinning = "hostile/lrzip_spins.ptz"

    /// This process's lrzip folders (the temporary folders of other processes' runs are theirs).
    static func ownLRZipFolders() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)) ?? []
        return names.filter { $0.hasPrefix("pgverify-lrzip-\(getpid())-") }
    }

    /// Whether this process holds no lrzip folder within `seconds`: tests running beside this one in the
    /// same process decode lrzip streams too, and their folders exist while they run; a folder this
    /// test leaked would stay.
    static func ownLRZipFoldersAreGone(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !ownLRZipFolders().isEmpty {
            if Date() > deadline { return false }
            usleep(100_000)
        }
        return true
    }

    @Test func spinningLRZipStreamEndsAtTheWallClockLimit() throws {
        var limits = HelperLimits.defaults
        limits.wallSeconds = 2
        let start = Date()
        do {
            _ = try ArtifactReader.read(url: Paths.fixture(Self.spinning), options: .init(helperLimits: limits))
            Issue.record("the spinning stream was read")
        } catch {
            guard case .helperLimitExceeded(let location, let program, let limit) = error else {
                Issue.record("expected helperLimitExceeded, got \(error)"); return
            }
            #expect(program == "lrzip")
            #expect(limit == .wallClock(seconds: 2))
            #expect(location.file.hasSuffix("lrzip_spins.ptz > PGRP stream 0 (_tok_emb.weight.q)"))
            #expect(error.description.contains("the wall-clock limit of 2 s (PGVERIFY_HELPER_TIMEOUT)"))
        }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(Self.ownLRZipFoldersAreGone(within: 120), "\(Self.ownLRZipFolders())")
    }

    @Test func spinningLRZipStreamIsBadInputForInspect() throws {
        let outcome = try VerifyExecutable.run(["inspect", Paths.fixture(Self.spinning).path],
                                               environment: ["PGVERIFY_HELPER_TIMEOUT": "1"])
        #expect(outcome.status == ExitStatus.badInput.rawValue)
        #expect(outcome.stderr.contains("lrzip_spins.ptz > PGRP stream 0 (_tok_emb.weight.q): lrzip reached the wall-clock limit of 1 s"))
    }

    @Test func killingVerifyKillsItsHelper() throws {
        let binary = try #require(VerifyExecutable.url)
        let verify = Process()
        verify.executableURL = binary
        verify.arguments = ["inspect", Paths.fixture(Self.spinning).path]
        verify.environment = ProcessInfo.processInfo.environment.merging(["PGVERIFY_HELPER_TIMEOUT": "60"]) { _, new in new }
        verify.standardOutput = FileHandle.nullDevice
        verify.standardError = FileHandle.nullDevice
        try verify.run()
        let pid = verify.processIdentifier
        // lrzip starts once the remainder is unpacked (well under a second).
        var helpers: [Int32] = []
        let deadline = Date().addingTimeInterval(20)
        while helpers.isEmpty && Date() < deadline && verify.isRunning {
            usleep(20_000)
            helpers = ProcessTable.children(of: pid)
        }
        let helper = try #require(helpers.first, "verify started no helper")
        kill(pid, SIGKILL)
        verify.waitUntilExit()
        #expect(ProcessTable.waitUntilGone(helper, seconds: 3), "lrzip \(helper) outlived verify")
        // kill -9 ran no cleanup; the next helper folder created sweeps the abandoned one.
        let temporary = FileManager.default.temporaryDirectory
        let abandoned = { ((try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [])
            .filter { $0.hasPrefix("pgverify-lrzip-\(pid)-") } }
        HelperFolder.removeAbandoned(purpose: "lrzip", in: temporary)
        #expect(abandoned().isEmpty)
    }

    // MARK: the Python parser

    static func writeTemporary(_ name: String, _ text: String) throws -> URL {
        let folder = try HelperFolder.create(purpose: "test")
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: false, encoding: .utf8)
        return url
    }

    @Test func codeFilesOverTheSizeLimitAreRefusedBeforeParsing() throws {
        let small = try Self.writeTemporary("small.py", "x = 1\n")
        let large = try Self.writeTemporary("large.py", String(repeating: "y = 2\n", count: 100))
        defer { for url in [small, large] { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) } }
        var parser = try PythonParser()
        #expect(parser.maxSourceBytes == 16_000_000)
        parser.maxSourceBytes = 599
        #expect(throws: LintError.fileTooLarge(file: large.path, bytes: 600, limit: 599)) {
            try parser.parse([.file(path: small.path), .file(path: large.path)])
        }
        parser.maxSourceBytes = 600
        #expect(try parser.parse([.file(path: large.path)]).count == 1)
        #expect(try PythonParser(environment: ProcessInfo.processInfo.environment.merging(
            ["PGVERIFY_MAX_CODE_BYTES": "2M"]) { _, new in new }).maxSourceBytes == 2 << 20)
    }

    @Test func parserMemoryLimitNamesTheFileBeingParsed() throws {
        var parser = try PythonParser()
        parser.limits.memoryBytes = 200 << 20
        // A million assignments need far more than 200 MiB as Python syntax trees (~1 GB).
        let heavy = String(repeating: "a = b\n", count: 1_000_000)
        #expect(throws: LintError.parserLimitExceeded(file: "heavy.py", limit: .memory(bytes: 200 << 20))) {
            try parser.parse([.source(name: "light.py", text: "x = 1\n"), .source(name: "heavy.py", text: heavy)], processes: 1)
        }
    }

    @Test func parserWallClockLimitNamesTheFileBeingParsed() throws {
        // A stand-in interpreter: answers the version probe, then announces input 1 and hangs.
        let script = try Self.writeTemporary("python3", """
            #!/bin/sh
            case "$4" in *hexversion*) echo 51249392; exit 0;; esac
            cat > /dev/null
            echo "@pgverify-parsing 0" >&2
            echo "@pgverify-parsing 1" >&2
            exec sleep 60
            """)
        defer { try? FileManager.default.removeItem(at: script.deletingLastPathComponent()) }
        chmod(script.path, 0o755)
        var parser = try PythonParser(environment: ["PGVERIFY_PYTHON": script.path, "PATH": "/usr/bin:/bin"])
        parser.limits.wallSeconds = 0.5
        let start = Date()
        #expect(throws: LintError.parserLimitExceeded(file: "second.py", limit: .wallClock(seconds: 0.5))) {
            try parser.parse([.source(name: "first.py", text: "x = 1\n"), .source(name: "second.py", text: "y = 2\n")], processes: 1)
        }
        #expect(Date().timeIntervalSince(start) < 3)
    }
}

/// An interpreter older than 3.12 rejects valid 3.12 code: that is an incomplete analysis naming
/// the file and the interpreter, never a pass and never "not valid Python".
@Suite struct OlderPythonTests {
    static let python311 = "/usr/bin/python3.11"
    /// Valid from Python 3.12 on (PEP 701: the same quotes inside an f-string's braces).
    static let newSyntax = "x = {\"a\": 1}\ny = f\"{x[\"a\"]}\"\n"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: python311)))
    func syntaxNewIn312IsIncompleteUnderPython311() throws {
        let parser = try PythonParser(environment: ["PGVERIFY_PYTHON": Self.python311])
        #expect(parser.pythonVersion >> 16 == 0x030b)
        do {
            _ = try parser.parse([.source(name: "new.py", text: Self.newSyntax)])
            Issue.record("Python 3.11 parsed 3.12 syntax")
        } catch let error as LintError {
            #expect(error.mayBeNewerSyntax)
            #expect(error.description.hasPrefix("new.py:2: cannot be parsed: "))
            #expect(error.description.contains("the parser is Python 3.11 (\(Self.python311))"))
            #expect(error.description.contains("may be valid and was not analysed"))
        }
        let file = try HostileHelperInputTests.writeTemporary("new.py", Self.newSyntax)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let outcome = try VerifyExecutable.run(["lint", file.path], environment: ["PGVERIFY_PYTHON": Self.python311])
        #expect(outcome.status == ExitStatus.incomplete.rawValue)
        #expect(outcome.stderr.contains("incomplete: \(file.path):2: cannot be parsed"))
    }

    @Test func python312OrNewerParsesIt() throws {
        let parser = try PythonParser()
        try #require(parser.pythonVersion >= PythonParser.preferredVersion, "no Python 3.12+ found to parse with")
        #expect(parser.olderPythonNote == nil)
        #expect(try parser.parse([.source(name: "new.py", text: Self.newSyntax)]).count == 1)
    }
}
