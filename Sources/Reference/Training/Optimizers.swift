import Foundation

/// A contiguous run of a flat parameter buffer that an optimizer updates (one or more tensors).
public typealias ParameterRange = Range<Int>

/// `torch.optim.SGD` (momentum, dampening, nesterov, L2 weight decay) over ranges of a flat buffer,
/// with one momentum buffer per element, created from the first gradient as torch does.
public struct SGDOptimizer: Sendable {
    public var learningRate: Float
    public var momentum: Float
    public var dampening: Float
    public var nesterov: Bool
    public var weightDecay: Float
    private var momentumBuffer: [Float]
    private var started = false

    public init(count: Int, learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.momentumBuffer = momentum != 0 ? [Float](repeating: 0, count: count) : []
    }

    /// One `optimizer.step()` on `parameters[range]` for each range, with `gradients` (same layout).
    public mutating func step(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, ranges: [ParameterRange]
    ) {
        let first = !started
        started = true
        let lr = learningRate, mu = momentum, damp = 1 - dampening, wd = weightDecay, nesterov = self.nesterov
        momentumBuffer.withUnsafeMutableBufferPointer { buffer in
            for range in ranges {
                for i in range {
                    var d = gradients[i]
                    if wd != 0 { d += wd * parameters[i] }
                    if mu != 0 {
                        let b = first ? d : buffer[i] * mu + damp * d
                        buffer[i] = b
                        d = nesterov ? d + mu * b : b
                    }
                    parameters[i] -= lr * d
                }
            }
        }
    }
}

/// `torch.optim.Adam` and `torch.optim.AdamW` (no amsgrad): bias-corrected moments,
/// `p −= lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + eps)`; weight decay as an L2 term in the gradient (Adam)
/// or decoupled, `p ← p·(1 − lr·wd)` before the update (AdamW).
public struct AdamOptimizer: Sendable {
    // Hyperparameters are doubles like torch's Python floats; each scalar is rounded to float32 where
    // torch hands it to a float32 kernel (`1 − β₁` as one value, not `1 − Float(β₁)`).
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// AdamW's decoupled weight decay rather than Adam's L2 term.
    public var decoupledWeightDecay: Bool
    /// Steps taken (`t`).
    public private(set) var steps = 0
    private var firstMoment: [Float]
    private var secondMoment: [Float]

    public init(count: Int, learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.firstMoment = [Float](repeating: 0, count: count)
        self.secondMoment = [Float](repeating: 0, count: count)
    }

    /// Forgets the moments and the step count (a fresh optimizer).
    public mutating func reset() {
        steps = 0
        for i in firstMoment.indices { firstMoment[i] = 0; secondMoment[i] = 0 }
    }

    /// One `optimizer.step()` on `parameters[range]` for each range.
    public mutating func step(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, ranges: [ParameterRange]
    ) {
        steps += 1
        let correction1 = 1 - pow(beta1, Double(steps))
        let correction2 = 1 - pow(beta2, Double(steps))
        let stepSize = Float(learningRate / correction1)
        let correction2Root = Float(correction2.squareRoot())
        let weight1 = Float(1 - beta1), b2 = Float(beta2), weight2 = Float(1 - beta2), eps = Float(epsilon)
        let wd = Float(weightDecay), decay = Float(1 - learningRate * weightDecay), decoupled = decoupledWeightDecay
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                for range in ranges {
                    for i in range {
                        var g = gradients[i]
                        if wd != 0 {
                            if decoupled { parameters[i] *= decay } else { g += wd * parameters[i] }
                        }
                        m[i] += (g - m[i]) * weight1  // exp_avg.lerp_(grad, 1 − β₁)
                        v[i] = v[i] * b2 + weight2 * (g * g)
                        let denominator = v[i].squareRoot() / correction2Root + eps
                        parameters[i] -= stepSize * (m[i] / denominator)
                    }
                }
            }
        }
    }
}

/// `torch.nn.utils.clip_grad_norm_` over `ranges` of `gradients`: scales them by
/// `min(1, maxNorm / (‖g‖₂ + 1e-6))` and returns the total norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: UnsafeMutablePointer<Float>, ranges: [ParameterRange], maxNorm: Float) -> Double {
    var squares = 0.0
    for range in ranges { for i in range { squares += Double(gradients[i]) * Double(gradients[i]) } }
    let norm = squares.squareRoot()
    let coefficient = Float(min(1, Double(maxNorm) / (norm + 1e-6)))
    if coefficient < 1 { for range in ranges { for i in range { gradients[i] *= coefficient } } }
    return norm
}
