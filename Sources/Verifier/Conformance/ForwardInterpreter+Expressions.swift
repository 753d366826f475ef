import Foundation
import Reference

extension ForwardInterpreter {
    func evaluate(_ node: PyNode, _ frame: inout Frame) throws(ConformanceFailure) -> SymbolicValue {
        switch node.type {
        case "Constant":
            switch node.constant {
            case .none?, nil: return .none
            case .bool(let flag)?: return .bool(flag)
            case .int(let text)?:
                guard let value = Int(text) else { throw fail(node, frame, "integer \(text) out of range") }
                return .int(value)
            case .float(let value)?: return .real(value)
            case .string(let text)?: return .string(text)
            case .other(let text)? where text == "Ellipsis": return .ellipsis
            default: return .opaque("constant")
            }
        case "Name":
            return try lookup(node.string("id") ?? "", at: node, &frame)
        case "Attribute":
            guard let receiverNode = node.child("value"), let name = node.string("attr") else { break }
            return try member(name, of: try evaluate(receiverNode, &frame), at: node, frame)
        case "Call":
            return try evaluateCall(node, &frame)
        case "BinOp":
            guard let left = node.child("left"), let right = node.child("right"), let op = node.child("op")?.type else { break }
            let a = try evaluate(left, &frame)
            let b = try evaluate(right, &frame)
            return try binary(op, a, b, at: node, frame)
        case "UnaryOp":
            guard let operand = node.child("operand"), let op = node.child("op")?.type else { break }
            return try unary(op, try evaluate(operand, &frame), at: node, frame)
        case "BoolOp":
            let isAnd = node.child("op")?.type == "And"
            var last: SymbolicValue = .none
            // `CastedLinear._qat_enabled and self.training`: an operand that depends on the run does not
            // decide an `and` that a later operand makes false whatever it is (evaluation runs with training off).
            var undecided: SymbolicValue?
            for value in node.children("values") {
                last = try evaluate(value, &frame)
                if isAnd, Self.isRunDependent(last) {
                    undecided = undecided ?? last
                    continue
                }
                let holds = try truth(last, at: value, frame)
                if isAnd != holds { return last }
            }
            return undecided ?? last
        case "Compare":
            return try compare(node, &frame)
        case "IfExp":
            guard let test = node.child("test"), let body = node.child("body"), let other = node.child("orelse") else { break }
            let condition = try evaluate(test, &frame)
            if Self.isRunDependent(condition) {
                // Undecided, but only an error where the value is used (a side value such as a calibration
                // hook's saved input is not).
                return .opaque(Self.runDependentPrefix + "choice (`… if … else …`) on the " + Self.runDependentName(condition))
            }
            return try evaluate(try truth(condition, at: test, frame) ? body : other, &frame)
        case "Tuple":
            var items: [SymbolicValue] = []
            for element in node.children("elts") { items.append(try evaluate(element, &frame)) }
            return .tuple(items)
        case "List":
            var items: [SymbolicValue] = []
            for element in node.children("elts") { items.append(try evaluate(element, &frame)) }
            return .list(SymbolicList(items))
        case "ListComp", "GeneratorExp":
            return .list(SymbolicList(try comprehension(node, &frame)))
        case "Subscript":
            guard let receiverNode = node.child("value"), let indexNode = node.child("slice") else { break }
            let receiver = try evaluate(receiverNode, &frame)
            return try subscriptValue(receiver, indexNode, at: node, &frame)
        case "Slice":
            func part(_ name: String) throws(ConformanceFailure) -> SymbolicValue {
                guard let child = node.child(name) else { return .none }
                return try evaluate(child, &frame)
            }
            return .slice(try part("lower"), try part("upper"), try part("step"))
        case "JoinedStr":
            return .string("f-string")
        default:
            break
        }
        throw fail(node, frame, "a \(node.type) expression, which pgverify does not follow in model code")
    }

    private func comprehension(_ node: PyNode, _ frame: inout Frame) throws(ConformanceFailure) -> [SymbolicValue] {
        let generators = node.children("generators")
        guard generators.count == 1, let generator = generators.first, let target = generator.child("target"),
              let iterNode = generator.child("iter"), let element = node.child("elt") else {
            throw fail(node, frame, "a comprehension with several generators")
        }
        var inner = frame
        var result: [SymbolicValue] = []
        for item in try iterate(try evaluate(iterNode, &inner), at: iterNode, frame) {
            try assign(item, to: target, &inner)
            var keep = true
            for condition in generator.children("ifs") where keep {
                keep = try truth(try evaluate(condition, &inner), at: condition, inner)
            }
            if keep { result.append(try evaluate(element, &inner)) }
        }
        return result
    }

    private func compare(_ node: PyNode, _ frame: inout Frame) throws(ConformanceFailure) -> SymbolicValue {
        guard let leftNode = node.child("left") else { return .none }
        var left = try evaluate(leftNode, &frame)
        let ops = node.children("ops"), rights = node.children("comparators")
        var result = true
        for (op, rightNode) in zip(ops, rights) {
            let right = try evaluate(rightNode, &frame)
            if case .tensor = left, op.type != "Is", op.type != "IsNot" {
                guard ops.count == 1 else { throw fail(node, frame, "chains comparisons of tensors") }
                return try TensorOps.compare(op.type, left, right, self, at: node, frame)
            }
            let holds: Bool
            switch op.type {
            case "Is", "IsNot":
                let same: Bool
                switch (left, right) {
                case (.none, .none): same = true
                case (let value, _) where Self.isRunDependent(value), (_, let value) where Self.isRunDependent(value):
                    throw fail(node, frame, "compares the " + Self.runDependentName(value)
                        + ": pgverify cannot tell what it was at evaluation")
                case (.none, _), (_, .none): same = false
                case let (.bool(a), .bool(b)): same = a == b
                case (.tensor(let a, _), .tensor(let b, _)): same = a == b
                default: throw fail(node, frame, "compares a \(left.kind) and a \(right.kind) by identity")
                }
                holds = op.type == "Is" ? same : !same
            case "Eq", "NotEq":
                let same = try equal(left, right, at: node, frame)
                holds = op.type == "Eq" ? same : !same
            case "Lt", "LtE", "Gt", "GtE":
                if case .dim(let a) = left, case .dim(let b) = right, a == b {
                    // The same size of the input: equal, whatever it is.
                    holds = op.type == "LtE" || op.type == "GtE"
                    result = result && holds
                    left = right
                    continue
                }
                guard let a = Self.number(left), let b = Self.number(right) else {
                    throw fail(node, frame, "orders a \(left.kind) and a \(right.kind), which pgverify cannot decide")
                }
                switch op.type {
                case "Lt": holds = a < b
                case "LtE": holds = a <= b
                case "Gt": holds = a > b
                default: holds = a >= b
                }
            case "In", "NotIn":
                let items: [SymbolicValue]
                switch right {
                case .tuple(let values): items = values
                case .list(let list): items = list.items
                case .string(let text):
                    guard case .string(let needle) = left else { throw fail(node, frame, "tests membership of a \(left.kind) in a string") }
                    holds = text.contains(needle) == (op.type == "In")
                    result = result && holds
                    left = right
                    continue
                default: throw fail(node, frame, "tests membership in a \(right.kind)")
                }
                var found = false
                for item in items where try equal(left, item, at: node, frame) { found = true; break }
                holds = found == (op.type == "In")
            default:
                throw fail(node, frame, "a \(op.type) comparison")
            }
            result = result && holds
            left = right
        }
        return .bool(result)
    }

    func equal(_ a: SymbolicValue, _ b: SymbolicValue, at node: PyNode, _ frame: Frame) throws(ConformanceFailure) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (let value, _) where Self.isRunDependent(value), (_, let value) where Self.isRunDependent(value):
            throw fail(node, frame, "compares the " + Self.runDependentName(value) + ": pgverify cannot tell what it was at evaluation")
        case (.none, _), (_, .none): return false
        case let (.string(x), .string(y)): return x == y
        case let (.dim(x), .dim(y)) where x == y: return true
        case (.opaque("tensor.device"), .opaque("tensor.device")):
            // The evaluation runs on one device.
            return true
        default:
            if let x = Self.number(a), let y = Self.number(b) { return x == y }
            throw fail(node, frame, "compares a \(a.kind) with a \(b.kind), which pgverify cannot decide")
        }
    }

    static func number(_ value: SymbolicValue) -> Double? {
        switch value {
        case .int(let n): return Double(n)
        case .real(let x): return x
        case .bool(let flag): return flag ? 1 : 0
        default: return nil
        }
    }

    // MARK: Arithmetic

    func binary(_ op: String, _ a: SymbolicValue, _ b: SymbolicValue, at node: PyNode, _ frame: Frame)
        throws(ConformanceFailure) -> SymbolicValue
    {
        switch (a, b) {
        case let (.int(x), .int(y)):
            switch op {
            case "Add": return .int(x &+ y)
            case "Sub": return .int(x &- y)
            case "Mult": return .int(x &* y)
            case "FloorDiv":
                guard y != 0 else { throw fail(node, frame, "divides by zero") }
                return .int(Int((Double(x) / Double(y)).rounded(.down)))
            case "Mod":
                guard y != 0 else { throw fail(node, frame, "divides by zero") }
                return .int(((x % y) + y) % y)
            case "Div": return .real(Double(x) / Double(y))
            case "Pow":
                if y >= 0 { return .int(Int(Foundation.pow(Double(x), Double(y)))) }
                return .real(Foundation.pow(Double(x), Double(y)))
            default: break
            }
        case (.tuple(let x), .tuple(let y)) where op == "Add":
            return .tuple(x + y)
        case (.list(let x), .list(let y)) where op == "Add":
            return .list(SymbolicList(x.items + y.items))
        // Repetition, `list(range(n)) * repeats` (a block schedule): bounded like every other reading.
        case (.list(let x), .int(let n)), (.int(let n), .list(let x)):
            if op == "Mult" { return .list(SymbolicList(try repeated(x.items, n, at: node, frame))) }
        case (.tuple(let x), .int(let n)), (.int(let n), .tuple(let x)):
            if op == "Mult" { return .tuple(try repeated(x, n, at: node, frame)) }
        default:
            break
        }
        if let x = Self.number(a), let y = Self.number(b), !Self.isTensorLike(a), !Self.isTensorLike(b) {
            switch op {
            case "Add": return .real(x + y)
            case "Sub": return .real(x - y)
            case "Mult": return .real(x * y)
            case "Div": return .real(x / y)
            case "FloorDiv": return .real((x / y).rounded(.down))
            case "Pow": return .real(Foundation.pow(x, y))
            default: break
            }
        }
        if case .dim(let x) = a, let y = Self.dimText(b) { return .dim("(\(x) \(op) \(y))") }
        if case .dim(let y) = b, let x = Self.dimText(a) { return .dim("(\(x) \(op) \(y))") }
        if Self.isTensorLike(a) || Self.isTensorLike(b) {
            return try TensorOps.binary(op, a, b, self, at: node, frame)
        }
        throw fail(node, frame, "\(op) of a \(a.kind) and a \(b.kind)")
    }

    /// `items` repeated `count` times, as Python's `*` on a sequence (none for a count ≤ 0).
    private func repeated(_ items: [SymbolicValue], _ count: Int, at node: PyNode, _ frame: Frame) throws(ConformanceFailure)
        -> [SymbolicValue] {
        guard count > 0 else { return [] }
        guard items.count <= Self.maxRepeatedItems / count else {
            throw fail(node, frame, "repeats a sequence of \(items.count) items \(count) times, more than pgverify reads")
        }
        return Array((0..<count).map { _ in items }.joined())
    }

    /// The longest sequence a repetition may build.
    static let maxRepeatedItems = 65_536

    static func dimText(_ value: SymbolicValue) -> String? {
        switch value {
        case .dim(let name): return name
        case .int(let n): return String(n)
        default: return nil
        }
    }

    static func isTensorLike(_ value: SymbolicValue) -> Bool {
        if case .tensor = value { return true }
        return false
    }

    func unary(_ op: String, _ value: SymbolicValue, at node: PyNode, _ frame: Frame) throws(ConformanceFailure) -> SymbolicValue {
        switch (op, value) {
        case ("Not", _): return .bool(!(try truth(value, at: node, frame)))
        case ("USub", .int(let n)): return .int(-n)
        case ("USub", .real(let x)): return .real(-x)
        case ("UAdd", _): return value
        case ("USub", .tensor(let id, let shape)): return .tensor(graph.neg(id), shape)
        case ("Invert", .tensor(let id, let shape)): return .tensor(graph.node("logical_not", [id]), shape)
        default: throw fail(node, frame, "\(op) of a \(value.kind)")
        }
    }

    // MARK: Members and subscripts

    func member(_ name: String, of receiver: SymbolicValue, at node: PyNode, _ frame: Frame) throws(ConformanceFailure) -> SymbolicValue {
        switch receiver {
        case .module(let module):
            return try attribute(name, of: module, at: node, frame)
        case .library(let base):
            return .library(base + "." + name)
        case .hyperparameters:
            guard let value = hyperparameters[name] else {
                return .opaque("hyperparameter \(name), which the reference configuration does not state")
            }
            return value
        case .tensor(let id, let shape):
            switch name {
            case "shape": return .tuple(TensorOps.sizes(id, shape))
            case "dtype", "device", "is_cuda", "requires_grad": return .opaque("tensor.\(name)")
            case "T", "mT":
                guard let shape, shape.count >= 2 else { throw fail(node, frame, "transposes a tensor of unknown rank") }
                return try TensorOps.transpose(receiver, shape.count - 2, shape.count - 1, self, at: node, frame)
            case "ndim": return shape.map { .int($0.count) } ?? .opaque("rank of #\(id)")
            default: return .method(receiver, name)
            }
        case .classRef(let className):
            if let value = try classVariableValue(name, of: className) { return value }
            throw fail(node, frame, "reads \(name) of the class \(className), which its body does not set")
        case .opaque(let text) where text.hasPrefix("super:"):
            return .builtin("super." + name + ":" + text.dropFirst("super:".count))
        case .opaque(let text):
            return .opaque(text + "." + name)
        case .tuple(let items) where items.count == 2 && ["values", "indices"].contains(name)
            && TorchFunctions.isMaxIndices(items[1]):
            // `w.abs().max(dim=1, keepdim=True).values`: torch's (values, indices) result.
            return name == "values" ? items[0] : items[1]
        case .list, .tuple, .int, .real, .string, .dim:
            return .method(receiver, name)
        default:
            throw fail(node, frame, "reads \(name) of a \(receiver.kind)")
        }
    }

    private func subscriptValue(_ receiver: SymbolicValue, _ indexNode: PyNode, at node: PyNode, _ frame: inout Frame)
        throws(ConformanceFailure) -> SymbolicValue
    {
        let index = try evaluate(indexNode, &frame)
        switch receiver {
        case .tuple(let items):
            return try pick(items, index, at: node, frame)
        case .list(let list):
            return try pick(list.items, index, at: node, frame)
        case .tensor:
            return try TensorOps.index(receiver, index, self, at: node, frame)
        case .opaque where Self.isRunDependent(receiver):
            return receiver
        case .opaque:
            // Type annotations (`list[Tensor]`, `tuple[int, int]`).
            return .opaque("type")
        case .library(let name):
            return .opaque(name + "[…]")
        default:
            throw fail(node, frame, "indexes a \(receiver.kind)")
        }
    }

    private func pick(_ items: [SymbolicValue], _ index: SymbolicValue, at node: PyNode, _ frame: Frame)
        throws(ConformanceFailure) -> SymbolicValue
    {
        switch index {
        case .int(let i):
            let position = i < 0 ? items.count + i : i
            guard items.indices.contains(position) else { throw fail(node, frame, "index \(i) out of range of \(items.count) items") }
            return items[position]
        case .slice(let lower, let upper, let step):
            guard step.isNone else { throw fail(node, frame, "slices a list with a step") }
            func bound(_ value: SymbolicValue, _ fallback: Int) throws(ConformanceFailure) -> Int {
                if value.isNone { return fallback }
                guard case .int(let n) = value else { throw fail(node, frame, "slices a list with a \(value.kind)") }
                return max(0, min(items.count, n < 0 ? items.count + n : n))
            }
            let start = try bound(lower, 0), end = try bound(upper, items.count)
            return .list(SymbolicList(start < end ? Array(items[start..<end]) : []))
        default:
            throw fail(node, frame, "indexes a list with a \(index.kind)")
        }
    }

    // MARK: Calls

    private func evaluateCall(_ node: PyNode, _ frame: inout Frame) throws(ConformanceFailure) -> SymbolicValue {
        guard let calleeNode = node.child("func") else { throw fail(node, frame, "a call without callee") }
        let callee = try evaluate(calleeNode, &frame)
        // An in-place method of a tensor (not a library function such as `nn.init.zeros_`).
        var inPlace: String?
        if case .method(.tensor, let name) = callee, Self.isInPlaceMethod(name), let receiverNode = calleeNode.child("value") {
            try checkInPlaceReceiver(name, receiverNode, at: node, frame)
            inPlace = name
        }
        var positional: [SymbolicValue] = []
        for argument in node.children("args") {
            if argument.type == "Starred", let inner = argument.child("value") {
                positional += try iterate(try evaluate(inner, &frame), at: argument, frame)
            } else {
                positional.append(try evaluate(argument, &frame))
            }
        }
        var keywords: [String: SymbolicValue] = [:]
        for keyword in node.children("keywords") {
            guard let value = keyword.child("value") else { continue }
            guard let name = keyword.string("arg") else { throw fail(node, frame, "passes **keywords") }
            keywords[name] = try evaluate(value, &frame)
        }
        // A library function writing into its input (`F.relu(h, inplace=True)`) or into `out=`.
        var written: (name: String, node: PyNode, value: SymbolicValue)?
        if case .library(let dotted) = callee {
            let function = String(dotted.split(separator: ".").last ?? "")
            if let out = keywords["out"], !out.isNone, let outNode = node.children("keywords").first(where: { $0.string("arg") == "out" })?.child("value") {
                written = (function + "(…, out=…)", outNode, out)
            } else if case .bool(true)? = keywords["inplace"], let first = positional.first, let firstNode = node.children("args").first {
                written = (function + "(…, inplace=True)", firstNode, first)
            }
            if let written { try checkInPlaceReceiver(written.name, written.node, at: node, frame) }
        }
        let result = try invoke(callee, positional: positional, keywords: keywords.filter { $0.key != "out" }, at: node, frame)
        if let inPlace, case .method(let receiver, _) = callee, let receiverNode = calleeNode.child("value") {
            try applyInPlace(inPlace, receiver: receiverNode, receiverValue: receiver, result: result, at: node, &frame)
        }
        if let written {
            guard case .tensor = written.value else {
                throw fail(node, frame, "`\(written.name)` writes into a \(written.value.kind), which pgverify does not follow")
            }
            try applyInPlace(written.name, receiver: written.node, receiverValue: written.value, result: result, at: node, &frame)
        }
        return result
    }

    func invoke(_ callee: SymbolicValue, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                at node: PyNode, _ frame: Frame) throws(ConformanceFailure) -> SymbolicValue {
        switch callee {
        case .classRef(let name):
            return try instantiate(name, positional: positional, keywords: keywords, at: node, frame)
        case .function(let name):
            guard let function = functionNode(name) else { throw fail(node, frame, "calls \(name)") }
            return try call(function, qualifiedName: name, className: nil, receiver: nil,
                            positional: positional, keywords: keywords, at: node, frame)
        case .module(let module):
            if let (forward, owner) = method("forward", of: module.className) {
                return try call(forward, qualifiedName: owner + ".forward", className: owner, receiver: module,
                                positional: positional, keywords: keywords, at: node, frame)
            }
            return try TorchModules.forward(module, positional: positional, keywords: keywords, self, at: node, frame)
        case .method(.module(let module), let name):
            if let (function, owner) = method(name, of: module.className) {
                return try call(function, qualifiedName: owner + "." + name, className: owner, receiver: module,
                                positional: positional, keywords: keywords, at: node, frame)
            }
            return try TorchModules.method(name, of: module, positional: positional, keywords: keywords, self, at: node, frame)
        case .method(let receiver, let name):
            return try Builtins.method(name, of: receiver, positional: positional, keywords: keywords, self, at: node, frame)
        case .library(let name):
            return try TorchFunctions.call(name, positional: positional, keywords: keywords, self, at: node, frame)
        case .builtin(let name):
            return try Builtins.call(name, positional: positional, keywords: keywords, self, at: node, frame)
        case .opaque(let text) where !text.hasPrefix("unknown:"):
            // A method of a dtype, device or initial value: still nothing the numbers depend on.
            return .opaque(text + "()")
        default:
            throw fail(node, frame, "calls a \(callee.kind)")
        }
    }

    func functionNode(_ name: String) -> PyNode? {
        classes[name] == nil ? functions[name] : nil
    }
}
