import Foundation
import Testing
@testable import Verifier

/// Forms in which submissions turn a feature off by default, each trimmed from real code of the
/// pull-request corpus, around the target-keyed cache of the PG-TARGET-IN-HASH fixture: the
/// finding follows the setting (warning without evidence, note when stated off), and the same
/// code with the feature on by default stays an error.
@Suite struct FeatureGateFormsTests {
    /// Lints a folder holding `code` (the cache function is appended) and `files`; returns the
    /// PG-TARGET-IN-HASH findings.
    private func lint(_ code: String, files: [String: String] = [:], appendingCache: Bool = true) throws -> [Finding] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pgverify-gates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try String(contentsOf: Paths.fixture("lint/PG-TARGET-IN-HASH/illegal.py"), encoding: .utf8)
            .components(separatedBy: "\ndef main():")[0]
        try ("import os\nimport numpy as np\n" + code + "\n" + (appendingCache ? cache : "")).write(to: directory.appendingPathComponent("train_gpt.py"),
                                                     atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try Linter(parser: try PythonParser()).lint(paths: [directory.path]).filter { $0.rule == "PG-TARGET-IN-HASH" }
    }

    /// A minifier's constant as the default (`_F='0'`; `NGRAM_ENABLED` in an SP4096 record).
    @Test func defaultThroughAModuleConstant() throws {
        func code(_ literal: String) -> String {
            """
            _F='\(literal)'
            class Hyperparameters:
            \tngram_enabled=bool(int(os.environ.get('NGRAM_ENABLED',_F)))
            def main():
            \tA=Hyperparameters();J=A.ngram_enabled
            \tif J:print(eval_ngram_cache(val_tokens))
            """
        }
        #expect(try lint(code("0")).map(\.severity) == [.warning])
        #expect(try lint(code("0")).first?.message.contains("only when NGRAM_ENABLED is set") == true)
        #expect(try lint(code("1")).map(\.severity) == [.error])
    }

    /// A default chosen by the world size (`"1" if world_size > 1 else "0"`, a non-record
    /// 11-layer submission of PR #1232, the guide's false accusation) is on only in launches of
    /// several processes: the finding follows the setting, else the launch the evidence states
    /// (the log's `world_size:1`, a launch script's `--nproc_per_node=8`), else it is a warning
    /// naming the test.
    @Test func defaultChosenByTheWorldSizeFollowsTheLaunch() throws {
        let code = """
            def eval_val_sliding(val_tokens, world_size):
                \"\"\"Optionally uses an n-gram cache (NGRAM_CACHE=1).\"\"\"
                _ngram_default = "1" if world_size > 1 else "0"
                use_ngram = bool(int(os.environ.get("NGRAM_CACHE", _ngram_default)))
                if use_ngram:
                    print(f"ngram_cache:enabled alpha=0.4")
                    return eval_ngram_cache(val_tokens)
            """
        let singleProcessLog = """
            world_size:1 grad_accum_steps:8
                \"\"\"Optionally uses an n-gram cache (NGRAM_CACHE=1).\"\"\"
                    print(f"ngram_cache:enabled alpha=0.4")
            final_int6_sliding_window val_bpb:1.1231
            """
        let unknown = try lint(code)
        #expect(unknown.map(\.severity) == [.warning])
        #expect(unknown.first?.message.contains("only when NGRAM_CACHE is set or `world_size > 1` holds") == true)
        let single = try lint(code, files: ["train.log": singleProcessLog])
        #expect(single.map(\.severity) == [.note])
        #expect(single.first?.message.contains("train.log:1") == true)
        let eightGPUs = try lint(code, files: ["submit.sh": "SEED=42 torchrun --standalone --nproc_per_node=8 train_gpt.py\n"])
        #expect(eightGPUs.map(\.severity) == [.error])
        #expect(eightGPUs.first?.message.contains("submit.sh:1") == true)
        // The setting itself outranks the launch; a log line the gated code prints shows it on.
        #expect(try lint(code, files: ["README.md": "```bash\nNGRAM_CACHE=1 torchrun --nproc_per_node=1 train_gpt.py\n```\n"])
            .map(\.severity) == [.error])
        #expect(try lint(code, files: ["train.log": "world_size:1\nngram_cache:enabled alpha=0.4\n"]).map(\.severity) == [.error])
        // Launch commands that disagree, or span several nodes, state no world size.
        #expect(try lint(code, files: ["a.sh": "torchrun --nproc_per_node=8 train_gpt.py\n",
                                       "b.sh": "torchrun --nproc_per_node=1 train_gpt.py\n"]).map(\.severity) == [.warning])
        #expect(try lint(code, files: ["a.sh": "torchrun --nnodes=2 --nproc_per_node=1 train_gpt.py\n"]).map(\.severity) == [.warning])
    }

    /// A count compared with a threshold above its default of zero (`ngram_eval_order >= 2` with
    /// `NGRAM_EVAL_ORDER` defaulting to 0, trimmed from a 10-minute record and its lineage) gates
    /// the cache. A log line the code prints only under that test (`ngram_eval:order=7 ...`) shows
    /// it on without naming the setting; the script's own source printed into a log does not.
    @Test func countAboveAThresholdIsAGateShownOnByItsOwnLogLine() throws {
        func code(_ defaultOrder: Int) -> String {
            """
            class Hyperparameters:
                ngram_eval_order = int(os.environ.get("NGRAM_EVAL_ORDER", \(defaultOrder)))
                ngram_eval_alpha = float(os.environ.get("NGRAM_EVAL_ALPHA", 0.30))
            def log0(msg):
                print(msg)
            def main():
                args = Hyperparameters()
                val_tokens = np.fromfile("fineweb_val_000000.bin", dtype=np.uint16)
                log0(f"final_int6_sliding_window val_bpb:{1.12:.4f}")
                if args.ngram_eval_order >= 2:
                    log0(f"ngram_eval:order={args.ngram_eval_order} alpha={args.ngram_eval_alpha}")
                if args.ngram_eval_order >= 2:
                    log0(f"final_int6_sliding_window_ngram{args.ngram_eval_order} val_bpb:{eval_ngram_cache(val_tokens):.4f}")
            """
        }
        let unknown = try lint(code(0))
        #expect(unknown.map(\.severity) == [.warning])
        #expect(unknown.first?.message.contains("only when NGRAM_EVAL_ORDER is set") == true)
        #expect(try lint(code(0), files: ["train_seed42.log": "condition:NGRAM_EVAL_ORDER=0\n"]).map(\.severity) == [.note])
        let printed = try lint(code(0), files: ["train_seed43.log": "ngram_eval:order=7 alpha=0.3 min_count=2\n"])
        #expect(printed.map(\.severity) == [.error])
        #expect(printed.first?.message.contains("train_seed43.log:1") == true)
        let result = try lint(code(0), files: ["train_seed43.log": "final_int6_sliding_window_ngram7 val_bpb:0.9641\n"])
        #expect(result.map(\.severity) == [.error])
        // The script printed into the log, and a line that ungated code prints too, state nothing.
        let sourceCopy = """
                    log0(f"ngram_eval:order={args.ngram_eval_order} alpha={args.ngram_eval_alpha}")
            final_int6_sliding_window val_bpb:1.1200
            """
        #expect(try lint(code(0), files: ["train.log": sourceCopy]).map(\.severity) == [.warning])
        // A shell script's launch command sets it; an `echo` of the setting does not.
        let script = try lint(code(0), files: ["run.sh": "SEED=2045 \\\nNGRAM_EVAL_ORDER=9 \\\ntorchrun --nproc_per_node=8 train_gpt.py\n"])
        #expect(script.map(\.severity) == [.error])
        #expect(script.first?.message.contains("run.sh:2") == true)
        #expect(try lint(code(0), files: ["run.sh": "echo \"  NGRAM_EVAL_ORDER=9 | CUBRIC_CADENCE=32\"\n"]).map(\.severity) == [.warning])
        // On by default, the same code stays an error.
        #expect(try lint(code(7)).map(\.severity) == [.error])
    }

    /// Each call behind a different default-off feature (`if TTT_ONLY:` and `if ttt_enabled:`,
    /// trimmed from an n-gram two-pass record whose mixer runs only in its TTT paths): the code runs
    /// when any one is on, so the finding is a warning naming both, a note when both are stated
    /// off, an error when one is set; with one ungated call the error stays.
    @Test func callsBehindDifferentFeaturesAreGatedByAnyOfThem() throws {
        func code(lastCall: String) -> String {
            """
            def run_ttt(val_tokens):
                return eval_ngram_cache(val_tokens)
            def main():
                val_tokens = np.fromfile("fineweb_val_000000.bin", dtype=np.uint16)
                if os.environ.get("TTT_ONLY", "0") == "1":
                    print(run_ttt(val_tokens))
                    return
                ttt_enabled = os.environ.get("TTT_ENABLED", "0") == "1"
                if ttt_enabled:
                    print(run_ttt(val_tokens))
                print(\(lastCall))
            """
        }
        let gated = code(lastCall: "len(val_tokens)")
        let unknown = try lint(gated)
        #expect(unknown.map(\.severity) == [.warning])
        #expect(unknown.first?.message.contains("TTT_ONLY or TTT_ENABLED") == true)
        #expect(try lint(gated, files: ["README.md": "```bash\nTTT_ENABLED=1 torchrun train_gpt.py\n```\n"]).map(\.severity) == [.error])
        #expect(try lint(gated, files: ["README.md": "```bash\nTTT_ONLY=0 TTT_ENABLED=0 torchrun train_gpt.py\n```\n"])
            .map(\.severity) == [.note])
        #expect(try lint(code(lastCall: "run_ttt(val_tokens)")).map(\.severity) == [.error])
    }

    /// A constructor keyword read from the environment (`blend_orders=os.environ.get(..., "0") == "1"`)
    /// gates the method branch on the attribute `__init__` stores it in.
    @Test func constructorKeywordGatesTheAttribute() throws {
        func code(_ defaultValue: String) -> String {
            """
            class Cache:
                def __init__(self, blend_orders=False):
                    self.blend_orders = blend_orders
                def lookup(self, val_tokens):
                    if self.blend_orders:
                        return eval_ngram_cache(val_tokens)
                    return 0.0
            def main():
                cache = Cache(blend_orders=os.environ.get("NGRAM_BLEND_ORDERS", "\(defaultValue)") == "1")
                print(cache.lookup(val_tokens))
            """
        }
        #expect(try lint(code("0")).map(\.severity) == [.warning])
        #expect(try lint(code("0"), files: ["README.md": "```bash\nNGRAM_BLEND_ORDERS=1 torchrun train_gpt.py\n```\n"])
            .map(\.severity) == [.error])
        #expect(try lint(code("1")).map(\.severity) == [.error])
    }

    /// An object made only when a feature is on (`PhraseCache(...) if use_phrase else None`), whose
    /// method is called under `if phrase_cache is not None and ...`; another class also defines
    /// `lookup`, so the call resolves through the class the name is bound to. A keyword the
    /// constructor reads from the environment is a setting of its own, not the object's.
    @Test func objectMadeOnlyWhenTheFeatureIsOn() throws {
        func code(_ defaultValue: String) -> String {
            """
            class NgramCache:
                def lookup(self, val_np):
                    return 0.0
            class PhraseCache:
                total_tokens = 0
                def __init__(self, geometric=False):
                    self.geometric = geometric
                def lookup(self, val_np, full_counts, ctx_counts, mask):
                    nll_sum = 0.0
                    for i in range(2, len(val_np) - 1):
                        ctx_hash = (int(val_np[i - 1]) * 31 + int(val_np[i])) & mask
                        tgt = int(val_np[i + 1])
                        full_key = (ctx_hash ^ (tgt * 1000003)) & mask
                        nll_sum += -np.log((full_counts[full_key] + 1) / (ctx_counts[ctx_hash] + 2))
                    return nll_sum
            def main():
                val_tokens = np.fromfile("fineweb_val_000000.bin", dtype=np.uint16)
                use_phrase = os.environ.get("USE_PHRASE_CACHE", "\(defaultValue)") == "1"
                phrase_cache = PhraseCache(geometric=os.environ.get("NGRAM_GEOMETRIC", "0") == "1") if use_phrase else None
                ngram_cache = NgramCache()
                print(ngram_cache.lookup(val_tokens))
                if phrase_cache is not None and phrase_cache.total_tokens >= 0:
                    print(phrase_cache.lookup(val_tokens, np.zeros(1024), np.zeros(1024), 1023))
            """
        }
        let statedOff = try lint(code("0"), files: ["README.md": "```bash\nUSE_MIXER=0 USE_PHRASE_CACHE=0 \\\ntorchrun train_gpt.py\n```\n"],
                                 appendingCache: false)
        #expect(statedOff.map(\.severity) == [.note])
        #expect(statedOff.first?.message.contains("only when USE_PHRASE_CACHE is set") == true)
        #expect(statedOff.first?.message.contains("README.md:2") == true)
        // Built with a default-off keyword, the object is still on when its own flag is.
        #expect(try lint(code("1"), appendingCache: false).map(\.severity) == [.error])
    }

    /// A record's log that starts with its own script: the copy of `__init__`'s signature and of
    /// the print statement are the code, not the run (trimmed from a packed-cache record).
    @Test func sourcePrintedIntoALogStatesNothing() {
        let code = """
                         count_weighted=False, blend_orders=False):
                    print(f"ngram_cache:enabled orders={ngram_min_order}-{ngram_order}", flush=True)
            """
        let log = SubmissionDocuments.NamedText(name: "train_seed1337.log", text: code + "\nstep:1/20000 train_loss:6.93\n")
        let documents = SubmissionDocuments(logs: [log], codeLines: SubmissionDocuments.codeLines(of: code))
        #expect(documents.setting(of: "NGRAM_BLEND_ORDERS", aliases: ["blend_orders"]) == .codeDefault)
        #expect(documents.setting(of: "NGRAM_CACHE", aliases: ["ngram_cache"]) == .codeDefault)
        let unrelated = SubmissionDocuments(logs: [log])
        #expect(unrelated.setting(of: "NGRAM_BLEND_ORDERS", aliases: ["blend_orders"]) != .codeDefault)
    }
}
