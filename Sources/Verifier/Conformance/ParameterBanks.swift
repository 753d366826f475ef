import Foundation

/// Parameter banks: records that keep every block's matrices in one tensor per kind (`qo_bank`
/// `[2L, C, C]`) save them un-banked, per layer (`blocks.{i}.attn.c_q.weight`), through their own
/// un-banking function. pgverify loads the per-layer names; to follow `self.qo_bank[i]` in the
/// forward it reads which row is which name from that function, as the code writes it:
///
/// ```
/// if k == "qo_bank":
///     for i in range(n):
///         sd[f"blocks.{i}.attn.c_q.weight"] = t[i]
///         sd[f"blocks.{i}.attn.proj.weight"] = t[n + i]
/// ```
///
/// `n` is the number of layers. A bank the code does not un-bank this way stays a parameter of its
/// own name, which the reference does not have: the forward is then not matched.
enum ParameterBanks {
    /// Bank name → row → per-layer parameter name.
    static func read(module: PyNode, layers: Int) -> [String: [Int: String]] {
        var banks: [String: [Int: String]] = [:]
        module.walk { node in
            guard node.type == "If", let test = node.child("test"), test.type == "Compare",
                  test.children("ops").map(\.type) == ["Eq"], let constant = test.children("comparators").first,
                  constant.type == "Constant", let bank = constant.stringLiteral, bank.hasSuffix("_bank") else { return }
            var rows: [Int: String] = [:]
            var consistent = true
            for loop in node.children("body") where loop.type == "For" {
                guard let target = loop.child("target"), target.type == "Name", let index = target.string("id"),
                      let range = loop.child("iter"), range.type == "Call", range.child("func")?.string("id") == "range",
                      range.children("args").count == 1 else { continue }
                for assignment in loop.children("body") where assignment.type == "Assign" {
                    guard let destination = assignment.children("targets").first, destination.type == "Subscript",
                          let key = destination.child("slice"), key.type == "JoinedStr",
                          let source = assignment.child("value"), source.type == "Subscript",
                          let rowExpression = source.child("slice") else { consistent = false; continue }
                    for layer in 0..<layers {
                        guard let name = text(key, index: index, value: layer),
                              let row = number(rowExpression, index: index, value: layer, layers: layers) else {
                            consistent = false; continue
                        }
                        if let known = rows[row], known != name { consistent = false }
                        rows[row] = name
                    }
                }
            }
            if consistent, !rows.isEmpty { banks[bank] = rows }
        }
        return banks
    }

    /// An f-string whose only placeholder is the loop index.
    private static func text(_ node: PyNode, index: String, value: Int) -> String? {
        var result = ""
        for part in node.children("values") {
            switch part.type {
            case "Constant":
                guard let piece = part.stringLiteral else { return nil }
                result += piece
            case "FormattedValue":
                guard let inner = part.child("value"), inner.type == "Name", inner.string("id") == index else { return nil }
                result += String(value)
            default: return nil
            }
        }
        return result
    }

    /// `i`, `n + i`, `2 * n + i`…: the loop index, the layer count (any other name) and integers.
    private static func number(_ node: PyNode, index: String, value: Int, layers: Int) -> Int? {
        switch node.type {
        case "Name": return node.string("id") == index ? value : layers
        case "Constant": return node.constant?.intValue
        case "BinOp":
            guard let left = node.child("left").flatMap({ number($0, index: index, value: value, layers: layers) }),
                  let right = node.child("right").flatMap({ number($0, index: index, value: value, layers: layers) }) else { return nil }
            switch node.child("op")?.type {
            case "Add": return left + right
            case "Mult": return left * right
            case "Sub": return left - right
            default: return nil
            }
        default: return nil
        }
    }
}
