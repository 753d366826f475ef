/// Recognises boolean masks used as an index (`base[mask]`, `base[x > 0]`, `base[~done]`).
///
/// A boolean mask only chooses which elements of the base are kept: the values selected are the
/// base's, and the mask's own values never become element values. So what the mask was computed
/// from reaches the result only as positions (its extent), as for a slice. An integer index array
/// (`table[y]`) is different: its values pick the elements, a read keyed by them.
final class BooleanMasks {
    /// Calls whose result is boolean elementwise (torch/numpy functions and tensor methods).
    static let maskCalls: Set<String> = [
        "isfinite", "isnan", "isinf", "isposinf", "isneginf", "isclose", "isin", "isreal",
        "logical_and", "logical_or", "logical_not", "logical_xor",
        "eq", "ne", "lt", "le", "gt", "ge", "equal", "not_equal", "greater", "greater_equal", "less",
        "less_equal", "bool", "signbit",
    ]

    /// Names of the boolean dtype (`torch.bool`, `np.bool_`, `bool`).
    static let booleanTypes: Set<String> = ["bool", "torch.bool", "np.bool_", "numpy.bool_", "np.bool", "bool_"]

    /// Per name bound in the scope, the values assigned to it; nil for a name also bound another way
    /// (a parameter, a loop or `with` target, a tuple element, an arithmetic augmented assignment).
    private var bindings: [String: [PyNode]?] = [:]
    private var decided: [String: Bool] = [:]

    /// Collects the bindings of `scope` (a function or the module) once.
    init(scope: PyNode) {
        var bindings: [String: [PyNode]?] = [:]
        func unknown(_ target: PyNode) {
            target.walk { if $0.type == "Name", let id = $0.string("id") { bindings[id] = .some(nil) } }
        }
        func add(_ name: String, _ value: PyNode) {
            if case .some(.none) = bindings[name] { return }
            bindings[name, default: []]?.append(value)
        }
        if let arguments = scope.child("args") {
            for parameter in arguments.children("posonlyargs") + arguments.children("args") + arguments.children("kwonlyargs") {
                if let name = parameter.string("arg") { bindings[name] = .some(nil) }
            }
        }
        scope.walk { node in
            switch node.type {
            case "Assign":
                for target in node.children("targets") {
                    if target.type == "Name", let id = target.string("id"), let value = node.child("value") {
                        add(id, value)
                    } else if ["Tuple", "List", "Starred"].contains(target.type) {
                        unknown(target)
                    }
                }
            case "AnnAssign", "AugAssign", "NamedExpr":
                guard let target = node.child("target"), target.type == "Name", let id = target.string("id") else { return }
                guard let value = node.child("value") else { return }
                if node.type == "AugAssign", !["BitAnd", "BitOr", "BitXor"].contains(node.child("op")?.type ?? "") {
                    unknown(target)
                } else {
                    add(id, value)
                }
            case "For", "AsyncFor", "comprehension":
                if let target = node.child("target") { unknown(target) }
            case "withitem":
                if let target = node.child("optional_vars") { unknown(target) }
            default:
                break
            }
        }
        self.bindings = bindings
    }

    /// Whether `node` evaluates to a boolean mask: a comparison, `not`/`~` of a mask, `&`/`|`/`^`
    /// of masks, a call listed in `maskCalls`, an array made or converted with a boolean dtype
    /// (`torch.ones(n, dtype=torch.bool)`, `x.to(torch.bool)`, `x.astype(bool)`), or a name that
    /// the scope binds only to such values (stores into its elements keep its dtype).
    func isMask(_ node: PyNode) -> Bool {
        switch node.type {
        case "Compare":
            return true
        case "UnaryOp":
            guard let operand = node.child("operand") else { return false }
            switch node.child("op")?.type {
            case "Not": return true
            case "Invert": return isMask(operand)
            default: return false
            }
        case "BinOp":
            guard ["BitAnd", "BitOr", "BitXor"].contains(node.child("op")?.type ?? ""),
                  let left = node.child("left"), let right = node.child("right") else { return false }
            return isMask(left) && isMask(right)
        case "BoolOp":
            let values = node.children("values")
            return !values.isEmpty && values.allSatisfy { isMask($0) }
        case "Call":
            if Self.maskCalls.contains(node.terminalName ?? "") { return true }
            if let dtype = node.children("keywords").first(where: { $0.string("arg") == "dtype" })?.child("value") {
                return Self.booleanTypes.contains(dtype.dottedName ?? "")
            }
            // `x.to(torch.bool)`, `x.astype(bool)`, `x.type(torch.bool)`.
            if ["to", "astype", "type"].contains(node.terminalName ?? ""), node.child("func")?.type == "Attribute",
               let first = node.children("args").first {
                return Self.booleanTypes.contains(first.dottedName ?? "")
            }
            return false
        case "Name":
            guard let name = node.string("id") else { return false }
            if let known = decided[name] { return known }
            // Assumed not while deciding, so a name bound from itself (`m = m & other`) ends.
            decided[name] = false
            guard case .some(.some(let values)) = bindings[name] else { return false }
            let result = !values.isEmpty && values.allSatisfy { isMask($0) }
            decided[name] = result
            return result
        default:
            return false
        }
    }

    /// Whether a subscript's index is a boolean mask, alone or beside slices (`x[:, mask]`).
    func indexIsMask(_ slice: PyNode?) -> Bool {
        guard let slice else { return false }
        if slice.type == "Tuple" {
            let elements = slice.children("elts")
            return elements.contains { isMask($0) }
                && elements.allSatisfy { $0.type == "Slice" || $0.constant == .other("Ellipsis") || isMask($0) }
        }
        return isMask(slice)
    }
}
