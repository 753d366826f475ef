import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Thin, bounds-checked bridge to OpenBLAS' `cblas_sgemm` for row-major float32 matrices.
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
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc)
        )
    }

    /// Number of threads OpenBLAS uses for one call.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// Stops OpenBLAS's idle worker threads; its next multi-threaded call starts them again.
    ///
    /// The pthread build starts its workers when the library loads, and each one spins (yielding in
    /// a loop) for about 0.1 s before it sleeps. A short command that never multiplies matrices,
    /// such as `verify inspect`, would lose a core to that spinning. OpenBLAS restarts its workers by
    /// itself on the next threaded call (the path a forked child takes after its fork handler stops
    /// them), so later BLAS work pays only the thread start. Builds without the function (OpenMP,
    /// serial) are left as they are.
    public static func parkIdleWorkers() {
        #if os(Linux)
        typealias Shutdown = @convention(c) () -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") else { return }
        _ = unsafeBitCast(symbol, to: Shutdown.self)()
        #endif
    }
}
