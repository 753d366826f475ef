#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Reference

/// Reads a whole file straight into an array (no `Data` in between, no second copy).
enum FileBytes {
    static func read(_ path: String) throws(ArtifactError) -> [UInt8] {
        let location = InputLocation(file: path)
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .unreadable(location, detail: systemError()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(location, detail: systemError()) }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(location, detail: "not a regular file")
        }
        let size = Int(status.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            while initialized < size {
                let got = systemRead(descriptor, base + initialized, size - initialized)
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = systemError()
                    return
                }
                if got == 0 { break }  // the file shrank while we read it
                initialized += got
            }
        }
        if let failure { throw .unreadable(location, detail: failure) }
        return bytes
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}

#if canImport(Glibc)
private let systemRead = Glibc.read
#else
private let systemRead = Darwin.read
#endif
