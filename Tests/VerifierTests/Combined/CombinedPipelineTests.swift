import Foundation
import Reference
import Testing
@testable import Verifier

/// pgverify's whole pipeline on artifacts written by the top records' own export code
/// (fixtures/combined, tools/combined_goldens.py): unpack → dequantize (dtypes from the record's
/// `deserialize`) must give the record's own dequantized tensors bit for bit, and `Reevaluation.run`
/// (what `verify eval` runs: ModelConfig from tensors + code, FamilyGPTModel, the record's kind of
/// eval_val) must give the record's own eval_val within 1e-4 val_bpb.
@Suite("Combined: record export → pgverify pipeline")
struct CombinedPipelineTests {
    struct Golden: Decodable {
        struct TensorDigest: Decodable { var dtype: String; var shape: [Int]; var sha256: String }
        var record: String
        var tokenizer: String
        var artifact: String
        var artifact_sha256: String
        var env: [String: String]
        var val_tokens: Int
        var val_bpb: Double
        var tensors: [String: TensorDigest]
        /// The record's own quantization meta (`m`) per tensor.
        var quantization: [String: String]
        struct Sliding: Decodable { var stride: Int; var batch_seqs: Int; var val_bpb: Double }
        /// The record's own eval_val_sliding on the same model, where it has one.
        var sliding: Sliding?
    }

    static let all = ["lqerasym-brotli-sp1024", "pergroup-lrzip-sp1024", "gatedattn-brotli-sp1024",
                      "outgate-brotli-sp1024", "plain-brotli-sp1024", "sparsegate-brotli-sp1024",
                      "caseops-taper-brotli-sp1024", "varlen-brotli-sp1024"]

    static func golden(_ fixture: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("combined/\(fixture)/golden.json")))
    }

    static func code(_ golden: Golden) -> URL { Paths.shared("corpus/parameter-golf/\(golden.record)/train_gpt.py") }

    static func artifact(_ fixture: String, _ golden: Golden) -> URL {
        Paths.fixture("combined/\(fixture)/\(golden.artifact)")
    }

    /// The golden run's environment, restricted to what pgverify reads (as the family tests do).
    static func overrides(_ golden: Golden) -> [String: String] {
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        return golden.env.filter { known.contains($0.key) || FamilyEvaluationResolver.handles($0.key) }
            .merging(ConformanceSupport.codeSettings(golden.env, code: code(golden))) { known, _ in known }
    }

    static func request(_ fixture: String, _ golden: Golden, overrides: [String: String]? = nil) -> ReevaluationRequest {
        ReevaluationRequest(
            artifact: artifact(fixture, golden), code: code(golden), overrides: overrides ?? Self.overrides(golden),
            tokenizer: Paths.shared("tokenizers/\(golden.tokenizer)"),
            validationPattern: Paths.fixture("combined/val_tokens.bin").path, threads: 2)
    }

    @Test("unpack + dequantize gives the record's own deserialized tensors, bit for bit", arguments: all)
    func dequantizedTensorsBitIdentical(fixture: String) throws {
        let golden = try Self.golden(fixture)
        // The committed artifact is the one the golden was computed from.
        #expect(SHA256Digest.hex([UInt8](try Data(contentsOf: Self.artifact(fixture, golden)))) == golden.artifact_sha256)
        let (weights, _) = try Reevaluation.loadWeights(Self.artifact(fixture, golden), code: Self.code(golden))
        #expect(Set(weights.keys) == Set(golden.tensors.keys))
        var mismatched: [String] = []
        for (name, expected) in golden.tensors.sorted(by: { $0.key < $1.key }) {
            guard let tensor = weights[name] else { continue }
            #expect(tensor.shape == expected.shape, "\(name)")
            if SHA256Digest.hex(float32: tensor.data) != expected.sha256 { mismatched.append("\(name) (\(expected.dtype))") }
        }
        #expect(mismatched.isEmpty, "tensors differing from the record's deserialize: \(mismatched)")
    }

    @Test("verify eval's pipeline reproduces the record's own eval_val on its quantized model",
          arguments: all.filter { $0 != "pergroup-lrzip-sp1024" })
    func evaluationReproduced(fixture: String) throws {
        let golden = try Self.golden(fixture)
        let result = try Reevaluation.run(Self.request(fixture, golden), segments: 2)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4,
                "pgverify \(result.score.bitsPerByte) vs record \(golden.val_bpb)")
        #expect(result.score.tokens == golden.val_tokens - 1)
        guard case .documentSegmented? = result.familyEvaluation?.evaluation else {
            Issue.record("expected the record's document-segmented eval_val, got \(String(describing: result.familyEvaluation))")
            return
        }
    }

    @Test("the dtypes come from the record's deserialize: only the embedding stays bfloat16", arguments: all)
    func dtypesFromDeserialize(fixture: String) throws {
        let golden = try Self.golden(fixture)
        let contents = try ArtifactReader.read(url: Self.artifact(fixture, golden))
        #expect(contents.format.needsOriginalDTypes)
        let (dtypes, source) = try DeserializedDTypes.resolve(
            code: Self.code(golden), tensors: contents.format.tensors.map { ($0.name, $0.shape) })
        let expected = golden.tensors.filter { $0.value.dtype != "float32" }.mapValues(\.dtype)
        #expect(dtypes.mapValues(\.rawValue) == expected)
        #expect(expected == ["tok_emb.weight": "bfloat16"])
        #expect(source.contains("restore_fp32_params"))
    }

    @Test("without the record's code the embedding is not rounded to bfloat16: its digest differs")
    func withoutCodeEmbeddingDiffers() throws {
        let fixture = "plain-brotli-sp1024"
        let golden = try Self.golden(fixture)
        let (weights, _) = try Reevaluation.loadWeights(Self.artifact(fixture, golden))
        for (name, expected) in golden.tensors {
            let matches = weights[name].map { SHA256Digest.hex(float32: $0.data) == expected.sha256 }
            #expect(matches == (name != "tok_emb.weight"), "\(name)")
        }
    }

    @Test("a deserialize casting to bfloat16 with an unknown float32 restoration is refused, not guessed")
    func unknownRestorationRefused() throws {
        let golden = try Self.golden("plain-brotli-sp1024")
        let source = try String(contentsOf: Self.code(golden), encoding: .utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("combined-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let edited = directory.appendingPathComponent("train_gpt.py")
        try source.replacingOccurrences(of: "param.ndim < 2", with: "param.ndim < 3")
            .write(to: edited, atomically: true, encoding: .utf8)
        do {
            _ = try DeserializedDTypes.resolve(code: edited, tensors: [("tok_emb.weight", [1024, 32])])
            Issue.record("expected a refusal")
        } catch let error as UnsupportedArtifact {
            #expect(error.reason.contains("restores float32 parameters in a way pgverify does not read"))
            #expect(ExitStatus.forError(error) == .badInput)
        }
        // Code without a bfloat16 deserialize (the baseline's) leaves every parameter float32.
        let baseline = try DeserializedDTypes.resolve(code: Paths.shared("corpus/parameter-golf/train_gpt.py"),
                                                      tensors: [("tok_emb.weight", [1024, 32])])
        #expect(baseline.dtypes.isEmpty)
    }

    @Test("record #1's PGRP artifact with its CaseOps byte sidecar: the record's eval_val reproduced; without one, an error")
    func pergroupWithByteSidecar() throws {
        let fixture = "pergroup-lrzip-sp1024"
        let golden = try Self.golden(fixture)
        var request = Self.request(fixture, golden)
        request.byteSidecarPattern = Paths.fixture("combined/val_bytes.bin").path
        let result = try Reevaluation.run(request)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4,
                "pgverify \(result.score.bitsPerByte) vs record \(golden.val_bpb)")
        #expect(result.familyEvaluation?.usesByteSidecar == true)
        #expect(result.familyEvaluation?.sources["byte_sidecar"]?.contains("CaseOps byte sidecar") == true)
        // The sidecar is aligned with the stream (entry 0, the first BOS, counts no bytes).
        let tokens = try ValidationShard.readAll(pattern: Paths.fixture("combined/val_tokens.bin").path)
        let sidecar = try ValidationShard.readAll(pattern: request.byteSidecarPattern ?? "")
        #expect(sidecar.count == tokens.count && sidecar.first == 0)
        request.byteSidecarPattern = nil
        do {
            _ = try Reevaluation.run(request)
            Issue.record("expected the sidecar eval to be refused without a sidecar")
        } catch let error as CaseOpsSidecarError {
            // Not beside the shards either: an error naming where it looked, never the tokenizer tables.
            #expect(error.description.contains("CaseOps byte sidecar") && error.description.contains("--val-bytes"))
        }
    }

    @Test("a byte sidecar shorter than the stream is an input error naming both counts")
    func shortSidecarRefused() throws {
        let fixture = "pergroup-lrzip-sp1024"
        let golden = try Self.golden(fixture)
        var request = Self.request(fixture, golden)
        request.byteSidecarPattern = Paths.fixture("shards/tiny_val_000000.bin").path
        do {
            _ = try Reevaluation.run(request)
            Issue.record("expected a short sidecar to be refused")
        } catch let error as CaseOpsSidecarError {
            guard case .tooShort(_, let tokens) = error else { Issue.record("\(error)"); return }
            #expect(tokens == golden.val_tokens)
        }
    }

    @Test("record #1's family golden (raw weights, fixtures/families) with its byte sidecar")
    func familyGoldenWithByteSidecar() throws {
        struct FamilyGolden: Decodable { var record: String; var tokenizer: String; var env: [String: String]; var val_bpb: Double }
        let folder = "families/sparsegate-bosfix9hp-sp1024"
        let golden = try JSONDecoder().decode(FamilyGolden.self, from: Data(contentsOf: Paths.fixture("\(folder)/golden.json")))
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        let request = ReevaluationRequest(
            artifact: Paths.fixture("\(folder)/model.weights.json"),
            code: Paths.shared("corpus/parameter-golf/\(golden.record)/train_gpt.py"),
            overrides: golden.env.filter { known.contains($0.key) || FamilyEvaluationResolver.handles($0.key) }
                .merging(ConformanceSupport.codeSettings(golden.env, code: Paths.shared("corpus/parameter-golf/\(golden.record)/train_gpt.py"))) { known, _ in known },
            tokenizer: Paths.shared("tokenizers/\(golden.tokenizer)"),
            validationPattern: Paths.fixture("\(folder)/val_tokens.bin").path, threads: 2,
            byteSidecarPattern: Paths.fixture("\(folder)/val_bytes.bin").path)
        let result = try Reevaluation.run(request)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4)
    }

    @Test("verify inspect lists every tensor with the record's own quantization scheme", arguments: all)
    func inspectListsSchemes(fixture: String) throws {
        let golden = try Self.golden(fixture)
        let contents = try ArtifactReader.read(url: Self.artifact(fixture, golden))
        let listed = Dictionary(uniqueKeysWithValues: contents.format.tensors.map { ($0.name, $0) })
        #expect(Set(listed.keys) == Set(golden.quantization.keys))
        for (name, scheme) in golden.quantization {
            #expect(listed[name]?.scheme.hasPrefix(scheme) == true, "\(name): \(listed[name]?.scheme ?? "missing") vs \(scheme)")
            #expect(listed[name]?.shape == golden.tensors[name]?.shape, "\(name)")
        }
        #expect(contents.compression == (fixture.hasPrefix("pergroup") ? .perGroup : .brotli))
    }

    @Test("sliding mode reproduces the record's own eval_val_sliding (windows split at BOS, batches of 32)",
          arguments: ["plain-brotli-sp1024", "outgate-brotli-sp1024", "caseops-taper-brotli-sp1024", "varlen-brotli-sp1024"])
    func slidingReproduced(fixture: String) throws {
        let golden = try Self.golden(fixture)
        guard let sliding = golden.sliding else { Issue.record("no sliding golden"); return }
        var request = Self.request(fixture, golden)
        request.mode = .sliding(stride: sliding.stride)
        let result = try Reevaluation.run(request, segments: 3)
        #expect(abs(result.score.bitsPerByte - sliding.val_bpb) <= 1e-4,
                "pgverify \(result.score.bitsPerByte) vs record \(sliding.val_bpb)")
        #expect(result.familyEvaluation?.evaluation
                == .documentSliding(.init(stride: sliding.stride, batchSequences: sliding.batch_seqs, worldSize: 1)))
        #expect(result.familyEvaluation?.sources["eval_val_sliding"]?.contains("batch_seqs=32") == true)
        #expect(result.score.tokens == golden.val_tokens - 1)  // every target exactly once
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) > 1e-5)  // not the standard score
    }

    @Test("SmearGate crosses windows in a sliding batch: the batching changes the 04-16 score, not the plain one")
    func slidingBatchingMatters() throws {
        for (fixture, smear) in [("outgate-brotli-sp1024", true), ("plain-brotli-sp1024", false)] {
            let golden = try Self.golden(fixture)
            let recorded = try #require(golden.sliding?.val_bpb)
            var request = Self.request(fixture, golden)
            request.mode = .sliding(stride: 64)
            let asRecorded = try Reevaluation.run(request).score.bitsPerByte
            request.overrides["WORLD_SIZE"] = "8"  // other batch boundaries: each rank's windows batched apart
            let rebatched = try Reevaluation.run(request).score.bitsPerByte
            if smear {
                // A window's first token smears the previous window's last one: 8 ranks move 7 batch starts.
                #expect(abs(rebatched - asRecorded) > 1e-6)
                #expect(abs(asRecorded - recorded) < abs(rebatched - recorded))
            } else {
                #expect(abs(rebatched - asRecorded) < 1e-7, "\(fixture)")
            }
        }
    }

    @Test("sliding mode is refused for a record without a sliding evaluation, naming the procedures it has")
    func slidingRefusedWithoutRecordEvaluator() throws {
        let fixture = "lqerasym-brotli-sp1024"
        let golden = try Self.golden(fixture)
        #expect(golden.sliding == nil)
        var request = Self.request(fixture, golden)
        request.mode = .sliding(stride: 64)
        do {
            _ = try Reevaluation.run(request)
            Issue.record("expected a refusal")
        } catch let error as UnsupportedArtifact {
            // Found by what its functions do: none scores sliding windows in the form pgverify implements.
            #expect(error.reason.contains("no sliding evaluation of the document-segmented form pgverify implements"), "\(error.reason)")
            #expect(error.reason.contains("found: eval_val (line "), "\(error.reason)")
        }
    }

    @Test("the sliding plan: exactly-once windows, split contiguously over ranks, batches of batch_seqs per rank")
    func slidingPlan() throws {
        let plan = try DocumentSlidingPlan(seqLen: 256, stride: 64, streamLength: 16385, batchSequences: 32, worldSize: 8)
        // range(0, 16384, 64) kept while ws + 192 < 16384: starts 0 … 16128.
        #expect(plan.plan.windows.count == 253 && plan.plan.windows.last?.start == 16128)
        #expect(plan.plan.scoredTokens == 16384)
        #expect(plan.batches.flatMap { Array($0) } == Array(0..<253))
        #expect(plan.batches.allSatisfy { $0.count <= 32 } && plan.batches.count == 8)  // 31 or 32 windows per rank: one batch each
        #expect(plan.batches[0] == 0..<31 && plan.batches[1] == 31..<63)  // ranks: 253·r/8
        #expect(plan.longestBatch == 32 * 256)
        #expect(throws: EvalError.self) {
            try DocumentSlidingPlan(seqLen: 256, stride: 64, streamLength: 16385, batchSequences: 0, worldSize: 1)
        }
        #expect(throws: EvalError.invalidStride(stride: 300, seqLen: 256)) {
            try DocumentSlidingPlan(seqLen: 256, stride: 300, streamLength: 16385, batchSequences: 32, worldSize: 1)
        }
    }

    @Test("the verify eval command: record #1's PGRP artifact, its code, --set and --val-bytes; exit 2 without the sidecar")
    func verifyEvalCommand() throws {
        let fixture = "pergroup-lrzip-sp1024"
        let golden = try Self.golden(fixture)
        var arguments = ["eval", Self.artifact(fixture, golden).path, "--code", Self.code(golden).path,
                         "--tokenizer", Paths.shared("tokenizers/\(golden.tokenizer)").path,
                         "--val", Paths.fixture("combined/val_tokens.bin").path, "--threads", "2", "--json"]
        arguments += Self.overrides(golden).sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let refused = try VerifyExecutable.run(arguments)
        #expect(refused.status == 2 && refused.stderr.contains("--val-bytes"))
        let outcome = try VerifyExecutable.run(arguments + ["--val-bytes", Paths.fixture("combined/val_bytes.bin").path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        struct Report: Decodable { var val_bpb: Double; var tokens: Int }
        let report = try JSONDecoder().decode(Report.self, from: Data(outcome.stdout.utf8))
        #expect(abs(report.val_bpb - golden.val_bpb) <= 1e-4 && report.tokens == golden.val_tokens - 1)
    }

    @Test("the dtype rule matches PyTorch's GPT(h).bfloat16() + restore_fp32_params in all 14 records with that deserialize")
    func dtypesAcrossRecords() throws {
        struct Golden: Decodable {
            struct Record: Decodable {
                struct Entry: Decodable { var shape: [Int]; var dtype: String }
                var script: String
                var tensors: [String: Entry]
            }
            var records: [String: Record]
        }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("combined/deserialize_dtypes.json")))
        #expect(golden.records.count == 14)
        for (folder, record) in golden.records.sorted(by: { $0.key < $1.key }) {
            let code = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/\(folder)/\(record.script)")
            let (dtypes, _) = try DeserializedDTypes.resolve(code: code, tensors: record.tensors.map { ($0.key, $0.value.shape) })
            let expected = record.tensors.filter { $0.value.dtype == "bfloat16" }.mapValues(\.dtype)
            #expect(dtypes.mapValues(\.rawValue) == expected, "\(folder)")
        }
    }
}
