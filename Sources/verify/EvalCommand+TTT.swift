import ArgumentParser
import Foundation
import Reference
import Verifier

// `verify eval --mode ttt`, `--mode ttt-lora` and `--mode ttt-phased`: kept apart from
// EvalCommand.swift, which only dispatches here. The JSON has the other modes' keys plus `ttt` (or
// `ttt_lora`, `ttt_phased`).

extension Eval {
    /// Runs the TTT mode through the library's one path (``TTTReevaluation``), printing the
    /// configuration and settings as they are resolved and the report at the end.
    func runTestTimeTraining() throws {
        var named: [String: String] = [:]
        for item in overrides {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("--set expects KEY=VALUE, got \(item)")
            }
            named[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        if mode == .ttt, let stride { named["EVAL_STRIDE"] = String(stride) }
        var request = ReevaluationRequest(
            artifact: URL(fileURLWithPath: artifact), code: code.map { URL(fileURLWithPath: $0) },
            logs: logs.map { URL(fileURLWithPath: $0) }, overrides: named, tokenizer: URL(fileURLWithPath: tokenizer),
            validationPattern: val, seqLen: seqLen, maxTokens: maxTokens, threads: threads, byteSidecarPattern: valBytes)
        request.digestsInputs = partialOut != nil
        let procedure: TTTProcedure = switch mode {
        case .tttLoRA: .perDocumentLoRA
        case .tttPhased: .phased
        default: .chunkedSGD
        }
        var options = TTTRunOptions()
        if let prefixStateOut {
            options.phasedPart = .prefix(stateOut: URL(fileURLWithPath: prefixStateOut))
        } else if let prefixState, let shard {
            options.phasedPart = .suffix(state: URL(fileURLWithPath: prefixState), shard: try EvalShard(parsing: shard))
        }
        var resolvedSources: [String: ValueSource] = [:]
        options.onResolved = { resolved in
            resolvedSources = resolved.sources
            if !json, let architecture = resolved.architecture { print("architecture: \(architecture)") }
        }
        let unit = switch procedure { case .chunkedSGD: "chunks"; case .perDocumentLoRA: "documents"; case .phased: "batches" }
        let progress = TTTProgress(unit: unit)
        options.onSettings = { provenance in
            if provenance.phasedLoop { progress.unit = "batches" }  // the batched eval_val_ttt_lora of a record family
            guard !json else { return }
            switch (provenance.procedure, provenance.phasedLoop) {
            case (.chunkedSGD, _): printSources(model: resolvedSources, ttt: provenance.sources, title: "TTT settings")
            case (.perDocumentLoRA, false): printSources(model: resolvedSources, ttt: provenance.sources, title: "LoRA TTT settings")
            case (.perDocumentLoRA, true): break  // printed with the byte counts' source once they ran (below)
            case (.phased, _): printSources(model: resolvedSources, ttt: provenance.sources, title: "phased TTT settings")
            }
        }
        options.progress = { done, total in progress.update(done, of: total) }
        let result = try TTTReevaluation.run(request, procedure: procedure, options: options)
        progress.finish()
        try printTTTReport(result)
    }

    /// The text mode's provenance: each model configuration value and TTT setting with its source.
    func printSources(model: [String: some CustomStringConvertible], ttt: [String: String], title: String) {
        print("model configuration:")
        for (name, source) in model.sorted(by: { $0.key < $1.key }) { print("  \(name): \(source)") }
        print(title + ":")
        for (name, source) in ttt.sorted(by: { $0.key < $1.key }) { print("  \(name): \(source)") }
    }

    /// The report of `result` in the mode's keys (writing a phased run's part first).
    func printTTTReport(_ result: TTTReevaluationResult) throws {
        let total = result.score
        var report = EvalReport(
            val_loss: total.meanLoss, val_bpb: total.bitsPerByte, tokens: total.tokens, bytes: total.bytes,
            mode: mode.rawValue, stride: nil, seq_len: result.seqLen, threads: threads, seconds: result.seconds,
            tokens_per_second: Double(total.tokens) / result.seconds, config: result.resolved.sources.mapValues(\.description))
        let gain = result.before.bitsPerByte - total.bitsPerByte
        switch result.detail {
        case .chunked(let settings, let chunkLosses):
            report.stride = settings.stride
            report.ttt = TTTReport(settings: settings, sources: result.sources, val_loss_before: result.before.meanLoss,
                                   val_bpb_before: result.before.bitsPerByte, bpb_gain: gain, steps: result.steps,
                                   chunks: chunkLosses.count, chunk_losses: chunkLosses)
        case .lora(let settings, let documents):
            report.ttt_lora = LoRATTTReport(settings: settings, sources: result.sources, val_loss_before: result.before.meanLoss,
                                            val_bpb_before: result.before.bitsPerByte, bpb_gain: gain, steps: result.steps,
                                            documents: documents)
        case .phased(let settings, let detail, let scope) where result.procedure == .phased:
            try writePartial(result, scope: scope)
            report.ttt_phased = PhasedTTTReport(detail, settings: settings, total: total, totalBatches: scope.totalBatches)
            // Timing of this process only: a whole run written as a part must print what its merge prints.
            if partialOut == nil { report.ttt_phased?.cpu_seconds = result.cpuSeconds }
        case .phased:
            // The batched eval_val_ttt_lora of a record family.
            if !json {
                printSources(model: result.resolved.sources, ttt: result.sources,
                             title: "LoRA TTT settings (\(result.procedure.functionName), batched, without global phases)")
            }
            report.tokens_per_second = Double(total.tokens) / max(result.seconds, 1e-9)
            report.ttt_family = FamilyTTTReport(
                procedure: result.procedure.functionName, settings: result.settings, sources: result.sources,
                val_loss_before: result.before.meanLoss, val_bpb_before: result.before.bitsPerByte, bpb_gain: gain, steps: result.steps)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(String(format: "val_loss: %.8f  val_bpb: %.8f", report.val_loss, report.val_bpb))
        print("tokens: \(report.tokens)  bytes: \(report.bytes)  mode: \(report.mode)"
              + (report.stride.map { "  stride: \($0)" } ?? "") + "  seq_len: \(report.seq_len)")
        print(String(format: "%.2f s, %.0f tokens/s, %d threads", report.seconds, report.tokens_per_second, threads))
        if let ttt = report.ttt {
            print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d SGD steps)",
                         ttt.val_loss_before, ttt.val_bpb_before, ttt.bpb_gain, ttt.steps))
        }
        if let lora = report.ttt_lora {
            print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d documents, %d Adam steps)",
                         lora.val_loss_before, lora.val_bpb_before, lora.bpb_gain, lora.documents, lora.steps))
        }
        report.ttt_phased?.printText()
        if let family = report.ttt_family {
            print(String(format: "before TTT: val_loss %.8f  val_bpb %.8f  →  gain %.6f bpb (%d optimizer steps)",
                         family.val_loss_before, family.val_bpb_before, family.bpb_gain, family.steps))
        }
    }
}

/// Progress of a TTT run on stderr (chunks or documents), once it has run a few seconds.
final class TTTProgress {
    var unit: String
    private let start = Date()
    private var lastPrint: Date?

    init(unit: String) { self.unit = unit }

    func update(_ done: Int, of total: Int) {
        let now = Date()
        guard now.timeIntervalSince(start) >= 3 else { return }
        if let lastPrint, now.timeIntervalSince(lastPrint) < 2, done < total { return }
        lastPrint = now
        FileHandle.standardError.write(Data(String(
            format: "\rttt: %d/%d %@, %.0f s elapsed ", done, total, unit, now.timeIntervalSince(start)).utf8))
    }

    func finish() { if lastPrint != nil { FileHandle.standardError.write(Data("\n".utf8)) } }
}

/// The `ttt` object of `verify eval --mode ttt --json`.
struct TTTReport: Encodable {
    var settings: ChunkedTTTSettings
    /// Where each TTT setting came from.
    var sources: [String: String]
    var val_loss_before: Double
    var val_bpb_before: Double
    /// `val_bpb_before − val_bpb`: what adaptation gained.
    var bpb_gain: Double
    var steps: Int
    var chunks: Int
    /// Mean loss of each chunk, scored before training on it.
    var chunk_losses: [Double]
}

/// The `ttt` object of `verify eval --mode ttt-lora --json`.
struct LoRATTTReport: Encodable {
    var settings: LoRATTTSettings
    var sources: [String: String]
    var val_loss_before: Double
    var val_bpb_before: Double
    var bpb_gain: Double
    var steps: Int
    var documents: Int
}

/// The `ttt_family` object of `verify eval --mode ttt-lora --json` on record-family weights.
struct FamilyTTTReport: Encodable {
    /// The code's function that was reproduced.
    var procedure: String
    var settings: [String: String]
    var sources: [String: String]
    var val_loss_before: Double
    var val_bpb_before: Double
    var bpb_gain: Double
    var steps: Int
}
