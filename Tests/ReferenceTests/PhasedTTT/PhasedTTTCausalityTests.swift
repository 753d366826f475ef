import Foundation
import Testing
@testable import Reference

/// Score-first legality of phased TTT with the real family model: every target is scored exactly
/// once, and changing a token changes nothing scored before it (in scoring order) — while a token
/// of a document the global phases train on does change what is scored after that phase.
@Suite struct PhasedTTTCausalityTests {
    /// Three documents of the plain-sp1024 stream (1,845 / 1,989 / 468 tokens), one per batch, claimed
    /// longest first: document 1, then 0 (each followed by a global phase), then 2.
    static let streamLength = 4300

    static var settings: PhasedTTTSettings {
        var s = PhasedTTTSettings()
        s.batchSize = 1
        s.chunkSize = 32
        s.evalSeqLen = 64
        s.loraRank = 2
        s.loraLearningRate = 0.01
        s.prefixDocs = 2
        s.phases = 2
        s.globalLearningRate = 0.05
        s.globalChunkTokens = 512
        s.globalBatchSeqs = 1
        s.globalSeqLen = 256
        return s
    }

    /// Every scored (position, loss), in scoring order.
    static func scores(flipping position: Int? = nil) throws -> (PhasedTTTResult, [(Int, Float)]) {
        var tokens = Array(try FamilyFixtures.tokens(PhasedTTTFixtures.family).prefix(streamLength))
        if let position { tokens[position] = tokens[position] == 7 ? 8 : 7 }
        let evaluator = try PhasedTTTFixtures.evaluator(settings, tokens: tokens)
        var seen: [(Int, Float)] = []
        let result = try evaluator.evaluate(model: try PhasedTTTFixtures.model()) { seen.append(($0, $1)) }
        return (result, seen)
    }

    @Test func everyTargetIsScoredExactlyOnce() throws {
        let (result, seen) = try Self.scores()
        let documents = try PhasedTTTPlan.documents(in: Array(try FamilyFixtures.tokens(PhasedTTTFixtures.family).prefix(Self.streamLength)))
        let expected = documents.flatMap { ($0.start + 1)..<($0.start + $0.length) }
        #expect(seen.count == expected.count)
        #expect(Set(seen.map(\.0)) == Set(expected))
        #expect(result.total.tokens == expected.count)
        #expect(result.batches.map(\.documents) == [[1], [0], [2]])
        #expect(result.phases.map(\.documents) == [[1], [0, 1]])
    }

    @Test func aLateTokenChangesNothingScoredBeforeIt() throws {
        let flip = 4200  // inside document 2, the last one scored
        let (_, before) = try Self.scores()
        let (_, after) = try Self.scores(flipping: flip)
        #expect(before.map(\.0) == after.map(\.0))
        var changed = 0
        for (a, b) in zip(before, after) {
            if a.0 < flip { #expect(a.1 == b.1, "position \(a.0) changed") } else if a.1 != b.1 { changed += 1 }
        }
        #expect(changed > 0, "the flipped token changes its own and later scores")
    }

    @Test func aTokenOfTheFirstPhaseReachesLaterDocumentsOnlyThroughIt() throws {
        let flip = 3000  // inside document 1: scored first, then trained on by both global phases
        let (_, before) = try Self.scores()
        let (_, after) = try Self.scores(flipping: flip)
        let documentOne = 1845..<3833  // its targets (1,844 is the BOS that ends document 0)
        var laterChanged = 0
        for (a, b) in zip(before, after) {
            if documentOne.contains(a.0) && a.0 < flip { #expect(a.1 == b.1, "position \(a.0) changed") }
            if !documentOne.contains(a.0) && a.1 != b.1 { laterChanged += 1 }
        }
        #expect(laterChanged > 0, "documents scored after the global phase see the flipped token through it")
    }
}
