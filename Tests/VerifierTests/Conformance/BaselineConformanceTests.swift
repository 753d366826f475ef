import Foundation
import Reference
import Testing
@testable import Verifier

@Suite struct BaselineConformanceTests {
    @Test func baselineCodeMatchesTheReference() throws {
        let match = try ConformanceSupport.check(try ConformanceSupport.baselineSource)
        #expect(match.architecture.contains("baseline GPT"))
    }
}


/// Self-extracting code is matched on the code it decodes to, never run.
@Suite struct ArchitectureConformanceWrapperTests {
    @Test func wrappedBaselineIsMatched() throws {
        let config = ConformanceSupport.baselineConfig
        let match = try ArchitectureConformance.checkBaseline(
            code: Paths.fixture("conformance/wrapped-baseline.py"), config: config,
            parameterShapes: ConformanceSupport.shapes(config))
        #expect(match.file.hasSuffix("wrapped-baseline.py (decoded from its self-extracting wrapper)"))
    }

    @Test func wrappedEditIsRefusedAtItsDecodedLine() throws {
        let config = ConformanceSupport.baselineConfig
        #expect {
            try ArchitectureConformance.checkBaseline(
                code: Paths.fixture("conformance/wrapped-leaky-relu.py"), config: config,
                parameterShapes: ConformanceSupport.shapes(config))
        } throws: { error in
            guard case .architectureNotMatched(let file, let line, let detail, _)? = error as? ModelConfigError else { return false }
            return file.hasSuffix("(decoded from its self-extracting wrapper)") && line == 616 && detail.contains("leaky_relu(negative_slope=0.5)")
        }
    }
}
