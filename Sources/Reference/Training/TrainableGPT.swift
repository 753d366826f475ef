// The baseline GPT of corpus/parameter-golf/train_gpt.py with mutable parameters and gradients,
// for test-time training. Forward (with caches) in TrainableGPT+Forward.swift, backward in
// TrainableGPT+Backward.swift.

/// The baseline GPT's parameters and their gradients in two flat float32 buffers laid out by
/// ``ParameterLayout``: what an optimizer updates in place between forward passes.
///
/// Not shareable across threads while training (the parameters change); one model per stream.
public final class TrainableGPT: @unchecked Sendable {
    public let config: GPTConfig
    public let layout: ParameterLayout
    /// The parameters, `layout.totalCount` floats.
    public let parameters: UnsafeMutableBufferPointer<Float>
    /// Gradients of the last ``backward(_:)``, same layout; accumulated until ``zeroGradients()``.
    public let gradients: UnsafeMutableBufferPointer<Float>
    let rotary: RotaryTable
    let rmsEps: Float
    let softcap: Float?

    /// Encoder blocks (`L / 2`).
    public var encoderLayers: Int { config.numLayers / 2 }
    /// Skip weights (`min(encoder, decoder)`).
    public var skipCount: Int { min(encoderLayers, config.numLayers - encoderLayers) }
    var qkvWidth: Int { config.modelDim + 2 * config.numKVHeads * config.headDim }

    /// Loads `weights` by the baseline's `state_dict` names, refusing missing, extra, misshapen or
    /// non-finite tensors; `maxPositions` sizes the rotary tables.
    public init(config: GPTConfig, weights: Weights, maxPositions: Int) throws(ModelWeightsError) {
        try FamilyGPTModel.validate(config)
        guard config.features == .baseline else {
            let f = config.features
            let what = !f.runsOnBaselineModel ? "record-family features"
                : f.stackLoops != nil ? "whole-stack passes (NUM_LOOPS)"
                : f.blockSchedule != nil ? "a block schedule (weight-shared blocks)" : f.mlpActivation.formula + " in its MLP"
            throw .invalidConfig("TrainableGPT trains the baseline GPT only (relu² MLP, one pass); this configuration has " + what)
        }
        guard maxPositions > 0 else { throw .invalidConfig("sequence length must be positive, got \(maxPositions)") }
        let layout = ParameterLayout(config: config)
        let names = Set(layout.entries.map(\.name))
        if let extra = weights.keys.sorted().first(where: { !names.contains($0) }) {
            throw .unexpectedTensor(name: extra)
        }
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(layout.totalCount, 1))
        buffer.initialize(repeating: 0)
        for entry in layout.entries {
            guard let tensor = weights[entry.name] else {
                if entry.count == 0 { continue }  // skip_weights of a one-block model
                buffer.deallocate()
                throw .missingTensor(name: entry.name)
            }
            guard tensor.shape == entry.shape else {
                buffer.deallocate()
                throw .shapeMismatch(name: entry.name, expected: entry.shape, actual: tensor.shape)
            }
            if let bad = tensor.data.firstIndex(where: { !$0.isFinite }) {
                buffer.deallocate()
                throw .nonFinite(name: entry.name, index: bad, value: tensor.data[bad])
            }
            for (i, value) in tensor.data.enumerated() { buffer[entry.offset + i] = value }
        }
        self.config = config
        self.layout = layout
        self.parameters = buffer
        self.gradients = .allocate(capacity: max(layout.totalCount, 1))
        self.gradients.initialize(repeating: 0)
        self.rotary = RotaryTable(headDim: config.headDim, positions: maxPositions, base: config.ropeBase)
        self.rmsEps = config.rmsNormEps.map(Float.init) ?? Float.ulpOfOne
        if let cap = config.logitSoftcap, cap > 0 { self.softcap = Float(cap) } else { self.softcap = nil }
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    /// The longest sequence the rotary tables cover.
    public var maxPositions: Int { rotary.positions }

    /// Sets every gradient to zero (`optimizer.zero_grad()`).
    public func zeroGradients() { _ = gradients.initialize(repeating: 0) }

    /// The current parameters by `state_dict` name (for a ``FamilyGPTModel`` or a checkpoint).
    public func weights() -> Weights {
        var result: Weights = [:]
        for entry in layout.entries {
            let values = Array(parameters[entry.offset..<(entry.offset + entry.count)])
            result[entry.name] = try? Tensor(shape: entry.shape, data: values)
        }
        return result
    }

    /// The gradient of the tensor `name`, or `nil` when the layout has none by that name.
    public func gradient(named name: String) -> [Float]? {
        guard let entry = layout.entry(named: name) else { return nil }
        return Array(gradients[entry.offset..<(entry.offset + entry.count)])
    }
}
