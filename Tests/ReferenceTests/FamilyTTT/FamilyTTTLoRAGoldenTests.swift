import Foundation
import Testing
@testable import Reference

/// 2026-04-16's `eval_val_ttt_lora` (the phased loop without global phases) against the record's own
/// function on the outgate-smear-sp1024 family fixture (fixtures/ttt/family/, tools/family_ttt_goldens.py),
/// run by ``PhasedTTTEvaluator`` with ``PhasedTTTSettings/withoutGlobalPhases`` on ``DifferentiableFamilyGPT``.
@Suite struct FamilyTTTLoRAGoldenTests {
    static let family = "outgate-smear-sp1024"

    struct Settings: Decodable {
        var ttt_lora_rank: Int
        var ttt_lora_lr: Double
        var ttt_chunk_size, ttt_eval_seq_len, ttt_batch_size, ttt_grad_steps: Int
        var ttt_weight_decay, ttt_beta1, ttt_beta2: Double
        var ttt_k_lora, ttt_mlp_lora, ttt_o_lora: Bool
        var ttt_optimizer: String
        var val_doc_fraction: Double

        /// The record's settings field by field; the phased defaults left for the rest, which
        /// ``PhasedTTTSettings/withoutGlobalPhases`` must neutralise (prefix 2000 would run phases).
        var settings: PhasedTTTSettings {
            var s = PhasedTTTSettings()
            s.loraRank = ttt_lora_rank
            s.loraLearningRate = ttt_lora_lr
            s.chunkSize = ttt_chunk_size
            s.evalSeqLen = ttt_eval_seq_len
            s.batchSize = ttt_batch_size
            s.gradSteps = ttt_grad_steps
            s.weightDecay = ttt_weight_decay
            s.beta1 = ttt_beta1
            s.beta2 = ttt_beta2
            s.targets = LoRATargets(key: ttt_k_lora, mlp: ttt_mlp_lora, output: ttt_o_lora)
            s.optimizer = ttt_optimizer == "sgd" ? .sgd : .adam
            s.valDocFraction = val_doc_fraction
            return s.withoutGlobalPhases
        }
    }

    struct Batch: Decodable {
        var batch: Int
        var documents: [Int]
        var loss_sum, byte_sum, token_count: Double
    }

    struct Case: Decodable {
        var function: String
        var settings: Settings
        var val_loss, val_bpb: Double
        var val_tokens: Int
        var batches: [Batch]
    }

    static func golden(_ name: String) throws -> Case {
        try JSONDecoder().decode(Case.self, from: Data(contentsOf: Paths.fixture("ttt/family/\(name).json")))
    }

    static func run(_ name: String, adapt: Bool = true) throws -> (Case, PhasedTTTResult) {
        let golden = try golden(name)
        let evaluator = try PhasedTTTFixtures.evaluator(golden.settings.settings, family: family)
        let model = try PhasedTTTFixtures.model(family: family)
        return (golden, try evaluator.evaluate(model: model, adapt: adapt))
    }

    static func check(_ golden: Case, _ result: PhasedTTTResult, _ name: String) {
        #expect(golden.function == "eval_val_ttt_lora")
        #expect(abs(result.total.bitsPerByte - golden.val_bpb) <= 2e-4, "\(name): val_bpb \(result.total.bitsPerByte) vs \(golden.val_bpb)")
        #expect(abs(result.total.meanLoss - golden.val_loss) <= 3e-4, "\(name): val_loss \(result.total.meanLoss) vs \(golden.val_loss)")
        #expect(result.phases.isEmpty && result.globalSteps == 0, "\(name): eval_val_ttt_lora has no global phases")
        #expect(result.batches.map(\.batch) == golden.batches.map(\.batch), "\(name)")
        #expect(result.batches.map(\.documents) == golden.batches.map(\.documents), "\(name)")
        var previous = (loss: 0.0, bytes: 0.0, tokens: 0.0)
        for (ours, theirs) in zip(result.batches, golden.batches) {
            let tokens = theirs.token_count - previous.tokens, bytes = theirs.byte_sum - previous.bytes
            #expect(Double(ours.partial.tokens) == tokens, "\(name) batch \(theirs.batch)")
            #expect(Double(ours.partial.bytes) == bytes, "\(name) batch \(theirs.batch)")
            let batchLoss = (theirs.loss_sum - previous.loss) / tokens
            #expect(abs(ours.partial.meanLoss - batchLoss) <= 5e-4, "\(name) batch \(theirs.batch): \(ours.partial.meanLoss) vs \(batchLoss)")
            previous = (theirs.loss_sum, theirs.byte_sum, theirs.token_count)
        }
    }

    @Test func adamLoRAMatchesTheRecordsOwnFunction() throws {
        let (golden, result) = try Self.run("lora_adam")
        Self.check(golden, result, "lora_adam")
        #expect(result.total.tokens == 16_384 && golden.val_tokens >= 8_192)
        #expect(result.adapterSteps > 0)
    }

    @Test func sgdLoRAWithTwoStepsMatchesTheRecordsOwnFunction() throws {
        let (golden, result) = try Self.run("lora_sgd")
        Self.check(golden, result, "lora_sgd")
    }

    /// LoRA lr 0 in the record is pgverify's no-adaptation score; adaptation moved the score visibly.
    @Test func theBaselineIsTheRecordWithoutAdaptation() throws {
        let (golden, result) = try Self.run("no_adaptation", adapt: false)
        Self.check(golden, result, "no_adaptation")
        #expect(result.adapterSteps == 0)
        let adapted = try Self.golden("lora_adam")
        #expect(abs(adapted.val_bpb - golden.val_bpb) > 0.01)
    }

    @Test func withoutGlobalPhasesDropsOnlyThePhases() {
        var s = PhasedTTTSettings()
        s.prefixDocs = 2000
        s.phases = 3
        s.docLimit = 7
        s.loraRank = 5
        let lora = s.withoutGlobalPhases
        #expect(lora.prefixDocs == 0 && lora.phases == 1 && lora.docLimit == 0 && lora.loraRank == 5)
        #expect(PhasedTTTSettings.definesBatchedLoRATTT("def eval_val_ttt_lora(h):\n") == false)
    }
}
