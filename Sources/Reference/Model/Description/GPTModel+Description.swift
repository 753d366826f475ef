import Foundation

/// The forward ``GPTModel`` computes, as a ``ForwardGraph``: what a submission's code must compute for
/// its weights to be evaluated by this model.
///
/// Sizes that depend on the input are symbolic: `B` (batch) and `T` (sequence length). Parameters are
/// named as in the state dict the model loads. Operations in the vocabulary of ``ForwardGraph``:
/// `embedding(table, ids)`, `rms_norm(x; eps)`, `linear(x, weight)` (x·Wᵀ), `relu`, `leaky_relu(negative_slope)`, `silu`,
/// `pow(exponent)`, `tanh`,
/// `row(index)` of a matrix parameter, `split_heads(heads, head_dim)` ([B,T,H·D] → [B,H,T,D]),
/// `merge_heads` (its inverse), `slice(start, end)` and `cat` on the last axis, `arange(T)`, `outer`,
/// `cos`, `sin`, `attention(q, k, v; causal, scale)` (softmax(q·kᵀ·scale) v, grouped-query heads
/// shared as `repeat_interleave` does), `cross_entropy(logits, targets; reduction)`.
extension GPTModel {
    public struct ForwardDescription {
        public let graph: ForwardGraph
        /// The mean cross-entropy of `input_ids` predicting `target_ids`.
        public let loss: Int
        /// What the description says, in words, for reports.
        public let summary: String
        /// The softcapped logits the loss is taken of (what a records' `forward_logits` returns).
        public var logits: Int? = nil
    }

    /// `torch.finfo(torch.float32).eps`: `F.rms_norm`'s epsilon when none is given.
    public static let float32Epsilon = Double(Float.ulpOfOne)

    public static func forwardDescription(_ config: GPTConfig) -> ForwardDescription {
        let g = ForwardGraph()
        let c = config.modelDim, heads = config.numHeads, kvHeads = config.numKVHeads, d = config.headDim
        let eps = config.rmsNormEps ?? float32Epsilon
        func rmsNorm(_ x: Int, eps: Double) -> Int { g.node("rms_norm", [x], [("eps", .real(eps))]) }
        func linear(_ x: Int, _ weight: String) -> Int { g.node("linear", [x, g.parameter(weight)]) }

        // Rotary tables: inv_freq = 1 / base^(arange(0, D, 2) / D), angles outer(arange(T), inv_freq).
        let inverseFrequency = stride(from: 0, to: d, by: 2).map { 1 / Foundation.pow(config.ropeBase, Double($0) / Double(d)) }
        let angles = g.node("outer", [g.node("arange", [], [("end", .text("T"))]), g.constantVector(inverseFrequency)])
        let cos = g.node("cos", [angles]), sin = g.node("sin", [angles])
        func rotary(_ x: Int) -> Int {
            let half = d / 2
            let x1 = g.node("slice", [x], [("start", .int(0)), ("end", .int(half))])
            let x2 = g.node("slice", [x], [("start", .int(half)), ("end", .int(d))])
            let first = g.add(g.mul(x1, cos), g.mul(x2, sin))
            let second = g.add(g.mul(x1, g.neg(sin)), g.mul(x2, cos))
            return g.node("cat", [first, second])
        }

        let ids = g.input("input_ids"), targets = g.input("target_ids")
        var x = rmsNorm(g.node("embedding", [g.parameter("tok_emb.weight"), ids]), eps: eps)
        let x0 = x
        // Whole-stack passes run the blocks again in order (effective layer = pass · L + block), each
        // pass with its own LoRA (x @ A) @ B added to the attention's q, k, v and output projections.
        let passes = config.features.stackLoops
        let depth = config.numLayers * (passes?.count ?? 1)
        let encoder = depth / 2
        let skipCount = min(encoder, depth - encoder)
        var skips: [Int] = []
        for index in 0..<depth {
            let p = "blocks.\(index % config.numLayers)."
            let lora = passes?.hasAdapters == true ? "lora_adapters.\(index / config.numLayers).\(index % config.numLayers)." : nil
            func projected(_ input: Int, _ weight: String, _ adapter: String) -> Int {
                let base = linear(input, weight)
                guard let lora else { return base }
                return g.add(base, g.node("matmul", [g.node("matmul", [input, g.parameter(lora + adapter + "_A")]),
                                                     g.parameter(lora + adapter + "_B")]))
            }
            if index >= encoder, !skips.isEmpty {
                let weight = g.node("row", [g.parameter("skip_weights")], [("index", .int(index - encoder))])
                x = g.add(x, g.mul(weight, skips.removeLast()))
            }
            // x = mix[0]·x + mix[1]·x0
            let mix = g.parameter(p + "resid_mix")
            x = g.add(g.mul(g.node("row", [mix], [("index", .int(0))]), x),
                      g.mul(g.node("row", [mix], [("index", .int(1))]), x0))
            // Attention: q/k rms_norm per head (eps from float32), rotary, q_gain, causal attention.
            let normed = rmsNorm(x, eps: eps)
            var q = g.node("split_heads", [projected(normed, p + "attn.c_q.weight", "q")], [("heads", .int(heads)), ("head_dim", .int(d))])
            var k = g.node("split_heads", [projected(normed, p + "attn.c_k.weight", "k")], [("heads", .int(kvHeads)), ("head_dim", .int(d))])
            let v = g.node("split_heads", [projected(normed, p + "attn.c_v.weight", "v")], [("heads", .int(kvHeads)), ("head_dim", .int(d))])
            q = rotary(rmsNorm(q, eps: float32Epsilon))
            k = rotary(rmsNorm(k, eps: float32Epsilon))
            q = g.mul(q, g.parameter(p + "attn.q_gain"))
            let y = g.node("attention", [q, k, v], [("causal", .flag(true)), ("scale", .real(1 / Double(d).squareRoot()))])
            let attention = projected(g.node("merge_heads", [y]), p + "attn.proj.weight", "proj")
            x = g.add(x, g.mul(g.parameter(p + "attn_scale"), attention))
            // MLP: proj(act(fc(rms_norm(x)))), act relu² unless the configuration says otherwise.
            let mlp = config.features.mlpActivation
            let hidden = mlp.describe(rmsNorm(x, eps: eps), module: p + "mlp.", hidden: config.mlpHidden, in: g)
            x = g.add(x, g.mul(g.parameter(p + "mlp_scale"), linear(hidden, p + "mlp.\(mlp.outputProjection).weight")))
            if index < encoder, skips.count < skipCount { skips.append(x) }
        }
        var logits = linear(rmsNorm(x, eps: eps), config.tieEmbeddings ? "tok_emb.weight" : "lm_head.weight")
        if let cap = config.logitSoftcap, cap > 0 {
            logits = g.scale(g.node("tanh", [g.scale(logits, by: 1 / cap)]), by: cap)
        }
        let loss = g.node("cross_entropy", [logits, targets], [("reduction", .text("mean"))])
        var softcap = "no softcap"
        if let cap = config.logitSoftcap, cap > 0 { softcap = "softcap " + ForwardAttribute.format(cap) }
        let epsText = config.rmsNormEps.map { String($0) } ?? "float32"
        let base = ForwardAttribute.format(config.ropeBase)
        let head = config.tieEmbeddings ? "tied" : "untied"
        var summary = "baseline GPT (GPTModel): \(config.numLayers) blocks"
        if let passes, passes.count > 1 {
            summary += " run \(passes.count) times in a row" + (passes.hasAdapters ? " with per-pass LoRA (rank \(passes.loraRank)) on q, k, v, proj" : "")
        }
        summary += " of RMSNorm (eps \(epsText))"
        summary += " → attention (\(heads) heads, \(kvHeads) KV heads, per-head q/k RMSNorm, RoPE base \(base)"
        summary += " on \(d) dims, q_gain, causal softmax scaled 1/√\(d)) and \(config.features.mlpActivation.formula) MLP, resid_mix with x0, U-Net skips ×\(skipCount),"
        summary += " final RMSNorm, \(head) head, \(softcap), mean cross-entropy"
        return ForwardDescription(graph: g, loss: loss, summary: summary)
    }
}

extension ArchitectureFeatures.MLPActivation {
    /// The MLP's hidden values for its input `x` as graph nodes, the projections under `module`
    /// (`blocks.{i}.mlp.`): `pow(relu(fc(x)), 2)`, `pow(leaky_relu(fc(x); slope), 2)` (slope 0 is relu),
    /// `pow(relu(fc(x)), p)`, or SwiGLU's `silu(gate(x)) · up(x)` (fused: the gated half of one projection's
    /// output times the other half); `hidden` is the MLP's width.
    public func describe(_ x: Int, module: String, hidden: Int, in g: ForwardGraph) -> Int {
        func projection(_ name: String) -> Int { g.node("linear", [x, g.parameter(module + name + ".weight")]) }
        switch self {
        case .reluSquared: return g.pow(g.node("relu", [projection("fc")]), 2)
        case .leakyReluSquared(let slope):
            let up = projection("fc")
            return g.pow(slope == 0 ? g.node("relu", [up]) : g.node("leaky_relu", [up], [("negative_slope", .real(slope))]), 2)
        case .reluPower(let exponent): return g.pow(g.node("relu", [projection("fc")]), exponent)
        case .swiGLU(let gate, let up, _): return g.mul(g.node("silu", [projection(gate)]), projection(up))
        case .fusedSwiGLU(let fused, let gateFirst, _):
            // chunk(2, dim=-1) of the fused projection: its first and second `hidden` outputs.
            let both = projection(fused)
            let (first, second) = (g.slice(both, start: 0, end: hidden), g.slice(both, start: hidden, end: 2 * hidden))
            return gateFirst ? g.mul(g.node("silu", [first]), second) : g.mul(g.node("silu", [second]), first)
        }
    }
}
