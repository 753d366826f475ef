import Testing
import Reference
@testable import Verifier

@Suite struct JSONValueTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8), file: "s.json") }

    func offset(of text: String) -> Int? {
        do {
            _ = try parse(text)
            return nil
        } catch let SubmissionError.malformedJSON(location, _) {
            return location.offset
        } catch {
            return nil
        }
    }

    @Test func keepsKeyOrderAndNumberLiterals() throws {
        let value = try parse(#"{"b": 1.21474500, "a": [1, -2e3, true, null], "c": "x\u00e9\n"}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a", "c"])
        #expect(value["b"] == .number("1.21474500"))
        #expect(value["b"]?.number == 1.214745)
        #expect(value["a"] == .array([.number("1"), .number("-2e3"), .bool(true), .null]))
        #expect(value["c"] == .string("xé\n"))
    }

    @Test func errorsCarryTheByteOffset() {
        #expect(offset(of: "{\n  \"a\": 1,\n}") == 12)          // trailing comma: the '}' at byte 12
        #expect(offset(of: "{\"a\": 01}") == 6)                 // leading zero
        #expect(offset(of: "{\"a\": \"open}") == 6)             // unterminated string starts at byte 6
        #expect(offset(of: "{\"a\": 1} x") == 9)                // data after the value
        #expect(offset(of: "") == 0)
        #expect(offset(of: String(repeating: "[", count: 300)) == 256)  // nesting limit, no stack overflow
    }

    @Test func malformedMessageNamesFileAndOffset() {
        #expect(throws: SubmissionError.malformedJSON(InputLocation(file: "s.json", offset: 5), reason: "unexpected character '}'")) {
            try parse("{\"a\":}")
        }
    }

    @Test func rendersDeterministically() throws {
        let value = try parse(#"{"z": [1, {"k": "q\"t"}], "a": {}}"#)
        #expect(value.rendered() == "{\n  \"z\": [\n    1,\n    {\n      \"k\": \"q\\\"t\"\n    }\n  ],\n  \"a\": {}\n}")
        #expect(try parse(value.rendered()) == value)
    }
}
