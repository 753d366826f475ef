import Foundation
import Testing
@testable import Verifier

/// Symbolic links that leave the submission folder are never read through and are reported
/// (SIZE-LINK-OUTSIDE); links that stay inside it are read as their targets.
@Suite struct SymbolicLinkTests {
    /// A copy of fixtures/audit/reproducible whose README.md links to /etc/passwd, with a script linked
    /// to /etc/hostname, a dangling link, and a log linked to another log of the folder.
    static func folderWithLinks() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("links-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = Paths.fixture("audit/reproducible")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name != "README.md" {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("README.md").path, withDestinationPath: "/etc/passwd")
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("helper.py").path, withDestinationPath: "/etc/hostname")
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("gone.log").path, withDestinationPath: "nowhere.log")
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("copy.log").path, withDestinationPath: "train_seed1337.log")
        return folder
    }

    @Test func linksOutsideAreListedAndNotRead() throws {
        let folder = try Self.folderWithLinks()
        defer { try? FileManager.default.removeItem(at: folder) }
        let submission = try Submission.read(at: folder)
        #expect(submission.readme == nil)
        #expect(submission.outsideLinks == [
            SubmissionLink(name: "README.md", target: "/etc/passwd"), SubmissionLink(name: "gone.log", target: "nowhere.log"),
            SubmissionLink(name: "helper.py", target: "/etc/hostname"),
        ])
        #expect(!submission.otherCode.contains { $0.name == "helper.py" })
        #expect(submission.logs.map(\.name) == ["copy.log", "train_seed1337.log"])
        #expect(submission.logs[0].lines == submission.logs[1].lines)
        let findings = SizeReport.check(submission).findings.filter { $0.id == .linkOutside }
        #expect(findings.count == 3)
        #expect(findings.allSatisfy { $0.severity == .error })
        #expect(findings.first?.message.hasPrefix("README.md is a symbolic link to /etc/passwd") == true)
    }

    @Test func theLinterDoesNotReadThroughThem() throws {
        let folder = try Self.folderWithLinks()
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try Linter.collectFiles([folder.path])
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["train_gpt.py"])
    }

    /// The linked script is code the folder names but nobody read: PG-UNREAD-CODE, through the library,
    /// the `verify lint` command and the audit's STATIC-FINDINGS (incomplete, naming it).
    @Test func aScriptLinkedOutsideIsReportedAsUnread() throws {
        let folder = try Self.folderWithLinks()
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputs = try Linter.collect([folder.path])
        #expect(inputs.linksOutside.map { URL(fileURLWithPath: $0).lastPathComponent } == ["helper.py"])
        let unread = try Linter(parser: try PythonParser()).lint(paths: [folder.path]).filter { $0.rule == "PG-UNREAD-CODE" }
        #expect(unread.count == 1)
        #expect(unread.first?.file.hasSuffix("/helper.py") == true)
        #expect(unread.first?.message.contains("symbolic link to /etc/hostname") == true)

        let lint = try VerifyExecutable.run(["lint", folder.path, "--format", "json"])
        #expect(lint.stdout.contains("PG-UNREAD-CODE"))
        #expect(lint.stdout.contains("helper.py"))

        let submission = try Submission.read(at: folder)
        let outcome = StaticFindingsProvider.outcome(for: submission)
        #expect(outcome.incompleteReason?.contains("helper.py:1") == true)
    }

    /// A folder whose only script is a link out of it is not "no Python code": the link is reported.
    @Test func aFolderWhoseOnlyScriptLeavesItIsNotEmpty() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("only-link-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("train_gpt.py").path,
                                                   withDestinationPath: "/etc/hostname")
        let inputs = try Linter.collect([folder.path])
        #expect(inputs.files.isEmpty)
        #expect(inputs.linksOutside.count == 1)
        let findings = try Linter(parser: try PythonParser()).lint(paths: [folder.path])
        #expect(findings.map(\.rule) == ["PG-UNREAD-CODE"])
    }

    @Test func theAuditFailsNamingTheLinkAndNeverPrintsTheTarget() throws {
        let folder = try Self.folderWithLinks()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try VerifyExecutable.run([folder.path, "--format", "json"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("SIZE-LINK-OUTSIDE"))
        #expect(run.stdout.contains("README.md is a symbolic link to /etc/passwd"))
        #expect(!run.stdout.contains("root:x:0:0"))
    }
}
