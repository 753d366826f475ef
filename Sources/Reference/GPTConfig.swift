/// The shape and fixed constants of a model in the challenge's GPT family.
///
/// The baseline fields mirror the baseline `Hyperparameters` (model shape section). Later families
/// add fields with defaults that keep the baseline behaviour.
public struct GPTConfig: Sendable, Equatable, Codable {
    public var vocabSize: Int
    public var numLayers: Int
    public var modelDim: Int
    public var numHeads: Int
    public var numKVHeads: Int
    /// Hidden width of the MLP (`mlp_mult * model_dim` in the baseline).
    public var mlpHidden: Int
    public var tieEmbeddings: Bool
    public var ropeBase: Double
    /// Softcap `c` in `c * tanh(logits / c)`; `nil` or 0 disables it.
    public var logitSoftcap: Double?
    /// RMSNorm epsilon; `nil` means PyTorch's default for float32 (`torch.finfo(float32).eps`).
    public var rmsNormEps: Double?
    /// What the records add to the baseline (U-Net gates, XSA, partial RoPE, loops, …); baseline by default.
    public var features: ArchitectureFeatures

    public init(
        vocabSize: Int, numLayers: Int, modelDim: Int, numHeads: Int, numKVHeads: Int,
        mlpHidden: Int, tieEmbeddings: Bool, ropeBase: Double = 10_000, logitSoftcap: Double? = 30,
        rmsNormEps: Double? = nil, features: ArchitectureFeatures = .baseline
    ) {
        self.vocabSize = vocabSize
        self.numLayers = numLayers
        self.modelDim = modelDim
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
        self.mlpHidden = mlpHidden
        self.tieEmbeddings = tieEmbeddings
        self.ropeBase = ropeBase
        self.logitSoftcap = logitSoftcap
        self.rmsNormEps = rmsNormEps
        self.features = features
    }

    /// Width of one attention head.
    public var headDim: Int { modelDim / numHeads }
}
