/// Arrays a module builds by assignment and only ever reads by index: fixed lookups such as a
/// bucket remap (`remap = rng.randint(0, n, size=buckets)`, then `key = remap[key]`).
///
/// Indexing one with a key gives a transformed key, not a count read with it: nothing in the
/// module writes counts into it. Decided by structure, over the whole module, per name: every
/// occurrence of the name is a plain assignment target (`remap = ...`), a test against `None`
/// (`if remap is not None:`), or the base of an index read (`remap[key]`, also inside `int(...)`);
/// a name that is also a parameter, a loop target, stored into (`remap[i] = ...`, `+=`), passed
/// to a call (`np.add.at(remap[k], ...)`), used whole (`t = remap`) or changed in place
/// (`remap[k].add_(...)`) is not one.
enum FixedLookupArrays {
    /// Calls that only convert the element read (`int(remap[k])`).
    static let conversions: Set<String> = [
        "int", "float", "np.int64", "np.uint64", "np.int32", "np.uint32", "np.asarray", "np.array",
        "torch.as_tensor", "torch.tensor",
    ]

    static func names(in module: PyNode) -> Set<String> {
        var parent: [ObjectIdentifier: PyNode] = [:]
        var occurrences: [String: [PyNode]] = [:]
        var parameters: Set<String> = []
        func visit(_ node: PyNode) {
            if node.type == "Name", let id = node.string("id") { occurrences[id, default: []].append(node) }
            if node.type == "arg", let id = node.string("arg") { parameters.insert(id) }
            for child in node.childNodes {
                parent[ObjectIdentifier(child)] = node
                visit(child)
            }
        }
        visit(module)
        func parentOf(_ node: PyNode) -> PyNode? { parent[ObjectIdentifier(node)] }

        // Whether an index read (`remap[k]`, `remap[k][j]`) ends where only its value is used.
        func isRead(_ indexRead: PyNode) -> Bool {
            var node = indexRead
            while let above = parentOf(node), above.type == "Subscript", above.child("value") === node { node = above }
            guard let above = parentOf(node) else { return true }
            switch above.type {
            case "Assign": return !above.children("targets").contains { $0 === node }
            case "AugAssign", "AnnAssign", "Delete", "Tuple", "List", "Starred", "keyword", "For", "comprehension":
                return above.type == "For" || above.type == "comprehension" ? above.child("iter") === node : false
            case "Call":
                return above.child("func") !== node && conversions.contains(above.child("func")?.dottedName ?? "")
            case "Attribute":
                // A method ending in `_` changes the tensor in place (`add_`, `index_add_`).
                return !(above.string("attr") ?? "").hasSuffix("_")
            default:
                return true
            }
        }

        var result: Set<String> = []
        for (name, nodes) in occurrences where !parameters.contains(name) {
            var bound = false
            var read = false
            var other = false
            for node in nodes {
                guard let above = parentOf(node) else { other = true; break }
                if above.type == "Assign", above.children("targets").contains(where: { $0 === node }) {
                    bound = true
                } else if above.type == "Compare", above.child("left") === node,
                          above.children("ops").allSatisfy({ $0.type == "Is" || $0.type == "IsNot" }),
                          above.children("comparators").allSatisfy(FeatureFlags.isNoneLiteral) {
                    continue
                } else if above.type == "Subscript", above.child("value") === node, isRead(above) {
                    read = true
                } else {
                    other = true
                    break
                }
            }
            if bound, read, !other { result.insert(name) }
        }
        return result
    }
}
