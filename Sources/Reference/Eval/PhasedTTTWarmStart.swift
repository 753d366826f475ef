/// The family model's adapters keep `A` on reset (their `resetKeepingA(row:)`), so phased TTT can run
/// `TTT_WARM_START_A` with them.
extension FamilyLoRAAdapters: WarmStartLoRAAdapters {}
