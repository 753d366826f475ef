#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A symbolic link in a submission folder that resolves outside the folder, or to nothing: it is
/// never read through, and the audit reports it (SIZE-LINK-OUTSIDE).
public struct SubmissionLink: Sendable, Equatable {
    /// The link's path relative to the submission folder.
    public var name: String
    /// What the link says it points to, as stored in it.
    public var target: String
}

/// Whether paths stay inside a folder once every symbolic link on the way is resolved.
enum FolderContainment {
    /// The fully resolved path, or `nil` when it resolves to nothing (a dangling link, a loop).
    static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// Whether `path` resolves to `root` itself or to something under it (`root` already resolved).
    static func resolvesInside(_ path: String, root: String) -> Bool {
        guard let target = resolved(path) else { return false }
        return target == root || target.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// The link stored at `path`, or `nil` when `path` is not a symbolic link.
    static func linkTarget(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }
}
