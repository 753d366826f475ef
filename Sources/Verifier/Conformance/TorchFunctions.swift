import Foundation
import Reference

/// Arguments of one call, by position or keyword.
struct CallArguments {
    let positional: [SymbolicValue]
    let keywords: [String: SymbolicValue]

    func value(_ position: Int, _ name: String) -> SymbolicValue? {
        if position >= 0, position < positional.count { return positional[position] }
        return keywords[name]
    }
}

/// torch (and `math`) functions and tensor methods, in the vocabulary of ``ForwardGraph``. A function
/// not listed here is refused by name: pgverify cannot say the code computes what its model does.
enum TorchFunctions {
    typealias Interpreter = ForwardInterpreter

    /// Elementwise functions compared by name (their parameters, if any, as attributes).
    static let elementwise: Set<String> = [
        "relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "softplus", "elu", "selu", "mish", "hardswish",
        "hardsigmoid", "abs", "exp", "log", "cos", "sin", "sign", "erf", "logsigmoid",
    ]
    /// The indices of `max(dim=…)`'s (values, indices) result, which nothing compared reads.
    static let maxIndicesMarker = "the indices of a max over an axis"

    static func isMaxIndices(_ value: SymbolicValue) -> Bool {
        if case .opaque(let text) = value { return text == maxIndicesMarker }
        return false
    }

    /// Functions that leave values as they are in a float32 evaluation (casts, copies, moves).
    static let identities: Set<String> = [
        "to", "float", "half", "bfloat16", "type_as", "contiguous", "clone", "detach", "bool", "cuda", "cpu",
        "requires_grad_", "type", "expand_as", "expand",
    ]

    /// The integers of `torch.tensor(list)` when every item is a number the code states and the dtype is
    /// an integer type or not given; nil otherwise (the value stays an initial value the artifact replaces).
    static func integerTable(_ arguments: CallArguments, _ interpreter: Interpreter, at site: PyNode,
                             _ frame: Interpreter.Frame) throws(ConformanceFailure) -> [Int]? {
        if let dtype = arguments.keywords["dtype"] {
            guard case .library(let name) = dtype, ["torch.long", "torch.int64", "torch.int32", "torch.int"].contains(name) else { return nil }
        }
        guard let first = arguments.positional.first else { return nil }
        switch first {
        case .list, .tuple: break
        default: return nil
        }
        var values: [Int] = []
        for item in try interpreter.iterate(first, at: site, frame) {
            guard case .int(let n) = item else { return nil }
            values.append(n)
        }
        return values
    }

    static func shortName(_ dotted: String) -> String? {
        for prefix in ["torch.nn.functional.", "torch.special.", "torch.Tensor.", "torch.", "math."] where dotted.hasPrefix(prefix) {
            let rest = String(dotted.dropFirst(prefix.count))
            if !rest.contains(".") { return (prefix == "math." ? "math." : "") + rest }
        }
        return nil
    }

    static func call(_ dotted: String, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                     _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        // torch.nn classes.
        switch dotted {
        case "torch.nn.ModuleList":
            guard let first = positional.first else { return .list(SymbolicList([])) }
            return .list(SymbolicList(try interpreter.iterate(first, at: site, frame), registersModules: true))
        case "torch.nn.Parameter", "torch.nn.parameter.Parameter":
            return .opaque(TorchModules.parameterMarker)
        case "torch.nn.Sequential", "torch.nn.ModuleDict", "torch.nn.ParameterList", "torch.nn.ParameterDict":
            throw interpreter.fail(site, frame, "builds a \(dotted), which pgverify does not follow")
        default:
            break
        }
        if dotted.hasPrefix("torch.nn."), !dotted.hasPrefix("torch.nn.functional."), !dotted.hasPrefix("torch.nn.init."),
           let first = dotted.split(separator: ".").last, first.first?.isUppercase == true {
            let instance = ModuleInstance(className: dotted)
            try TorchModules.initialise(instance, as: dotted, positional: positional, keywords: keywords, interpreter, at: site, frame)
            return .module(instance)
        }
        if dotted.hasPrefix("torch.nn.init.") || dotted.hasPrefix("torch._dynamo") || dotted.hasPrefix("torch.compiler") {
            return .opaque(dotted)
        }
        if dotted.hasPrefix("flash_attn"), let name = dotted.split(separator: ".").last {
            return try flashAttention(String(name), CallArguments(positional: positional, keywords: keywords), interpreter, at: site, frame)
        }
        guard let name = shortName(dotted) else {
            throw interpreter.fail(site, frame, "calls \(dotted), which pgverify does not compare")
        }
        return try apply(name, CallArguments(positional: positional, keywords: keywords), interpreter, at: site, frame)
    }

    /// `name` of torch with `arguments` (the tensor first for a method).
    static func apply(_ name: String, _ arguments: CallArguments, _ interpreter: Interpreter,
                      at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        let g = interpreter.graph
        func fail(_ message: String) -> ConformanceFailure { interpreter.fail(site, frame, message) }
        func tensor(_ position: Int, _ keyword: String) throws(ConformanceFailure) -> (Int, [SymbolicDim]?) {
            guard let value = arguments.value(position, keyword) else { throw fail("\(name) without its argument \(keyword)") }
            return try TensorOps.node(value, interpreter, at: site, frame)
        }
        func number(_ position: Int, _ keyword: String, _ fallback: Double?) throws(ConformanceFailure) -> Double? {
            guard let value = arguments.value(position, keyword), !value.isNone else { return fallback }
            guard let x = Interpreter.number(value) else { throw fail("\(name) with a \(value.kind) as \(keyword)") }
            return x
        }
        func integer(_ position: Int, _ keyword: String, _ fallback: Int?) throws(ConformanceFailure) -> Int? {
            guard let value = arguments.value(position, keyword), !value.isNone else { return fallback }
            guard case .int(let n) = value else { throw fail("\(name) with a \(value.kind) as \(keyword)") }
            return n
        }

        // math on numbers.
        if name.hasPrefix("math.") {
            let function = String(name.dropFirst(5))
            guard let x = try number(0, "x", nil) else { throw fail("math.\(function) without an argument") }
            switch function {
            case "sqrt": return .real(x.squareRoot())
            case "log": return .real(Foundation.log(x))
            case "exp": return .real(Foundation.exp(x))
            case "cos": return .real(Foundation.cos(x))
            case "sin": return .real(Foundation.sin(x))
            case "floor": return .int(Int(x.rounded(.down)))
            case "ceil": return .int(Int(x.rounded(.up)))
            default: throw fail("calls math.\(function)")
            }
        }
        if TorchFunctions.identities.contains(name) {
            guard let value = arguments.positional.first else { throw fail("\(name) without a tensor") }
            return value
        }
        if TorchFunctions.elementwise.contains(name) {
            let (x, shape) = try tensor(0, "input")
            if let values = TensorOps.constants(x, g) {
                let f: ((Double) -> Double)? = ["exp": Foundation.exp, "log": Foundation.log, "cos": Foundation.cos, "sin": Foundation.sin][name]
                if let f { return .tensor(values.count == 1 ? g.constant(f(values[0])) : g.constantVector(values.map(f)), shape) }
            }
            var attributes: [(String, ForwardAttribute)] = []
            if name == "gelu", case .string(let mode)? = arguments.keywords["approximate"] { attributes.append(("approximate", .text(mode))) }
            return .tensor(g.node(name, [x], attributes), shape)
        }
        switch name {
        case "leaky_relu":
            let (x, shape) = try tensor(0, "input")
            let slope = try number(1, "negative_slope", 0.01)!
            // leaky_relu with slope 0 is relu, exactly.
            if slope == 0 { return .tensor(g.node("relu", [x]), shape) }
            return .tensor(g.node("leaky_relu", [x], [("negative_slope", .real(slope))]), shape)
        case "square":
            let (x, shape) = try tensor(0, "input")
            return .tensor(g.pow(x, 2), shape)
        case "pow":
            let (x, shape) = try tensor(0, "input")
            guard let exponent = try number(1, "exponent", nil) else { throw fail("pow with a non-constant exponent") }
            if let values = TensorOps.constants(x, g), values.count > 1 {
                return .tensor(g.constantVector(values.map { Foundation.pow($0, exponent) }), shape)
            }
            return .tensor(g.pow(x, exponent), shape)
        case "sqrt", "rsqrt":
            let (x, shape) = try tensor(0, "input")
            return .tensor(g.pow(x, name == "sqrt" ? 0.5 : -0.5), shape)
        case "neg":
            let (x, shape) = try tensor(0, "input")
            return .tensor(g.neg(x), shape)
        case "mul", "add", "sub", "div", "multiply", "subtract", "divide", "true_divide":
            guard let a = arguments.value(0, "input"), let b = arguments.value(1, "other") else { throw fail("\(name) without two operands") }
            if arguments.keywords["alpha"] != nil || arguments.keywords["rounding_mode"] != nil { throw fail("\(name) with alpha or rounding_mode") }
            let op = ["mul": "Mult", "multiply": "Mult", "add": "Add", "sub": "Sub", "subtract": "Sub"][name] ?? "Div"
            return try interpreter.binary(op, a, b, at: site, frame)
        case "matmul", "bmm", "mm":
            guard let a = arguments.value(0, "input"), let b = arguments.value(1, "other") else { throw fail("\(name) without two operands") }
            return try TensorOps.matmul(a, b, interpreter, at: site, frame)
        case "rms_norm":
            let (x, shape) = try tensor(0, "input")
            try requireLastAxis(arguments.value(1, "normalized_shape"), shape, name, interpreter, at: site, frame)
            let eps = try number(3, "eps", nil) ?? ForwardDescription.float32Epsilon
            var result = g.node("rms_norm", [x], [("eps", .real(eps))])
            if let weight = arguments.value(2, "weight"), !weight.isNone {
                result = g.mul(result, try TensorOps.node(weight, interpreter, at: site, frame).0)
            }
            return .tensor(result, shape)
        case "layer_norm":
            let (x, shape) = try tensor(0, "input")
            try requireLastAxis(arguments.value(1, "normalized_shape"), shape, name, interpreter, at: site, frame)
            let eps = try number(4, "eps", 1e-5)!
            var result = g.node("layer_norm", [x], [("eps", .real(eps))])
            if let weight = arguments.value(2, "weight"), !weight.isNone {
                result = g.mul(result, try TensorOps.node(weight, interpreter, at: site, frame).0)
            }
            if let bias = arguments.value(3, "bias"), !bias.isNone {
                result = g.add(result, try TensorOps.node(bias, interpreter, at: site, frame).0)
            }
            return .tensor(result, shape)
        case "linear":
            let (x, shape) = try tensor(0, "input")
            let (w, ws) = try tensor(1, "weight")
            var result = g.node("linear", [x, w])
            if let bias = arguments.value(2, "bias"), !bias.isNone {
                result = g.add(result, try TensorOps.node(bias, interpreter, at: site, frame).0)
            }
            var out = shape
            if var s = out, let rows = ws?.first, !s.isEmpty { s[s.count - 1] = rows; out = s } else { out = nil }
            return .tensor(result, out)
        case "embedding":
            let (ids, shape) = try tensor(0, "input")
            let (table, ts) = try tensor(1, "weight")
            return .tensor(g.node("embedding", [table, ids]), shape.flatMap { s in ts.map { s + [$0.last!] } })
        case "scaled_dot_product_attention":
            let (q, qs) = try tensor(0, "query")
            let (k, _) = try tensor(1, "key")
            let (v, vs) = try tensor(2, "value")
            if let mask = arguments.value(3, "attn_mask"), !mask.isNone { throw fail("scaled_dot_product_attention with an attn_mask") }
            if let p = try number(4, "dropout_p", 0), p != 0 { throw fail("scaled_dot_product_attention with dropout_p=\(p)") }
            let causal = try interpreter.truth(arguments.value(5, "is_causal") ?? .bool(false), at: site, frame)
            if let shape = qs, shape.count == 4, TensorOps.isTokenMajor(shape) {
                throw fail("scaled_dot_product_attention on [B, T, H, D] queries: it attends over axis 2, the heads")
            }
            var scale = try number(6, "scale", nil)
            if scale == nil {
                guard case .n(let d)? = qs?.last else { throw fail("scaled_dot_product_attention on queries of unknown width") }
                scale = 1 / Double(d).squareRoot()
            }
            var shape = qs
            if var s = shape, let last = vs?.last { s[s.count - 1] = last; shape = s }
            return .tensor(TensorOps.attention(q: q, k: k, v: v, causal: causal, scale: scale!, g), shape)
        case "lerp":
            // lerp(a, b, w) = a + w·(b − a)
            guard let a = arguments.value(0, "input"), let b = arguments.value(1, "end"), let w = arguments.value(2, "weight") else {
                throw fail("lerp without its three operands")
            }
            let difference = try interpreter.binary("Sub", b, a, at: site, frame)
            return try interpreter.binary("Add", a, try interpreter.binary("Mult", w, difference, at: site, frame), at: site, frame)
        case "normalize":
            let (x, shape) = try tensor(0, "input")
            let p = try number(1, "p", 2)!, dim = try integer(2, "dim", 1)!
            guard p == 2, TensorOps.normalizedAxis(dim, rank: shape?.count) == shape.map({ $0.count - 1 }) else {
                throw fail("normalize with p=\(p) over axis \(dim); pgverify compares the L2 norm over the last axis")
            }
            let eps = try number(3, "eps", 1e-12)!
            return .tensor(g.node("l2_normalize", [x], [("eps", .real(eps))]), shape)
        case "sum":
            let (x, shape) = try tensor(0, "input")
            guard let dim = try integer(1, "dim", nil), let rank = shape?.count, TensorOps.normalizedAxis(dim, rank: rank) == rank - 1 else {
                throw fail("sum over anything but the last axis, which pgverify does not compare")
            }
            let keep = try interpreter.truth(arguments.value(2, "keepdim") ?? .bool(false), at: site, frame)
            var out = shape!
            if keep { out[out.count - 1] = .n(1) } else { out.removeLast() }
            return .tensor(g.node("reduce_sum", [x], [("dim", .int(-1))]), out)
        case "softmax", "log_softmax":
            let (x, shape) = try tensor(0, "input")
            guard let dim = try integer(1, "dim", nil) else { throw fail("\(name) without dim") }
            let axis = dim >= 0 && shape != nil && dim == shape!.count - 1 ? -1 : dim
            return .tensor(g.node(name, [x], [("dim", .int(axis))]), shape)
        case "masked_fill":
            let (x, shape) = try tensor(0, "input")
            let (mask, _) = try tensor(1, "mask")
            guard let value = try number(2, "value", nil) else { throw fail("masked_fill without a value") }
            // Zeroing where a comparison holds is multiplying by its negation (1 or 0).
            if value == 0, ["eq", "ne"].contains(g[mask].op) {
                let negation = g.node(g[mask].op == "eq" ? "ne" : "eq", g[mask].inputs, g[mask].attributes.map { ($0.name, $0.value) })
                return .tensor(g.mul(x, negation), shape)
            }
            return .tensor(g.node("masked_fill", [x, mask], [("value", .real(value))]), shape)
        case "repeat_interleave":
            let (x, shape) = try tensor(0, "input")
            guard let repeats = try integer(1, "repeats", nil), let dim = try integer(2, "dim", nil) else {
                throw fail("repeat_interleave without constant repeats and dim")
            }
            if repeats == 1 { return arguments.positional[0] }
            if let shape, let axis = TensorOps.normalizedAxis(dim, rank: shape.count), shape.indices.contains(axis),
               case .sym = shape[axis] {
                throw fail("repeat_interleave along the token axis, which pgverify does not compare")
            }
            var out = shape
            if var s = out, let axis = TensorOps.normalizedAxis(dim, rank: s.count), case .n(let n) = s[axis] { s[axis] = .n(n * repeats); out = s }
            return .tensor(g.node("repeat_interleave", [x], [("repeats", .int(repeats)), ("dim", .int(TensorOps.normalizedAxis(dim, rank: shape?.count) ?? dim))]), out)
        case "cross_entropy":
            let (logits, _) = try tensor(0, "input")
            let (targets, _) = try tensor(1, "target")
            var reduction = "mean"
            // F.cross_entropy(input, target, weight, size_average, ignore_index, reduce, reduction, label_smoothing).
            if case .string(let text)? = arguments.value(6, "reduction") { reduction = text }
            for legacy in [(3, "size_average"), (5, "reduce")] {
                if let value = arguments.value(legacy.0, legacy.1), !value.isNone { throw fail("cross_entropy with \(legacy.1)") }
            }
            if let smoothing = try number(7, "label_smoothing", 0), smoothing != 0 { throw fail("cross_entropy with label_smoothing") }
            // Class weights, or an ignored index a token id can take (ids are >= 0), change which tokens count and how much.
            if let weight = arguments.value(2, "weight"), !weight.isNone { throw fail("cross_entropy with class weights") }
            if let ignored = arguments.value(4, "ignore_index"), !ignored.isNone {
                guard case .int(let index) = ignored else { throw fail("cross_entropy with an ignore_index pgverify cannot read") }
                if index >= 0 { throw fail("cross_entropy with ignore_index=\(index), a token id: those targets are not scored") }
            }
            return .tensor(g.node("cross_entropy", [logits, targets], [("reduction", .text(reduction))]), [])
        case "cat", "concat", "concatenate":
            guard let list = arguments.value(0, "tensors") else { throw fail("cat without tensors") }
            let items = try interpreter.iterate(list, at: site, frame)
            var ids: [Int] = []
            var shapes: [[SymbolicDim]?] = []
            for item in items {
                let (id, shape) = try TensorOps.node(item, interpreter, at: site, frame)
                ids.append(id); shapes.append(shape)
            }
            let dim = try integer(1, "dim", 0)!
            // On the token axis of [B, T, …]: the pieces of a sequence put back in order.
            if dim == 1, let first = shapes.first ?? nil, first.count >= 3,
               shapes.contains(where: { if let shape = $0, shape.count > 1, case .sym = shape[1] { return true }; return false }) {
                var length = 0
                var remainder: String?
                for shape in shapes {
                    guard let shape, shape.count == first.count else { throw fail("concatenates tokens of tensors of unknown shape") }
                    switch shape[1] {
                    case .n(let n): length += n
                    case .sym(let name):
                        guard remainder == nil else { throw fail("concatenates two token ranges of unknown length") }
                        remainder = name
                    }
                }
                var out = first
                if let remainder, let cut = remainder.split(separator: "-", maxSplits: 1).last.flatMap({ Int($0) }),
                   remainder.contains("-"), cut == length {
                    out[1] = .sym(String(remainder.split(separator: "-")[0]))
                } else {
                    out[1] = .sym("cat")
                }
                return .tensor(g.node("time_cat", ids), out)
            }
            guard let first = shapes.first ?? nil, dim == -1 || dim == first.count - 1 else {
                throw fail("concatenates on an axis other than the last")
            }
            var width = 0
            for shape in shapes { if case .n(let n)? = shape?.last { width += n } else { width = -1; break } }
            var out = first
            out[out.count - 1] = width >= 0 ? .n(width) : .sym("cat")
            return .tensor(g.cat(ids), out)
        case "outer", "ger":
            let (a, xs) = try tensor(0, "input")
            let (b, ys) = try tensor(1, "vec2")
            return .tensor(g.node("outer", [a, b]), (xs?.first).flatMap { x in (ys?.first).map { [x, $0] } })
        case "arange":
            var bounds = arguments.positional
            if bounds.isEmpty, let end = arguments.keywords["end"] { bounds = [end] }
            if bounds.count == 1, case .dim(let symbol) = bounds[0] {
                return .tensor(g.node("arange", [], [("end", .text(symbol))]), [.sym(symbol)])
            }
            let numbers = bounds.compactMap(Interpreter.number)
            guard numbers.count == bounds.count, (1...3).contains(numbers.count) else { throw fail("arange with bounds pgverify cannot read") }
            let start = numbers.count > 1 ? numbers[0] : 0, end = numbers.count > 1 ? numbers[1] : numbers[0]
            let step = numbers.count > 2 ? numbers[2] : 1
            guard step != 0, (end - start) / step < 1_000_000 else { throw fail("arange too long") }
            let values = Swift.stride(from: start, to: end, by: step).map { $0 }
            return .tensor(g.constantVector(values), [.n(values.count)])
        case "ones":
            var sizes = arguments.positional
            if sizes.count == 1, case .tuple(let items) = sizes[0] { sizes = items }
            let dims = sizes.map(TensorOps.dimension)
            guard dims.allSatisfy({ $0 != nil }) else { throw fail("ones with sizes pgverify cannot read") }
            if dims.allSatisfy({ if case .n = $0! { return true }; return false }) { return .opaque("a constant torch.ones tensor") }
            return .tensor(g.node("ones", [], [("shape", .text(dims.map { $0!.text }.joined(separator: ",")))]), dims.map { $0! })
        case "tensor", "as_tensor":
            // A table of block indices (`torch.tensor([i % n for i in range(L)], dtype=torch.long)`, a
            // layer map): its items are read as the integers they are, so indexing it gives a number.
            if let table = try integerTable(arguments, interpreter, at: site, frame) {
                return .list(SymbolicList(table.map(SymbolicValue.int)))
            }
            // Otherwise an initial value of a parameter or buffer: the artifact's values replace it.
            return .opaque("a torch.\(name) value")
        case "zeros", "empty", "full", "randn", "rand", "stack", "zeros_like", "ones_like", "eye", "linspace":
            // Initial values of parameters and buffers: the artifact's values replace them.
            return .opaque("a torch.\(name) value")
        case "tril", "triu":
            let (x, shape) = try tensor(0, "input")
            let diagonal = try integer(1, "diagonal", 0)!
            return .tensor(g.node(name, [x], [("diagonal", .int(diagonal))]), shape)
        case "logical_not":
            let (x, shape) = try tensor(0, "input")
            return .tensor(g.node("logical_not", [x]), shape)
        case "chunk", "split":
            // Pieces of the last axis as torch cuts them: `chunk(n)` into pieces of ⌈W/n⌉ (the last one
            // shorter), `split(s)` into pieces of s, `split([a, b, …])` into those widths.
            let (x, shape) = try tensor(0, "input")
            let dim = try integer(2, "dim", 0)!
            guard let shape, TensorOps.normalizedAxis(dim, rank: shape.count) == shape.count - 1, case .n(let width)? = shape.last,
                  width > 0 else {
                throw fail("\(name) along an axis other than the last, or of unknown width, which pgverify does not compare")
            }
            var widths: [Int] = []
            let size: Int
            if name == "chunk" {
                guard let chunks = try integer(1, "chunks", nil), chunks > 0 else { throw fail("chunk without a constant positive count") }
                size = (width + chunks - 1) / chunks
            } else {
                switch arguments.value(1, "split_size_or_sections") ?? arguments.keywords["split_size"] {
                case .int(let n)? where n > 0: size = n
                case .list(let list)?: widths = list.items.compactMap { if case .int(let n) = $0 { n } else { nil } }; size = 0
                case .tuple(let items)?: widths = items.compactMap { if case .int(let n) = $0 { n } else { nil } }; size = 0
                default: throw fail("split without constant sizes")
                }
                if size == 0, widths.reduce(0, +) != width || widths.contains(where: { $0 < 0 }) {
                    throw fail("split into widths \(widths) of a last axis of \(width)")
                }
            }
            if size > 0 { widths = Swift.stride(from: 0, to: width, by: size).map { min(size, width - $0) } }
            var start = 0
            var pieces: [SymbolicValue] = []
            for piece in widths {
                let part = start == 0 && piece == width ? x : g.slice(x, start: start, end: start + piece)
                pieces.append(.tensor(part, Array(shape.dropLast()) + [.n(piece)]))
                start += piece
            }
            return .tuple(pieces)
        case "numel":
            // The element count of a tensor whose shape the weights fix (`w.numel() > 4096`).
            let (_, shape) = try tensor(0, "input")
            var count = 1
            for dim in shape ?? [] {
                guard case .n(let n) = dim, n >= 0, count.multipliedReportingOverflow(by: n).overflow == false else {
                    throw fail("numel of a tensor whose size depends on the input")
                }
                count *= n
            }
            guard shape != nil else { throw fail("numel of a tensor of unknown shape") }
            return .int(count)
        case "round":
            // torch.round rounds half to even; with decimals it is another function.
            let (x, shape) = try tensor(0, "input")
            if let decimals = try integer(1, "decimals", 0), decimals != 0 { throw fail("round with decimals=\(decimals), which pgverify does not compare") }
            return .tensor(g.node("round", [x]), shape)
        case "clamp", "clip", "clamp_min", "clamp_max":
            let (x, shape) = try tensor(0, "input")
            let lower = name == "clamp_max" ? nil : try number(1, "min", nil)
            let upper = name == "clamp_min" ? nil : try number(name == "clamp_max" ? 1 : 2, "max", nil)
            guard lower != nil || upper != nil else { throw fail("\(name) without constant bounds") }
            var attributes: [(String, ForwardAttribute)] = []
            if let lower { attributes.append(("min", .real(lower))) }
            if let upper { attributes.append(("max", .real(upper))) }
            return .tensor(g.node("clamp", [x], attributes), shape)
        case "amax", "max":
            // The largest value of each row: over the last axis only, of a tensor whose shape is known;
            // `max(dim=…)` gives it with its indices. `max` without an axis, or of two tensors, is not read.
            if name == "max", arguments.value(1, "dim").map({ if case .int = $0 { return false }; return true }) ?? true {
                throw fail("calls torch max without an axis, which pgverify does not compare")
            }
            let (x, shape) = try tensor(0, "input")
            guard let shape, !shape.isEmpty, let dim = try integer(1, "dim", nil),
                  TensorOps.normalizedAxis(dim, rank: shape.count) == shape.count - 1 else {
                throw fail("amax over anything but the last axis of a tensor of known shape, which pgverify does not compare")
            }
            let keep = try interpreter.truth(arguments.value(2, "keepdim") ?? .bool(false), at: site, frame)
            let values = SymbolicValue.tensor(g.node("amax", [x], [("dim", .int(-1))]), Array(shape.dropLast()) + (keep ? [.n(1)] : []))
            return name == "max" ? .tuple([values, .opaque(maxIndicesMarker)]) : values
        case "dropout":
            // Evaluation runs with training off.
            guard let value = arguments.positional.first else { throw fail("dropout without input") }
            return value
        case "unsqueeze":
            guard let value = arguments.positional.first, case .tensor(let id, let shape) = value,
                  let dim = try integer(1, "dim", nil) else { throw fail("unsqueeze without a tensor and dim") }
            var out = shape
            if var s = out, let axis = TensorOps.normalizedAxis(dim, rank: s.count + 1), axis <= s.count { s.insert(.n(1), at: axis); out = s }
            return .tensor(id, out)
        default:
            throw fail("calls torch \(name), which pgverify does not compare")
        }
    }

    /// FlashAttention's `flash_attn_func(q, k, v, causal=…, softmax_scale=…)` on `[B, T, H, D]`
    /// (grouped-query heads shared as `repeat_interleave` does). Other entry points (varlen, kvcache)
    /// and arguments that change the result (a window, a softcap, ALiBi, dropout) are refused by name.
    static func flashAttention(_ name: String, _ arguments: CallArguments, _ interpreter: Interpreter,
                               at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        func fail(_ message: String) -> ConformanceFailure { interpreter.fail(site, frame, message) }
        guard name == "flash_attn_func" else { throw fail("calls FlashAttention's \(name), which pgverify does not compare") }
        guard arguments.positional.count == 3 else { throw fail("flash_attn_func without q, k and v as its only positional arguments") }
        let (q, qs) = try TensorOps.node(arguments.positional[0], interpreter, at: site, frame)
        let (k, _) = try TensorOps.node(arguments.positional[1], interpreter, at: site, frame)
        let (v, _) = try TensorOps.node(arguments.positional[2], interpreter, at: site, frame)
        guard let shape = qs, shape.count == 4, TensorOps.isTokenMajor(shape), case .n(let d) = shape[3] else {
            throw fail("flash_attn_func on queries that are not [B, T, H, D]")
        }
        for (keyword, value) in arguments.keywords {
            switch (keyword, value) {
            case ("causal", _), ("softmax_scale", _): continue
            case ("dropout_p", .int(0)), ("dropout_p", .real(0)), ("softcap", .int(0)), ("softcap", .real(0)),
                 ("alibi_slopes", .none), ("deterministic", _), ("return_attn_probs", .bool(false)): continue
            case ("window_size", .tuple(let items)) where items.count == 2 && items.allSatisfy({ if case .int(-1) = $0 { return true }; return false }):
                continue
            default: throw fail("flash_attn_func with \(keyword)=\(value.kind), which pgverify does not compare")
            }
        }
        let causal = try interpreter.truth(arguments.keywords["causal"] ?? .bool(false), at: site, frame)
        var scale = 1 / Double(d).squareRoot()
        if let given = arguments.keywords["softmax_scale"], !given.isNone {
            guard let value = Interpreter.number(given) else { throw fail("flash_attn_func with a softmax_scale pgverify cannot read") }
            scale = value
        }
        return .tensor(TensorOps.attention(q: q, k: k, v: v, causal: causal, scale: scale, interpreter.graph), shape)
    }

    /// `normalized_shape` must be the last axis: `(x.size(-1),)`, `(dim,)` or `[dim]`.
    static func requireLastAxis(_ value: SymbolicValue?, _ shape: [SymbolicDim]?, _ name: String,
                                _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) {
        var items: [SymbolicValue] = []
        switch value {
        case .tuple(let values)?: items = values
        case .list(let list)?: items = list.items
        case .int?: items = [value!]
        default: throw interpreter.fail(site, frame, "\(name) over a shape pgverify cannot read")
        }
        guard items.count == 1, let dim = TensorOps.dimension(items[0]), let last = shape?.last, dim == last else {
            throw interpreter.fail(site, frame, "\(name) over something other than the last axis")
        }
    }
}
