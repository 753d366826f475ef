import CChildProcess
import Foundation

/// Runs a helper program under ``HelperLimits``.
///
/// Foundation's `Process` cannot act in the child between fork and exec, so a small C function
/// (`pgv_spawn`) starts the helper: in a process group of its own, with RLIMIT_CPU, RLIMIT_DATA and
/// RLIMIT_FSIZE set, SIGKILL as its parent-death signal (the helper dies with pgverify, even with a
/// `kill -9`), and no descriptor but its three standard streams. pgverify feeds its input and reads
/// its output without blocking, and kills the whole group at the wall-clock or output limit and after
/// every run (nothing the helper started outlives it).
enum HelperProcess {
    /// How a helper ended.
    struct Ended {
        /// The exit status, or nil when a signal ended it.
        var exitStatus: Int32?
        /// The signal that ended it, if any.
        var signal: Int32?
        /// Its standard output (at most the output limit).
        var output: [UInt8]
        /// The last ``errorTailBytes`` of its standard error.
        var errorTail: String
        /// Its peak resident memory in bytes as the kernel reports it, which includes pgverify's own
        /// at the moment it started (the helper is started with vfork and runs in pgverify's memory
        /// until `exec`): an upper bound, not the helper's own peak.
        var peakResidentBytes: Int
        /// CPU seconds it used.
        var cpuSeconds: Double

        var succeeded: Bool { exitStatus == 0 }
        /// "status 1" or "signal 9", for messages.
        var summary: String { exitStatus.map { "status \($0)" } ?? "signal \(signal ?? 0)" }
    }

    /// Why a helper produced no result.
    enum Failure: Error {
        /// It could not be started (missing program, no processes left).
        case cannotStart(String)
        /// A limit stopped it; it was killed with its group.
        case limitExceeded(HelperLimit, errorTail: String)
    }

    static let errorTailBytes = 1 << 16

    /// Runs `executable` with `arguments`, `input` on its standard input. `fileOutput` is true for a
    /// helper that writes its result to a file: the output limit then applies to that file (RLIMIT_FSIZE).
    static func run(
        _ executable: URL, arguments: [String], input: [UInt8] = [], directory: String? = nil,
        limits: HelperLimits, fileOutput: Bool = false
    ) throws(Failure) -> Ended {
        var pipes: [Int32] = []
        for _ in 0..<3 {
            var ends: [Int32] = [-1, -1]
            let error = pgv_pipe(&ends)
            guard error == 0 else {
                pipes.forEach { close($0) }
                throw .cannotStart("pipe: \(String(cString: strerror(error)))")
            }
            pipes += ends
        }
        let stdinPipe = Array(pipes[0..<2]), stdoutPipe = Array(pipes[2..<4]), stderrPipe = Array(pipes[4..<6])
        let childEnds = [stdinPipe[0], stdoutPipe[1], stderrPipe[1]]
        var parentEnds = [stdinPipe[1], stdoutPipe[0], stderrPipe[0]]
        defer { for fd in parentEnds where fd >= 0 { close(fd) } }

        let childLimits = pgv_child_limits(
            cpu_seconds: UInt64(limits.cpuSeconds), data_bytes: UInt64(limits.memoryBytes),
            file_bytes: fileOutput ? UInt64(limits.outputBytes) : 0)
        var pid: pid_t = 0
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let spawnError = withCStrings([executable.path] + arguments) { argv in
            withCStrings(environment) { envp in
                pgv_spawn(executable.path, argv, envp, directory, childEnds[0], childEnds[1], childEnds[2], childLimits, &pid)
            }
        }
        for fd in childEnds { close(fd) }
        guard spawnError == 0 else {
            throw .cannotStart("\(executable.path): \(String(cString: strerror(spawnError)))")
        }

        for fd in parentEnds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let deadline = Date().addingTimeInterval(limits.wallSeconds)
        var written = 0
        var output: [UInt8] = []
        var errorTail: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        if input.isEmpty { close(parentEnds[0]); parentEnds[0] = -1 }

        func stop(_ limit: HelperLimit) -> Failure {
            pgv_kill_group(pid)
            var status: Int32 = 0, rss = 0, cpu = 0.0
            _ = pgv_wait(pid, 0, &status, &rss, &cpu)
            return .limitExceeded(limit, errorTail: String(decoding: errorTail, as: UTF8.self))
        }

        // Feed and drain until both output pipes reach their end (the helper exited or closed them).
        while parentEnds[1] >= 0 || parentEnds[2] >= 0 {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw stop(.wallClock(seconds: limits.wallSeconds)) }
            var polled = parentEnds.enumerated().filter { $0.element >= 0 }.map { index, fd in
                pollfd(fd: fd, events: Int16(index == 0 ? POLLOUT : POLLIN), revents: 0)
            }
            let ready = poll(&polled, nfds_t(polled.count), Int32(min(remaining * 1000, 1000).rounded(.up)))
            if ready < 0 && errno != EINTR { throw stop(.wallClock(seconds: limits.wallSeconds)) }
            for entry in polled where entry.revents != 0 {
                if entry.fd == parentEnds[0] {
                    let count = input.withUnsafeBytes { bytes in
                        write(entry.fd, bytes.baseAddress! + written, min(bytes.count - written, 1 << 16))
                    }
                    if count > 0 { written += count }
                    if (count < 0 && errno != EAGAIN && errno != EINTR) || written == input.count {
                        close(entry.fd)
                        parentEnds[0] = -1
                    }
                    continue
                }
                let isOutput = entry.fd == parentEnds[1]
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress!, $0.count) }
                if count > 0 {
                    if isOutput {
                        guard output.count + count <= limits.outputBytes else { throw stop(.output(bytes: limits.outputBytes)) }
                        output.append(contentsOf: buffer[0..<count])
                    } else {
                        errorTail.append(contentsOf: buffer[0..<count])
                        if errorTail.count > errorTailBytes { errorTail.removeFirst(errorTail.count - errorTailBytes) }
                    }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(entry.fd)
                    parentEnds[isOutput ? 1 : 2] = -1
                }
            }
        }
        // The output is complete; the helper still has until the deadline to exit.
        var status: Int32 = 0, rssKiB = 0, cpu = 0.0
        while true {
            let result = pgv_wait(pid, 1, &status, &rssKiB, &cpu)
            if result == 0 { break }
            if result > 0 { throw .cannotStart("wait: \(String(cString: strerror(result)))") }
            if deadline.timeIntervalSinceNow <= 0 { throw stop(.wallClock(seconds: limits.wallSeconds)) }
            usleep(2000)
        }
        // Anything the helper started in its group goes with it.
        pgv_kill_group(pid)
        let exited = status & 0x7f == 0
        let signal = exited ? nil : status & 0x7f
        if let signal, signal == SIGXCPU || (signal == SIGKILL && cpu >= Double(limits.cpuSeconds)) {
            throw .limitExceeded(.cpu(seconds: limits.cpuSeconds), errorTail: String(decoding: errorTail, as: UTF8.self))
        }
        if signal == SIGXFSZ {
            throw .limitExceeded(.output(bytes: limits.outputBytes), errorTail: String(decoding: errorTail, as: UTF8.self))
        }
        return Ended(exitStatus: exited ? (status >> 8) & 0xff : nil, signal: signal, output: output,
                     errorTail: String(decoding: errorTail, as: UTF8.self),
                     peakResidentBytes: rssKiB * 1024, cpuSeconds: cpu)
    }

    /// Calls `body` with `strings` as a NULL-terminated C array that lives for the call.
    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
    ) -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return (copies + [nil]).withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
