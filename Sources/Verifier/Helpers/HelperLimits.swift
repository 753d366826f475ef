import Foundation
import Reference

/// The limits every helper program pgverify starts (python3 as the `ast` parser, `lrzip` for the
/// PGRP format) runs under. The kernel enforces CPU time and memory from before the helper executes;
/// pgverify enforces wall-clock time and output size, and kills the helper's process group at either.
///
/// Each limit can be set in the environment: `PGVERIFY_HELPER_TIMEOUT` (seconds, fractions allowed),
/// `PGVERIFY_HELPER_CPU` (seconds), `PGVERIFY_HELPER_MEMORY` and `PGVERIFY_HELPER_OUTPUT` (bytes, with
/// an optional K, M or G suffix for KiB, MiB, GiB).
public struct HelperLimits: Sendable, Equatable {
    /// Wall-clock seconds before the helper is killed.
    public var wallSeconds: Double
    /// CPU seconds (all threads together) before the kernel stops the helper (RLIMIT_CPU).
    public var cpuSeconds: Int
    /// Bytes of heap and private writable mappings the helper may hold (RLIMIT_DATA).
    public var memoryBytes: Int
    /// Bytes the helper may write to its output (standard output, or the file it decompresses to).
    public var outputBytes: Int

    public init(wallSeconds: Double, cpuSeconds: Int, memoryBytes: Int, outputBytes: Int) {
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.outputBytes = outputBytes
    }

    /// 10 minutes of wall-clock time, 20 minutes of CPU time (lrzip decodes on several threads),
    /// 4 GiB of memory, 2 GiB of output. Parsing the largest code file of the challenge's records
    /// (1.6 MB) takes about a second and 250 MB; lrzip needs about 200 MB for a small stream.
    public static let defaults = HelperLimits(wallSeconds: 600, cpuSeconds: 1200, memoryBytes: 4 << 30, outputBytes: 2 << 30)

    /// The environment variable behind each limit.
    public static let wallVariable = "PGVERIFY_HELPER_TIMEOUT"
    public static let cpuVariable = "PGVERIFY_HELPER_CPU"
    public static let memoryVariable = "PGVERIFY_HELPER_MEMORY"
    public static let outputVariable = "PGVERIFY_HELPER_OUTPUT"

    /// The defaults, overridden by whichever variables `environment` sets; a value that is not a
    /// positive number is an error naming the variable.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(HelperSettingError) -> HelperLimits {
        var limits = defaults
        if let text = environment[wallVariable] {
            guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
                throw HelperSettingError(variable: wallVariable, value: text, expected: "a positive number of seconds")
            }
            limits.wallSeconds = seconds
        }
        if let text = environment[cpuVariable] {
            guard let seconds = Int(text), seconds > 0 else {
                throw HelperSettingError(variable: cpuVariable, value: text, expected: "a positive whole number of seconds")
            }
            limits.cpuSeconds = seconds
        }
        for (variable, keyPath) in [(memoryVariable, \HelperLimits.memoryBytes), (outputVariable, \HelperLimits.outputBytes)] {
            guard let text = environment[variable] else { continue }
            guard let bytes = byteCount(text) else {
                throw HelperSettingError(variable: variable, value: text, expected: "a positive number of bytes (K, M, G suffixes allowed)")
            }
            limits[keyPath: keyPath] = bytes
        }
        return limits
    }

    /// `123`, `64K`, `512M`, `4G` (binary multiples) as bytes; nil unless positive.
    static func byteCount(_ text: String) -> Int? {
        let shifts: [Character: Int] = ["K": 10, "M": 20, "G": 30]
        var digits = Substring(text)
        var shift = 0
        if let last = digits.last?.uppercased().first, let found = shifts[last] {
            shift = found
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value > 0, value <= (Int.max >> shift) else { return nil }
        return value << shift
    }
}

/// An environment variable that sets a helper limit holds something that is not a limit.
public struct HelperSettingError: InputError, Equatable {
    public var variable: String
    public var value: String
    public var expected: String
    public var description: String { "\(variable)=\(value): expected \(expected)" }
}

/// Which limit stopped a helper, with its value, for messages.
public enum HelperLimit: Sendable, Equatable, CustomStringConvertible {
    case wallClock(seconds: Double)
    case cpu(seconds: Int)
    case memory(bytes: Int)
    case output(bytes: Int)

    public var description: String {
        switch self {
        case .wallClock(let seconds):
            return "the wall-clock limit of \(Self.seconds(seconds)) (\(HelperLimits.wallVariable))"
        case .cpu(let seconds):
            return "the CPU-time limit of \(seconds) s (\(HelperLimits.cpuVariable))"
        case .memory(let bytes):
            return "the memory limit of \(bytes) bytes (\(HelperLimits.memoryVariable))"
        case .output(let bytes):
            return "the output limit of \(bytes) bytes (\(HelperLimits.outputVariable))"
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
