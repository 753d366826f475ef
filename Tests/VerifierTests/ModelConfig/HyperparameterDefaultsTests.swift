import Foundation
import Testing
@testable import Verifier

@Suite("Reading class Hyperparameters defaults from the syntax tree, without executing Python")
struct HyperparameterDefaultsTests {
    static let source = """
    import os
    # num_heads = int(os.environ.get("NUM_HEADS", 99))  -- a comment before the class is ignored
    class Hyperparameters:
        # a comment
        val_batch_size = int(os.environ.get("VAL_BATCH_SIZE", 524_288))
        num_heads = int(os.environ.get('NUM_HEADS', 8))  # trailing comment
        rope_base = float(os.environ.get("ROPE_BASE", 1e4))
        logit_softcap = float(os.environ.get("LOGIT_SOFTCAP", "30.0"))
        tie_embeddings = bool(int(os.environ.get("TIE_EMBEDDINGS", "1")))
        odd_flag = bool(os.environ.get("ODD_FLAG", "0"))
        mlp_mult: float = float(os.getenv("MLP_MULT", 3))
        train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 2048.9))
        num_layers = _e("NUM_LAYERS", 11, int)
        run_id = os.environ.get("RUN_ID", f"run_{int(time.time())}")
        model_dim = int(os.environ.get("MODEL_DIM", "5x2"))
        def method(self):
            vocab_size = int(os.environ.get("VOCAB_SIZE", 1))

    num_kv_heads = int(os.environ.get("NUM_KV_HEADS", 4))
    """

    static func parsed() -> HyperparameterDefaults {
        HyperparameterDefaults.parse(source: source, file: "train_gpt.py")
    }

    @Test("supported forms evaluate as Python would")
    func supportedForms() {
        let defaults = Self.parsed()
        #expect(defaults.foundClass)
        #expect(defaults.declarations["val_batch_size"]?.value() == .int(524_288))
        #expect(defaults.declarations["num_heads"]?.value() == .int(8))
        #expect(defaults.declarations["num_heads"]?.line == 6)
        #expect(defaults.declarations["num_heads"]?.expression == #"int(os.environ.get("NUM_HEADS", 8))"#)
        #expect(defaults.declarations["rope_base"]?.value() == .float(10_000))
        #expect(defaults.declarations["logit_softcap"]?.value() == .float(30))
        #expect(defaults.declarations["tie_embeddings"]?.value() == .bool(true))
        #expect(defaults.declarations["tie_embeddings"]?.value(environment: "0") == .bool(false))
        // bool("0") is True in Python: a non-empty string.
        #expect(defaults.declarations["odd_flag"]?.value() == .bool(true))
        #expect(defaults.declarations["mlp_mult"]?.environmentVariable == "MLP_MULT")
        #expect(defaults.declarations["mlp_mult"]?.value() == .float(3))
        // int(2048.9) truncates toward zero.
        #expect(defaults.declarations["train_seq_len"]?.value() == .int(2048))
        #expect(defaults.declarations["train_seq_len"]?.value(environment: "1_024") == .int(1024))
        #expect(defaults.declarations["train_seq_len"]?.value(environment: "1024.0") == nil)
    }

    @Test("unsupported forms are listed as unreadable, never guessed")
    func unsupportedForms() {
        let defaults = Self.parsed()
        #expect(defaults.declarations["num_layers"] == nil)
        #expect(defaults.unreadable["num_layers"] == UnreadableSetting(
            line: 13, construct: "a call of `_e`, which pgverify does not evaluate"))
        #expect(defaults.unreadable["run_id"] == UnreadableSetting(line: 14, construct: "an f-string"))
        // A default Python could not convert: declared, but its value is nil (Python would raise).
        #expect(defaults.declarations["model_dim"]?.value() == nil)
    }

    @Test("only the class body's own statements and module-level settings count")
    func classBodyOnly() {
        let defaults = Self.parsed()
        #expect(defaults.declarations["vocab_size"] == nil)      // inside a method
        // After the class, at module level: a setting named after its variable counts where the class has none.
        #expect(defaults.declarations["num_kv_heads"]?.line == 19)
        #expect(defaults.declarations["num_kv_heads"]?.value() == .int(4))
        #expect(HyperparameterDefaults.parse(source: "x = 1\n", file: "a.py") == HyperparameterDefaults(file: "a.py"))
    }

    @Test("the real baseline's class parses completely for the model keys")
    func realBaseline() throws {
        let url = Paths.shared("corpus/parameter-golf/train_gpt.py")
        let defaults = HyperparameterDefaults.parse(source: try String(contentsOf: url, encoding: .utf8), file: url.path)
        let expected: [String: HyperparameterValue] = [
            "vocab_size": .int(1024), "num_layers": .int(9), "num_kv_heads": .int(4), "model_dim": .int(512),
            "num_heads": .int(8), "mlp_mult": .int(2), "tie_embeddings": .bool(true), "rope_base": .float(10_000),
            "logit_softcap": .float(30), "train_seq_len": .int(1024), "qk_gain_init": .float(1.5),
        ]
        for (name, value) in expected {
            #expect(defaults.declarations[name]?.value() == value, "\(name)")
        }
        // String settings without a conversion are read too; computed ones are not.
        #expect(defaults.declarations["data_path"]?.value() == .string("./data/datasets/fineweb10B_sp1024"))
        #expect(defaults.unreadable.keys.sorted() == ["run_id", "train_files", "val_files"])
    }
}

@Suite("Python number rules")
struct PythonNumbersTests {
    @Test("int() and float() of strings")
    func parsing() {
        #expect(PythonNumbers.parseInt(" 524_288 ") == 524_288)
        #expect(PythonNumbers.parseInt("-3") == -3)
        #expect(PythonNumbers.parseInt("1__0") == nil)
        #expect(PythonNumbers.parseInt("_10") == nil)
        #expect(PythonNumbers.parseInt("10.0") == nil)
        #expect(PythonNumbers.parseInt("") == nil)
        #expect(PythonNumbers.parseFloat("3e1") == 30)
        #expect(PythonNumbers.parseFloat("1_000.5") == 1000.5)
        #expect(PythonNumbers.parseFloat("-inf") == -.infinity)
        #expect(PythonNumbers.parseFloat("abc") == nil)
        #expect(PythonNumbers.parseFloat(".") == nil)
    }
}
