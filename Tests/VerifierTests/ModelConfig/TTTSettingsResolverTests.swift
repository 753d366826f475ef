import Foundation
import Testing
@testable import Reference
@testable import Verifier

/// TTT settings from a real record: its code defaults, its logs' `ttt_sliding:start` line (which says
/// the run froze no block, against the code's default of 2), and overrides above both.
@Suite struct TTTSettingsResolverTests {
    static let record = "corpus/parameter-golf/records/track_10min_16mb/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon/"

    @Test func recordCodeAndLogs() throws {
        let code = Paths.shared(Self.record + "train_gpt.py")
        let logs = ["train_seed1337.log", "train_seed42.log"].map { Paths.shared(Self.record + $0) }
        let resolved = try TTTSettingsResolver.resolve(code: code, logs: logs, overrides: [:])
        let s = resolved.settings
        #expect(s == ChunkedTTTSettings(seqLen: 2048, stride: 64, chunkTokens: 32_768, epochs: 3, learningRate: 0.002,
                                        momentum: 0.9, freezeBlocks: 0, batchSequences: 32, gradientClip: 1,
                                        freezeScope: .blockScalars))
        #expect(resolved.sources["ttt_freeze_blocks"]?.hasPrefix("log ") == true)
        #expect(resolved.sources["ttt_freeze_blocks"]?.contains("train_seed1337.log:80") == true)
        #expect(resolved.sources["ttt_momentum"]?.hasPrefix("code default of TTT_MOMENTUM") == true)
        #expect(resolved.sources["ttt_seq_len"]?.contains("train_seq_len:2048") == true)  // the log header
    }

    @Test func overridesWinAndAreChecked() throws {
        let code = Paths.shared(Self.record + "train_gpt.py")
        let resolved = try TTTSettingsResolver.resolve(code: code, logs: [], overrides: ["TTT_LR": "0.01", "ttt_epochs": "1", "seq_len": "128"])
        #expect(resolved.settings.learningRate == 0.01 && resolved.settings.epochs == 1 && resolved.settings.seqLen == 128)
        #expect(resolved.settings.freezeBlocks == 2)  // code default without the logs
        #expect(throws: ModelConfigError.self) {
            try TTTSettingsResolver.resolve(code: nil, logs: [], overrides: ["TTT_EPOCHS": "three"])
        }
        #expect(TTTSettingsResolver.handles("TTT_LR") && TTTSettingsResolver.handles("eval_stride"))
        #expect(!TTTSettingsResolver.handles("NUM_HEADS") && !TTTSettingsResolver.handles("TRAIN_SEQ_LEN"))
    }

    @Test func withoutCodeTheReferenceRecordsDefaultsAreLabelled() throws {
        let resolved = try TTTSettingsResolver.resolve(code: nil, logs: [], overrides: [:])
        #expect(resolved.settings.chunkTokens == 32_768 && resolved.settings.freezeBlocks == 2)
        #expect(resolved.sources["ttt_lr"]?.contains("not stated by the submission") == true)
    }

    @Test func disagreeingLogsAreAnError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ttt-logs-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = directory.appendingPathComponent("a.log"), b = directory.appendingPathComponent("b.log")
        try "ttt_sliding:start chunks=4 chunk_tokens=2048 stride=64 ttt_lr=0.002 ttt_epochs=3 freeze_blocks=0\n".write(to: a, atomically: true, encoding: .utf8)
        try "ttt_sliding:start chunks=4 chunk_tokens=2048 stride=64 ttt_lr=0.005 ttt_epochs=3 freeze_blocks=0\n".write(to: b, atomically: true, encoding: .utf8)
        #expect(throws: ModelConfigError.self) { try TTTSettingsResolver.resolve(code: nil, logs: [a, b], overrides: [:]) }
        let one = try TTTSettingsResolver.resolve(code: nil, logs: [a], overrides: [:])
        #expect(one.settings.chunkTokens == 2048 && one.settings.learningRate == 0.002)
    }
}

/// The window rule read off the TTT function of the code, or overridden.
@Suite struct TTTWindowRuleResolutionTests {
    func resolve(code: String, overrides: [String: String] = [:]) throws -> ResolvedTTTSettings {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ttt-rule-\(UUID()).py")
        try code.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try TTTSettingsResolver.resolve(code: url, logs: [], overrides: overrides)
    }

    @Test func recordCode() throws {
        let code = Paths.shared(TTTSettingsResolverTests.record + "train_gpt.py")
        let resolved = try TTTSettingsResolver.resolve(code: code, logs: [], overrides: [:])
        #expect(resolved.settings.windowRule == .rescoreTail)
        #expect(resolved.sources["ttt_window_rule"]?.contains("eval_val_sliding_ttt") == true)
    }

    /// A packed (tabs, semicolons) score-first TTT function: windows, scoring under no_grad, then SGD steps.
    static func packedTTT(name: String, seqLen: String = "h.train_seq_len") -> String {
        "def \(name)(h,m,t,s):\n\tseq_len=\(seqLen);context_size=seq_len-s;total_tokens=t\n"
            + "\tws=[ws for ws in range(0,t,s)if ws+context_size<total_tokens]\n"
            + "\to=torch.optim.SGD(m.parameters(),lr=h.ttt_lr);loss_sum=0\n"
            + "\tfor c in range(4):\n"
            + "\t\twith torch.no_grad():loss_sum+=F.cross_entropy(m(ws),ws,reduction='none').sum()\n"
            + "\t\tm(ws).backward();o.step()\n"
    }

    @Test func packedStyleExactlyOnceInsideATTTFunction() throws {
        // A plain sliding evaluator with the same idiom (it never trains) does not count, whatever its name.
        let plain = "def eval_val_sliding_ttt(h,t,s):\n\tcontext_size=h.seq_len-s\n"
            + "\tws=[ws for ws in range(0,t,s)if ws+context_size<total_tokens]\n"
        #expect(try resolve(code: plain).settings.windowRule == .rescoreTail)
        #expect(try resolve(code: plain).sources["ttt_window_rule"]?.hasPrefix("not found in the code") == true)
        // The function that scores and trains does, whatever its name.
        let ttt = plain + Self.packedTTT(name: "second_pass")
        #expect(try resolve(code: ttt).settings.windowRule == .exactlyOnce)
        #expect(try resolve(code: ttt).sources["ttt_window_rule"]?.contains("second_pass (line 4)") == true)
        #expect(try resolve(code: ttt, overrides: ["TTT_WINDOW_RULE": "tail"]).settings.windowRule == .rescoreTail)
        // The TTT function's window length: eval_seq_len where it says so (2026-04-04, 2026-04-08).
        let declarations = "import os, torch\nimport torch.nn.functional as F\nclass Hyperparameters:\n"
            + "    train_seq_len = int(os.environ.get('TRAIN_SEQ_LEN', 1024))\n"
            + "    eval_seq_len = int(os.environ.get('EVAL_SEQ_LEN', 2048))\n"
        #expect(try resolve(code: declarations + ttt).settings.seqLen == 1024)
        let evalLength = declarations + Self.packedTTT(name: "adapt", seqLen: "h.eval_seq_len")
        #expect(try resolve(code: evalLength).settings.seqLen == 2048)
        #expect(try resolve(code: evalLength, overrides: ["seq_len": "64"]).settings.seqLen == 64)
        #expect(throws: ModelConfigError.self) { try resolve(code: ttt, overrides: ["ttt_window_rule": "sometimes"]) }
    }
}

/// LoRA TTT settings from 2026-03-17_LoRA_TTT's code, and overrides above them.
@Suite struct LoRATTTSettingsResolverTests {
    @Test func recordCodeDefaultsAndOverrides() throws {
        let code = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-03-17_LoRA_TTT/train_gpt.py")
        let resolved = try LoRATTTSettingsResolver.resolve(code: code, logs: [], overrides: ["TTT_LORA_LR": "0.02"])
        #expect(resolved.settings == LoRATTTSettings(rank: 8, learningRate: 0.02, chunkSize: 256, evalSeqLen: 1024,
                                                     beta1: 0.9, beta2: 0.95))
        #expect(resolved.sources["ttt_lora_rank"]?.hasPrefix("code default of TTT_LORA_RANK") == true)
        #expect(resolved.sources["ttt_lora_lr"] == "override TTT_LORA_LR=0.02")
        #expect(LoRATTTSettingsResolver.handles("TTT_CHUNK_SIZE") && !LoRATTTSettingsResolver.handles("TTT_CHUNK_TOKENS"))
    }
}
