import Foundation
import Testing
@testable import Verifier

@Suite struct PythonFrontEndTests {
    @Test func treeKeepsPositionsAndFields() throws {
        let parser = try PythonParser()
        let trees = try parser.parse([.source(name: "t.py", text: "import os\n\nx = os.environ.get('A', 3) ^ y\n")])
        let module = try #require(trees.first)
        #expect(module.type == "Module")
        let assign = try #require(module.children("body").last)
        #expect(assign.type == "Assign")
        #expect(assign.line == 3)
        let xor = try #require(assign.child("value"))
        #expect(xor.child("op")?.type == "BitXor")
        #expect(xor.child("left")?.child("func")?.dottedName == "os.environ.get")
        #expect(xor.child("left")?.children("args").last?.constant == .int("3"))
        #expect(assign.children("targets").first?.string("id") == "x")
    }

    @Test func resultsKeepInputOrderAcrossProcesses() throws {
        let parser = try PythonParser()
        let inputs: [PythonParser.Input] = (1...7).map { .source(name: "f\($0).py", text: String(repeating: "\n", count: $0) + "z = 1\n") }
        let lines = try parser.parse(inputs, processes: 3).map { $0.children("body").first?.line }
        #expect(lines == (1...7).map { $0 + 1 })
    }

    @Test func syntaxErrorIsTypedWithLine() throws {
        let parser = try PythonParser()
        #expect(throws: LintError.syntax(file: "bad.py", line: 2, message: "invalid syntax", olderPython: parser.olderPythonNote)) {
            try parser.parse([.source(name: "bad.py", text: "x = 1\ndef (:\n")])
        }
    }

    @Test func nullBytesAndDeepNestingAreTypedErrors() throws {
        let parser = try PythonParser()
        #expect(throws: LintError.syntax(file: "nul.py", line: 0, message: "source code string cannot contain null bytes",
                                         olderPython: parser.olderPythonNote)) {
            try parser.parse([.source(name: "nul.py", text: "x = 1\n\u{0}")])
        }
        // Python 3.13 builds the tree and the front end refuses its depth; 3.12's parser gives up
        // first with a RecursionError. Either way a typed syntax error naming the file.
        let deep = "x = " + Array(repeating: "1", count: 3000).joined(separator: "+") + "\n"
        let error = #expect(throws: LintError.self) { try parser.parse([.source(name: "deep.py", text: deep)]) }
        guard case .syntax(let file, let line, let message, _)? = error else {
            Issue.record("not a syntax error: \(String(describing: error))")
            return
        }
        #expect(file == "deep.py" && line == 0)
        #expect(message == "syntax tree nested deeper than 400 levels (pgverify's limit)"
                || message.hasPrefix("RecursionError: maximum recursion depth exceeded"), "\(message)")
    }

    @Test func missingPythonIsTyped() {
        #expect(throws: LintError.pythonNotFound(searchPath: "/nonexistent")) {
            try PythonParser(environment: ["PATH": "/nonexistent", "HOME": "/nonexistent"])
        }
    }

    @Test func missingPathIsTyped() {
        #expect(throws: LintError.pathNotFound("/nonexistent/x.py")) { try Linter.collectFiles(["/nonexistent/x.py"]) }
    }

    @Test func folderFilesAreSorted() throws {
        let files = try Linter.collectFiles([Paths.fixture("lint/wrappers").path])
        #expect(files == files.sorted())
        #expect(files.count == 9)  // the nine wrapper fixtures (.py) of fixtures/lint/wrappers
    }
}
