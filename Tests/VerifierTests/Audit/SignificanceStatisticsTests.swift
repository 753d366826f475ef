import Foundation
import Testing
@testable import Verifier

/// pgverify's own Student t CDF, incomplete beta and one-sided t-tests against SciPy's values
/// (`fixtures/audit/*-golden.tsv`, written by `tools/make_significance_goldens.py`).
@Suite struct SignificanceStatisticsTests {
    static func rows(_ name: String) throws -> [[String]] {
        let text = try String(contentsOf: Paths.fixture("audit/\(name)"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst()
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func studentTAndIncompleteBetaMatchSciPy() throws {
        let rows = try Self.rows("student-t-golden.tsv")
        #expect(rows.count == 186)
        for row in rows {
            let x = try #require(Double(row[1])), a = try #require(Double(row[2])), expected = try #require(Double(row[4]))
            let actual: Double?
            if row[0] == "t_cdf" {
                actual = StudentT.cdf(x, degreesOfFreedom: a)
            } else {
                actual = IncompleteBeta.regularized(x: x, a: a, b: try #require(Double(row[3])))
            }
            let value = try #require(actual, "\(row)")
            // Relative accuracy on small tails, absolute elsewhere.
            #expect(abs(value - expected) <= max(1e-12, 1e-9 * expected), "\(row): \(value)")
        }
    }

    @Test func oneSidedTestsMatchSciPy() throws {
        let rows = try Self.rows("improvement-test-golden.tsv")
        #expect(rows.count == 6)
        for row in rows {
            let new = row[0].split(separator: ",").compactMap { Double($0) }
            let previous = row[1].split(separator: ",").compactMap { Double($0) }
            let test = try #require(ImprovementTest.run(new: new, previous: previous, margin: 0.005))
            #expect(test.method == (previous.count > 1 ? .welch : .oneSample))
            let t = try #require(Double(row[2])), p = try #require(Double(row[3]))
            #expect(abs(test.t - t) <= 1e-7 * max(1, abs(t)), "\(row): t \(test.t)")
            #expect(abs(test.pValue - p) <= 1e-9, "\(row): p \(test.pValue)")
        }
    }

    @Test func edgeCases() {
        #expect(StudentT.cdf(0, degreesOfFreedom: 3) == 0.5)
        #expect(StudentT.cdf(1, degreesOfFreedom: 0) == nil)
        #expect(StudentT.cdf(.nan, degreesOfFreedom: 3) == nil)
        #expect(IncompleteBeta.regularized(x: 1.5, a: 1, b: 1) == nil)
        #expect(ImprovementTest.run(new: [2.0], previous: [2.1, 2.2], margin: 0.005) == nil)
        #expect(ImprovementTest.run(new: [2.0, 2.01], previous: [], margin: 0.005) == nil)
        // Identical runs far below the previous record: no variance, a certain improvement.
        let certain = ImprovementTest.run(new: [2.0, 2.0], previous: [2.1], margin: 0.005)
        #expect(certain?.pValue == 0)
        #expect(certain?.improvement ?? 0 > 0.09)
    }
}
