import Foundation
import Testing
@testable import Verifier

/// Files of code the analysis does not read are named once each, from whichever folder lists them.
@Suite struct UnreadFilesTests {
    @Test func nativeSourcesAndNotebooksAreUnreadOnceEach() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-unread-\(UUID().uuidString)")
        let tools = directory.appendingPathComponent("tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "import torch\n".write(to: directory.appendingPathComponent("train_gpt.py"), atomically: true, encoding: .utf8)
        try "import numpy\n".write(to: tools.appendingPathComponent("helper.py"), atomically: true, encoding: .utf8)
        try "__global__ void k() {}\n".write(to: tools.appendingPathComponent("kernel.cu"), atomically: true, encoding: .utf8)
        try "{\"cells\": []}\n".write(to: directory.appendingPathComponent("report.ipynb"), atomically: true, encoding: .utf8)
        let findings = try Linter(parser: try PythonParser()).lint(paths: [directory.path])
            .filter { $0.rule == UnreadCode.descriptor.id }
        #expect(findings.map { ($0.file as NSString).lastPathComponent }.sorted() == ["kernel.cu", "report.ipynb"],
                "\(findings)")
        #expect(findings.first { $0.file.hasSuffix("report.ipynb") }?.message.contains("Jupyter notebook") == true)
        #expect(findings.first { $0.file.hasSuffix("kernel.cu") }?.message.contains("native code (cu)") == true)
        #expect(findings.allSatisfy { $0.severity == .warning })
    }
}
