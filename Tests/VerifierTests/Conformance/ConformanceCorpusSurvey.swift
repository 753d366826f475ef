import Foundation
import Reference
import Testing
@testable import Verifier

/// Conformance of real submissions' code to the baseline GPT (FamilyGPTModel with the baseline's features), configured from each file's own
/// `Hyperparameters` defaults (shapes from that configuration), the MLP activation read from the code as
/// the pipeline reads it (a matched non-relu² activation is the row's detail). A survey, run by hand:
/// `PGVERIFY_CONFORMANCE_SURVEY=out.tsv swift test --filter ConformanceCorpusSurvey` reads every
/// train_gpt.py of ../shared/corpus/parameter-golf/records and /work/prcorpus; with
/// `PGVERIFY_CONFORMANCE_SURVEY_FILES=list.txt` (one path a line) only those files.
@Suite struct ConformanceCorpusSurvey {
    /// The baseline configuration a file's code defaults state, nil when they do not state one.
    static func config(from source: String, file: String) -> GPTConfig? {
        let defaults = HyperparameterDefaults.parse(source: source, file: file)
        func value(_ name: String) -> HyperparameterValue? { defaults.declarations[name]?.value() }
        guard let vocab = value("vocab_size")?.pythonInt(), let layers = value("num_layers")?.pythonInt(),
              let dim = value("model_dim")?.pythonInt(), let heads = value("num_heads")?.pythonInt(), heads > 0,
              let kvHeads = value("num_kv_heads")?.pythonInt(), kvHeads > 0, dim % heads == 0 else { return nil }
        let mult = value("mlp_mult")?.pythonFloat() ?? 4
        return GPTConfig(vocabSize: vocab, numLayers: layers, modelDim: dim, numHeads: heads, numKVHeads: kvHeads,
                         mlpHidden: Int(mult * Double(dim)), tieEmbeddings: value("tie_embeddings")?.pythonBool() ?? true,
                         ropeBase: value("rope_base")?.pythonFloat() ?? 10_000, logitSoftcap: value("logit_softcap")?.pythonFloat() ?? 30)
    }

    /// The shapes the file's weights would have: the baseline's, plus `blocks.{i}.mlp.{name}.weight` for
    /// every attribute the code assigns a `CastedLinear(in, out` / `nn.Linear(in, out` (SwiGLU's
    /// projections carry the code's own names): `[out, in]`, each side read from its argument's text as
    /// the model width (`dim`, `model_dim`), twice the hidden width (a `2 *` in it: a fused gate and up
    /// projection) or the hidden width. Extra shapes are never read; a name assigned with other widths
    /// elsewhere (the attention's `proj`) keeps the baseline's shape.
    static func shapes(_ config: GPTConfig, source: String) -> [String: [Int]] {
        var shapes = ConformanceSupport.shapes(config)
        func width(_ argument: Substring) -> Int {
            let text = argument.trimmingCharacters(in: .whitespaces)
            if ["dim", "model_dim", "self.dim", "d_model", "n_embd"].contains(text) { return config.modelDim }
            return text.contains("2 *") || text.contains("* 2") ? 2 * config.mlpHidden : config.mlpHidden
        }
        var declared: [String: [Int]] = [:]
        for match in source.matches(of: /self\.(\w+)\s*=\s*(?:CastedLinear|nn\.Linear)\(\s*([^,()]+),\s*([^,()]+)/) {
            let shape = [width(match.3), width(match.2)]
            if declared[String(match.1)] == nil || shape != [config.modelDim, config.modelDim] { declared[String(match.1)] = shape }
        }
        for i in 0..<config.numLayers {
            for (name, shape) in declared where name != "proj" { shapes["blocks.\(i).mlp.\(name).weight"] = shape }
        }
        return shapes
    }

    static func files() -> [URL] {
        if let list = ProcessInfo.processInfo.environment["PGVERIFY_CONFORMANCE_SURVEY_FILES"],
           let text = try? String(contentsOfFile: list, encoding: .utf8) {
            return text.split(separator: "\n").map { URL(fileURLWithPath: String($0)) }.sorted { $0.path < $1.path }
        }
        var roots = [Paths.shared("corpus/parameter-golf/records")]
        if FileManager.default.fileExists(atPath: "/work/prcorpus") { roots.append(URL(fileURLWithPath: "/work/prcorpus")) }
        var found: [URL] = []
        for root in roots {
            let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
            while let url = walker?.nextObject() as? URL {
                if url.lastPathComponent == "train_gpt.py" { found.append(url) }
            }
        }
        return found.sorted { $0.path < $1.path }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["PGVERIFY_CONFORMANCE_SURVEY"] != nil))
    func survey() throws {
        let output = ProcessInfo.processInfo.environment["PGVERIFY_CONFORMANCE_SURVEY"]!
        // Many pull requests carry the same file: each distinct text is checked once.
        var seen: Set<Data> = []
        let files = Self.files().filter { url in
            guard let data = try? Data(contentsOf: url) else { return false }
            return seen.insert(data).inserted
        }
        var texts: [String] = []
        for url in files { texts.append((try? SubmissionCodeText.read(url)) ?? "") }
        var rows: [String] = []
        var counts: [String: Int] = [:]
        let parser = try ArchitectureConformance.cachedParser()
        for start in stride(from: 0, to: files.count, by: 100) {
            let range = start..<min(files.count, start + 100)
            let inputs = range.map { PythonParser.Input.source(name: files[$0].path, text: texts[$0]) }
            var trees: [PyNode?] = []
            if let parsed = try? parser.parse(inputs) { trees = parsed } else {
                trees = inputs.map { input in try? parser.parse([input]).first }
            }
            for (offset, index) in range.enumerated() {
                let status: String
                var detail: String
                if let tree = trees[offset], let config = Self.config(from: texts[index], file: files[index].path) {
                    do {
                        let lines = texts[index].split(separator: "\n", omittingEmptySubsequences: false)
                        let match = try ArchitectureConformance.checkBaseline(
                            tree: tree, lines: lines, file: "train_gpt.py", config: config,
                            parameterShapes: Self.shapes(config, source: texts[index]), readsActivation: true)
                        status = "matched"; detail = match.mlpActivation == .reluSquared ? "" : match.mlpActivation.formula
                        if let quantization = match.weightFakeQuantization { detail += (detail.isEmpty ? "" : "; ") + quantization.summary }
                    } catch {
                        status = "refused"; detail = "\(error)".replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
                    }
                } else {
                    status = "unread"; detail = trees[offset] == nil ? "does not parse" : "no baseline Hyperparameters defaults"
                }
                counts[status, default: 0] += 1
                rows.append("\(files[index].path)\t\(status)\t\(detail)")
            }
        }
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: output))
        print("CONFORMANCE SURVEY \(files.count) files: \(counts)")
    }
}
