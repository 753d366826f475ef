import Foundation

/// In-place tensor methods (`x.relu_()`, `x.mul_(2.0)`, `scale.clamp_(min=…)`). The method computes what its
/// out-of-place form computes; torch then writes it into the receiver's storage, so every name, list entry or
/// view that shares that storage sees the new value. pgverify follows that only where one name is all that
/// can see it: the receiver is a local name bound to a tensor the function computed itself (not an argument,
/// a parameter, a view or reshape of another tensor) that no other local, list or attribute of the
/// function's module holds; the name is then bound to the result. A receiver that is a fresh temporary
/// (`w.abs().div_(127.0)`) needs nothing. Anything else is refused at its line, never read as if unchanged.
/// A library function that writes into its input (`F.relu(h, inplace=True)`) or into `out=`, and an augmented
/// assignment to a tensor (`x += y`, torch's in-place operator), are read the same way, the tensor written as
/// the receiver.
extension ForwardInterpreter {
    /// Whether `name` is a tensor method that writes its result into its receiver.
    static func isInPlaceMethod(_ name: String) -> Bool {
        name.count > 1 && name.hasSuffix("_") && !name.hasPrefix("_") && name != "requires_grad_"
    }

    /// Graph operations whose result may share its input's storage (views, reshapes, rows and slices) or
    /// that stand for storage the function does not own (parameters, the model's inputs).
    static let sharedStorageOperations: Set<String> = [
        "param", "input", "reshape", "transpose", "split_heads", "merge_heads", "group_heads", "ungroup_heads",
        "row", "slice", "time_slice",
    ]

    /// Before `receiverNode.name(…)` is read: refuses an in-place method on a view, slice or attribute of named
    /// storage (`h[..., :4].zero_()`, `h.view(-1).mul_(…)`, `self.fc.weight.data.mul_(…)`). A temporary the
    /// expression computes fresh (`w.abs().div_(…)`) is seen by nothing else; a local name is checked on its value.
    func checkInPlaceReceiver(_ name: String, _ receiverNode: PyNode, at site: PyNode, _ frame: Frame) throws(ConformanceFailure) {
        guard receiverNode.type != "Name", let base = Self.namedStorage(under: receiverNode) else { return }
        throw refusal(name, receiverNode, "the storage of \(base)", at: site, frame)
    }

    /// After `receiverNode.name(…)` returned `result`: binds the receiver's name to it, or refuses.
    func applyInPlace(_ name: String, receiver receiverNode: PyNode, receiverValue: SymbolicValue, result: SymbolicValue,
                      at site: PyNode, _ frame: inout Frame) throws(ConformanceFailure) {
        guard case .tensor(let id, _) = receiverValue, receiverNode.type == "Name", let local = receiverNode.string("id"),
              frame.locals[local] != nil else { return }
        func refuse(_ why: String) -> ConformanceFailure { refusal(name, receiverNode, why, at: site, frame) }
        if frame.borrowed.contains(id) { throw refuse("\(local), an argument of \(frame.function), which its caller may still hold") }
        if Self.sharedStorageOperations.contains(graph[id].op) {
            throw refuse("\(local), a \(graph[id].op == "param" ? "parameter" : graph[id].op == "input" ? "model input" : "view of another tensor")")
        }
        for (other, value) in frame.locals where other != local && Self.holds(value, id) {
            throw refuse("\(local), whose tensor \(other) also holds")
        }
        if let module = frame.receiver, module.attributes.values.contains(where: { Self.holds($0, id) }) {
            throw refuse("\(local), whose tensor an attribute of the module also holds")
        }
        frame.locals[local] = result
    }

    private func refusal(_ name: String, _ receiverNode: PyNode, _ why: String, at site: PyNode, _ frame: Frame) -> ConformanceFailure {
        let construct = name.contains("(") || name.contains(" ") ? name : "\(Self.text(of: receiverNode)).\(name)(…)"
        return fail(site, frame, "`\(construct)` writes in place into \(why), which pgverify does not follow "
             + "(it follows an in-place operation only on a tensor the function computed itself and holds under one name)")
    }

    /// The named tensor (a local or an attribute) whose storage `node` reaches through views, `.data`,
    /// indexing and in-place-capable casts; nil when it starts at a fresh computation.
    private static func namedStorage(under node: PyNode) -> String? {
        var current = node
        for _ in 0..<64 {
            switch current.type {
            case "Name", "Attribute": return text(of: current)
            case "Subscript":
                guard let value = current.child("value") else { return nil }
                current = value
            case "Call":
                guard let callee = current.child("func"), callee.type == "Attribute", let method = callee.string("attr"),
                      viewMethods.contains(method) || isInPlaceMethod(method), let receiver = callee.child("value") else { return nil }
                current = receiver
            default: return nil
            }
        }
        return text(of: node)
    }

    /// Tensor methods whose result may share the receiver's storage.
    private static let viewMethods: Set<String> = [
        "view", "view_as", "reshape", "transpose", "permute", "t", "squeeze", "unsqueeze", "expand", "expand_as", "flatten",
        "unflatten", "narrow", "select", "detach", "contiguous", "to", "float", "type", "type_as", "as_strided", "movedim",
        "swapaxes", "unbind", "split", "chunk", "diagonal", "real", "imag",
    ]

    /// Whether `value` is, or holds in a tuple or list, the tensor `id`.
    private static func holds(_ value: SymbolicValue, _ id: Int) -> Bool {
        tensorIDs(in: value).contains(id)
    }

    /// The tensors `value` holds, in tuples and lists too (each list visited once: a list may hold itself).
    static func tensorIDs(in value: SymbolicValue) -> [Int] {
        var found: [Int] = []
        var visited: Set<ObjectIdentifier> = []
        var pending = [value]
        while let next = pending.popLast() {
            switch next {
            case .tensor(let id, _): found.append(id)
            case .tuple(let items): pending += items
            case .list(let list): if visited.insert(ObjectIdentifier(list)).inserted { pending += list.items }
            default: break
            }
        }
        return found
    }

    private static func text(of node: PyNode) -> String {
        switch node.type {
        case "Name": return node.string("id") ?? "?"
        case "Attribute": return (node.child("value").map(text) ?? "?") + "." + (node.string("attr") ?? "?")
        case "Subscript": return (node.child("value").map(text) ?? "?") + "[…]"
        case "Call": return (node.child("func").map(text) ?? "?") + "(…)"
        default: return "…"
        }
    }
}
