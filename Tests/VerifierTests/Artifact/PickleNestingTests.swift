import Foundation
import Reference
import Testing
@testable import Verifier

/// Pickle containers nested past ``InputLimits/pickleNestingDepth`` are refused while the program
/// runs, so that nothing recursive (a tree's release, a walk over it) ever meets a deeper tree, and
/// no list or dict can contain itself.
@Suite struct PickleNestingTests {
    enum Container: CaseIterable { case tuple, list, dict }

    /// A program whose result nests `depth` containers of `kind`.
    static func nested(_ kind: Container, depth: Int) -> [UInt8] {
        switch kind {
        case .tuple: [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: depth - 1) + [0x2E]
        case .list: [0x80, 0x02] + [UInt8](repeating: 0x28, count: depth - 1) + [0x5D]
            + [UInt8](repeating: 0x6C, count: depth - 1) + [0x2E]
        case .dict: [0x80, 0x02] + Array([[UInt8]](repeating: [0x28, 0x4B, 0x01], count: depth - 1).joined()) + [0x7D]
            + [UInt8](repeating: 0x64, count: depth - 1) + [0x2E]
        }
    }

    /// Byte offset of the opcode that closes level `level` in ``nested(_:depth:)``.
    static func closingOffset(_ kind: Container, level: Int, depth: Int) -> Int {
        switch kind {
        case .tuple: 2 + level - 1
        case .list: 2 + (depth - 1) + 1 + (level - 2)
        case .dict: 2 + 3 * (depth - 1) + 1 + (level - 2)
        }
    }

    func read(_ program: [UInt8]) throws(ArtifactError) -> PickleValue {
        try PickleReader(bytes: program, file: "data.pkl") { (_, location) throws(ArtifactError) in
            throw .malformedPickle(location, detail: "no storages in this test")
        }.read()
    }

    /// The depth of a value read back, counted without recursion.
    func depth(of root: PickleValue) -> Int {
        var deepest = 0
        var pending: [(PickleValue, Int)] = [(root, 0)]
        while let (value, level) = pending.popLast() {
            switch value {
            case .tuple(let items): deepest = max(deepest, level + 1); pending += items.map { ($0, level + 1) }
            case .list(let list): deepest = max(deepest, level + 1); pending += list.items.map { ($0, level + 1) }
            case .dict(let dict):
                deepest = max(deepest, level + 1)
                pending += dict.entries.flatMap { [($0.key, level + 1), ($0.value, level + 1)] }
            default: break
            }
        }
        return deepest
    }

    @Test(arguments: Container.allCases)
    func nestingAtTheLimitReads(kind: Container) throws {
        let limit = InputLimits.pickleNestingDepth
        #expect(depth(of: try read(Self.nested(kind, depth: limit))) == limit)
    }

    @Test(arguments: Container.allCases)
    func oneLevelPastTheLimitIsRefusedAtItsOpcode(kind: Container) throws {
        let limit = InputLimits.pickleNestingDepth
        let expected = ArtifactError.pickleTooDeep(
            InputLocation(file: "data.pkl", offset: Self.closingOffset(kind, level: limit + 1, depth: limit + 1)), limit: limit)
        #expect(throws: expected) { try read(Self.nested(kind, depth: limit + 1)) }
        #expect(expected.description.contains("data.pkl: at byte"))
    }

    /// Reading, recognizing and releasing trees at the limit on a thread with a 512 KiB stack (macOS's
    /// default for secondary threads; Linux's is 8 MiB): a recursive step that used too much stack per
    /// level would crash this test process.
    @Test func treesAtTheLimitAreSafeOnASmallStack() throws {
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var depths: [Int] = []
        let thread = Thread {
            for kind in Container.allCases {
                do {
                    let root = try read(Self.nested(kind, depth: InputLimits.pickleNestingDepth))
                    depths.append(depth(of: root))
                    _ = try? ArtifactFormats.recognize(root, location: InputLocation(file: "data.pkl"))
                } catch {
                    depths.append(-1)
                }
            }
            finished.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        finished.wait()
        #expect(depths == [Int](repeating: InputLimits.pickleNestingDepth, count: Container.allCases.count))
    }

    @Test func aListAppendedToItselfIsRefused() throws {
        // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND: l = []; l.append(l).
        let program: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]
        #expect {
            try read(program)
        } throws: { error in
            guard let error = error as? ArtifactError, case .malformedPickle(let location, let detail) = error else { return false }
            return location.offset == 7 && detail.contains("self-referencing")
        }
    }

    @Test func aDictChangedAfterItWasNestedIsRefused() throws {
        // d = {}; t = (d,); d[1] = t  — EMPTY_DICT, BINPUT 0, TUPLE1, BINGET 0, K 1, (t is below), SETITEM.
        let program: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x85, 0x71, 0x01, 0x68, 0x00, 0x4B, 0x01, 0x68, 0x01, 0x73, 0x2E]
        #expect {
            try read(program)
        } throws: { error in
            guard let error = error as? ArtifactError, case .malformedPickle(let location, _) = error else { return false }
            return location.offset == 14
        }
    }

    @Test func aListThatGrowsAfterMemoizingKeepsItsDepth() throws {
        // l = []; memo; l.append(((),)); then (l,) read back from the memo: depth 4.
        let program: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x29, 0x85, 0x61, 0x30, 0x68, 0x00, 0x85, 0x2E]
        #expect(depth(of: try read(program)) == 4)
    }

    /// The limit leaves a wide margin: every committed artifact of every format nests at most 5 levels.
    @Test func realArtifactsNestFarBelowTheLimit() throws {
        var deepest: [String: Int] = [:]
        for folder in try FileManager.default.contentsOfDirectory(atPath: Paths.fixture("artifacts").path) {
            let url = Paths.fixture("artifacts/\(folder)")
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) where name.hasSuffix(".ptz") || name.hasSuffix(".pt") {
                deepest["\(folder)/\(name)"] = depth(of: try ArtifactReader.read(url: url.appendingPathComponent(name)).archive.root)
            }
        }
        #expect(deepest.count >= 15)
        #expect(deepest.values.allSatisfy { $0 <= 5 }, "\(deepest)")
    }

    @Test(arguments: ["deep_tuple.ptz", "deep_list.ptz", "deep_dict.ptz"])
    func deeplyNestedFixturesAreRefused(fixture: String) throws {
        #expect {
            try ArtifactReader.read(url: Paths.fixture("hostile/\(fixture)"))
        } throws: { error in
            guard let error = error as? ArtifactError, case .pickleTooDeep(let location, let limit) = error else { return false }
            return location.file.hasSuffix("\(fixture) (zlib-decompressed) > archive/data.pkl") && location.offset != nil
                && limit == InputLimits.pickleNestingDepth
        }
    }
}

/// ZIP archives whose central directory lies or repeats a name are refused, naming the byte.
@Suite struct ZipConsistencyTests {
    func refusal(_ fixture: String) -> ArtifactError? {
        do {
            _ = try ArtifactReader.read(url: Paths.fixture("hostile/\(fixture)"))
            return nil
        } catch { return error }
    }

    @Test(arguments: [
        ("zip_duplicate_entry.pt", "duplicate entry name archive/data/0"),
        ("zip_eocd_wrong_count.pt", "counts 18 entries, but the central directory holds more"),
        ("zip_eocd_wrong_size.pt", "puts the central directory at 2576 (1140 bytes), but it must end at byte 3762"),
        ("zip_eocd_wrong_offset.pt", "gives a directory offset of 3942, its ZIP64 record 3896"),
    ])
    func lyingDirectoriesAreRefused(fixture: String, detail expected: String) throws {
        let error = try #require(refusal(fixture))
        guard case .malformedZip(let location, let detail) = error else {
            Issue.record("expected malformedZip, got \(error)"); return
        }
        #expect(detail.contains(expected))
        #expect(location.file.hasSuffix(fixture))
        #expect(location.offset != nil)
    }

    @Test func theArchivesTheLiesWereMadeFromRead() throws {
        _ = try ArtifactReader.read(url: Paths.fixture("artifacts/wrappers/model.none.pt"))
        // The same entries rewritten by Python's zipfile (no ZIP64 records).
        let zip = PickleBytes.storedZip(["archive/data.pkl": [0x80, 0x02, 0x7D, 0x2E], "archive/byteorder": Array("little".utf8)])
        #expect(try ZipArchive(bytes: zip, file: "z").entries.count == 2)
    }
}
