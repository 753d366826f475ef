import Foundation
import Testing
@testable import Verifier

/// The folder-wide name search behind the never-called note: another file that calls or imports
/// the function names it; another file that only defines its own function of the same name does not.
@Suite struct FolderNameSearchTests {
    @Test func anotherFilesOwnDefinitionIsNotAUse() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let main = directory.appendingPathComponent("train_gpt.py").path
        try "def adapt_on_val(model):\n    pass\n".write(toFile: main, atomically: true, encoding: .utf8)
        let sibling = directory.appendingPathComponent("ablation.py").path
        try "async def adapt_on_val (model):\n    pass\n".write(toFile: sibling, atomically: true, encoding: .utf8)
        #expect(!FolderNameSearch.isNamed("adapt_on_val", inFolder: directory.path, except: (main, 1), otherFilesOnly: true))
        try "from train_gpt import adapt_on_val\nadapt_on_val(None)\n".write(toFile: sibling, atomically: true, encoding: .utf8)
        #expect(FolderNameSearch.isNamed("adapt_on_val", inFolder: directory.path, except: (main, 1), otherFilesOnly: true))
    }

    /// A sibling script that defines and calls its own copy (`ablations/*.py` each with their
    /// own `ttt_global_adapt`) calls that copy; an attribute access there reaches this one.
    @Test func anotherFilesCallsOfItsOwnCopyAreNotUses() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-names-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let main = directory.appendingPathComponent("train_gpt.py").path
        try "def adapt_on_val(model):\n    pass\n".write(toFile: main, atomically: true, encoding: .utf8)
        let sibling = directory.appendingPathComponent("ablation.py").path
        let ownCopy = "def adapt_on_val(model):\n    pass\n\n\nif __name__ == \"__main__\":\n    adapt_on_val(None)\n"
        try ownCopy.write(toFile: sibling, atomically: true, encoding: .utf8)
        #expect(!FolderNameSearch.isNamed("adapt_on_val", inFolder: directory.path, except: (main, 1), otherFilesOnly: true))
        try (ownCopy + "    train_gpt.adapt_on_val(None)\n").write(toFile: sibling, atomically: true, encoding: .utf8)
        #expect(FolderNameSearch.isNamed("adapt_on_val", inFolder: directory.path, except: (main, 1), otherFilesOnly: true))
    }
}
