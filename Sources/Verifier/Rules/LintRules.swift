/// Every static rule, in the order rules.md documents them.
public enum LintRules {
    public static let all: [any LintRule.Type] = [
        TargetInHashKey.self,
        TargetGatedExpert.self,
        PreQuantizationTTT.self,
        TTTOnUnscoredTokens.self,
        TTTLastChunkGuard.self,
        SLOTOptimization.self,
        MultiPassRescoring.self,
        UntimedEvaluationWork.self,
        ValidationInTraining.self,
        EvaluationSubset.self,
        ByteAccounting.self,
        CustomTokenizer.self,
        CompressorFallback.self,
        ClaimMismatch.self,
        NetworkAccess.self,
        WrappedSource.self,
        UnreadCode.self,
    ]

    /// The descriptors of `all`.
    public static var descriptors: [RuleDescriptor] { all.map { $0.descriptor } }
}
