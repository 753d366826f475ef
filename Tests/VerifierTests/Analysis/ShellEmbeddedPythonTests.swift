import Foundation
import Testing
@testable import Verifier

/// Python that shell scripts run inline is read like any other module of the folder.
@Suite struct ShellEmbeddedPythonTests {
    @Test func hereDocumentsAndCommandArgumentsAreFound() {
        let script = """
            #!/bin/bash
            # python3 - <<'NOT' is a comment
            echo "python is fine"
            python3 - <<'PY'
            import os
            print(os.environ["SEED"])
            PY
            /usr/bin/python3.12 <<-EOF
            \tx = $SEED
            \tEOF
            python -c "import torch; print(torch.__version__, \\"\\$HOME\\", '\\n')"
            python3 -c 'import sys
            print(sys.argv)'
            torchrun --nproc_per_node=8 train_gpt.py
            """
        let chunks = ShellEmbeddedPython.chunks(in: script)
        #expect(chunks.map(\.line) == [4, 8, 11, 12])
        #expect(chunks.map(\.form) == ["python here-document", "python here-document", "python -c", "python -c"])
        #expect(chunks[0].source == "import os\nprint(os.environ[\"SEED\"])\n")
        #expect(!chunks[0].expandedByShell)
        #expect(chunks[1].source == "\tx = $SEED\n" && chunks[1].expandedByShell)
        #expect(chunks[2].source == "import torch; print(torch.__version__, \"$HOME\", '\\n')\n" && chunks[2].expandedByShell)
        #expect(chunks[3].source == "import sys\nprint(sys.argv)\n" && !chunks[3].expandedByShell)
    }

    @Test func unterminatedFormsEndQuietly() {
        #expect(ShellEmbeddedPython.chunks(in: "python3 - <<'PY'\nprint(1)").map(\.source) == ["print(1)\n"])
        #expect(ShellEmbeddedPython.chunks(in: "python3 -c \"print(1)\n").isEmpty)
        #expect(ShellEmbeddedPython.chunks(in: String(repeating: "python3 <<A\n", count: 200)).count
                <= ShellEmbeddedPython.maximumChunks)
    }

    /// The rules see the chunk (a network download: a note outside `train*.py`), and a chunk
    /// that does not parse is unread code at its script's line.
    @Test func linterReadsTheChunksOfTheFolder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "import torch\nprint(torch.zeros(1))\n".write(to: directory.appendingPathComponent("train_gpt.py"),
                                                          atomically: true, encoding: .utf8)
        try """
            #!/bin/bash
            python3 - <<'PY'
            import urllib.request
            urllib.request.urlretrieve("https://example.com/val.bin", "val.bin")
            PY
            python3 <<EOF
            seed = $SEED +
            EOF
            torchrun train_gpt.py
            """.write(to: directory.appendingPathComponent("run.sh"), atomically: true, encoding: .utf8)
        let findings = try Linter(parser: try PythonParser()).lint(paths: [directory.path])
            .filter { $0.file.hasSuffix("run.sh") }
        let network = findings.filter { $0.rule == NetworkAccess.descriptor.id }
        #expect(!network.isEmpty && network.allSatisfy { $0.decodedFromLine == 2 }, "\(findings)")
        let unread = findings.filter { $0.rule == UnreadCode.descriptor.id }
        #expect(unread.map(\.line) == [6], "\(findings)")
        #expect(unread.first?.message.contains("the shell expands it") == true)
    }
}
