import Foundation
import Testing
import Reference
@testable import Verifier

/// The prefix state file of a sharded phased TTT run: written and read back bit for bit, and every
/// damaged or foreign file refused with its offset or the fields that differ, never a crash.
@Suite struct PhasedTTTPrefixStateTests {
    static let identity = PartialEvaluation.Identity(
        inputs: EvaluationInputDigests(artifact: "a", code: "c", logs: ["l"], tokenizer: "t", validationTokens: "v", byteCounts: nil),
        mode: "ttt-phased", stride: nil, seqLen: 128, maxTokens: nil, overrides: ["TTT_BATCH_SIZE": "1"], evaluation: nil,
        itemKind: "batches", totalItems: 9, phasedSettings: PhasedTTTSettings())
    static let parameters: [Float] = [1.5, -0.0, .leastNonzeroMagnitude, 3e38, -2.25]

    static func file(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-prefix-state-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url
    }

    static func readError(_ bytes: [UInt8], parameterCount: Int = parameters.count) throws -> PhasedTTTPrefixStateError? {
        let url = try file(bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try PhasedTTTPrefixState.read(url, parameterCount: parameterCount)
            return nil
        } catch {
            return error
        }
    }

    @Test func roundTripsBitForBit() throws {
        let state = PhasedTTTPrefixState(identity: Self.identity, prefixBatches: 3, totalBatches: 9, parameters: Self.parameters)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-prefix-state-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let digest = try state.write(to: url)
        let (read, readDigest) = try PhasedTTTPrefixState.read(url, parameterCount: Self.parameters.count)
        #expect(read == state)
        #expect(read.parameters.map(\.bitPattern) == Self.parameters.map(\.bitPattern))
        let fileDigest = try SHA256.hex(file: url)
        #expect(digest == readDigest && digest == fileDigest)
        try read.check(against: Self.identity, prefixBatches: 3, file: url.path)
        var other = Self.identity
        other.inputs.artifact = "b"
        other.phasedSettings?.warmStartA = true
        #expect(throws: PhasedTTTPrefixStateError.otherEvaluation(file: "s", fields: ["artifact", "phased TTT settings"])) {
            try read.check(against: other, prefixBatches: 3, file: "s")
        }
        #expect(throws: PhasedTTTPrefixStateError.otherEvaluation(file: "s", fields: ["batch plan"])) {
            try read.check(against: Self.identity, prefixBatches: 4, file: "s")
        }
    }

    @Test func damagedFilesAreRefusedWithTheirOffset() throws {
        let bytes = try PhasedTTTPrefixState(identity: Self.identity, prefixBatches: 3, totalBatches: 9, parameters: Self.parameters).encoded()
        let headerEnd = bytes.count - 4 * Self.parameters.count
        func offset(_ error: PhasedTTTPrefixStateError?) -> Int? {
            if case .malformed(_, let offset, _) = error { return offset }
            return nil
        }
        #expect(offset(try Self.readError([])) == 0)
        #expect(offset(try Self.readError(Array("PK\u{3}\u{4}".utf8) + bytes.dropFirst(4))) == 0)
        var huge = bytes
        for i in 8..<16 { huge[i] = 0xFF }  // header length 2^64 - 1
        #expect(offset(try Self.readError(huge)) == 8)
        #expect(offset(try Self.readError(Array(bytes[..<(headerEnd - 1)]))) == 8)  // header cut
        var header = bytes
        header[16] = UInt8(ascii: "[")
        #expect(offset(try Self.readError(header)) == 16)
        #expect(offset(try Self.readError(bytes, parameterCount: 4)) == 16)
        #expect(offset(try Self.readError(Array(bytes.dropLast(2)))) == bytes.count - 2)
        #expect(offset(try Self.readError(bytes + [0])) == bytes.count)
        var flipped = bytes
        flipped[headerEnd] ^= 1
        #expect(offset(try Self.readError(flipped)) == headerEnd)
        let inconsistent = try PhasedTTTPrefixState(identity: Self.identity, prefixBatches: 10, totalBatches: 9, parameters: Self.parameters).encoded()
        #expect(offset(try Self.readError(inconsistent)) == 16)
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-no-such-state-\(UUID().uuidString)")
        #expect(throws: PhasedTTTPrefixStateError.self) { try PhasedTTTPrefixState.read(missing, parameterCount: 1) }
    }
}
