#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// Faults in the pages of a decoder's output buffer on another core, a few MiB ahead of the decoder.
///
/// A fresh multi-megabyte buffer costs one page fault per 4 KiB the first time it is written, and
/// on the single decoding thread those faults add up to a fifth of brotli's decoding time. Here a
/// helper asks the kernel to map the pages ahead of the decoder (`MADV_POPULATE_WRITE`, which maps
/// them writable without touching their contents, so it never races with the decoder's writes), so
/// the decoder finds them ready. It stays a bounded distance ahead, so a stream that ends early
/// never gets much more than it used. Linux only; elsewhere, or on kernels without the advice, it
/// does nothing.
final class PagePopulator: @unchecked Sendable {
    /// How far ahead of the decoder pages are mapped.
    static let lookahead = 4 << 20
    /// Bytes mapped per system call.
    static let step = 512 << 10
    /// Buffers below this size are not worth a helper.
    static let minimumCapacity = 8 << 20

    private let condition = NSCondition()
    private var frontier = 0  // guarded by `condition`
    private var stopped = false  // guarded by `condition`
    private let finished = DispatchSemaphore(value: 0)
    private let start: UnsafeMutableRawPointer
    private let length: Int
    private let page: Int

    /// Starts populating `buffer[0..<capacity]` (page-aligned inside it) as ``advance(to:)`` says the
    /// decoder moves; `nil` when the buffer is small, the machine has one core, or the platform lacks
    /// the advice. Call ``stop()`` before the buffer is freed.
    static func start(_ buffer: UnsafeMutablePointer<UInt8>, capacity: Int) -> PagePopulator? {
        #if os(Linux)
        guard capacity >= minimumCapacity, ParallelParts.maximumParts > 1 else { return nil }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return nil }
        let address = Int(bitPattern: buffer)
        let first = (address + page - 1) / page * page
        let end = (address + capacity) / page * page
        guard end > first, let start = UnsafeMutableRawPointer(bitPattern: first) else { return nil }
        let populator = PagePopulator(start: start, length: end - first, offset: first - address, page: page)
        // Without a thread the decoder simply faults its pages in itself.
        return DetachedThread.start { populator.run() } ? populator : nil
        #else
        return nil
        #endif
    }

    /// Offset of `start` in the caller's buffer.
    private let offset: Int

    private init(start: UnsafeMutableRawPointer, length: Int, offset: Int, page: Int) {
        self.start = start
        self.length = length
        self.offset = offset
        self.page = page
    }

    /// Where populating should reach for a decoder at `frontier`: whole pages, inside the buffer.
    private func target(_ frontier: Int) -> Int { min(length, (frontier + Self.lookahead) / page * page) }

    /// The decoder may now write up to byte `position` of the buffer.
    func advance(to position: Int) {
        condition.lock()
        frontier = position - offset
        condition.signal()
        condition.unlock()
    }

    /// Stops the helper and waits for it, so the buffer can be freed.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    private func run() {
        defer { finished.signal() }
        var populated = 0
        while true {
            condition.lock()
            while !stopped, populated >= target(frontier) { condition.wait() }
            let target = target(frontier)
            let done = stopped
            condition.unlock()
            if done { return }
            let chunk = min(Self.step, target - populated)
            #if os(Linux)
            // MADV_POPULATE_WRITE (Linux 5.14); any failure just ends the help.
            guard madvise(start + populated, chunk, 23) == 0 else { return }
            #endif
            populated += chunk
        }
    }
}
