import Foundation
import Testing
@testable import Verifier

@Suite("Hyperparameters stated in training logs and run commands")
struct LogHyperparametersTests {
    static let keys = Set(ModelConfigResolver.statedKeys.map(\.name))

    static func scan(_ url: URL) throws -> [LoggedHyperparameter] {
        LogHyperparameters.scan(try String(contentsOf: url, encoding: .utf8), file: url.path, keys: keys)
    }

    static func values(_ found: [LoggedHyperparameter]) -> [String: Set<String>] {
        found.reduce(into: [:]) { $0[$1.key, default: []].insert($1.text) }
    }

    @Test("a 04-xx Hyperparameters block")
    func hyperparametersBlock() throws {
        let log = Paths.shared("corpus/parameter-golf/records/track_10min_16mb/2026-04-10_VarLenAttn/logs/train0.txt")
        let values = Self.values(try Self.scan(log))
        #expect(values["num_heads"] == ["8"])
        #expect(values["num_kv_heads"] == ["4"])
        #expect(values["num_layers"] == ["11"])
        #expect(values["model_dim"] == ["512"])
        #expect(values["mlp_mult"] == ["4.0"])
        #expect(values["eval_seq_len"] == ["2048"])
        #expect(values["logit_softcap"] == ["30.0"])
    }

    @Test("baseline-style inline tokens, ignoring the source code the log echoes")
    func inlineTokensAndEchoedCode() throws {
        let log = Paths.shared(
            "corpus/parameter-golf/records/track_non_record_16mb/2026-04-30_Random_Linear_Adapter/train_seed_42.txt")
        let found = try Self.scan(log)
        let values = Self.values(found)
        #expect(values == ["num_heads": ["8"], "num_kv_heads": ["4"], "tie_embeddings": ["True"], "train_seq_len": ["2048"]])
        // Every hit is from the run's output, after the echoed code (which ends well before line 1300).
        #expect(found.allSatisfy { $0.line > 1300 })
    }

    @Test("ENV=VALUE in a README run command")
    func runCommand() throws {
        let readme = Paths.shared(
            "corpus/parameter-golf/records/track_non_record_16mb/2026-04-30_Random_Linear_Adapter/README.md")
        let found = try Self.scan(readme)
        #expect(Self.values(found) == ["NUM_LAYERS": ["12"], "MLP_MULT": ["3"], "TRAIN_SEQ_LEN": ["2048"]])
        #expect(found.allSatisfy { $0.isEnvironmentAssignment })
        #expect(found.first { $0.key == "NUM_LAYERS" }?.line == 40)
    }

    @Test("synthetic lines: what matches and what does not")
    func syntheticLines() {
        let text = """
        num_heads: 8
            num_heads: int,
        log0(f"attention_mode:gqa num_heads:{args.num_heads}")
        `VOCAB_SIZE=1024 NUM_LAYERS=10 MODEL_DIM="512"`
        raise ValueError(f"too short for TRAIN_SEQ_LEN={seq_len}")
        rope_base:1e4 unknown_key:3 tie_embeddings:maybe
        """
        let found = LogHyperparameters.scan(text, file: "x.log", keys: Self.keys)
        #expect(found.map { "\($0.key)=\($0.text)@\($0.line)" }
                == ["num_heads=8@1", "VOCAB_SIZE=1024@4", "NUM_LAYERS=10@4", "MODEL_DIM=512@4", "rope_base=1e4@6"])
    }
}
