import Foundation
import Testing
@testable import Verifier

/// Settings are read from the syntax tree: the same class written minified, reordered, through
/// aliases, helpers, dataclass fields or a dict reads the same values; what cannot be evaluated is
/// named with its line and construct.
@Suite("Settings read from the syntax tree in any form")
struct HyperparameterReaderTests {
    static let canonical = """
        import os
        class Hyperparameters:
            num_heads = int(os.environ.get("NUM_HEADS", 8))
            rope_base = float(os.environ.get("ROPE_BASE", 10000.0))
            tie_embeddings = bool(int(os.environ.get("TIE_EMBEDDINGS", "1")))
            train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 1024))
            eval_seq_len = int(os.environ.get("EVAL_SEQ_LEN", 1024))
            data_path = os.environ.get("DATA_PATH", "./data")
        """

    static let rewritten: [(String, String)] = [
        ("minified on one line", """
            import os as O
            class Hyperparameters:num_heads=int(O.environ.get('NUM_HEADS',8));rope_base=float(O.getenv('ROPE_BASE',1e4));tie_embeddings=bool(int(O.environ.get('TIE_EMBEDDINGS','1')));train_seq_len=int(O.environ.get('TRAIN_SEQ_LEN',1024));eval_seq_len=int(O.environ.get('EVAL_SEQ_LEN',train_seq_len));data_path=O.environ.get('DATA_PATH','./data')
            """),
        ("reordered, with aliases and a reference to another setting", """
            from os import environ as env
            import os
            _E = os.environ.get
            I, F = int, float
            class Hyperparameters():
                data_path = env.get("DATA_PATH", "./data")
                train_seq_len = I(_E("TRAIN_SEQ_LEN", 512 * 2))
                eval_seq_len = I(env.get("EVAL_SEQ_LEN", train_seq_len))
                tie_embeddings = bool(I(_E("TIE_EMBEDDINGS", "1")))
                rope_base = F(_E("ROPE_BASE", 10_000))
                num_heads = I(_E("NUM_HEADS", 16 // 2))
            """),
        ("helpers with a single return, a lambda, and a dataclass", """
            import os
            from dataclasses import dataclass, field
            def env_int(name, default):
                \"\"\"An int setting.\"\"\"
                return int(os.environ.get(name, default))
            _ef = lambda k, d: float(os.environ.get(k, str(d)))
            def _eb(k, d="0"): return bool(int(os.environ.get(k, d)))
            def _e(k, d, t=str): return t(os.environ.get(k, d))
            @dataclass
            class Hyperparameters:
                num_heads: int = env_int("NUM_HEADS", 8)
                rope_base: float = _ef("ROPE_BASE", 10000.0)
                tie_embeddings: bool = _eb("TIE_EMBEDDINGS", d="1")
                train_seq_len: int = field(default=_e("TRAIN_SEQ_LEN", 1024, int))
                eval_seq_len: int = field(default_factory=lambda: env_int("EVAL_SEQ_LEN", 1024))
                data_path: str = _e("DATA_PATH", "./data")
            """),
        ("module-level settings and a dict of settings the class reads", """
            import os
            NUM_HEADS = int(os.environ.get("NUM_HEADS", 8))
            CONFIG = dict(rope_base=float(os.environ.get("ROPE_BASE", 10000.0)),
                          tie_embeddings=bool(int(os.environ.get("TIE_EMBEDDINGS", "1"))))
            SEQ = {"train": int(os.environ.get("TRAIN_SEQ_LEN", 1024))}
            class Hyperparameters:
                num_heads = NUM_HEADS
                rope_base = CONFIG["rope_base"]
                tie_embeddings = CONFIG["tie_embeddings"]
                train_seq_len = SEQ["train"]
                eval_seq_len = int(os.environ["EVAL_SEQ_LEN"]) if False else int(os.environ.get("EVAL_SEQ_LEN", SEQ["train"]))
                data_path = os.environ.get("DATA_PATH", "./" + "data")
            """),
    ]

    static func values(_ defaults: HyperparameterDefaults, environment: [String: String] = [:]) -> [String: HyperparameterValue] {
        var values: [String: HyperparameterValue] = [:]
        for name in ["num_heads", "rope_base", "tie_embeddings", "train_seq_len", "eval_seq_len", "data_path"] {
            guard let declaration = defaults.declarations[name] else { continue }
            let own = declaration.environmentVariable.flatMap { environment[$0] }
            values[name] = declaration.value(environment: own, others: environment)
        }
        return values
    }

    @Test("the canonical class reads its values")
    func canonicalValues() {
        let defaults = HyperparameterDefaults.parse(source: Self.canonical, file: "canonical.py")
        #expect(Self.values(defaults) == [
            "num_heads": .int(8), "rope_base": .float(10_000), "tie_embeddings": .bool(true), "train_seq_len": .int(1024),
            "eval_seq_len": .int(1024), "data_path": .string("./data"),
        ])
        #expect(defaults.declarations["num_heads"]?.environmentVariable == "NUM_HEADS")
        #expect(defaults.declarations["num_heads"]?.line == 3)
    }

    @Test("rewritten forms read the same values", arguments: 0..<4)
    func rewrittenForms(index: Int) {
        let (name, source) = Self.rewritten[index]
        let canonical = HyperparameterDefaults.parse(source: Self.canonical, file: "canonical.py")
        let defaults = HyperparameterDefaults.parse(source: source, file: "rewritten.py")
        if index == 3 {
            // Its eval_seq_len is a conditional expression: named, not guessed.
            #expect(defaults.unreadable["eval_seq_len"]?.construct == "a conditional expression (`… if … else …`)", "\(name)")
            var expected = Self.values(canonical)
            expected["eval_seq_len"] = nil
            #expect(Self.values(defaults) == expected, "\(name)")
            return
        }
        #expect(defaults.unreadable.isEmpty, "\(name): \(defaults.unreadable)")
        #expect(Self.values(defaults) == Self.values(canonical), "\(name)")
        for variable in ["NUM_HEADS", "ROPE_BASE", "TIE_EMBEDDINGS", "TRAIN_SEQ_LEN", "EVAL_SEQ_LEN", "DATA_PATH"] {
            #expect(defaults.declarations.values.contains { $0.environmentVariable == variable }, "\(name): \(variable)")
        }
        // The environment a run sets changes both alike.
        let run = ["NUM_HEADS": "4", "TIE_EMBEDDINGS": "0", "EVAL_SEQ_LEN": "2048", "ROPE_BASE": "5e5"]
        #expect(Self.values(defaults, environment: run) == Self.values(canonical, environment: run), "\(name)")
    }

    @Test("a default built from another setting follows that setting's value in the run")
    func referenceFollowsEnvironment() throws {
        let defaults = HyperparameterDefaults.parse(source: Self.rewritten[1].1, file: "r.py")
        let evalSeqLen = try #require(defaults.declarations["eval_seq_len"])
        #expect(evalSeqLen.environmentVariable == "EVAL_SEQ_LEN")
        #expect(evalSeqLen.otherVariables == ["TRAIN_SEQ_LEN"])
        #expect(evalSeqLen.value() == .int(1024))
        #expect(evalSeqLen.value(others: ["TRAIN_SEQ_LEN": "2048"]) == .int(2048))
        #expect(evalSeqLen.value(environment: "4096", others: ["TRAIN_SEQ_LEN": "2048"]) == .int(4096))
        #expect(evalSeqLen.expression
                == #"int(os.environ.get("EVAL_SEQ_LEN", int(os.environ.get("TRAIN_SEQ_LEN", 512 * 2))))"#)
    }

    @Test("the model resolver takes a referenced setting's logged value")
    func resolverFollowsLoggedReference() throws {
        let source = """
            import os
            class Hyperparameters:
                train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 1024))
                eval_seq_len = int(os.environ.get("EVAL_SEQ_LEN", train_seq_len))
            """
        let defaults = HyperparameterDefaults.parse(source: source, file: "r.py")
        let log = LoggedHyperparameter(key: "TRAIN_SEQ_LEN", text: "2048", isEnvironmentAssignment: true, file: "train.log",
                                       line: 1, lineText: "TRAIN_SEQ_LEN=2048")
        let stated = StatedValues(defaults: defaults, logged: [log], overrides: [:])
        #expect(try stated.statement("eval_seq_len", as: .integer)?.value == .int(2048))
        #expect(try stated.statement("train_seq_len", as: .integer)?.value == .int(2048))
    }

    @Test("forms that cannot be evaluated are named with line and construct, never defaulted")
    func unreadableForms() {
        let source = """
            import os, time
            def _env(k, d):
                v = os.environ.get(k)
                return int(v) if v else d
            class Hyperparameters:
                seed = _env("SEED", 1337)
                run_id = os.environ.get("RUN_ID", str(time.time()))
                mode = os.environ.get("MODE", "a").lower()
                if os.environ.get("BIG"):
                    num_layers = 12
                else:
                    num_layers = 9
                @property
                def head_dim(self): return 64
                model_dim = int(os.environ.get("MODEL_DIM", undefined_name))
                mlp_mult = int(os.environ.get("MLP_MULT", seed))
                logit_softcap: float
            """
        let defaults = HyperparameterDefaults.parse(source: source, file: "u.py")
        #expect(defaults.declarations.isEmpty, "\(defaults.declarations.keys.sorted())")
        let expected: [String: UnreadableSetting] = [
            "seed": .init(line: 6, construct: "a call of `_env` (line 2: `_env`, a function whose body is not a single `return`)"),
            "run_id": .init(line: 7, construct: "a call of `time.time`, which pgverify does not evaluate"),
            "mode": .init(line: 8, construct: "a call of `lower`, which pgverify does not evaluate"),
            "num_layers": .init(line: 9, construct: "assigned inside `if` (line 9)"),
            "head_dim": .init(line: 14, construct: "a property computed by a method"),
            "model_dim": .init(line: 15, construct: "`undefined_name`, a name bound nowhere pgverify reads"),
            "mlp_mult": .init(line: 16, construct: "`seed`, itself unreadable (line 6: a call of `_env` (line 2: `_env`, a function whose body is not a single `return`))"),
            "logit_softcap": .init(line: 17, construct: "an annotation without a value"),
        ]
        for (name, unreadable) in expected {
            #expect(defaults.unreadable[name] == unreadable, "\(name): \(String(describing: defaults.unreadable[name]))")
        }
        // The resolver's refusal names the file, the line and the construct.
        let stated = StatedValues(defaults: defaults, logged: [], overrides: [:])
        #expect(stated.absenceDetail("num_layers")
                == "its declaration at u.py:9 is assigned inside `if` (line 9), which pgverify does not evaluate, and no log states it")
    }

    @Test("a TTT setting the code assigns unreadably is refused, not taken from the reference record")
    func unreadableTTTSettingRefused() {
        let defaults = HyperparameterDefaults.parse(source: """
            import os
            class Hyperparameters:
                ttt_lr = helper("TTT_LR", 0.002)
            """, file: "t.py")
        #expect {
            try TTTSettingsResolver.resolveValues(TTTSettingsResolver.keys, defaults: defaults, logged: [], overrides: [:],
                                                  fallbackRecord: TTTSettingsResolver.referenceRecord)
        } throws: { error in
            guard case .missingValue(let key, _, let detail) = error as? ModelConfigError else { return false }
            return key == "ttt_lr" && detail.contains("t.py:3") && detail.contains("a call of `helper`")
        }
    }

    @Test("code that does not parse is a refusal naming the file and line")
    func syntaxErrorRefused() {
        let defaults = HyperparameterDefaults.parse(source: "class Hyperparameters:\n    x = (\n", file: "bad.py")
        #expect(defaults.declarations.isEmpty)
        let detail = StatedValues(defaults: defaults, logged: [], overrides: [:]).absenceDetail("num_heads")
        #expect(detail.contains("bad.py"), "\(detail)")
        #expect(detail.contains("cannot be read"), "\(detail)")
    }
}
