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

    /// A block of `__init__` that cannot be read, setting attributes through a loop variable it never
    /// bound, is refused for what could not be read (the `if` on a setting the reference does not
    /// state), not for the loop variable.
    @Test func unreadableInitialiserBlockIsRefusedForItsCondition() throws {
        let source = try CodeEdit(name: "loop under an unknown setting", edits: [(
            "        self._init_weights()\n\n    def _init_weights(self) -> None:",
            "        if rope_dims > 0:\n            for block in self.blocks:\n                block.attn.rope_dims = rope_dims\n"
                + "        self._init_weights()\n\n    def _init_weights(self) -> None:")], expected: "", line: 0)
            .apply(to: try ConformanceSupport.baselineSource)
        #expect {
            try ConformanceSupport.check(source)
        } throws: { error in
            guard case .architectureNotMatched(_, let line, let detail, _)? = error as? ModelConfigError else { return false }
            return line == 691 && detail.contains("`if rope_dims > 0:`: uses 'rope_dims'") && !detail.contains("'block'")
        }
    }
}
