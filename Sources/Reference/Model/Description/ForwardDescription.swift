import Foundation

/// What the reference model computes for a configuration, as a ``ForwardGraph``
/// (``FamilyGPTModel/forwardDescription(_:)``): what a submission's code must compute for its weights
/// to be evaluated by this model.
///
/// Sizes that depend on the input are symbolic: `B` (batch) and `T` (sequence length). Parameters are
/// named as in the state dict the model loads. Operations in the vocabulary of ``ForwardGraph``:
/// `embedding(table, ids)`, `rms_norm(x; eps)`, `linear(x, weight)` (x·Wᵀ), `matmul(x, w)` (x·w), `relu`,
/// `leaky_relu(negative_slope)`, `silu`, `pow(exponent)`, `tanh`,
/// `row(index)` of a matrix parameter, `split_heads(heads, head_dim)` ([B,T,H·D] → [B,H,T,D]),
/// `merge_heads` (its inverse), `slice(start, end)` and `cat` on the last axis, `arange(T)`, `outer`,
/// `cos`, `sin`, `attention(q, k, v; causal, scale)` (softmax(q·kᵀ·scale) v, grouped-query heads
/// shared as `repeat_interleave` does), `cross_entropy(logits, targets; reduction)`.
public struct ForwardDescription {
    public let graph: ForwardGraph
    /// The mean cross-entropy of `input_ids` predicting `target_ids`.
    public let loss: Int
    /// What the description says, in words, for reports.
    public let summary: String
    /// The softcapped logits the loss is taken of (what a records' `forward_logits` returns).
    public var logits: Int? = nil

    /// `torch.finfo(torch.float32).eps`: `F.rms_norm`'s epsilon when none is given.
    public static let float32Epsilon = Double(Float.ulpOfOne)
}

extension ArchitectureFeatures.MLPActivation {
    /// The MLP's hidden values for its input `x` as graph nodes, the projections under `module`
    /// (`blocks.{i}.mlp.`): `pow(relu(fc(x)), 2)`, `pow(leaky_relu(fc(x); slope), 2)` (slope 0 is relu),
    /// `pow(relu(fc(x)), p)`, or SwiGLU's `silu(gate(x)) · up(x)` (fused: the gated half of one projection's
    /// output times the other half); `hidden` is the MLP's width; `parameter` reads a weight (default: the parameter itself).
    public func describe(_ x: Int, module: String, hidden: Int, in g: ForwardGraph, parameter: ((String) -> Int)? = nil) -> Int {
        func projection(_ name: String) -> Int { g.node("linear", [x, parameter?(module + name + ".weight") ?? g.parameter(module + name + ".weight")]) }
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
