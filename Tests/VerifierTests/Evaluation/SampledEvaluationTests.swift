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

    @Test("record family eval_val_sliding: windows scored at their place in their batch add up to the full run")
    func documentSlidingWindows() throws {
        let golden = try CombinedPipelineTests.golden("outgate-brotli-sp1024")
        var request = CombinedPipelineTests.request("outgate-brotli-sp1024", golden)
        request.mode = .sliding(stride: try #require(golden.sliding).stride)
        let (census, _) = try Self.census(request, units: "windows", sampleSize: 8)
        #expect(census.plan.unitDescription.contains("eval_val_sliding"))
    }

    @Test("the sample is reproducible from the seed, partitions the units into strata by length, and sizes are range-checked")
    func design() throws {
        let lengths = (0..<300).map { 1 + ($0 * 7919) % 500 }
        let a = try StratifiedSample(lengths: lengths, size: 40, seed: 5, kind: "documents")
        let b = try StratifiedSample(lengths: lengths, size: 40, seed: 5, kind: "documents")
        let c = try StratifiedSample(lengths: lengths, size: 40, seed: 6, kind: "documents")
        #expect(a == b && a.sampledUnits != c.sampledUnits)
        #expect(a.sampledUnits.count == 40 && Set(a.sampledUnits).count == 40)
        #expect(a.strata.count == 20)  // at most N/2, so each stratum gets two
        #expect(a.strata.flatMap(\.units).sorted() == Array(0..<300))
        #expect(a.strata.allSatisfy { $0.sampled.count >= 2 && Set($0.sampled).isSubset(of: $0.units) })
        for (shorter, longer) in zip(a.strata, a.strata.dropFirst()) { #expect(shorter.longest <= longer.shortest) }
        #expect(a.totalTokens == lengths.reduce(0, +) && a.sampledTokens == a.sampledUnits.reduce(0) { $0 + lengths[$1] })
        // A few long units hold most tokens: their stratum is taken whole.
        let skewed = Array(repeating: 10, count: 200) + [5000, 6000]
        let heavy = try StratifiedSample(lengths: skewed, size: 10, seed: 1, kind: "documents")
        #expect(heavy.strata.suffix(2).map(\.units) == [[200], [201]] && heavy.strata.allSatisfy { $0.units.count > 1 || $0.isComplete })
        #expect(throws: SampledEvaluationError.sizeOutOfRange(flag: "--sample-docs", size: 0, units: 300, kind: "documents")) {
            try StratifiedSample(lengths: lengths, size: 0, seed: 1, kind: "documents")
        }
        #expect(throws: SampledEvaluationError.self) { try StratifiedSample(lengths: lengths, size: 301, seed: 1, kind: "documents") }
        // One unit: an estimate without an interval.
        let one = try StratifiedSample(lengths: lengths, size: 1, seed: 1, kind: "documents")
        let estimate = SampledEstimate(sample: one, partials: [EvalPartial(lossSum: ExactLossSum(), tokens: lengths[one.sampledUnits[0]], bytes: 9)])
        #expect(estimate.valBPB.lower == nil && !estimate.valBPB.contains(estimate.valBPB.estimate))
    }

    @Test("verify eval --sample-docs: the plan line, JSON estimate keys, and range errors naming the flag")
    func command() throws {
        let arguments = ShardedEvaluationTests.arguments(Self.windowsRequest()) + ["--threads", "2"]
        let run = try VerifyExecutable.run(arguments + ["--sample-docs", "30", "--seed", "9", "--json"])
        #expect(run.stderr.contains("eval: plan: score a random sample of 30 of 512 windows (seed 9, 15 strata by length)"))
        let object = try ShardedEvaluationTests.json(run)
        #expect(object["sampled"] as? Bool == true && object["val_bpb"] == nil && object["confidence"] as? Double == 0.99)
        let bpb = try #require(object["val_bpb_estimate"] as? [String: Any])
        let estimate = try #require(bpb["estimate"] as? Double), lower = try #require(bpb["lower"] as? Double)
        let upper = try #require(bpb["upper"] as? Double)
        #expect(lower < estimate && estimate < upper && bpb["degrees_of_freedom"] as? Double != nil)
        let sample = try #require(object["sample"] as? [String: Any])
        #expect(sample["units"] as? String == "windows" && sample["total_units"] as? Int == 512 && sample["size"] as? Int == 30)
        #expect(sample["seed"] as? Int == 9 && sample["total_tokens"] as? Int == 32768 && sample["sampled_tokens"] as? Int == 30 * 64)
        #expect((sample["strata"] as? [[String: Any]])?.count == 15 && object["tokens"] as? Int == 30 * 64)
        #expect(abs((sample["stream_coverage"] as? Double ?? 0) - 30.0 / 512) < 1e-12)
        // The same seed, the same numbers.
        let again = try ShardedEvaluationTests.json(try VerifyExecutable.run(arguments + ["--sample-docs", "30", "--seed", "9", "--json"]))
        #expect((again["val_bpb_estimate"] as? [String: Any])?["estimate"] as? Double == estimate)

        let tooMany = try VerifyExecutable.run(arguments + ["--sample-docs", "513", "--seed", "9"])
        #expect(tooMany.status == 2)
        #expect(tooMany.stderr.contains("--sample-docs must be in 1...512 (this evaluation scores 512 windows), got 513"))
        let zero = try VerifyExecutable.run(arguments + ["--sample-docs", "0", "--seed", "9"])
        #expect(zero.status == 2 && zero.stderr.contains("--sample-docs must be in 1..."))
        let negativeSeed = try VerifyExecutable.run(arguments + ["--sample-docs", "5", "--seed=-1"])
        #expect(negativeSeed.status == 2 && negativeSeed.stderr.contains("--seed"))
        let noSeed = try VerifyExecutable.run(arguments + ["--sample-docs", "5"])
        #expect(noSeed.status == 2 && noSeed.stderr.contains("--sample-docs N and --seed S go together"))
        let sharded = try VerifyExecutable.run(arguments + ["--sample-docs", "5", "--seed", "1", "--shard", "0/2", "--partial-out", "/tmp/x"])
        #expect(sharded.status == 2 && sharded.stderr.contains("use one or the other"))
        let text = try VerifyExecutable.run(arguments + ["--sample-docs", "30", "--seed", "9"])
        #expect(text.stdout.contains("SAMPLED ESTIMATE (not an exact evaluation): 30 of 512 windows, seed 9"))
        #expect(text.stdout.contains(String(format: "val_bpb ≈ %.8f  99%% interval [%.8f, %.8f]", estimate, lower, upper)))
    }

    @Test("the audit with --sample-docs: a claim inside the interval leaves the check incomplete, one below it fails")
    func audit() throws {
        let data = ["--tokenizer", Paths.shared("tokenizers/fineweb_1024_bpe.model").path,
                    "--val", Paths.shared("val/small").path + "/fineweb_val_*.bin", "--threads", "2", "--sample-docs", "600", "--seed", "3"]
        let honest = try AuditCommandTests.run([AuditCommandTests.fixture("reproducible")] + data)
        #expect(honest.status == 3)
        #expect(honest.stdout.contains("- REPRODUCED-VAL-BPB: sampled estimate consistent with the claim (inside the 99% interval; the estimate "))
        #expect(honest.stdout.contains("an estimate is not an exact reproduction"))
        let inflated = try AuditCommandTests.run([AuditCommandTests.fixture("not-reproducible")] + data)
        #expect(inflated.status == 1)
        #expect(inflated.stdout.contains("REPRODUCED-VAL-BPB: the claim is below the 99% interval of a sampled estimate: not reproduced"))
        #expect(inflated.stdout.contains("the claimed val_bpb is below the sampled 99% interval by "))
        let unseeded = try AuditCommandTests.run([AuditCommandTests.fixture("reproducible"), "--sample-docs", "5"])
        #expect(unseeded.status == 2)
    }

    @Test("the sampled check's three outcomes against a claim: below fails, above warns, inside stays incomplete")
    func sampledCheck() throws {
        // Claims: seed 42 1.21494627, seed 2025 1.21364319, …; no artifact seed, so the closest is compared.
        let runs = RunResult.runs(of: try Submission.read(at: Paths.fixture("audit/record")))
        let design = try StratifiedSample(lengths: Array(repeating: 100, count: 50), size: 10, seed: 2, kind: "windows")
        /// Units of 100 tokens and 250 bytes whose val_bpb is `center` ± 0.002.
        func sampled(around center: Double) -> SampledEvaluation {
            let partials = design.sampledUnits.indices.map { k in
                var loss = ExactLossSum()
                let nats = (center + 0.002 * Double(k % 3 - 1)) * 250 * log(2.0)
                for _ in 0..<100 { loss.add(Float(nats / 100)) }
                return EvalPartial(lossSum: loss, tokens: 100, bytes: 250)
            }
            return SampledEvaluation(plan: SamplePlan(units: "windows", unitDescription: "windows", design: design),
                                     partials: partials, estimate: SampledEstimate(sample: design, partials: partials))
        }
        let inside = SampledScoreCheck.check(sampled(around: 1.2149), artifact: "a.ptz", runs: runs)
        #expect(inside.status == .incomplete && inside.findings.isEmpty)
        #expect(inside.summary.contains("consistent with the claim"))
        #expect(inside.measurements.map(\.name).contains("sampled_val_bpb_upper_99"))
        let worse = SampledScoreCheck.check(sampled(around: 1.2249), artifact: "a.ptz", runs: runs)
        #expect(worse.status == .fail && worse.findings.first?.severity == .error)
        #expect(worse.findings.first?.message.contains("the artifact scores worse than claimed") == true)
        let better = SampledScoreCheck.check(sampled(around: 1.1949), artifact: "a.ptz", runs: runs)
        #expect(better.status == .incomplete && better.findings.first?.severity == .warning)
        #expect(better.findings.first?.message.contains("the artifact scores better than claimed") == true)
    }

    @Test("the logs' no-TTT score (diagnostic quantized) is read with its line, as in the #1 record's logs")
    func diagnosticQuantizedLines() throws {
        let folder = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-04-27_SP8192_LQER_SparseGate_BOSSmearFix_9HpStack_1.0611")
        let submission = try Submission.read(at: folder)
        let runs = DiagnosticQuantizedScore.runs(of: submission, runs: RunResult.runs(of: submission))
        let bySeed = Dictionary(uniqueKeysWithValues: runs.compactMap { run in run.seed.map { ($0, run) } })
        #expect(bySeed[0]?.valBPB?.value.double == 1.07406724)
        #expect(bySeed[0]?.valBPB?.source == .line(file: "train_seed0.log", line: 189))
        #expect(bySeed[42]?.valBPB?.value.double == 1.07254371)
        #expect(bySeed[1234]?.valBPB?.value.double == 1.07477929)
    }

    @Test("a claimed TTT score with --sample-docs: the sample is compared with the logs' no-TTT score instead")
    func tttClaimComparesTheDiagnosticScore() throws {
        let evaluation = TTTAuditTests.evaluation
        // The no-TTT standard evaluation of the fixture's artifact, computed here in full.
        let source = Paths.fixture("audit/ttt-chunked")
        let full = try Reevaluation.run(ReevaluationRequest(
            artifact: source.appendingPathComponent("final_model.int8.ptz"), code: source.appendingPathComponent("train_gpt.py"),
            logs: [source.appendingPathComponent("train_seed1337.log")], tokenizer: evaluation.tokenizer,
            validationPattern: evaluation.validationPattern, threads: 2))
        func audit(diagnostic: Double?) throws -> AuditCheck {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-diag-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: source, to: folder)
            defer { try? FileManager.default.removeItem(at: folder) }
            if let diagnostic {
                let log = folder.appendingPathComponent("train_seed1337.log")
                var text = try String(contentsOf: log, encoding: .utf8)
                text = text.replacingOccurrences(of: "legal_ttt val_loss", with: String(
                    format: "diagnostic quantized val_loss:%.8f val_bpb:%.8f eval_time:1000ms\nlegal_ttt val_loss", full.score.meanLoss, diagnostic))
                try Data(text.utf8).write(to: log)
            }
            let report = try Audit.run(try Submission.read(at: folder),
                                       options: AuditOptions(evaluation: evaluation, sample: EvaluationSample(size: 40, seed: 4)))
            return try #require(report.checks.first { $0.id == Audit.reproducedScoreID })
        }
        let consistent = try audit(diagnostic: full.score.bitsPerByte)
        #expect(consistent.status == .incomplete)
        #expect(consistent.summary.hasPrefix("the claimed score uses test-time training, which --sample-docs does not sample; "
                                             + "against the logs' no-TTT quantized score instead: sampled estimate consistent"))
        let inflated = try audit(diagnostic: full.score.bitsPerByte - 1)
        #expect(inflated.status == .fail)
        #expect(inflated.findings.first?.message.contains("the logged no-TTT quantized val_bpb (diagnostic quantized) is below") == true)
        let absent = try audit(diagnostic: nil)
        #expect(absent.status == .incomplete && absent.summary.contains("no log reports the no-TTT quantized score"))
    }
}
