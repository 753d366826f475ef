import Foundation
import COpenBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, bounds-checked bridge to OpenBLAS' `cblas_sgemm` for row-major float32 matrices.
///
/// The library is opened on first use rather than linked: OpenBLAS starts its worker threads when
/// it loads (about 2.5 ms, and each worker then spins for ~0.1 s), which commands that never
/// multiply matrices, such as `verify inspect`, should not pay.
public enum BLAS {
    /// `C = alpha * op(A) · op(B) + beta * C`, all row-major.
    ///
    /// - Parameters:
    ///   - m: rows of `op(A)` and `C`.
    ///   - n: columns of `op(B)` and `C`.
    ///   - k: columns of `op(A)`, rows of `op(B)`.
    ///   - transposeA: use `Aᵀ` (A is stored `k × m`).
    ///   - transposeB: use `Bᵀ` (B is stored `n × k`).
    ///   - lda, ldb, ldc: leading dimensions (row strides) of the stored matrices.
    @inlinable
    public static func sgemm(
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension")
        library().sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc)
        )
    }

    /// Number of threads OpenBLAS uses for one call; a request above this machine's cores gets the
    /// cores (more never helps, and each OpenBLAS thread takes its own buffers: asking for hundreds
    /// under an address-space limit left OpenBLAS retrying its allocation forever).
    public static var threads: Int {
        get { Int(library().getThreads()) }
        set { library().setThreads(Int32(max(1, min(newValue, ProcessInfo.processInfo.activeProcessorCount)))) }
    }

    /// The CPU kernel set OpenBLAS chose (e.g. `Haswell`, `SkylakeX`, `Zen`): machines with different
    /// kernels round sgemm differently in the last bits.
    public static var kernel: String {
        library().coreName.flatMap { $0() }.map { String(cString: $0) } ?? "unknown"
    }

    /// Opens OpenBLAS now, or says why it cannot be: commands that will multiply matrices call this
    /// first, so a missing library is a clear error rather than a stop in the middle of the work.
    public static func requireLibrary() throws(BLASUnavailable) {
        if case .failure(let error) = OpenBLASLibrary.shared { throw error }
    }

    /// The opened library; stops the process with the loader's message when it is missing
    /// (callers that can report it first call ``requireLibrary()``).
    @usableFromInline
    static func library() -> OpenBLASLibrary {
        switch OpenBLASLibrary.shared {
        case .success(let library): return library
        case .failure(let error): fatalError("\(error)")
        }
    }
}

/// OpenBLAS could not be opened.
public struct BLASUnavailable: Error, CustomStringConvertible {
    /// What the dynamic loader said, per name tried.
    public var detail: String
    public var description: String {
        "OpenBLAS could not be loaded (\(detail)); install it with scripts/install-system-deps.sh (Debian: libopenblas0-pthread)"
    }
}

/// The three OpenBLAS functions pgverify calls, looked up once.
@usableFromInline
struct OpenBLASLibrary: Sendable {
    @usableFromInline typealias SGEMM = @convention(c) (
        CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint,
        Float, UnsafePointer<Float>?, blasint, UnsafePointer<Float>?, blasint,
        Float, UnsafeMutablePointer<Float>?, blasint
    ) -> Void

    @usableFromInline let sgemm: SGEMM
    @usableFromInline let getThreads: @convention(c) () -> Int32
    @usableFromInline let setThreads: @convention(c) (Int32) -> Void
    /// `openblas_get_corename`, where the library has it.
    let coreName: (@convention(c) () -> UnsafePointer<CChar>?)?

    /// The library names tried, in order.
    static let names = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]

    @usableFromInline static let shared: Result<OpenBLASLibrary, BLASUnavailable> = open(names: names)

    /// Opens the first of `names` that loads and has the three functions.
    static func open(names: [String]) -> Result<OpenBLASLibrary, BLASUnavailable> {
        var messages: [String] = []
        for name in names {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else {
                messages.append(dlerror().map { String(cString: $0) } ?? "\(name): not found")
                continue
            }
            guard let sgemm = dlsym(handle, "cblas_sgemm"),
                  let getThreads = dlsym(handle, "openblas_get_num_threads"),
                  let setThreads = dlsym(handle, "openblas_set_num_threads") else {
                messages.append("\(name) lacks cblas_sgemm or openblas_{get,set}_num_threads")
                continue
            }
            return .success(OpenBLASLibrary(
                sgemm: unsafeBitCast(sgemm, to: SGEMM.self),
                getThreads: unsafeBitCast(getThreads, to: (@convention(c) () -> Int32).self),
                setThreads: unsafeBitCast(setThreads, to: (@convention(c) (Int32) -> Void).self),
                coreName: dlsym(handle, "openblas_get_corename").map {
                    unsafeBitCast($0, to: (@convention(c) () -> UnsafePointer<CChar>?).self)
                }))
        }
        return .failure(BLASUnavailable(detail: messages.joined(separator: "; ")))
    }
}
