import Foundation
import Testing
@testable import Verifier

/// Settings are read from the code a self-extracting wrapper decodes to (never run).
@Suite struct SubmissionCodeTextTests {
    static func record(_ name: String) -> URL {
        Paths.shared("corpus/parameter-golf/records/track_10min_16mb/\(name)/train_gpt.py")
    }

    @Test("a plain script is read as is")
    func plainScript() throws {
        let url = Self.record("2026-04-14_MultiPhaseGlobalSGD_PhasedTTT")
        #expect(!SubmissionCodeText.looksWrapped(try ModelConfigResolver.read(url)))
        #expect(try SubmissionCodeText.read(url) == (try ModelConfigResolver.read(url)))
    }

    @Test("an lzma+base85 wrapper is decoded to the record's code")
    func wrappedScript() throws {
        let url = Self.record("2026-04-08_SP8192_ParallelResid_ScoreFirstTTT")
        let raw = try ModelConfigResolver.read(url)
        #expect(SubmissionCodeText.looksWrapped(raw))
        #expect(!raw.contains("class Hyperparameters"))
        let decoded = try SubmissionCodeText.read(url)
        #expect(decoded.contains("class Hyperparameters"))
        #expect(decoded.contains("def eval_val_sliding_ttt("))
        #expect(decoded.contains("def eval_val("))
    }

    @Test("TTT settings of a wrapped record come from its decoded defaults")
    func wrappedTTTSettings() throws {
        let resolved = try TTTSettingsResolver.resolve(
            code: Self.record("2026-04-08_SP8192_ParallelResid_ScoreFirstTTT"), logs: [], overrides: [:])
        let source = try #require(resolved.sources["ttt_lr"])
        #expect(source.contains("train_gpt.py"), "ttt_lr: \(source)")
        #expect(!source.contains("not stated"))
        #expect(resolved.settings.windowRule == .exactlyOnce)
    }
}

@Suite struct MinifiedHyperparametersTests {
    @Test("a one-line class body reads statement by statement")
    func oneLineClass() {
        let source = """
            import os
            class Hyperparameters:seed=int(os.environ.get('SEED',1337));tag=os.environ.get('TAG','a;b');lr=float(os.environ.get('LR',0.5));x=[1,2];y=3 # z=4
            def f():pass
            """
        let defaults = HyperparameterDefaults.parse(source: source, file: "min.py")
        #expect(defaults.declarations["seed"]?.value()?.pythonInt() == 1337)
        #expect(defaults.declarations["tag"]?.value() == .string("a;b"))
        #expect(defaults.declarations["y"]?.value() == .int(3))
        #expect(defaults.unreadable["x"]?.construct == "a `List` expression")
        #expect(defaults.declarations["lr"]?.value()?.pythonFloat() == 0.5)
        #expect(defaults.declarations["z"] == nil)
        #expect(defaults.declarations["seed"]?.line == 2)
    }
}
