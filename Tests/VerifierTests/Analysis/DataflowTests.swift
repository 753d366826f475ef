import Testing
@testable import Verifier

/// The dataflow on small modules parsed by CPython: labels through assignments, loops, calls
/// (summaries specialised per call site) and the events the rules read.
@Suite struct DataflowTests {
    func analyze(_ source: String) throws -> ModuleAnalysis {
        let tree = try #require(try PythonParser().parse([.source(name: "t.py", text: source)]).first)
        return ModuleAnalysis(module: tree)
    }

    func function(_ name: String, in analysis: ModuleAnalysis) throws -> Int {
        try #require(analysis.index.functions.firstIndex { $0.qualifiedName == name })
    }

    @Test func summariesAreSpecialisedPerCallSite() throws {
        let analysis = try analyze("""
            def shift(t):
                return t[1:] + 0

            def main(val_tokens, train_tokens):
                a = shift(val_tokens)
                b = shift(train_tokens)
                a.backward()
                b.backward()
            """)
        let shift = try function("shift", in: analysis)
        // `t[1:]` is the tokens after the first: the targets when the caller passes tokens.
        #expect(analysis.summaries[shift].returns == [.parameter(0), .followingTokens(ofParameter: 0)])
        let main = try function("main", in: analysis)
        let updates = analysis.events[main].filter { $0.kind == .update }
        #expect(updates.map(\.line) == [7, 8])
        #expect(updates[0].labels.intrinsic == [.validation, .target])
        #expect(updates[1].labels.intrinsic == [.training, .target])
        // Context-insensitive view, for reporting inside `shift`: both kinds reach its parameter.
        #expect(analysis.incoming[shift][0] == [.validation, .training])
    }

    @Test func loopCarriedValuesReachEarlierStatements() throws {
        let analysis = try analyze("""
            def f(val_tokens, n):
                x = 0
                for i in range(n):
                    y = x * 2
                    y.backward()
                    x = val_tokens[i]
            """)
        let update = try #require(analysis.events[try function("f", in: analysis)].first { $0.kind == .update })
        #expect(update.labels.contains(.validation))
        #expect(update.loops.map(\.line) == [3])
        #expect(update.loops.first?.targets == ["i"])
    }

    @Test func scoringNeedsAutogradOffOrAnAccumulation() throws {
        let analysis = try analyze("""
            import torch
            import torch.nn.functional as F

            @torch.no_grad()
            def score(model, val_tokens):
                x, y = val_tokens[:-1], val_tokens[1:]
                return F.cross_entropy(model(x), y)

            def train(model, val_tokens):
                x, y = val_tokens[:-1], val_tokens[1:]
                loss = F.cross_entropy(model(x), y)
                with torch.inference_mode():
                    nll = F.cross_entropy(model(x), y)
                loss.backward()
            """)
        let score = analysis.events[try function("score", in: analysis)].filter { $0.kind == .score }
        #expect(!score.isEmpty && score.allSatisfy(\.gradientFree))
        let train = analysis.events[try function("train", in: analysis)]
        #expect(train.filter { $0.kind == .score }.map(\.line) == [13, 13])
        #expect(train.first { $0.kind == .update }?.gradientFree == false)
        // `model(x)` is scored input; the loss on `y` is what scores targets.
        #expect(train.contains { $0.kind == .score && $0.labels.intrinsic.isSuperset(of: [.validation, .target]) })
    }

    @Test func serializationAndCalibrationAreRecognised() throws {
        let analysis = try analyze("""
            import torch, lzma

            def mixed_quantize_int6(sd):
                return sd

            def main(model, val_tokens):
                q = mixed_quantize_int6(model.state_dict())
                blob = lzma.compress(q)
                torch.save(q, "m.pt")
                collect_hessians(model, val_tokens)
                dequantize_state(q)
            """)
        let events = analysis.events[try function("main", in: analysis)]
        #expect(events.filter { $0.kind == .serialize }.map(\.line) == [7, 8, 9])
        let calibration = try #require(events.first { $0.kind == .calibrate })
        #expect(calibration.line == 10 && calibration.labels.contains(.validation))
    }

    @Test func methodsResolveThroughSelfAndUniqueNames() throws {
        let analysis = try analyze("""
            class Evaluator:
                def chunk(self, val_tokens):
                    return val_tokens[:10]

                def run(self, model):
                    c = self.chunk(model)
                    return c

            def main(ev, model):
                return ev.chunk(model)
            """)
        let run = try function("Evaluator.run", in: analysis)
        // `self.chunk(model)` binds `val_tokens` to `model`: the parameter's own name is a source.
        #expect(analysis.summaries[run].returns.contains(.validation))
        #expect(analysis.summaries[run].returns.contains(.parameter(1)))
        let main = try function("main", in: analysis)
        #expect(analysis.summaries[main].returns.contains(.parameter(1)))
    }

    /// A boolean mask selects elements of the base: what the mask was computed from reaches the
    /// result as positions only. An integer index array's values pick the elements (a read keyed
    /// by them), and a name bound to anything but masks is not a mask.
    @Test func booleanMaskIndexKeepsOnlyTheBaseValues() throws {
        let analysis = try analyze("""
            import torch

            def masked(loc, nll):
                mask = torch.isfinite(nll)
                return loc[mask]

            def combined(loc, nll):
                keep = ~(nll > 30) & torch.isfinite(nll)
                keep &= nll.ne(0)
                return loc[:, keep]

            def made_boolean(loc, n, start):
                new = torch.ones(n, dtype=torch.bool)
                new[1:] = loc[1:] != loc[:-1]
                return start[new]

            def indexed(table, keys):
                return table[keys]

            def rebound(loc, nll):
                m = torch.isfinite(nll)
                m = nll.long()
                return loc[m]

            def inverted_integers(loc, nll):
                return loc[~nll]
            """)
        for name in ["masked", "combined", "made_boolean"] {
            let returns = analysis.summaries[try function(name, in: analysis)].returns
            #expect(returns.parameters == [name == "made_boolean" ? 2 : 0], "\(name)")
            #expect(returns.extentParameters.contains(name == "made_boolean" ? 0 : 1), "\(name)")
        }
        for name in ["indexed", "rebound", "inverted_integers"] {
            #expect(analysis.summaries[try function(name, in: analysis)].returns.parameters == [0, 1], "\(name)")
        }
    }

    @Test func featureFlagsOffByDefault() throws {
        let tree = try #require(try PythonParser().parse([.source(name: "t.py", text: """
            import os
            class H:
                ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "0")))
                slot = bool(int(os.environ.get("SLOT", "1")))
            use_ttt = getattr(args, "ttt_enabled", False)
            """)]).first)
        let flags = FeatureFlags(module: tree, aliases: ImportAliases(module: tree))
        #expect(flags.disabled == ["ttt_enabled": "TTT_ENABLED", "use_ttt": "TTT_ENABLED"])
    }

    /// A name bound to a conjunction with an off flag, or to `bool(flag)`, is true only when the
    /// flag is on; a disjunction is not.
    @Test func conjunctionWithAnOffFlagIsThatFlag() throws {
        let tree = try #require(try PythonParser().parse([.source(name: "t.py", text: """
            import os
            class H:
                phrase_cache = bool(int(os.environ.get("PHRASE_CACHE", "0")))
            use_ngram = bool(int(os.environ.get("NGRAM_CACHE", "1")))
            use_phrase = args.phrase_cache and use_ngram
            use_either = args.phrase_cache or use_ngram
            use_cache = bool(args.phrase_cache)
            """)]).first)
        let flags = FeatureFlags(module: tree, aliases: ImportAliases(module: tree))
        #expect(flags.disabled["use_phrase"] == "PHRASE_CACHE")
        #expect(flags.disabled["use_cache"] == "PHRASE_CACHE")
        #expect(flags.disabled["use_either"] == nil)
    }

    @Test func importAliasesResolve() throws {
        let tree = try #require(try PythonParser().parse([.source(name: "t.py", text: """
            import lzma as L, base64 as B
            from zlib import decompress as inflate
            import torch.nn.functional as F
            """)]).first)
        let aliases = ImportAliases(module: tree)
        #expect(aliases.resolve("L.decompress") == "lzma.decompress")
        #expect(aliases.resolve("B.b85decode") == "base64.b85decode")
        #expect(aliases.resolve("inflate") == "zlib.decompress")
        #expect(aliases.resolve("F.cross_entropy") == "torch.nn.functional.cross_entropy")
        #expect(aliases.resolve("other.thing") == "other.thing")
    }
}
