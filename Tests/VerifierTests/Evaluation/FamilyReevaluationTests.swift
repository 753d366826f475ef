import Foundation
import Reference
import Testing
@testable import Verifier

/// `Reevaluation.run` (what `verify eval` and the audit run) on the record-family goldens of
/// fixtures/families: raw weights as the artifact, the record's own train_gpt.py as code, the golden
/// run's env as overrides, must reproduce the record's own eval_val within 1e-4 val_bpb.
@Suite("Reevaluation: record families")
struct FamilyReevaluationTests {
    struct Golden: Decodable {
        var record: String
        var tokenizer: String
        var env: [String: String]
        var val_bpb: Double
    }

    static func golden(_ family: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Paths.fixture("families/\(family)/golden.json")))
    }

    static func code(_ golden: Golden) -> URL {
        Paths.shared("corpus/parameter-golf/\(golden.record)/train_gpt.py")
    }

    /// The golden run's environment, restricted to what pgverify reads: the settings the code declares
    /// (its model's switches included) but not its paths (DATA_PATH), and the evaluation's batch settings.
    static func overrides(_ golden: Golden) -> [String: String] {
        knownOverrides(golden).merging(ConformanceSupport.codeSettings(golden.env, code: code(golden))) { known, _ in known }
    }

    /// The settings pgverify's resolvers name, without the code's own switches.
    static func knownOverrides(_ golden: Golden) -> [String: String] {
        let known = Set(ModelConfigResolver.statedKeys.map(\.environmentVariable))
        return golden.env.filter { known.contains($0.key) || FamilyEvaluationResolver.handles($0.key) }
    }

    static func request(_ family: String, golden: Golden, overrides: [String: String]? = nil, code: URL?? = nil,
                        mode: EvalMode = .standard) -> ReevaluationRequest {
        ReevaluationRequest(
            artifact: Paths.fixture("families/\(family)/model.weights.json"),
            code: code ?? Self.code(golden), overrides: overrides ?? Self.overrides(golden),
            tokenizer: Paths.shared("tokenizers/\(golden.tokenizer)"),
            validationPattern: Paths.fixture("families/\(family)/val_tokens.bin").path, mode: mode, threads: 2)
    }

    @Test("2026-04 families: the document-segmented eval_val is read from the code and reproduced",
          arguments: ["sparsegate-smearbos-sp8192", "outgate-smear-sp1024", "gatedattn-sp1024", "plain-sp1024"])
    func documentSegmented(family: String) throws {
        let golden = try Self.golden(family)
        let result = try Reevaluation.run(Self.request(family, golden: golden), segments: 4)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4)
        #expect(result.score.tokens == 16384)
        #expect(result.resolved.architecture.map { $0.hasPrefix("matched to the forward of") && $0.contains(": record-family GPT (FamilyGPTModel)") } == true,
                "\(result.resolved.architecture ?? "none")")
        guard case .documentSegmented(let settings)? = result.familyEvaluation?.evaluation else {
            Issue.record("expected the document-segmented evaluation, got \(String(describing: result.familyEvaluation))")
            return
        }
        // VAL_BATCH_TOKENS 8192 over WORLD_SIZE 1 × grad_accum_steps (8 // 1): the golden's 1,024-token batches.
        #expect(settings == .init(valBatchTokens: 8192, worldSize: 1, gradAccumSteps: 8))
        #expect(result.documentPlan?.batches.count == 16)
        #expect(result.familyEvaluation?.sources["eval_val"]?.contains("_build_cu_seqlens") == true)
        #expect(result.familyEvaluation?.sources["grad_accum_steps"]?.hasSuffix(#"grad_accum_steps = 8 // int(os.environ.get("WORLD_SIZE", "1")) at WORLD_SIZE=1"#) == true)
        #expect(result.stream.count == 4 && result.stream.last?.tokens == result.score.tokens)
        #expect(result.stream.last.map { abs($0.bitsPerByte - result.score.bitsPerByte) <= 1e-12 } == true)
    }

    @Test("March families: refused (BigramHash is not described yet); the windowed evaluation below the check reproduces eval_val",
          arguments: ["march-bigram-ve-sp1024", "march-trigram-sp1024"])
    func marchWindows(family: String) throws {
        let golden = try Self.golden(family)
        let request = Self.request(family, golden: golden)
        #expect {
            try Reevaluation.run(request)
        } throws: { error in
            guard case .architectureNotMatched(_, _, let detail, _)? = error as? ModelConfigError else { return false }
            return detail.contains("BigramHash")
        }
        let (weights, settings) = try Reevaluation.loadWeights(request.artifact, code: request.code)
        let resolved = try ModelConfigResolver.resolve(weights: weights, code: request.code, logs: [],
                                                       overrides: settings.merging(request.overrides.filter { !FamilyEvaluationResolver.handles($0.key) }) { $1 })
        let result = try Reevaluation.runFamily(request, weights: weights, resolved: resolved, segments: 2, progress: nil)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4)
        #expect(result.familyEvaluation?.evaluation == .windows)
        #expect(result.familyEvaluation?.sources["eval_val"]?.contains("scores windows of seq_len") == true)
        #expect(result.plan.windows.count == 8 && result.stream.count == 2 && result.documentPlan == nil)
    }

    @Test("unstated, the world size is the challenge's 8 and changes the batches; --set WORLD_SIZE decides it")
    func worldSizeDefault() throws {
        let family = "plain-sp1024"
        let golden = try Self.golden(family)
        var overrides = Self.overrides(golden)
        overrides["WORLD_SIZE"] = nil
        let resolved = try FamilyEvaluationResolver.resolve(code: Self.code(golden), logs: [], overrides: overrides)
        #expect(resolved.evaluation == .documentSegmented(.init(valBatchTokens: 8192, worldSize: 8, gradAccumSteps: 1)))
        #expect(resolved.sources["world_size"]?.contains("8×H100") == true)
        #expect(resolved.sources["val_batch_tokens"]?.contains("VAL_BATCH_TOKENS") == true)
        // 64 windows over 8 ranks of 8: two 1,024-token batches each, the same batches as the golden's one rank.
        let result = try Reevaluation.run(Self.request(family, golden: golden, overrides: overrides))
        #expect(result.documentPlan?.batches.count == 16 && result.documentPlan?.worldSize == 8)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4)
        // --set GRAD_ACCUM_STEPS=2 halves the batches: documents are cut at batch ends more often.
        overrides["GRAD_ACCUM_STEPS"] = "2"
        let halved = try Reevaluation.run(Self.request(family, golden: golden, overrides: overrides))
        #expect(halved.documentPlan?.batches.count == 32)
        #expect(halved.familyEvaluation?.sources["grad_accum_steps"]?.contains("GRAD_ACCUM_STEPS") == true)
        #expect(abs(halved.score.bitsPerByte - golden.val_bpb) > 1e-6)
    }

    @Test("the records' logs state world_size, grad_accum_steps and val_batch_tokens")
    func settingsFromLog() throws {
        let folder = "2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT"
        let records = "corpus/parameter-golf/records/track_10min_16mb/\(folder)"
        let log = Paths.shared("\(records)/train_seed0.log")
        let resolved = try FamilyEvaluationResolver.resolve(code: Paths.shared("\(records)/train_gpt.py"), logs: [log], overrides: [:])
        #expect(resolved.evaluation == .documentSegmented(.init(valBatchTokens: 524288, worldSize: 8, gradAccumSteps: 1)))
        #expect(resolved.sources["world_size"]?.contains("train_seed0.log") == true)
        guard case .documentSegmented(let settings) = resolved.evaluation else { return }
        #expect(settings.batchTokens == 65536)
    }

    @Test("record #1's eval_val reads a CaseOps byte sidecar: --val-bytes feeds it and the record's value is reproduced")
    func caseOpsSidecar() throws {
        let family = "sparsegate-bosfix9hp-sp1024"
        let golden = try Self.golden(family)
        var request = Self.request(family, golden: golden)
        request.byteSidecarPattern = Paths.fixture("families/\(family)/val_bytes.bin").path
        let result = try Reevaluation.run(request)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4)
        #expect(result.familyEvaluation?.usesByteSidecar == true)
        #expect(result.familyEvaluation?.sources["byte_sidecar"]?.contains("CaseOps byte sidecar") == true)
        // Without --val-bytes the default beside the shards (fineweb_val_bytes_*.bin) is absent: an error
        // naming what was looked for, never the tokenizer tables instead.
        do {
            _ = try Reevaluation.run(Self.request(family, golden: golden))
            Issue.record("expected a missing sidecar to be an error")
        } catch let error as CaseOpsSidecarError {
            #expect(error.description.contains("fineweb_val_bytes_*.bin"))
            #expect(error.description.contains("--val-bytes"))
            #expect(ExitStatus.forError(error) == .badInput)
        }
        // A sidecar shifted by one token gives a different byte count: the alignment is tested, not assumed.
        let shifted = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-sidecar-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: shifted) }
        var data = try Data(contentsOf: Paths.fixture("families/\(family)/val_bytes.bin"))
        data.insert(contentsOf: [0, 0], at: 1024)  // one zero entry after the 256 × int32 header
        data.removeLast(2)
        try data.write(to: shifted)
        request.byteSidecarPattern = shifted.path
        let misaligned = try Reevaluation.run(request)
        #expect(misaligned.score.bytes != result.score.bytes)
        // Record #2 reads it when CASEOPS_ENABLED is on, as its logged run states (`caseops_enabled: True`).
        let folder = "corpus/parameter-golf/records/track_10min_16mb/2026-04-27_SmearGateBOSFix_PR1787Base_LQERAsym_PhasedTTT"
        let logged = try FamilyEvaluationResolver.resolve(code: Paths.shared("\(folder)/train_gpt.py"),
                                                          logs: [Paths.shared("\(folder)/train_seed42.log")], overrides: [:])
        #expect(logged.usesByteSidecar)
        #expect(logged.sources["byte_sidecar"]?.contains("CASEOPS_ENABLED on") == true)
        let plain = try FamilyEvaluationResolver.resolve(code: Paths.shared("\(folder)/train_gpt.py"), logs: [], overrides: [:])
        #expect(!plain.usesByteSidecar)
    }

    @Test("a token glob leaves out CaseOps sidecars that it also matches")
    func tokenGlobSkipsSidecars() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-glob-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let family = "sparsegate-bosfix9hp-sp1024"
        try FileManager.default.copyItem(at: Paths.fixture("families/\(family)/val_tokens.bin"),
                                         to: directory.appendingPathComponent("fineweb_val_000000.bin"))
        try FileManager.default.copyItem(at: Paths.fixture("families/\(family)/val_bytes.bin"),
                                         to: directory.appendingPathComponent("fineweb_val_bytes_000000.bin"))
        let tokens = try ValidationShard.readAll(pattern: directory.appendingPathComponent("fineweb_val_*.bin").path)
        #expect(tokens == (try ValidationShard.read(Paths.fixture("families/\(family)/val_tokens.bin"))))
        // The default sidecar location is found beside the shards.
        let golden = try Self.golden(family)
        var request = Self.request(family, golden: golden)
        request.validationPattern = directory.appendingPathComponent("fineweb_val_*.bin").path
        let result = try Reevaluation.run(request)
        #expect(abs(result.score.bitsPerByte - golden.val_bpb) <= 1e-4)
    }

    @Test("sliding mode for a family is refused: no golden validates it")
    func slidingRefused() throws {
        let golden = try Self.golden("march-bigram-ve-sp1024")
        do {
            _ = try Reevaluation.run(Self.request("march-bigram-ve-sp1024", golden: golden, mode: .sliding(stride: 64)))
            Issue.record("expected sliding mode to be refused")
        } catch let error as ModelConfigError {
            // The March architecture is refused before any mode is considered.
            guard case .architectureNotMatched(_, _, let detail, _) = error else { Issue.record("\(error)"); return }
            #expect(detail.contains("BigramHash"))
        }
    }

    @Test("without code, or with code whose eval_val cannot be read, the evaluation is not guessed")
    func undecidableRefused() throws {
        let golden = try Self.golden("plain-sp1024")
        do {
            _ = try Reevaluation.run(Self.request("plain-sp1024", golden: golden,
                                                  overrides: Self.knownOverrides(golden).merging(["MLP_MULT": "4"]) { $1 },
                                                  code: .some(nil)))
            Issue.record("expected a refusal without code")
        } catch {
            // Without code the model's MLP activation is already unknown; either refusal names what is missing.
            #expect("\(error)".contains("code"))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("familyeval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try String(contentsOf: Self.code(golden), encoding: .utf8)
        let renamed = directory.appendingPathComponent("train_gpt.py")
        try source.replacingOccurrences(of: "def eval_val(", with: "def evaluate_validation(")
            .write(to: renamed, atomically: true, encoding: .utf8)
        do {
            _ = try Reevaluation.run(Self.request("plain-sp1024", golden: golden, code: .some(renamed)))
            Issue.record("expected a refusal without eval_val")
        } catch let error as UnsupportedArtifact {
            #expect(error.reason.contains("no top-level `def eval_val(`"))
        }
        let noBatch = Self.overrides(golden).filter { $0.key != "VAL_BATCH_TOKENS" }
        let stripped = directory.appendingPathComponent("stripped.py")
        try source.replacingOccurrences(of: "os.environ.get(\"VAL_BATCH_TOKENS\", 524288)", with: "VAL_TOKENS_FROM_ELSEWHERE")
            .write(to: stripped, atomically: true, encoding: .utf8)
        do {
            _ = try FamilyEvaluationResolver.resolve(code: stripped, logs: [], overrides: noBatch)
            Issue.record("expected a refusal without VAL_BATCH_TOKENS")
        } catch let error as ModelConfigError {
            // The code assigns it from a name pgverify cannot read: named with its line, never defaulted.
            guard case .missingValue(let key, _, let detail) = error else { Issue.record("\(error)"); return }
            #expect(key == "val_batch_tokens")
            #expect(detail.contains("stripped.py:") && detail.contains("`VAL_TOKENS_FROM_ELSEWHERE`, a name bound nowhere"), "\(detail)")
        }
        // …which --set supplies.
        let supplied = try FamilyEvaluationResolver.resolve(code: stripped, logs: [], overrides: Self.overrides(golden))
        #expect(supplied.evaluation == .documentSegmented(.init(valBatchTokens: 8192, worldSize: 1, gradAccumSteps: 8)))
        do {
            _ = try FamilyEvaluationResolver.resolve(code: nil, logs: [], overrides: [:])
            Issue.record("expected a refusal without code")
        } catch let error as UnsupportedArtifact {
            #expect(error.reason.contains("no code was given"))
        }
    }
}
