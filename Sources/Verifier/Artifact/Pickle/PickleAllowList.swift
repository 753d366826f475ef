/// The globals a torch.save pickle of a state dict may name. Anything else — `os.system`,
/// `builtins.eval`, `subprocess.*`, `numpy` reconstructors — is refused before the program goes on.
/// Allowed globals are never called: ``PickleReader`` interprets each one itself.
enum PickleAllowList {
    /// Functions ``PickleReader`` interprets when a `REDUCE` applies them.
    enum Function: Equatable {
        case orderedDict
        case rebuildTensorV2
        /// `_rebuild_tensor_v3(untyped_storage, offset, size, stride, requires_grad, hooks, dtype)`:
        /// what torch 2.x writes for dtypes without a legacy storage class (float8).
        case rebuildTensorV3
        case rebuildTensor
        case rebuildParameter
        case codecsEncode
    }

    static func function(module: String, name: String) -> Function? {
        switch (module, name) {
        case ("collections", "OrderedDict"): .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): .rebuildTensorV3
        case ("torch._utils", "_rebuild_tensor"): .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): .rebuildParameter
        // Protocol 2 pickles Python `bytes` as `_codecs.encode(text, 'latin1')`.
        case ("_codecs", "encode"): .codecsEncode
        default: nil
        }
    }

    /// Whether `module.name` may appear: a function above, a storage type or a dtype.
    static func allows(module: String, name: String) -> Bool {
        if function(module: module, name: name) != nil { return true }
        if module == "torch.storage" && name == "UntypedStorage" { return true }
        guard module == "torch" else { return false }
        return TorchDType(storageType: name) != nil || TorchDType(torchName: name) != nil
    }
}
