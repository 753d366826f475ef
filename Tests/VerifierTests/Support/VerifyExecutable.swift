import Foundation
import Testing

/// Runs the `verify` executable that `swift test` builds next to the test bundle, as a user would.
enum VerifyExecutable {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The built binary: beside the test bundle (any build configuration), else `.build/debug/verify`.
    static let url: URL? = {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("verify"))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("verify"))
        }
        candidates.append(Paths.packageRoot.appendingPathComponent(".build/debug/verify"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs `verify arguments`, with `environment` added to this process's. A missing binary fails
    /// the test rather than skipping it: `swift test` links the executable before it runs the tests.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let binary = try #require(url, "the verify executable was not built next to the tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread so that neither pipe can fill up and stall the child.
        nonisolated(unsafe) var stderr = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            stderr = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }
}
