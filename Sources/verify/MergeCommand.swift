import ArgumentParser
import Foundation
import Reference
import Verifier

/// `verify merge`: adds the parts of a sharded `verify eval` into the whole evaluation's result.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Add the partial results of a sharded `verify eval` into the unsharded result.",
        discussion: """
            Each part (written by `verify eval … --shard K/N --partial-out FILE`) holds the exact loss \
            sum, tokens and bytes of its windows or batches, and the SHA-256 of the artifact, code, logs, \
            tokenizer and evaluated token stream with the settings. Parts merge only when all of those \
            agree and their items cover the evaluation exactly once; val_loss, val_bpb, tokens and bytes \
            are then bit for bit those of the unsharded run.
            """
    )

    @Argument(help: "The partial results (JSON files written by --partial-out).") var parts: [String]
    @Flag(help: "Print one JSON object (the keys of `verify eval --json`) instead of text.") var json = false

    func run() throws {
        var read: [(file: String, part: PartialEvaluation)] = []
        for path in parts { read.append((path, try PartialEvaluation.read(URL(fileURLWithPath: path)))) }
        let merged = try PartialEvaluation.merge(read)
        let identity = merged.identity, score = merged.score
        var report = EvalReport(
            val_loss: score.meanLoss, val_bpb: score.bitsPerByte, tokens: score.tokens, bytes: score.bytes,
            mode: identity.mode, stride: identity.stride, seq_len: identity.seqLen, threads: nil,
            seconds: merged.seconds, tokens_per_second: Double(score.tokens) / merged.seconds,
            config: merged.config, evaluation: identity.evaluation, architecture: merged.architecture)
        if let detail = merged.phased, let settings = identity.phasedSettings {
            // The keys of an unsharded `--mode ttt-phased` run, which reports no architecture.
            report.architecture = nil
            report.ttt_phased = PhasedTTTReport(detail, settings: settings, total: score, totalBatches: identity.totalItems)
        }
        if json {
            print(try report.jsonText())
        } else {
            report.printText(familySources: nil)
            report.ttt_phased?.printText()
            print(String(format: "%d parts, %.2f s of evaluation in all", merged.parts, merged.seconds))
        }
        if merged.kernels.count > 1 {
            FileHandle.standardError.write(Data((
                "note: the parts were computed with different OpenBLAS kernels (\(merged.kernels.joined(separator: ", "))); "
                + "the sum is exact, but per-token losses can differ from a one-machine run in the last bits\n").utf8))
        }
    }
}
