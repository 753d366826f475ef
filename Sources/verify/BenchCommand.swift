import ArgumentParser
import Foundation
import Reference

/// `verify bench`: how fast our evaluator runs, and how close its matrix products come to OpenBLAS
/// sgemm peak measured in the same process. Benchmarks/run.sh puts it beside PyTorch.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the reference evaluator on raw float32 weights (see Benchmarks/README.md)."
    )

    @Option(help: "pgverify-raw-f32 weights index (with config and seq_len), e.g. fixtures/eval/baseline-2L64d.weights.json.")
    var weights: String
    @Option(help: "SentencePiece model for byte accounting.") var tokenizer: String
    @Option(help: "Validation shard glob.") var val: String
    @Option(help: "standard or sliding.") var mode: String = "sliding"
    @Option(help: "Sliding stride.") var stride: Int = 64
    @Option(help: "Target tokens to evaluate (a prefix).") var maxTokens: Int?
    @Option(help: "Threads.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Square size of the peak-measuring sgemm.") var peakSize: Int = 2048

    func run() throws {
        try BLAS.requireLibrary()
        let raw = try RawFloatWeights(contentsOf: URL(fileURLWithPath: weights))
        guard let config = raw.config, let seqLen = raw.seqLen else {
            throw ValidationError("\(weights) records no config/seq_len")
        }
        let model = try FamilyGPTModel(config: config, weights: raw.weights, maxPositions: seqLen)
        let accounting = try SentencePieceModel(contentsOf: URL(fileURLWithPath: tokenizer))
            .byteAccounting(modelVocabularySize: config.vocabSize)
        let tokens = try EvalTokens.prepare(ValidationShard.readAll(pattern: val), seqLen: seqLen, maxTokens: maxTokens)
        let evalMode: EvalMode = mode == "standard" ? .standard : .sliding(stride: stride)
        let plan = try EvalPlan(mode: evalMode, seqLen: seqLen, streamLength: tokens.count)
        let evaluator = try Evaluator(model: model, accounting: accounting, tokens: tokens, plan: plan)

        let peak = measurePeak(size: peakSize, threads: threads)
        let start = Date()
        let result = try evaluator.evaluate(threads: threads)
        let seconds = Date().timeIntervalSince(start)
        let flops = plan.windows.reduce(0.0) { $0 + model.sgemmFlops(window: $1) }
        let achieved = flops / seconds / 1e9
        let report: [String: Any] = [
            "implementation": "pgverify", "mode": evalMode.name, "stride": mode == "standard" ? 0 : stride,
            "seq_len": seqLen, "threads": threads, "tokens": result.tokens, "windows": plan.windows.count,
            "seconds": seconds, "tokens_per_second": Double(result.tokens) / seconds,
            "val_loss": result.meanLoss, "val_bpb": result.bitsPerByte,
            "sgemm_gflop": flops / 1e9, "forward_sgemm_gflops": achieved,
            "peak_sgemm_gflops": peak, "share_of_sgemm_peak": achieved / peak,
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// Best of three `size³` sgemms with `threads` OpenBLAS threads, in GFLOP/s.
    private func measurePeak(size: Int, threads: Int) -> Double {
        BLAS.threads = threads
        let a = [Float](repeating: 0.5, count: size * size), b = [Float](repeating: 0.25, count: size * size)
        var c = [Float](repeating: 0, count: size * size)
        var best = 0.0
        for _ in 0..<3 {
            let start = Date()
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(m: size, n: size, k: size, a: pa.baseAddress!, lda: size,
                                   b: pb.baseAddress!, ldb: size, c: pc.baseAddress!, ldc: size)
                    }
                }
            }
            best = max(best, 2 * pow(Double(size), 3) / Date().timeIntervalSince(start) / 1e9)
        }
        return best
    }
}
