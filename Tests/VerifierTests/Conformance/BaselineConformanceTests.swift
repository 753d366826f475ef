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

