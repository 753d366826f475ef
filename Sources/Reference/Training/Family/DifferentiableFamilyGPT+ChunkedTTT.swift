// A record family's side of the chunked TTT seam (Training/ChunkedTTTModel.swift): the March records'
// and 2026-04-0x records' `eval_val_sliding_ttt` train `base_model.parameters()` with SGD on
// `base_model(x, y)` and score with `forward_logits`.

extension DifferentiableFamilyGPT: ChunkedTTTModel {
    public var parameters: UnsafeMutableBufferPointer<Float> { baseParameters }
    public var gradients: UnsafeMutableBufferPointer<Float> { baseGradients }

    public var tensors: [ChunkedTTTTensor] {
        parameterEntries.map { ChunkedTTTTensor(name: $0.name, range: $0.offset..<($0.offset + $0.count),
                                                block: Self.block(of: $0.name)) }
    }

    /// The block index `i` of a tensor named `blocks.{i}.…`, else `nil`.
    static func block(of name: String) -> Int? {
        guard name.hasPrefix("blocks.") else { return nil }
        return Int(name.dropFirst("blocks.".count).prefix { $0.isNumber })
    }

    /// ``accumulateBaseGradients(rows:inputs:targets:)`` after zeroing the gradients; the first
    /// `frozenBlocks` blocks' parameters get none (they stay zero), the others exactly those of a full backward.
    ///
    /// With ``lateQATInTraining`` the `CastedLinear` projections (``castedLinearNames``) read their
    /// weights fake-quantised as the 2026-03-23 records' `CastedLinear.forward` does in training mode once
    /// late QAT has switched `_qat_enabled` on (it is never switched off, so their TTT trains that way):
    /// per output row `s = max(max|w| / 31, 1/31)`, `w_q = clamp(round(w / s), −32, 31) · s`, forward
    /// value `w + (w_q − w)`, gradient straight through to `w`.
    public func accumulateSequenceGradients(stream: UnsafePointer<UInt16>, sequences: Int, length: Int, frozenBlocks: Int) {
        let n = sequences * length
        let inputs = (0..<n).map { Int32(stream[$0]) }
        let targets = (0..<n).map { Int32(stream[$0 + 1]) }
        zeroBaseGradients()
        var quantized: [UnsafeMutableBufferPointer<Float>] = []
        gradientFreeBlocks = frozenBlocks
        defer {
            gradientFreeBlocks = 0
            forwardValueOverrides = [:]
            for buffer in quantized { buffer.deallocate() }
        }
        if lateQATInTraining {
            for entry in parameterEntries where Self.castedLinearNames.contains(entry.name) && entry.shape.count == 2 {
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: entry.count)
                Self.fakeQuantizeInt6(UnsafePointer(baseParameters.baseAddress! + entry.offset), rows: entry.shape[0],
                                      columns: entry.shape[1], into: buffer.baseAddress!)
                quantized.append(buffer)
                forwardValueOverrides[entry.name] = UnsafePointer(buffer.baseAddress!)
            }
        }
        _ = accumulateBaseGradients(rows: sequences, inputs: inputs, targets: targets)
    }

    /// The family tensors that are `CastedLinear` weights in the March records (the blocks' matrices
    /// come from banks there): BigramHash and value-embedding projections, an untied head.
    public static let castedLinearNames: Set<String> = ["bigram.proj.weight", "ve_shared.proj.weight", "lm_head.weight"]

    /// `CastedLinear`'s late-QAT forward value of a `[rows, columns]` weight, in float32 as torch computes it.
    static func fakeQuantizeInt6(_ w: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = w + r * columns
            var rowMax: Float = 0
            for j in 0..<columns { rowMax = max(rowMax, abs(row[j])) }
            let scale = max(rowMax / 31, Float(1.0 / 31.0))
            for j in 0..<columns {
                let q = min(max((row[j] / scale).rounded(.toNearestOrEven), -32), 31) * scale
                out[r * columns + j] = row[j] + (q - row[j])
            }
        }
    }

    /// ``FamilyGPTModel`` on a snapshot of the current parameters, each window its own sequence from
    /// position 0 (``Evaluator``: the records' `forward_logits` on `[windows, seq_len]`).
    public func scoreWindows(_ plan: EvalPlan, tokens: [UInt16], accounting: ByteAccounting, seqLen: Int,
                             threads: Int) throws(ChunkedTTTScoringError) -> EvalPartial {
        let snapshot: FamilyGPTModel
        do {
            snapshot = try FamilyGPTModel(config: config, weights: weights(), maxPositions: seqLen)
        } catch {
            throw .unusableWeights(error.description)
        }
        do {
            return try Evaluator(model: snapshot, accounting: accounting, tokens: tokens, plan: plan)
                .evaluate(threads: threads)
        } catch {
            throw .evaluation(error)
        }
    }

    /// The current parameters by `state_dict` name (un-banked), as ``FamilyGPTModel`` loads them.
    public func weights() -> Weights {
        var result: Weights = [:]
        for entry in parameterEntries {
            result[entry.name] = try? Tensor(shape: entry.shape,
                                             data: Array(baseParameters[entry.offset..<(entry.offset + entry.count)]))
        }
        return result
    }
}
