#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The verify process's heap policy on Linux with glibc: big allocations come from one heap whose
/// spare room is marked for transparent huge pages.
///
/// Unpacking an artifact writes ~100 MB of fresh memory (the decoded archive, the unshuffled copy,
/// ~70 MB of float32 weights). With 4 KiB pages that is ~25,000 page faults, about as long as
/// brotli's whole decoding on a small VM; 2 MiB pages need ~50. Kernels in the common `madvise`
/// THP mode only give huge pages to memory marked with `MADV_HUGEPAGE`, and glibc marks nothing by
/// default (its `glibc.malloc.hugetlb` tunable is read from the environment at start-up only).
/// So, once at start-up: every thread allocates from the main arena (`M_ARENA_MAX` 1), allocations
/// up to 32 MiB come from the heap rather than their own mappings, the heap grows with 256 MiB of
/// room to spare and is never trimmed, and that room is marked. Memory never touched costs nothing.
///
/// `PGVERIFY_HUGE_PAGES=0` leaves the allocator as it is (Benchmarks/artifact.sh times both).
/// Elsewhere (other C libraries, no `brk` heap) it does nothing.
enum HugePageHeap {
    /// Spare heap room marked for huge pages.
    static let room = 256 << 20
    static let hugePage = 2 << 20

    static func configure() {
        #if os(Linux)
        guard ProcessInfo.processInfo.environment["PGVERIFY_HUGE_PAGES"] != "0" else { return }
        // Looked up at run time: glibc-specific, and `mallopt` is not in Swift's Glibc module.
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        typealias Malloc = @convention(c) (Int) -> UnsafeMutableRawPointer?
        let process = UnsafeMutableRawPointer(bitPattern: 0)  // RTLD_DEFAULT
        guard let malloptSymbol = dlsym(process, "mallopt"), let mallocSymbol = dlsym(process, "malloc") else { return }
        let mallopt = unsafeBitCast(malloptSymbol, to: MallOpt.self)
        let allocate = unsafeBitCast(mallocSymbol, to: Malloc.self)
        let arenaMax: Int32 = -8, mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1, topPad: Int32 = -2
        guard mallopt(arenaMax, 1) == 1, mallopt(mmapThreshold, 32 << 20) == 1,
              mallopt(trimThreshold, Int32(4 * room)) == 1, mallopt(topPad, Int32(room)) == 1 else { return }
        // Grow the heap once (the request is larger than any start-up heap's free top, so brk moves
        // by it plus the padding), then mark the new part.
        let before = Int(bitPattern: sbrk(0))
        free(allocate(16 << 20))
        let after = Int(bitPattern: sbrk(0))
        let start = (before + hugePage - 1) / hugePage * hugePage
        guard after > start + hugePage, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(address, (after - start) / hugePage * hugePage, 14)  // MADV_HUGEPAGE
        #endif
    }
}
