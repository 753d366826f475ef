import Foundation
import Testing
@testable import Reference

@Suite("CaseOps byte sidecar")
struct CaseOpsByteSidecarTests {
    func writeShard(_ values: [UInt16], to url: URL) throws {
        var header = [Int32](repeating: 0, count: 256)
        header[0] = ValidationShard.magic; header[1] = ValidationShard.version; header[2] = Int32(values.count)
        var data = header.withUnsafeBytes { Data($0) }
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        try data.write(to: url)
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("caseops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("a sidecar holding the tokenizer's own byte counts reproduces the tokenizer-table evaluation exactly")
    func sidecarAlignsWithTargets() throws {
        let name = "sparsegate-smearbos-sp8192"
        let golden = try FamilyFixtures.golden(name)
        let tokens = try FamilyFixtures.tokens(name)
        let accounting = try FamilyFixtures.accounting(golden)
        // Entry p = bytes of token p given token p−1 (0 for the first), as a sidecar for this stream would hold.
        let counts = tokens.indices.map { p in p == 0 ? UInt16(0) : UInt16(accounting.bytes(target: Int(tokens[p]), previous: Int(tokens[p - 1]))) }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeShard(tokens, to: directory.appendingPathComponent("fineweb_val_000000.bin"))
        try writeShard(counts, to: directory.appendingPathComponent("fineweb_val_bytes_000000.bin"))
        #expect(try CaseOpsByteSidecar.tokenFiles(in: directory).map(\.lastPathComponent) == ["fineweb_val_000000.bin"])
        let sidecar = try CaseOpsByteSidecar.read(directory: directory, tokens: tokens.count)

        let model = try FamilyGPTModel(config: golden.hyperparameters.config, weights: FamilyFixtures.weights(name),
                                       maxPositions: golden.eval_batch_tokens)
        let plan = try DocumentSegmentedPlan(tokens: tokens, seqLen: golden.hyperparameters.eval_seq_len,
                                             batchTokens: golden.eval_batch_tokens)
        let batch = plan.batches[1]
        let fromTables = try DocumentSegmentedEvaluator(model: model, bytes: .tokenizer(accounting), tokens: tokens, plan: plan)
            .evaluate(batch: batch)
        let fromSidecar = try DocumentSegmentedEvaluator(model: model, bytes: .sidecar(sidecar), tokens: tokens, plan: plan)
            .evaluate(batch: batch)
        #expect(fromSidecar == fromTables)
        // Shifting the sidecar by one token changes the byte count: the alignment is tested, not assumed.
        let shifted = [0] + sidecar.dropLast()
        let misaligned = try DocumentSegmentedEvaluator(model: model, bytes: .sidecar(Array(shifted)), tokens: tokens, plan: plan)
            .evaluate(batch: batch)
        #expect(misaligned.bytes != fromTables.bytes)
    }

    @Test("a missing or short sidecar is an error naming the directory")
    func missingOrShort() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: CaseOpsSidecarError.missing(directory: directory.path)) {
            try CaseOpsByteSidecar.read(directory: directory, tokens: 10)
        }
        try writeShard([0, 1, 2], to: directory.appendingPathComponent("fineweb_val_bytes_000000.bin"))
        #expect(throws: CaseOpsSidecarError.tooShort(entries: 3, tokens: 10)) {
            try CaseOpsByteSidecar.read(directory: directory, tokens: 10)
        }
        #expect(CaseOpsSidecarError.missing(directory: "/d").description.hasPrefix("/d: no CaseOps byte sidecar"))
    }
}
