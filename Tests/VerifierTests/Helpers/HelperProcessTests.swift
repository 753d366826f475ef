import Foundation
import Testing
@testable import Verifier

/// The limits and process-group handling of helper programs, with the shell as a stand-in helper.
@Suite struct HelperProcessTests {
    static let shell = URL(fileURLWithPath: "/bin/sh")
    static let generous = HelperLimits(wallSeconds: 20, cpuSeconds: 20, memoryBytes: 1 << 30, outputBytes: 1 << 26)

    /// The limit a failed run names, nil when it ran to the end.
    static func limit(of run: () throws(HelperProcess.Failure) -> HelperProcess.Ended) -> HelperLimit? {
        do {
            _ = try run()
            return nil
        } catch {
            if case .limitExceeded(let limit, _) = error { return limit }
            return nil
        }
    }

    @Test func inputIsFedWhileOutputIsReadWithoutDeadlock() throws {
        // 4 MiB each way is far more than a pipe buffer: writing all before reading would block.
        let input = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let ended = try HelperProcess.run(URL(fileURLWithPath: "/bin/cat"), arguments: [], input: input, limits: Self.generous)
        #expect(ended.exitStatus == 0)
        #expect(ended.output == input)
    }

    @Test func wallClockLimitStopsASpinningHelperInTime() {
        var limits = Self.generous
        limits.wallSeconds = 0.5
        let start = Date()
        let limit = Self.limit { () throws(HelperProcess.Failure) in
            try HelperProcess.run(Self.shell, arguments: ["-c", "while :; do :; done"], limits: limits)
        }
        #expect(limit == .wallClock(seconds: 0.5))
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test func cpuLimitIsEnforcedByTheKernel() {
        var limits = Self.generous
        limits.cpuSeconds = 1
        let limit = Self.limit { () throws(HelperProcess.Failure) in
            try HelperProcess.run(Self.shell, arguments: ["-c", "while :; do :; done"], limits: limits)
        }
        #expect(limit == .cpu(seconds: 1))
    }

    @Test func outputLimitStopsReadingAndKills() {
        var limits = Self.generous
        limits.outputBytes = 1 << 20
        let limit = Self.limit { () throws(HelperProcess.Failure) in
            try HelperProcess.run(URL(fileURLWithPath: "/usr/bin/yes"), arguments: [], limits: limits)
        }
        #expect(limit == .output(bytes: 1 << 20))
    }

    @Test func fileOutputLimitIsEnforcedByTheKernel() throws {
        let folder = try HelperFolder.create(purpose: "test")
        defer { try? FileManager.default.removeItem(at: folder) }
        var limits = Self.generous
        limits.outputBytes = 1 << 20
        let limit = Self.limit { () throws(HelperProcess.Failure) in
            try HelperProcess.run(Self.shell, arguments: ["-c", "exec /usr/bin/yes > out"], directory: folder.path,
                                  limits: limits, fileOutput: true)
        }
        #expect(limit == .output(bytes: 1 << 20))
        let written = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("out").path)[.size] as? Int
        #expect(written == 1 << 20)
    }

    @Test func limitsAreSetInTheChildBeforeItRuns() throws {
        let limits = HelperLimits(wallSeconds: 20, cpuSeconds: 7, memoryBytes: 300 << 20, outputBytes: 1 << 20)
        // ulimit reports KiB for -d, seconds for -t.
        let ended = try HelperProcess.run(Self.shell, arguments: ["-c", "ulimit -d; ulimit -t; ulimit -c"], limits: limits)
        #expect(String(decoding: ended.output, as: UTF8.self) == "\(300 << 10)\n7\n0\n")
    }

    @Test func memoryLimitMakesAllocationFail() throws {
        var limits = Self.generous
        limits.memoryBytes = 100 << 20
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        let ended = try HelperProcess.run(python, arguments: ["-c", "x = bytearray(400 << 20)"], limits: limits)
        #expect(ended.exitStatus == 1)
        #expect(ended.errorTail.contains("MemoryError"))
    }

    @Test func theWholeProcessGroupIsKilledAtTheLimit() throws {
        let folder = try HelperFolder.create(purpose: "test")
        defer { try? FileManager.default.removeItem(at: folder) }
        var limits = Self.generous
        limits.wallSeconds = 0.5
        // The helper starts a grandchild and waits; the timeout must take the grandchild too.
        let limit = Self.limit { () throws(HelperProcess.Failure) in
            try HelperProcess.run(Self.shell, arguments: ["-c", "sleep 60 & echo $! > pid; wait"], directory: folder.path, limits: limits)
        }
        #expect(limit == .wallClock(seconds: 0.5))
        let text = try String(contentsOf: folder.appendingPathComponent("pid"), encoding: .utf8)
        let grandchild = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(ProcessTable.waitUntilGone(grandchild, seconds: 3))
    }

    @Test func aMissingProgramCannotStart() {
        #expect(throws: HelperProcess.Failure.self) {
            try HelperProcess.run(URL(fileURLWithPath: "/nonexistent/helper"), arguments: [], limits: Self.generous)
        }
    }

    @Test func environmentSetsEachLimitAndRejectsNonsense() throws {
        let limits = try HelperLimits.fromEnvironment([
            "PGVERIFY_HELPER_TIMEOUT": "2.5", "PGVERIFY_HELPER_CPU": "9",
            "PGVERIFY_HELPER_MEMORY": "512M", "PGVERIFY_HELPER_OUTPUT": "3G",
        ])
        #expect(limits == HelperLimits(wallSeconds: 2.5, cpuSeconds: 9, memoryBytes: 512 << 20, outputBytes: 3 << 30))
        #expect(try HelperLimits.fromEnvironment([:]) == .defaults)
        #expect(throws: HelperSettingError(variable: "PGVERIFY_HELPER_MEMORY", value: "-1",
                                           expected: "a positive number of bytes (K, M, G suffixes allowed)")) {
            try HelperLimits.fromEnvironment(["PGVERIFY_HELPER_MEMORY": "-1"])
        }
        #expect(throws: HelperSettingError.self) { try HelperLimits.fromEnvironment(["PGVERIFY_HELPER_TIMEOUT": "soon"]) }
    }

    @Test func foldersOfDeadProcessesAreRemovedAndLiveOnesKept() throws {
        let temporary = FileManager.default.temporaryDirectory
        // A pid above the kernel's maximum (4194304) belongs to no process.
        let abandoned = temporary.appendingPathComponent("pgverify-test-9999999-abandoned")
        let live = try HelperFolder.create(purpose: "test")
        defer { try? FileManager.default.removeItem(at: live) }
        try FileManager.default.createDirectory(at: abandoned, withIntermediateDirectories: true)
        HelperFolder.removeAbandoned(purpose: "test", in: temporary)
        #expect(!FileManager.default.fileExists(atPath: abandoned.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
    }
}

/// Looks processes up in /proc.
enum ProcessTable {
    /// Whether `pid` exists and is not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    /// Polls until `pid` is gone or a zombie; false if it still runs after `seconds`.
    static func waitUntilGone(_ pid: Int32, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !isRunning(pid) { return true }
            usleep(20_000)
        }
        return !isRunning(pid)
    }

    /// The direct children of `pid` (every thread's).
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task -> [Int32] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0) }
        }
    }
}
