import Foundation
import Reference

/// A block's state-dict name is its registered place: the attribute the code registers its `nn.ModuleList`
/// under, the index, the block's own names (`blocks.3.attn.c_q.weight`). The reference loads `blocks.N.…`;
/// a fork that registers its blocks as `self.shared_blocks = nn.ModuleList(…)` saves `shared_blocks.N.…`.
/// Such an artifact is read with that attribute's entries as the blocks, and the code is then read with the
/// same attribute's parameters named `blocks.N.…` (``ForwardInterpreter/blockList``), so the forward must
/// register its blocks there: the name is the code's registration, confirmed by the comparison, not a spelling.
enum BlockListNaming {
    /// The attribute `P` of the artifact's `P.N.attn.c_q.weight` when the artifact holds no `blocks.…` tensor and
    /// every such name has the same single-word `P`; nil otherwise.
    static func attribute(of names: some Sequence<String>) -> String? {
        var attributes = Set<String>()
        for name in names {
            if name.hasPrefix("blocks.") { return nil }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 5, Int(parts[1]) != nil, String(Int(parts[1])!) == parts[1],
               parts[2] == "attn", parts[3] == "c_q", parts[4] == "weight", !parts[0].isEmpty {
                attributes.insert(String(parts[0]))
            }
        }
        return attributes.count == 1 ? attributes.first : nil
    }

    /// `weights` with `attribute.N.…` renamed `blocks.N.…`.
    static func renamed(_ weights: Weights, from attribute: String) -> Weights {
        var result: Weights = [:]
        for (name, tensor) in weights {
            result[name.hasPrefix(attribute + ".") ? "blocks." + name.dropFirst(attribute.count + 1) : name] = tensor
        }
        return result
    }
}
