/// `TTT_WARM_START_A` for the family model's adapters: `FamilyLoRAAdapters.resetKeepingA(row:)` zeroes
/// only the row's `B`.
extension FamilyLoRAAdapters: WarmStartLoRAAdapters {}
