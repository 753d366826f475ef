import Foundation
import Testing
@testable import Reference

/// Byte accounting of phased TTT: the tokenizer tables, or a CaseOps sidecar entry at each target's
/// stream position (2026-04-18 and later records with CASEOPS_ENABLED).
@Suite struct PhasedTTTByteCountTests {
    static var settings: PhasedTTTSettings {
        var s = PhasedTTTSettings()
        s.batchSize = 2
        s.chunkSize = 32
        s.evalSeqLen = 64
        s.loraRank = 2
        s.prefixDocs = 0
        return s
    }

    @Test func sidecarEntriesAreCountedAtTargetPositions() throws {
        let family = "sparsegate-bosfix9hp-sp1024"
        let golden = try FamilyFixtures.golden(family)
        let tokens = Array(try FamilyFixtures.tokens(family).prefix(2500))
        let sidecar = try #require(try FamilyFixtures.sidecar(family))
        let model = try PhasedTTTFixtures.model(family: family)
        let vocabulary = golden.hyperparameters.vocab_size
        // The fixture's sidecar holds what the tables give for this stream: the same bytes.
        let tables = try PhasedTTTEvaluator(settings: Self.settings, byteCounts: .tables(try FamilyFixtures.accounting(golden)),
                                            tokens: tokens, vocabulary: vocabulary).evaluate(model: model, adapt: false)
        let fromSidecar = try PhasedTTTEvaluator(settings: Self.settings, byteCounts: .sidecar(sidecar), tokens: tokens,
                                                 vocabulary: vocabulary).evaluate(model: model, adapt: false)
        #expect(tables.total.bytes == fromSidecar.total.bytes)
        #expect(tables.batches.map(\.partial.bytes) == fromSidecar.batches.map(\.partial.bytes))
        // A sidecar whose entry p is p mod 7: the sum over the scored positions, nothing from the tables.
        let synthetic = (0..<tokens.count).map { UInt16($0 % 7) }
        let documents = try PhasedTTTPlan.documents(in: tokens)
        let expected = documents.flatMap { ($0.start + 1)..<($0.start + $0.length) }.reduce(0) { $0 + $1 % 7 }
        let counted = try PhasedTTTEvaluator(settings: Self.settings, byteCounts: .sidecar(synthetic), tokens: tokens,
                                             vocabulary: vocabulary).evaluate(model: model, adapt: false)
        #expect(counted.total.bytes == expected)
        #expect(counted.total.lossSum == tables.total.lossSum)
    }

    @Test func shortSidecarsAndForeignTokensAreTypedErrors() throws {
        let tokens: [UInt16] = [1, 5, 6, 7, 1, 8, 9]
        #expect(throws: PhasedTTTError.ttt(.evaluation(.byteSidecarTooShort(entries: 3, tokens: 7)))) {
            try PhasedTTTEvaluator(settings: Self.settings, byteCounts: .sidecar([0, 1, 2]), tokens: tokens, vocabulary: 16)
        }
        #expect(throws: PhasedTTTError.ttt(.evaluation(.tokenOutOfRange(position: 6, token: 9, vocabulary: 9)))) {
            try PhasedTTTEvaluator(settings: Self.settings, byteCounts: .sidecar(Array(repeating: 1, count: 7)), tokens: tokens,
                                   vocabulary: 9)
        }
    }

    @Test func warmStartResetZeroesOnlyTheRowsB() throws {
        let model = try PhasedTTTFixtures.model()
        let adapters = model.makeAdapters(rows: 2, rank: 2, targets: LoRATargets())
        adapters.reset(row: 0, document: 3)
        adapters.reset(row: 1, document: 4)
        for i in adapters.parameters.indices { adapters.parameters[i] += 0.5 }  // trained: every A and B nonzero
        let before = Array(adapters.parameters)
        adapters.resetKeepingA(row: 1)
        for adapter in adapters.adapters {
            let aCount = adapter.inFeatures * 2, bCount = adapter.outFeatures * 2
            #expect(Array(adapters.parameters[adapter.a..<(adapter.a + 2 * aCount)]) == Array(before[adapter.a..<(adapter.a + 2 * aCount)]))
            #expect(Array(adapters.parameters[adapter.b..<(adapter.b + bCount)]) == Array(before[adapter.b..<(adapter.b + bCount)]))
            #expect(adapters.parameters[(adapter.b + bCount)..<(adapter.b + 2 * bCount)].allSatisfy { $0 == 0 })
        }
    }
}
