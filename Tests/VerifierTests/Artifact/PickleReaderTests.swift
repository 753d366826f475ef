import Foundation
import Reference
import Testing
@testable import Verifier

/// Builders for small pickle programs and stored ZIP archives in tests.
enum PickleBytes {
    static func shortString(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        return [0x8C, UInt8(utf8.count)] + utf8
    }

    static func global(_ module: String, _ name: String) -> [UInt8] {
        [0x63] + Array("\(module)\n\(name)\n".utf8)
    }

    /// A minimal ZIP with stored entries (CRC-32 computed like zlib's).
    static func storedZip(_ entries: [String: [UInt8]]) -> [UInt8] {
        var archive: [UInt8] = [], central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
        for (name, data) in entries.sorted(by: { $0.key < $1.key }) {
            let crc = crc32(data), nameBytes = Array(name.utf8), offset = archive.count
            archive += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
                + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(nameBytes.count) + le16(0) + nameBytes + data
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(crc)
                + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(nameBytes.count) + le16(0) + le16(0)
                + le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + nameBytes
        }
        let directoryOffset = archive.count
        archive += central
        archive += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
            + le32(UInt32(central.count)) + le32(UInt32(directoryOffset)) + le16(0)
        return archive
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

@Suite struct PickleReaderTests {
    func run(_ program: [UInt8]) throws(ArtifactError) -> PickleValue {
        try PickleReader(bytes: program, file: "data.pkl") { (_, location) throws(ArtifactError) in
            throw .malformedPickle(location, detail: "no storages in this test")
        }.read()
    }

    func refusal(_ program: [UInt8]) -> ArtifactError? {
        do { _ = try run(program); return nil } catch { return error }
    }

    @Test(arguments: [("builtins", "eval"), ("subprocess", "Popen"), ("posix", "system"), ("os", "system"),
                      ("torch", "load"), ("torch._utils", "_rebuild_device_tensor_from_numpy"), ("numpy.core.multiarray", "_reconstruct")])
    func globalsOutsideTheAllowListAreRefusedWithTheirOffset(module: String, name: String) throws {
        // GLOBAL at byte 2, as a REDUCE would call it.
        let program: [UInt8] = [0x80, 0x02] + PickleBytes.global(module, name) + PickleBytes.shortString("x") + [0x85, 0x52, 0x2E]
        let error = try #require(refusal(program))
        #expect(error == .forbiddenGlobal(InputLocation(file: "data.pkl", offset: 2), module: module, name: name))
        #expect(error.description.contains("data.pkl: at byte 2"))
        #expect(error.description.contains("\(module).\(name)"))
    }

    @Test func stackGlobalIsCheckedToo() throws {
        let program: [UInt8] = [0x80, 0x04] + PickleBytes.shortString("builtins") + PickleBytes.shortString("exec")
            + [0x93, 0x2E]
        let error = try #require(refusal(program))
        #expect(error == .forbiddenGlobal(InputLocation(file: "data.pkl", offset: 18), module: "builtins", name: "exec"))
    }

    @Test(arguments: [(UInt8(0x81), "NEWOBJ"), (0x69, "INST"), (0x6F, "OBJ"), (0x82, "EXT1"), (0x97, "NEXT_BUFFER"), (0xFF, "unknown")])
    func opcodesTorchSaveNeverWritesAreRefused(opcode: UInt8, name: String) throws {
        let error = try #require(refusal([0x80, 0x02, 0x4E, opcode, 0x2E]))
        #expect(error == .unsupportedOpcode(InputLocation(file: "data.pkl", offset: 3), opcode: opcode, name: name))
    }

    @Test func containersNumbersAndStringsAreRead() throws {
        // {'a': [1, -2, 300, 70000, 2**40, -2**40], 'b': (1.5, True, None), 'c': b'\x00\xff', 'd': 'é'}
        var program: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28]
        program += PickleBytes.shortString("a") + [0x5D, 0x28, 0x4B, 0x01, 0x4A] + [0xFE, 0xFF, 0xFF, 0xFF]
        program += [0x4D, 0x2C, 0x01, 0x4A, 0x70, 0x11, 0x01, 0x00]
        program += [0x8A, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x8A, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x65]
        program += PickleBytes.shortString("b") + [0x47, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0x88, 0x4E, 0x87]
        program += PickleBytes.shortString("c") + [0x43, 0x02, 0x00, 0xFF]
        program += PickleBytes.shortString("d") + [0x58, 0x02, 0x00, 0x00, 0x00, 0xC3, 0xA9]
        program += [0x75, 0x2E]
        let root = try run(program)
        let dict = try #require(root.dictValue)
        #expect(dict.keys == ["a", "b", "c", "d"])
        #expect(dict["a"]?.tupleValue?.compactMap(\.intValue) == [1, -2, 300, 70000, 1 << 40, -(1 << 40)])
        guard case .tuple(let b) = dict["b"], case .float(let x) = b[0], case .bool(true) = b[1], case .none = b[2] else {
            Issue.record("tuple not read"); return
        }
        #expect(x == 1.5)
        guard case .bytes(let c) = dict["c"] else { Issue.record("bytes not read"); return }
        #expect(c == [0x00, 0xFF])
        #expect(dict["d"]?.stringValue == "é")
    }

    @Test func memoKeepsListsShared() throws {
        // l = [5]; memo; {'x': l, 'y': l}: both keys hold the one list.
        var program: [UInt8] = [0x80, 0x02, 0x7D, 0x28] + PickleBytes.shortString("x") + [0x5D, 0x71, 0x01, 0x4B, 0x05, 0x61]
        program += PickleBytes.shortString("y") + [0x68, 0x01, 0x75, 0x2E]
        let dict = try #require(try run(program).dictValue)
        guard case .list(let x) = dict["x"], case .list(let y) = dict["y"] else { Issue.record("lists not read"); return }
        #expect(x === y)
        #expect(x.items.compactMap(\.intValue) == [5])
        // Appending to l once the dict holds it is refused (PickleNestingTests): a list that changes
        // after nesting is how a pickle builds a structure that contains itself.
        var later: [UInt8] = [0x80, 0x02, 0x7D, 0x28] + PickleBytes.shortString("x") + [0x5D, 0x71, 0x01]
        later += PickleBytes.shortString("y") + [0x68, 0x01, 0x75, 0x68, 0x01, 0x4B, 0x05, 0x61, 0x30, 0x2E]
        #expect(refusal(later).map { if case .malformedPickle(let location, _) = $0 { location.offset == 20 } else { false } } == true)
    }

    @Test func truncatedAndMalformedProgramsAreTypedErrors() throws {
        #expect(refusal([0x80, 0x02, 0x58, 0xFF, 0xFF, 0x00, 0x00, 0x41]).map { if case .truncated = $0 { true } else { false } } == true)
        #expect(refusal([0x80, 0x02, 0x61]).map { if case .malformedPickle = $0 { true } else { false } } == true)
        #expect(refusal([0x80, 0x02, 0x68, 0x07]).map { if case .malformedPickle = $0 { true } else { false } } == true)
        #expect(refusal([0x80, 0x02, 0x4E]).map { if case .truncated = $0 { true } else { false } } == true)
        #expect(refusal([0x80, 0x09, 0x2E]).map { if case .malformedPickle = $0 { true } else { false } } == true)
    }
}

@Suite struct TensorRebuildTests {
    /// `_rebuild_tensor_v2(storage, 0, size, stride)` over a 4-element float32 storage.
    func rebuild(size: [UInt8], stride: [UInt8]) throws(ArtifactError) -> PickleValue {
        let program: [UInt8] = [0x80, 0x02] + PickleBytes.global("torch._utils", "_rebuild_tensor_v2") + [0x28]
            + PickleBytes.shortString("pid") + [0x51, 0x4B, 0x00] + size + stride + [0x74, 0x52, 0x2E]
        let storage = StorageReference(dtype: .float32, key: "archive/data/0", count: 4,
                                       bytes: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40])
        return try PickleReader(bytes: program, file: "data.pkl") { (_, _) throws(ArtifactError) in .storage(storage) }.read()
    }

    @Test func stridedViewIsReadInRowMajorOrder() throws {
        // size (2, 2), stride (1, 2): the transpose of [[1, 2], [3, 4]].
        let tensor = try #require(try rebuild(size: [0x4B, 2, 0x4B, 2, 0x86], stride: [0x4B, 1, 0x4B, 2, 0x86]).tensorValue)
        #expect(tensor.floats() == [1, 3, 2, 4])
    }

    @Test func viewPastTheStorageIsRefused() {
        // The REDUCE that builds the view sits at byte 51.
        #expect(throws: ArtifactError.storageTooShort(InputLocation(file: "data.pkl", offset: 51), storage: "archive/data/0",
                                                       neededElements: 5, availableElements: 4)) {
            try rebuild(size: [0x4B, 5, 0x85], stride: [0x4B, 1, 0x85])
        }
    }

    @Test func zeroStrideViewOfAnEnormousSizeIsRefused() {
        // size (2**40,), stride (0,): in bounds of the storage, but 2**40 elements.
        let size: [UInt8] = [0x8A, 6, 0, 0, 0, 0, 0, 1, 0x85]
        #expect {
            try rebuild(size: size, stride: [0x4B, 0, 0x85])
        } throws: { error in
            guard let error = error as? ArtifactError, case .malformedPickle(_, let detail) = error else { return false }
            return detail.contains("exceeds the reader's limit")
        }
    }
}

@Suite struct PickleInterpretationTests {
    func run(_ program: [UInt8]) throws(ArtifactError) -> PickleValue {
        try PickleReader(bytes: program, file: "data.pkl") { (_, location) throws(ArtifactError) in
            throw .malformedPickle(location, detail: "no storages")
        }.read()
    }

    @Test func protocol2BytesComeThroughCodecsEncodeWithoutCallingIt() throws {
        // _codecs.encode('\x00\xff', 'latin1'), as protocol 2 pickles Python bytes.
        let program: [UInt8] = [0x80, 0x02] + PickleBytes.global("_codecs", "encode")
            + [0x58, 0x04, 0, 0, 0, 0x00, 0xC3, 0xBF, 0x41] + PickleBytes.shortString("latin1") + [0x86, 0x52, 0x2E]
        guard case .bytes(let bytes) = try run(program) else { Issue.record("not bytes"); return }
        #expect(bytes == [0x00, 0xFF, 0x41])
    }

    @Test func allowListedTypesAreNotCallable() throws {
        // torch.FloatStorage() is a type marker for persistent ids, never a function.
        let program: [UInt8] = [0x80, 0x02] + PickleBytes.global("torch", "FloatStorage") + [0x29, 0x52, 0x2E]
        #expect {
            try run(program)
        } throws: { error in
            guard let error = error as? ArtifactError, case .malformedPickle(let location, let detail) = error else { return false }
            return location.offset == 23 && detail.contains("torch.FloatStorage, which is not callable")
        }
    }

    @Test func orderedDictWithMetadataStateIsRead() throws {
        // OrderedDict() then BUILD with {'_metadata': ...}-like state, as state_dict() pickles.
        var program: [UInt8] = [0x80, 0x02] + PickleBytes.global("collections", "OrderedDict") + [0x29, 0x52]
        program += [0x7D, 0x62]  // BUILD with an empty dict as state
        program += PickleBytes.shortString("k") + [0x4B, 0x07, 0x73, 0x2E]
        let dict = try #require(try run(program).dictValue)
        #expect(dict["k"]?.intValue == 7)
    }

    @Test func buildOnAnythingElseIsRefused() {
        #expect(throws: ArtifactError.self) { try run([0x80, 0x02, 0x4B, 0x01, 0x7D, 0x62, 0x2E]) }
    }
}
