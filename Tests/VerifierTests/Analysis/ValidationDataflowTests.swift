import Foundation
import Testing
@testable import Verifier

/// Validation content (tokens, losses) against validation extent (sizes, counts, positions):
/// loops may stop at a count derived from validation data, training may not stop or keep a
/// checkpoint by a validation loss.
@Suite struct ValidationDataflowTests {
    private func findings(_ fixture: String) throws -> [Finding] {
        try Linter(parser: try PythonParser()).lint(files: [Paths.fixture("lint/dataflow/\(fixture)").path])
    }

    @Test func loopBoundsDerivedFromValidationSizesAreClean() throws {
        #expect(try findings("val-loop-bounds-legal.py").isEmpty)
    }

    /// Validation tensors carried through `list.append` reach the probe; the probe is a scratch
    /// module the function builds and drops, so no submitted weights are trained on them.
    @Test func scratchProbeOnValidationFeaturesIsNotPreQuantTTT() throws {
        #expect(try findings("val-probe-legal.py").isEmpty)
    }

    @Test func decisionsFromValidationLossesAreFlagged() throws {
        let url = Paths.fixture("lint/dataflow/val-decisions-illegal.py")
        let marked = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().filter { $0.element.contains("# expect: PG-VAL-IN-TRAINING") }.map { $0.offset + 1 }
        let found = try findings("val-decisions-illegal.py")
        #expect(found.map(\.line) == marked)
        #expect(found.allSatisfy { $0.rule == "PG-VAL-IN-TRAINING" && $0.severity == .error })
    }

    @Test func extentKeepsParameterBitsApart() {
        let content = DataLabels.parameter(2).union(.validation)
        let extent = content.extent
        #expect(!extent.contains(.validation))
        #expect(extent.contains(.validationExtent))
        #expect(extent.parameters.isEmpty)
        // Substituting an argument of validation content into an extent bit yields only extent.
        let substituted = extent.substituting([[], [], [.validation, .target]])
        #expect(substituted == [.validationExtent])
        #expect(DataLabels.parameter(2).substituting([[], [], [.validation]]) == [.validation])
    }
}
