import Foundation

/// The forward ``FamilyGPTModel`` computes for a configuration, as a ``ForwardGraph`` in the
/// vocabulary of ``ForwardDescription``, plus what the families add:
/// `leaky_relu(x; negative_slope)`, `sigmoid`, `l2_normalize(x; eps)` (`x / max(‖x‖, eps)` over the
/// last axis), `reduce_sum(x; dim=-1)` (kept), `group_heads(x; groups)` ([B,T,H,D] →
/// [B,T,G,H/G,D]) and `ungroup_heads` (its inverse), `time_slice(x; start, end)` (`x[:, start:end]`
/// on the token axis), `time_cat` (concatenation on the token axis), `ne(x; value)` (1 where x ≠ value, else 0). A lerp is written out: `lerp(a, b, w) = a + w·(b − a)`.
///
/// Heads are split without fixing a layout: `split_heads` is the split of the last axis, whether the
/// heads then sit on axis 1 or 2; attention is over tokens per head.
extension FamilyGPTModel {
    /// A feature ``forwardDescription(_:)`` does not describe yet: no description, so nothing is matched.
    public struct UndescribedFeature: Error, CustomStringConvertible {
        public let feature: String
        public var description: String { "the description of \(feature) is not written yet" }
    }

    /// What ``FamilyGPTModel`` computes for `config`: the softcapped `logits` of `input_ids` and their
    /// mean cross-entropy against `target_ids` (`loss`).
    public static func forwardDescription(_ config: GPTConfig) throws(UndescribedFeature) -> ForwardDescription {
        let f = config.features
        if f.bigramHash != nil { throw UndescribedFeature(feature: "BigramHash embeddings") }
        if f.valueEmbeddings != nil { throw UndescribedFeature(feature: "value embeddings") }
        if f.channelSmearGate { throw UndescribedFeature(feature: "the March records' per-channel SmearGate") }
        if f.ropeNTKTrainSeqLen != nil { throw UndescribedFeature(feature: "NTK rotary scaling") }

        let g = ForwardGraph()
        let heads = config.numHeads, kvHeads = config.numKVHeads, d = config.headDim
        let rd = f.ropeDims ?? d
        let eps = config.rmsNormEps ?? ForwardDescription.float32Epsilon
        func rmsNorm(_ x: Int, eps: Double) -> Int { g.node("rms_norm", [x], [("eps", .real(eps))]) }
        func linear(_ x: Int, _ weight: Int) -> Int { g.node("linear", [x, weight]) }
        // A fake-quantized weight is its quantized value wherever the forward reads it.
        let fakeQuantized = Set(f.weightFakeQuantization?.parameters ?? [])
        func parameter(_ name: String) -> Int {
            guard fakeQuantized.contains(name), let quantization = f.weightFakeQuantization else { return g.parameter(name) }
            return quantization.describe(g.parameter(name), in: g)
        }
        func row(_ x: Int, _ index: Int) -> Int { g.node("row", [x], [("index", .int(index))]) }
        func sigmoid(_ x: Int) -> Int { g.node("sigmoid", [x]) }
        func lerp(_ a: Int, _ b: Int, _ w: Int) -> Int { g.add(a, g.mul(w, g.sub(b, a))) }

        // Rotary tables on the first `rd` dims of each head: inv_freq = 1 / base^(arange(0, rd, 2) / rd).
        let inverseFrequency = stride(from: 0, to: rd, by: 2).map { 1 / Foundation.pow(config.ropeBase, Double($0) / Double(rd)) }
        let angles = g.node("outer", [g.node("arange", [], [("end", .text("T"))]), g.constantVector(inverseFrequency)])
        let cos = g.node("cos", [angles]), sin = g.node("sin", [angles])
        func rotary(_ x: Int) -> Int {
            let half = rd / 2
            let x1 = g.slice(x, start: 0, end: half), x2 = g.slice(x, start: half, end: rd)
            let first = g.add(g.mul(x1, cos), g.mul(x2, sin))
            let second = g.add(g.mul(x1, g.neg(sin)), g.mul(x2, cos))
            return rd < d ? g.cat([first, second, g.slice(x, start: rd, end: d)]) : g.cat([first, second])
        }

        // Whole-stack passes: schedule position `pass · L + block` adds its own LoRA (x @ A) @ B to the
        // attention's q, k, v and output projections.
        let adapters = f.stackLoops?.hasAdapters == true
        func projected(_ input: Int, _ weight: String, lora: String?, _ adapter: String) -> Int {
            let base = linear(input, parameter(weight))
            guard let lora else { return base }
            return g.add(base, g.node("matmul", [g.node("matmul", [input, parameter(lora + adapter + "_A")]),
                                                 parameter(lora + adapter + "_B")]))
        }

        func attention(_ block: Int, _ position: Int, _ x: Int) -> Int {
            let p = "blocks.\(block).attn."
            let lora = adapters ? adapterPrefix(position: position, layers: config.numLayers) : nil
            let qRaw = projected(x, p + "c_q.weight", lora: lora, "q")
            var q = g.node("split_heads", [qRaw], [("heads", .int(heads)), ("head_dim", .int(d))])
            var k = g.node("split_heads", [projected(x, p + "c_k.weight", lora: lora, "k")], [("heads", .int(kvHeads)), ("head_dim", .int(d))])
            let v = g.node("split_heads", [projected(x, p + "c_v.weight", lora: lora, "v")], [("heads", .int(kvHeads)), ("head_dim", .int(d))])
            q = rotary(rmsNorm(q, eps: ForwardDescription.float32Epsilon))
            k = rotary(rmsNorm(k, eps: ForwardDescription.float32Epsilon))
            q = g.mul(q, parameter(p + "q_gain"))
            var y = g.node("attention", [q, k, v], [("causal", .flag(true)), ("scale", .real(1 / Double(d).squareRoot()))])
            if block >= config.numLayers - f.xsaLastN {
                // XSA: y − (y·v̂)v̂ per group of heads sharing a value head.
                let grouped = g.node("group_heads", [y], [("groups", .int(kvHeads))])
                let unit = g.node("l2_normalize", [v], [("eps", .real(1e-12))])
                let along = g.mul(g.node("reduce_sum", [g.mul(grouped, unit)], [("dim", .int(-1))]), unit)
                y = g.node("ungroup_heads", [g.sub(grouped, along)])
            }
            switch f.attentionGate {
            case .none: break
            case .outputGate(let window, let source):
                let input = g.slice(source == .queryProjection ? qRaw : x, start: 0, end: window)
                y = g.mul(y, g.scale(sigmoid(linear(input, parameter(p + "attn_gate_proj.weight"))), by: 2))
            case .dense:
                y = g.mul(y, sigmoid(linear(x, parameter(p + "attn_gate_w"))))
            case .sparse(let window, let scale):
                y = g.mul(y, sigmoid(g.scale(linear(g.slice(x, start: 0, end: window), parameter(p + "attn_gate_w")), by: scale)))
            }
            return projected(g.node("merge_heads", [y]), p + "proj.weight", lora: lora, "proj")
        }

        func mlp(_ block: Int, _ x: Int) -> Int {
            let p = "blocks.\(block).mlp."
            let activated = f.mlpActivation.describe(x, module: p, hidden: config.mlpHidden, in: g, parameter: parameter)
            var out = linear(activated, parameter(p + f.mlpActivation.outputProjection + ".weight"))
            if let window = f.mlpOutputGateWindow {
                out = g.mul(out, g.scale(sigmoid(linear(g.slice(x, start: 0, end: window), parameter(p + "mlp_gate_proj.weight"))), by: 2))
            }
            return out
        }

        func normed(_ x: Int, _ block: Int) -> Int {
            f.layerNormScale ? g.scale(rmsNorm(x, eps: eps), by: 1 / Double(block + 1).squareRoot()) : rmsNorm(x, eps: eps)
        }
        func mixed(_ block: Int, _ x: Int, _ x0: Int) -> Int {
            let mix = parameter("blocks.\(block).resid_mix")
            return g.add(g.mul(row(mix, 0), x), g.mul(row(mix, 1), x0))
        }

        let ids = g.input("input_ids"), targets = g.input("target_ids")
        var x = g.node("embedding", [parameter("tok_emb.weight"), ids])
        if let smear = f.smearGate {
            // x_t += λ·σ(W·x_t[:w])·x_{t−1} for t ≥ 1 (0 where x_t is the reset token).
            let current = g.timeSlice(x, start: 1, end: nil), previous = g.timeSlice(x, start: 0, end: -1)
            var gate = g.mul(parameter("smear_lambda"),
                             sigmoid(linear(g.slice(current, start: 0, end: smear.window), parameter("smear_gate.weight"))))
            if let reset = smear.resetToken {
                // Zeroing where x_t is the reset token: a factor [x_t ≠ reset].
                gate = g.mul(gate, g.node("ne", [g.timeSlice(ids, start: 1, end: nil)], [("value", .real(Double(reset)))]))
            }
            x = g.node("time_cat", [g.timeSlice(x, start: 0, end: 1), g.add(current, g.mul(gate, previous))])
        }
        x = rmsNorm(x, eps: eps)
        let x0 = x

        let schedules = schedules(layers: config.numLayers, loop: f.loop, stackLoops: f.stackLoops, blockSchedule: f.blockSchedule)
        let active = f.loop?.active == true ? schedules.looped : schedules.plain
        func block(_ i: Int, _ position: Int, _ input: Int) -> Int {
            var x = mixed(i, input, x0)
            x = g.add(x, g.mul(parameter("blocks.\(i).attn_scale"), attention(i, position, normed(x, i))))
            return g.add(x, g.mul(parameter("blocks.\(i).mlp_scale"), mlp(i, normed(x, i))))
        }
        // A block schedule's learned vectors around position `position`'s block.
        func vector(_ learned: ArchitectureFeatures.LearnedVector) -> Int {
            learned.index.reduce(parameter(learned.tensor)) { row($0, $1) }
        }
        func scheduled(_ i: Int, _ position: Int, _ input: Int) -> Int {
            let vectors = f.scheduleVectors?[position]
            var x = vectors?.inputShift.map { g.add(input, vector($0)) } ?? input
            x = block(i, position, x)
            if let scale = vectors?.outputScale { x = g.mul(x, vector(scale)) }
            if let shift = vectors?.outputShift { x = g.add(x, vector(shift)) }
            return x
        }
        func skip(_ index: Int, _ x: Int, _ saved: Int) -> Int {
            let scaled = g.mul(row(parameter("skip_weights"), index), saved)
            return f.skipGates ? lerp(scaled, x, sigmoid(row(parameter("skip_gates"), index))) : g.add(x, scaled)
        }
        var skips: [Int] = []
        for (position, i) in active.encoder.enumerated() {
            x = scheduled(i, position, x)
            skips.append(x)
        }
        var lanes: (attention: Int, mlp: Int)?
        let parallelStart = f.parallelResiduals?.startLayer ?? 0
        for (skipIndex, i) in active.decoder.enumerated() {
            let position = active.encoder.count + skipIndex
            if f.parallelResiduals != nil, parallelStart > 0, i >= parallelStart {
                var (lane0, lane1) = lanes ?? (x, x)
                if skipIndex < schedules.skipCount, let saved = skips.popLast() { lane0 = skip(skipIndex, lane0, saved) }
                let attentionOut = g.mul(parameter("blocks.\(i).attn_scale"), attention(i, position, normed(mixed(i, lane0, x0), i)))
                let mlpOut = g.mul(parameter("blocks.\(i).mlp_scale"), mlp(i, normed(lane1, i)))
                let resid = row(parameter("parallel_resid_lambdas"), i), post = row(parameter("parallel_post_lambdas"), i)
                let attentionPost = row(post, 0), mlpPost = row(post, 1)
                lanes = (g.add(g.add(g.mul(row(resid, 0), lane0), g.mul(row(attentionPost, 0), attentionOut)), g.mul(row(mlpPost, 0), mlpOut)),
                         g.add(g.add(g.mul(row(resid, 1), lane1), g.mul(row(attentionPost, 1), attentionOut)), g.mul(row(mlpPost, 1), mlpOut)))
            } else {
                if skipIndex < schedules.skipCount, let saved = skips.popLast() { x = skip(skipIndex, x, saved) }
                x = scheduled(i, position, x)
            }
        }
        if let lanes {
            switch f.parallelResiduals?.finalLane ?? .mean {
            case .attention: x = lanes.attention
            case .mlp: x = lanes.mlp
            case .mean: x = g.scale(g.add(lanes.attention, lanes.mlp), by: 0.5)
            }
        }
        var logits = linear(rmsNorm(x, eps: eps), parameter(config.tieEmbeddings ? "tok_emb.weight" : "lm_head.weight"))
        if let cap = config.logitSoftcap, cap > 0 {
            logits = g.scale(g.node("tanh", [g.scale(logits, by: 1 / cap)]), by: cap)
        }
        let loss = g.node("cross_entropy", [logits, targets], [("reduction", .text("mean"))])
        return ForwardDescription(graph: g, loss: loss, summary: summary(config, schedule: active), logits: logits)
    }

    static func summary(_ config: GPTConfig, schedule: (encoder: [Int], decoder: [Int])) -> String {
        let f = config.features, d = config.headDim
        if f.runsOnBaselineModel { return baselineSummary(config, skipCount: min(schedule.encoder.count, schedule.decoder.count)) }
        var parts: [String] = []
        if let smear = f.smearGate {
            parts.append("SmearGate (window \(smear.window)\(smear.resetToken.map { ", reset at token \($0)" } ?? ""))")
        }
        let order = (schedule.encoder + schedule.decoder).map(String.init).joined(separator: ",")
        parts.append("blocks [\(order)] with U-Net skips\(f.skipGates ? " (sigmoid-gated lerp)" : "")")
        if let parallel = f.parallelResiduals {
            parts.append("parallel residual lanes from block \(parallel.startLayer) (final lane \(parallel.finalLane.rawValue))")
        }
        if f.layerNormScale { parts.append("norms scaled 1/√(layer+1)") }
        var attention = "attention (\(config.numHeads) heads, \(config.numKVHeads) KV heads, per-head q/k RMSNorm, RoPE base "
            + ForwardAttribute.format(config.ropeBase) + " on \(f.ropeDims ?? d) of \(d) dims, q_gain, causal softmax scaled 1/√\(d)"
        if f.xsaLastN > 0 { attention += ", XSA on the last \(f.xsaLastN) blocks" }
        switch f.attentionGate {
        case .none: break
        case .outputGate(let window, let source): attention += ", output gate 2·σ(W·\(source.rawValue)[:\(window)])"
        case .dense: attention += ", dense gate σ(W·x)"
        case .sparse(let window, let scale): attention += ", sparse gate σ(\(ForwardAttribute.format(scale))·W·x[:\(window)])"
        }
        parts.append(attention + ")")
        var mlp = f.mlpActivation.formula + " MLP"
        if let window = f.mlpOutputGateWindow { mlp += " with output gate 2·σ(W·x[:\(window)])" }
        parts.append(mlp)
        var softcap = "no softcap"
        if let cap = config.logitSoftcap, cap > 0 { softcap = "softcap " + ForwardAttribute.format(cap) }
        parts.append("final RMSNorm, \(config.tieEmbeddings ? "tied" : "untied") head, \(softcap)")
        if let quantization = f.weightFakeQuantization { parts.append(quantization.summary) }
        return "record-family GPT (FamilyGPTModel): " + parts.joined(separator: ", ")
    }

    /// A block schedule's learned vectors in words: `with learned vectors per position (input + loop_embed[0], …; output ·loop_scales[0, 1] + …)`.
    static func scheduleVectorSummary(_ positions: [ArchitectureFeatures.ScheduleVectors]) -> String? {
        var inputs: [String] = [], outputs: [String] = []
        for vectors in positions {
            if let shift = vectors.inputShift { inputs.append("+ " + shift.spelled) }
            var output: [String] = []
            if let scale = vectors.outputScale { output.append("·" + scale.spelled) }
            if let shift = vectors.outputShift { output.append("+ " + shift.spelled) }
            if !output.isEmpty { outputs.append(output.joined(separator: " ")) }
        }
        if inputs.isEmpty && outputs.isEmpty { return nil }
        // A deep schedule's list is cut after a dozen (the configuration holds them all).
        func listed(_ items: [String]) -> String {
            items.count <= 12 ? items.joined(separator: ", ") : items.prefix(12).joined(separator: ", ") + ", … (\(items.count) in all)"
        }
        var parts: [String] = []
        if !inputs.isEmpty { parts.append("block inputs " + listed(inputs)) }
        if !outputs.isEmpty { parts.append("block outputs " + listed(outputs)) }
        return "with learned per-position vectors (" + parts.joined(separator: "; ") + ")"
    }

    /// The baseline's architecture in words (what its conformance reports name).
    static func baselineSummary(_ config: GPTConfig, skipCount: Int) -> String {
        let f = config.features, heads = config.numHeads, kvHeads = config.numKVHeads, d = config.headDim
        var softcap = "no softcap"
        if let cap = config.logitSoftcap, cap > 0 { softcap = "softcap " + ForwardAttribute.format(cap) }
        let epsText = config.rmsNormEps.map { String($0) } ?? "float32"
        let base = ForwardAttribute.format(config.ropeBase)
        let head = config.tieEmbeddings ? "tied" : "untied"
        var summary = "baseline GPT (FamilyGPTModel, baseline features): \(config.numLayers) blocks"
        if let passes = f.stackLoops, passes.count > 1 {
            summary += " run \(passes.count) times in a row" + (passes.hasAdapters ? " with per-pass LoRA (rank \(passes.loraRank)) on q, k, v, proj" : "")
        }
        if let schedule = f.blockSchedule {
            summary += " shared over a depth of \(schedule.count) (run in the order \(schedule.map(String.init).joined(separator: ",")))"
            if let positions = f.scheduleVectors, let words = scheduleVectorSummary(positions) { summary += " " + words }
        }
        summary += " of RMSNorm (eps \(epsText))"
        summary += " → attention (\(heads) heads, \(kvHeads) KV heads, per-head q/k RMSNorm, RoPE base \(base)"
        summary += " on \(d) dims, q_gain, causal softmax scaled 1/√\(d)) and \(f.mlpActivation.formula) MLP, resid_mix with x0, U-Net skips ×\(skipCount),"
        summary += " final RMSNorm, \(head) head, \(softcap), mean cross-entropy"
        if let quantization = f.weightFakeQuantization { summary += "; " + quantization.summary }
        return summary
    }
}
