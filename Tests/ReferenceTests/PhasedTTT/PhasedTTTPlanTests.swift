import Foundation
import Testing
@testable import Reference

/// The scheduling of phased TTT against the values the record's own helpers returned
/// (fixtures/ttt/phased/helpers.json and the cases' queues, phases and global learning rates).
@Suite struct PhasedTTTPlanTests {
    @Test func chunkWindowsMatchTheRecordsComputeChunkWindow() throws {
        for c in try PhasedTTTFixtures.helpers().chunk_windows {
            let chunks = PhasedTTTPlan.chunkCount(predictions: c.pred_len, chunkSize: c.chunk_size)
            #expect(chunks == c.windows.count)
            for (chunk, expected) in c.windows.enumerated() {
                let w = PhasedTTTPlan.window(chunk: chunk, predictions: c.pred_len, chunks: chunks, chunkSize: c.chunk_size,
                                             evalSeqLen: c.eval_seq_len)
                #expect([w.windowStart, w.windowLength, w.chunkOffset, w.chunkLength] == expected, "\(c.pred_len) chunk \(chunk)")
            }
        }
    }

    @Test func segmentStartsMatchTheRecordsCuSeqlens() throws {
        for c in try PhasedTTTFixtures.helpers().cu_seqlens {
            let starts = PhasedTTTPlan.segmentStarts(bosPositions: c.bos, total: c.total, maxDocLength: c.max_doc_len)
            // The record pads cu_seqlens with `total` up to a multiple of 64.
            let unpadded = Array(c.cu.prefix { $0 < c.total })
            #expect(starts == unpadded, "bos \(c.bos)")
            let ends = Array(starts.dropFirst()) + [c.total]
            #expect(zip(starts, ends).map { $1 - $0 }.max() == c.max_seqlen)
        }
    }

    @Test func documentsMatchTheRecordsFindDocs() throws {
        let helpers = try PhasedTTTFixtures.helpers()
        let docs = try PhasedTTTPlan.documents(in: helpers.find_docs.stream.map { UInt16($0) })
        #expect(docs.map { [$0.start, $0.length] } == helpers.find_docs.docs)
        #expect(docs.map(\.index) == Array(docs.indices))

        let golden = try PhasedTTTFixtures.golden("adam_two_phases")
        let tokens = try FamilyFixtures.tokens(PhasedTTTFixtures.family)
        #expect(tokens.count == golden.val_tokens)
        #expect(try PhasedTTTPlan.documents(in: tokens).map { [$0.start, $0.length] } == golden.documents)
    }

    @Test func documentErrorsAreTyped() {
        #expect(throws: TTTError.noDocuments) { try PhasedTTTPlan.documents(in: [5, 6, 7]) }
        #expect(throws: TTTError.emptyDocument(position: 2)) { try PhasedTTTPlan.documents(in: [1, 4, 1]) }
    }

    @Test func batchQueueMatchesTheRecordsGlobalBatches() throws {
        let helpers = try PhasedTTTFixtures.helpers().global_batches
        let docs = helpers.documents.enumerated().map { PhasedTTTDocument(index: $0.offset, start: $0.element[0], length: $0.element[1]) }
        for c in helpers.cases {
            let queue = PhasedTTTPlan.batches(docs, batchSize: c.batch_size)
            #expect(queue.map(\.index) == c.queue.map(\.batch), "batch size \(c.batch_size)")
            #expect(queue.map { $0.documents.map(\.index) } == c.queue.map(\.documents), "batch size \(c.batch_size)")
            let ascending = PhasedTTTPlan.batches(docs, batchSize: c.batch_size, ascending: true)
            #expect(ascending.map(\.index) == c.ascending.map(\.batch), "batch size \(c.batch_size), ascending")
            #expect(ascending.map { $0.documents.map(\.index) } == c.ascending.map(\.documents))
        }
        for name in PhasedTTTFixtures.cases {
            let golden = try PhasedTTTFixtures.golden(name)
            let tokens = try FamilyFixtures.tokens(PhasedTTTFixtures.family)
            let queue = PhasedTTTPlan.batches(try PhasedTTTPlan.documents(in: tokens), batchSize: golden.settings.ttt_batch_size)
            #expect(queue.map(\.index) == golden.batch_queue.map(\.batch), "\(name)")
            #expect(queue.map { $0.documents.map(\.index) } == golden.batch_queue.map(\.documents), "\(name)")
        }
    }

    @Test func globalChunksAndLearningRatesMatchTheRecordsPhases() throws {
        for name in PhasedTTTFixtures.cases {
            let golden = try PhasedTTTFixtures.golden(name)
            let settings = golden.settings.phased
            for phase in golden.phases {
                let plan = PhasedTTTPlan.globalChunks(tokens: phase.tokens, settings: settings)
                #expect(plan.training.map(\.chunk) == phase.chunks.map(\.chunk), "\(name) phase \(phase.phase)")
                for (ours, theirs) in zip(plan.training, phase.chunks) {
                    #expect(abs(ours.learningRate - theirs.lr) <= 1e-15 * max(1, theirs.lr), "\(name) chunk \(ours.chunk)")
                    #expect(ours.steps.count * settings.globalEpochs == theirs.losses.count, "\(name) chunk \(ours.chunk)")
                }
            }
        }
    }

    @Test func phaseBoundariesAreTheRecordsIntegerSplits() {
        #expect(PhasedTTTPlan.phaseBoundaries(prefixDocs: 6, documents: 9, phases: 2) == [3, 6])
        #expect(PhasedTTTPlan.phaseBoundaries(prefixDocs: 5, documents: 9, phases: 3) == [1, 3, 5])
        #expect(PhasedTTTPlan.phaseBoundaries(prefixDocs: 2000, documents: 50, phases: 0) == [50])
    }

    @Test func settingsRefuseWhatTheRecordsCannotRun() {
        var s = PhasedTTTSettings()
        #expect(throws: Never.self) { try s.validate() }
        s.chunkSize = 4096
        #expect(throws: TTTError.invalidSetting(name: "ttt_eval_seq_len", value: "2048 (must be ≥ ttt_chunk_size 4096)")) { try s.validate() }
        s = PhasedTTTSettings()
        s.valDocFraction = 0.5
        #expect(throws: TTTError.self) { try s.validate() }
        s = PhasedTTTSettings()
        s.beta2 = 1
        #expect(throws: TTTError.invalidSetting(name: "ttt_beta2", value: "1.0")) { try s.validate() }
    }
}
