import Foundation
import Testing
@testable import Verifier

/// The reader of the parser script's binary output, on output built by hand: well-formed, cut
/// short, corrupt, or nested deeper than the script ever writes.
@Suite struct PythonTreeReaderTests {
    /// Strings, node types and one tree, laid out as the parser script writes them.
    static func output(strings: [String], types: [(name: Int32, fields: [Int32])], stream: [Int32]) -> Data {
        let bytes = strings.map { Array($0.utf8) }
        var words: [Int32] = [PyTreeReader.magic, Int32(strings.count), Int32(types.count), 1, Int32(stream.count)]
        words += bytes.map { Int32($0.count) }
        for type in types { words += [type.name, Int32(type.fields.count)] + type.fields }
        words += [0, 0, 0]  // one result: a tree at stream offset 0
        var data = words.withUnsafeBytes { Data($0) }
        for text in bytes { data.append(contentsOf: text) }
        stream.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// `Module(body=[Expr(value=Constant('hi')), Pass()])`; strings: 0 Module, 1 body, 2 Pass,
    /// 3 Expr, 4 value, 5 Constant, 6 hi; node tags are 8 + type index.
    static let small = output(
        strings: ["Module", "body", "Pass", "Expr", "value", "Constant", "hi"],
        types: [(0, [1]), (2, []), (3, [4]), (5, [4])],
        stream: [8, 1, 2, 2, 2, 10, 1, 1, 11, 1, 1, 6, 3, 6, 9, 2, 2])

    static func isUnreadable(_ error: any Error) -> Bool {
        if case .parserOutputUnreadable? = error as? LintError { return true }
        return false
    }

    @Test func wellFormedOutputGivesTheTree() throws {
        let outcomes = try PyTreeReader.read(Self.small)
        guard case .tree(let module)? = outcomes.first, outcomes.count == 1 else {
            Issue.record("expected one tree, got \(outcomes)")
            return
        }
        #expect(module.type == "Module")
        #expect(module.endLine == 2)
        let body = module.children("body")
        #expect(body.map(\.type) == ["Expr", "Pass"])
        #expect(body.first?.child("value")?.stringLiteral == "hi")
        #expect(body.last?.line == 2)
    }

    @Test func everyTruncationIsATypedError() {
        for length in 0..<Self.small.count {
            do {
                _ = try PyTreeReader.read(Self.small.prefix(length))
                Issue.record("a prefix of \(length) bytes was accepted")
            } catch {
                #expect(Self.isUnreadable(error), "prefix of \(length) bytes: \(error)")
            }
        }
    }

    @Test func corruptWordsAreTypedErrors() {
        // Bad magic, a node type out of range, an unknown field tag, a string index out of range.
        var badMagic = Self.small
        badMagic[0] ^= 0xFF
        let corrupt = [
            badMagic,
            Self.output(strings: ["Module", "body"], types: [(0, [1])], stream: [8, 1, 1, 2, 1, 99, 1, 1]),
            Self.output(strings: ["Module", "body"], types: [(0, [1])], stream: [8, 1, 1, 7]),
            Self.output(strings: ["Name", "id"], types: [(0, [1])], stream: [8, 1, 1, 3, 42]),
        ]
        for data in corrupt {
            do {
                _ = try PyTreeReader.read(data)
                Issue.record("corrupt output was accepted")
            } catch {
                #expect(Self.isUnreadable(error), "\(error)")
            }
        }
    }

    @Test func nestingBeyondTheScriptsLimitIsRefusedWithoutRecursingFurther() throws {
        // UnaryOp(operand=UnaryOp(operand=...Name)) nested `levels` deep.
        func chain(_ levels: Int) -> Data {
            var stream: [Int32] = []
            for _ in 0..<levels { stream += [8, 1, 1] }
            stream += [9, 1, 1, 3, 3]
            return Self.output(strings: ["UnaryOp", "operand", "Name", "x", "id"], types: [(0, [1]), (2, [4])], stream: stream)
        }
        _ = try PyTreeReader.read(chain(PyTreeReader.maxDepth))
        do {
            _ = try PyTreeReader.read(chain(PyTreeReader.maxDepth + 1))
            Issue.record("a tree deeper than the limit was accepted")
        } catch {
            #expect(Self.isUnreadable(error), "\(error)")
        }
    }
}
