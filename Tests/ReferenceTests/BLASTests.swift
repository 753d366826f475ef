import Testing
@testable import Reference

@Suite struct BLASTests {
    @Test func multipliesRowMajorMatrices() {
        // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: -1, count: 4)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(m: 2, n: 2, k: 3, a: pa.baseAddress!, lda: 3,
                               b: pb.baseAddress!, ldb: 2, c: pc.baseAddress!, ldc: 2)
                }
            }
        }
        #expect(c == [58, 64, 139, 154])
    }

    @Test func transposedOperandMatchesExplicitTranspose() {
        // B stored as n×k (like a PyTorch Linear weight): C = A · Bᵀ
        let a: [Float] = [1, 2, 3, 4, 5, 6]          // 2×3
        let bT: [Float] = [7, 9, 11, 8, 10, 12]      // 2×3, rows are columns of B
        var c = [Float](repeating: 0, count: 4)
        a.withUnsafeBufferPointer { pa in
            bT.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(m: 2, n: 2, k: 3, a: pa.baseAddress!, lda: 3,
                               b: pb.baseAddress!, ldb: 3, transposeB: true, c: pc.baseAddress!, ldc: 2)
                }
            }
        }
        #expect(c == [58, 64, 139, 154])
    }

    @Test func libraryOpensOnThisMachine() throws {
        try BLAS.requireLibrary()
        #expect(BLAS.threads >= 1)
    }

    @Test func missingLibraryIsANamedError() {
        guard case .failure(let error) = OpenBLASLibrary.open(names: ["libpgverify-no-such-blas.so.9"]) else {
            Issue.record("a library that does not exist opened")
            return
        }
        #expect(error.description.contains("libpgverify-no-such-blas.so.9"))
        #expect(error.description.contains("scripts/install-system-deps.sh"))
    }
}
