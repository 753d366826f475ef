import Testing
import Reference
@testable import Verifier

@Suite struct ExitStatusTests {
    struct TruncatedFile: InputError {
        var description: String { "model.ptz: at byte 12: truncated" }
    }

    @Test func documentedCodes() {
        #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 2, 3])
    }

    @Test func inputErrorsAreBadInput() {
        #expect(ExitStatus.forError(TruncatedFile()) == .badInput)
        #expect(ExitStatus.forError(ExitStatus.incomplete) == .incomplete)
    }

    @Test func locationNamesFileAndOffset() {
        #expect(InputLocation(file: "a.ptz", offset: 42).description == "a.ptz: at byte 42")
        #expect(InputLocation(file: "a.ptz").description == "a.ptz")
    }
}
