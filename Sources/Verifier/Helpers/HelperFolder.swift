import Foundation

/// Temporary folders for helper programs' files, named `pgverify-<purpose>-<pid>-<uuid>`.
///
/// The caller removes its folder on every way out; one left behind by a pgverify that was killed
/// (`kill -9` runs no cleanup) is removed by the next run that creates a folder, once no process
/// with that id is alive.
enum HelperFolder {
    static func create(purpose: String) throws -> URL {
        let temporary = FileManager.default.temporaryDirectory
        removeAbandoned(purpose: purpose, in: temporary)
        let folder = temporary.appendingPathComponent("pgverify-\(purpose)-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        return folder
    }

    /// Removes folders of `purpose` whose creating process is gone.
    static func removeAbandoned(purpose: String, in temporary: URL) {
        let prefix = "pgverify-\(purpose)-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporary.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            // kill(pid, 0) fails with ESRCH only when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
    }
}
