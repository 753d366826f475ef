import Foundation
import Reference
import Testing
@testable import Verifier

/// `verify eval --sample-docs N --seed S`: a sampled unit's sums are the full run's for that unit,
/// bit for bit, and the 99% interval contains the full run's value in at least 98% of 300 seeds
/// (resampled from the census's exact unit sums, which the first property makes legitimate).
/// docs/sampled-evaluation.md has the coverage measured over 2,000 seeds and more sizes.
@Suite("Sampled evaluation")
struct SampledEvaluationTests {
    /// The tiny baseline artifact on windows of 64: 512 windows of the shared small shard.
    static func windowsRequest() -> ReevaluationRequest {
        ReevaluationRequest(
            artifact: Paths.fixture("eval/tiny.int8.ptz"), overrides: ["ROPE_BASE": "500", "LOGIT_SOFTCAP": "20"],
            tokenizer: Paths.shared("tokenizers/fineweb_1024_bpe.model"),
            validationPattern: Paths.shared("val/small").path + "/fineweb_val_*.bin", mode: .standard, seqLen: 64,
            maxTokens: 32768, threads: 2)
    }

    /// A stream of many documents of skewed lengths: the shared shard's first 32,769 real tokens with
    /// BOS written at positions whose gaps are log-uniform in 4…600 (a fixed generator), in the val
    /// shard format. The real PEP documents average 6,400 tokens: too few for a sample in a test.
    static func manyDocumentsShard() throws -> URL {
        let source = try ValidationShard.readAll(pattern: Paths.shared("val/small").path + "/fineweb_val_*.bin")
        var tokens = Array(source.prefix(32769))
        var generator = SplitMix64(seed: 20240520)
        var position = 0
        while true {
            let uniform = Double(generator.next() >> 11) / Double(1 << 53)
            position += Int(4 * pow(150, uniform))
            guard position < tokens.count else { break }
            tokens[position] = 1
        }
        var data = Data()
        for value in [ValidationShard.magic, 1, Int32(tokens.count)] + Array(repeating: 0, count: 253) {
            withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
        }
        for token in tokens { withUnsafeBytes(of: token.littleEndian) { data.append(contentsOf: $0) } }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-docs-\(UUID().uuidString).bin")
        try data.write(to: url)
        return url
    }

    /// The plain 2026-04 family model (document-segmented eval_val, batches of 1,024 tokens) on `shard`.
    static func documentsRequest(_ shard: URL) throws -> ReevaluationRequest {
        let golden = try FamilyReevaluationTests.golden("plain-sp1024")
        var request = FamilyReevaluationTests.request("plain-sp1024", golden: golden)
        request.validationPattern = shard.path
        return request
    }

    /// Runs `request` whole and as a census (every unit sampled, each scored alone): the census's
    /// units must add up, bit for bit, to the whole run, and a real sample's units must be the
    /// census's same units, bit for bit. Returns the census and the whole run's score.
    static func census(_ base: ReevaluationRequest, units kind: String, sampleSize: Int = 24)
        throws -> (census: SampledEvaluation, full: EvalPartial)
    {
        let full = try Reevaluation.run(base)
        var request = base
        request.sample = EvaluationSample(size: 1, seed: 0)
        let units = try #require(try Reevaluation.run(request).sample).plan.design.totalUnits
        request.sample = EvaluationSample(size: units, seed: 0)
        let census = try #require(try Reevaluation.run(request).sample)
        #expect(census.plan.units == kind)
        #expect(census.partials.reduce(EvalPartial(), +) == full.score)
        #expect(census.estimate.valBPB.estimate.bitPattern == full.score.bitsPerByte.bitPattern)
        #expect(census.estimate.valLoss.estimate.bitPattern == full.score.meanLoss.bitPattern)
        #expect(census.estimate.valBPB.lower == census.estimate.valBPB.upper)
        #expect(census.plan.design.totalTokens == full.score.tokens)

        request.sample = EvaluationSample(size: sampleSize, seed: 11)
        request.threads = 1  // another thread count than the census's: the same bits
        let sampled = try #require(try Reevaluation.run(request).sample)
        #expect(sampled.partials.count == sampleSize)
        for (unit, partial) in zip(sampled.plan.design.sampledUnits, sampled.partials) {
            #expect(partial == census.partials[unit], "unit \(unit)")
        }
        return (census, full.score)
    }

    /// The share of `seeds` whose 99% intervals (from the census's exact unit sums, resampled)
    /// contain the full run's val_loss and val_bpb.
    static func coverage(_ census: SampledEvaluation, full: EvalPartial, size: Int, seeds: Range<UInt64>) throws
        -> (loss: Double, bpb: Double)
    {
        var loss = 0, bpb = 0
        for seed in seeds {
            let design = try StratifiedSample(lengths: census.plan.design.strata.flatMap(\.units).sorted().map { unit in
                census.partials[unit].tokens
            }, size: size, seed: seed, kind: census.plan.units)
            let estimate = SampledEstimate(sample: design, partials: design.sampledUnits.map { census.partials[$0] })
            if estimate.valLoss.contains(full.meanLoss) { loss += 1 }
            if estimate.valBPB.contains(full.bitsPerByte) { bpb += 1 }
        }
        return (Double(loss) / Double(seeds.count), Double(bpb) / Double(seeds.count))
    }

    @Test("windows: the baseline's 512 windows, sampled, are the full run's, and the 99% interval covers it")
    func windows() throws {
        let (census, full) = try Self.census(Self.windowsRequest(), units: "windows")
        #expect(census.plan.design.totalUnits == 512)
        for size in [16, 64, 256] {
            let measured = try Self.coverage(census, full: full, size: size, seeds: 0..<300)
            #expect(measured.loss >= 0.98 && measured.bpb >= 0.98, "n = \(size): \(measured)")
        }
    }

    @Test("documents: a document-segmented eval_val's document pieces, sampled, are the full run's; 99% coverage")
    func documents() throws {
        let shard = try Self.manyDocumentsShard()
        defer { try? FileManager.default.removeItem(at: shard) }
        let (census, full) = try Self.census(try Self.documentsRequest(shard), units: "documents")
        let lengths = census.partials.map(\.tokens)
        #expect(census.plan.design.totalUnits >= 250)
        #expect(lengths.max()! > 10 * lengths.min()!)  // skewed: what the strata are for
        for size in [16, 64, 128] {
            let measured = try Self.coverage(census, full: full, size: size, seeds: 0..<300)
            #expect(measured.loss >= 0.98 && measured.bpb >= 0.98, "n = \(size): \(measured)")
        }
    }
}
