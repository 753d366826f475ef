#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Reference

/// Reads files straight into arrays (no `Data` in between, no second copy).
enum FileBytes {
    /// Opens `path` for reading, refusing anything but a regular file; returns the descriptor (the
    /// caller closes it) and the size `fstat` gives.
    static func openRegular(_ path: String) throws(ArtifactError) -> (descriptor: Int32, size: Int) {
        let location = InputLocation(file: path)
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw .unreadable(location, detail: systemError()) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let detail = systemError()
            close(descriptor)
            throw .unreadable(location, detail: detail)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .unreadable(location, detail: "not a regular file")
        }
        return (descriptor, Int(status.st_size))
    }

    /// The whole file, or its first `limit` bytes.
    static func read(_ path: String, upTo limit: Int = .max) throws(ArtifactError) -> [UInt8] {
        let (descriptor, fileSize) = try openRegular(path)
        defer { close(descriptor) }
        let size = min(fileSize, limit)
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
        if let failure { throw .unreadable(InputLocation(file: path), detail: failure) }
        return bytes
    }

    static func systemError() -> String { String(cString: strerror(errno)) }
}

#if canImport(Glibc)
let systemRead = Glibc.read
#else
let systemRead = Darwin.read
#endif
