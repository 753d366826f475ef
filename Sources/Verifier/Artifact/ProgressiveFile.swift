#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Reference

/// A file read into memory by a helper thread while its first bytes are already being decoded.
///
/// Reading a 16 MB artifact costs ~5 ms (the copy out of the page cache and the fresh memory it
/// lands in); a streaming decoder can start on the first megabyte instead of waiting for the last.
/// The reader publishes how many bytes are in; ``waitForBytes(beyond:)`` blocks until more are, or
/// the file is done. The buffer is only written past what was published, so readers of the
/// published part never race with the reader thread.
final class ProgressiveFile: @unchecked Sendable {
    /// Bytes per `read` call, and so the granularity at which the decoder sees progress.
    let chunk: Int

    let path: String
    /// The size `fstat` gave when the file was opened; the file may turn out shorter.
    let expectedSize: Int
    /// The buffer (`expectedSize` bytes); bytes below the published count are final.
    let base: UnsafeMutablePointer<UInt8>

    private let condition = NSCondition()
    private var published = 0  // guarded by `condition`
    private var finished = false  // guarded by `condition`
    private var failure: String?  // guarded by `condition`

    /// Opens `path` and starts reading it on a helper thread, `chunk` bytes per `read` call.
    init(path: String, chunk: Int = 1 << 20) throws(ArtifactError) {
        self.path = path
        self.chunk = max(1, chunk)
        let (descriptor, size) = try FileBytes.openRegular(path)
        expectedSize = size
        base = .allocate(capacity: max(1, expectedSize))
        // The thread holds `self`, so the buffer outlives every write into it. Without a thread (an
        // address-space limit, too many threads) the file is read here, before decoding starts.
        let started = DetachedThread.start { [self] in
            readAll(descriptor)
            close(descriptor)
        }
        if !started {
            readAll(descriptor)
            close(descriptor)
        }
    }

    deinit { base.deallocate() }

    /// Waits until more than `count` bytes are in or the file is done; returns how many are in and
    /// whether that is all of them.
    func waitForBytes(beyond count: Int) throws(ArtifactError) -> (available: Int, complete: Bool) {
        condition.lock()
        defer { condition.unlock() }
        while published <= count, !finished, failure == nil { condition.wait() }
        if let failure { throw .unreadable(InputLocation(file: path, offset: published), detail: failure) }
        return (published, finished)
    }

    /// The whole file, once read.
    func allBytes() throws(ArtifactError) -> [UInt8] {
        Array(UnsafeBufferPointer(start: base, count: try waitForCompletion()))
    }

    /// Waits for the end of the file; returns its length.
    func waitForCompletion() throws(ArtifactError) -> Int {
        var state = try waitForBytes(beyond: 0)
        while !state.complete { state = try waitForBytes(beyond: state.available) }
        return state.available
    }

    private func readAll(_ descriptor: Int32) {
        var total = 0
        while total < expectedSize {
            let got = systemRead(descriptor, base + total, min(chunk, expectedSize - total))
            if got < 0 {
                if errno == EINTR { continue }
                let detail = FileBytes.systemError()
                condition.lock()
                failure = detail
                condition.broadcast()
                condition.unlock()
                return
            }
            if got == 0 { break }  // the file shrank while we read it
            total += got
            condition.lock()
            published = total
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

}
