import Foundation

/// The dtype each parameter has in the model a record's own `deserialize` loads its artifact into,
/// read (never run) from the record's code.
///
/// The records' `{'w','m'}` and `PGRP` artifacts do not store dtypes: their `dequantize_mixed` casts
/// each tensor to the dtype of the same parameter in a template model (`W.to(orig.dtype)`). The
/// 2026-04 records build that template as `GPT(h).to(device).bfloat16()` followed by
/// `restore_fp32_params(model)`, which puts back in float32: every `CastedLinear` module, every
/// parameter with fewer than 2 dimensions or whose name contains one of
/// `CONTROL_TENSOR_NAME_PATTERNS`, and the parameter banks (`qo_bank`, `kv_bank`, `mlp_*_bank`, which
/// hold the per-layer `attn.c_q/c_k/c_v/proj` and `mlp.fc/proj` weights). What stays bfloat16 is the
/// rest — in the records, the `nn.Embedding` tables (`tok_emb.weight`) — and its values are rounded
/// to bfloat16, which changes the score.
public enum DeserializedDTypes {
    /// The bfloat16 parameters among `tensors` (name and shape), and a sentence saying where that came
    /// from; empty (every parameter float32) when the code has no top-level `def deserialize(` that
    /// casts to bfloat16. Throws ``UnsupportedArtifact`` when it does but its float32 restoration is
    /// not the records' `restore_fp32_params`, which pgverify would otherwise silently misread.
    public static func resolve(code: URL, tensors: [(name: String, shape: [Int])]) throws
        -> (dtypes: [String: TorchDType], source: String)
    {
        let text = try ModelConfigResolver.read(code)
        guard let deserialize = topLevelFunction("deserialize", in: text), deserialize.contains(".bfloat16()") else {
            return ([:], "\(code.path): no `def deserialize` casting the model to bfloat16: every parameter float32")
        }
        guard deserialize.contains("restore_fp32_params("),
              let restore = topLevelFunction("restore_fp32_params", in: text),
              restore.contains("isinstance(module, CastedLinear)"), restore.contains("param.ndim < 2"),
              restore.contains("CONTROL_TENSOR_NAME_PATTERNS") else {
            throw UnsupportedArtifact(path: code.path, reason: "its deserialize casts the model to bfloat16 and restores "
                + "float32 parameters in a way pgverify does not read (not the records' restore_fp32_params: CastedLinear, "
                + "ndim < 2, CONTROL_TENSOR_NAME_PATTERNS); the artifact's dtypes cannot be decided")
        }
        guard let patterns = controlPatterns(in: text) else {
            throw UnsupportedArtifact(path: code.path, reason: "no CONTROL_TENSOR_NAME_PATTERNS default string to read "
                + "which parameters restore_fp32_params keeps in float32")
        }
        let castedLinear = assignedAttributes(constructor: "CastedLinear", in: text)
        let banked = restore.contains("qo_bank")
        var dtypes: [String: TorchDType] = [:]
        for tensor in tensors {
            let parts = tensor.name.split(separator: ".").map(String.init)
            let module = parts.count >= 2 && parts.last == "weight" ? parts[parts.count - 2] : nil
            let restored = tensor.shape.count < 2
                || patterns.contains { tensor.name.contains($0) }
                || module.map(castedLinear.contains) == true
                || (banked && isBankedWeight(parts))
            if !restored { dtypes[tensor.name] = .bfloat16 }
        }
        let names = dtypes.keys.sorted()
        return (dtypes, "\(code.path): deserialize builds GPT(h).bfloat16() + restore_fp32_params: "
            + (names.isEmpty ? "no parameter stays bfloat16" : "bfloat16 \(names.joined(separator: ", ")); the rest float32"))
    }

    /// `blocks.{i}.attn.{c_q,c_k,c_v,proj}.weight` and `blocks.{i}.mlp.{fc,proj}.weight`: the names
    /// `_unbank_state_dict` gives the banks' slices.
    static func isBankedWeight(_ parts: [String]) -> Bool {
        guard parts.count == 5, parts[0] == "blocks", Int(parts[1]) != nil, parts[4] == "weight" else { return false }
        switch parts[2] {
        case "attn": return ["c_q", "c_k", "c_v", "proj"].contains(parts[3])
        case "mlp": return ["fc", "proj"].contains(parts[3])
        default: return false
        }
    }

    /// The default string of `CONTROL_TENSOR_NAME_PATTERNS`' `os.environ.get` (the records' runs do
    /// not set it), split at commas.
    static func controlPatterns(in text: String) -> [String]? {
        guard let key = text.range(of: "\"CONTROL_TENSOR_NAME_PATTERNS\",") else { return nil }
        let rest = text[key.upperBound...].drop { $0.isWhitespace }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        let body = rest.dropFirst()
        guard let end = body.firstIndex(of: quote) else { return nil }
        return body[..<end].split(separator: ",").map(String.init).filter { !$0.isEmpty }
    }

    /// Attribute names assigned a `constructor(...)` anywhere on their line (`self.lm_head = None if
    /// tie else CastedLinear(...)` included).
    static func assignedAttributes(constructor: String, in text: String) -> Set<String> {
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.contains("\(constructor)(") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("self."), let equals = trimmed.firstIndex(of: "=") else { continue }
            let target = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 5)..<equals].trimmingCharacters(in: .whitespaces)
            if !target.isEmpty, target.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { names.insert(target) }
        }
        return names
    }

    /// The text of a top-level `def name(` up to the next top-level statement.
    static func topLevelFunction(_ name: String, in text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("def \(name)(") }) else { return nil }
        var end = start + 1
        while end < lines.count, lines[end].isEmpty || lines[end].first == " " || lines[end].first == "\t"
                || lines[end].hasPrefix(")") {
            end += 1
        }
        return lines[start..<end].joined(separator: "\n")
    }
}
