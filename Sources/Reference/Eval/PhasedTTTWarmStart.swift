/// `TTT_WARM_START_A` for the family model's adapters: a reset that zeroes only the row's `B`.
extension FamilyLoRAAdapters: WarmStartLoRAAdapters {
    public func resetKeepingA(row: Int) {
        precondition((0..<rows).contains(row))
        for adapter in adapters {
            let b = adapter.b + row * adapter.outFeatures * rank
            for i in 0..<(adapter.outFeatures * rank) { parameters[b + i] = 0 }
        }
    }
}
