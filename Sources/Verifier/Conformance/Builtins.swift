import Foundation
import Reference

/// Python builtins and the methods of tensors, lists and numbers that model code uses.
enum Builtins {
    typealias Interpreter = ForwardInterpreter

    static let names: Set<String> = [
        "range", "len", "min", "max", "int", "float", "bool", "enumerate", "zip", "reversed", "list", "tuple",
        "isinstance", "getattr", "hasattr", "super", "abs", "round", "print", "sum", "str", "ValueError", "RuntimeError",
        "AssertionError", "NotImplementedError", "TypeError",
    ]

    static func call(_ name: String, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                     _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        func fail(_ message: String) -> ConformanceFailure { interpreter.fail(site, frame, message) }
        func integer(_ value: SymbolicValue) throws(ConformanceFailure) -> Int {
            guard case .int(let n) = value else { throw fail("\(name) of a \(value.kind), which pgverify cannot count") }
            return n
        }
        if name.hasPrefix("super.") { return try superCall(name, positional: positional, keywords: keywords, interpreter, at: site, frame) }
        switch name {
        case "range":
            let bounds = try positional.map { value throws(ConformanceFailure) in try integer(value) }
            guard (1...3).contains(bounds.count) else { throw fail("range with \(bounds.count) arguments") }
            let start = bounds.count > 1 ? bounds[0] : 0, end = bounds.count > 1 ? bounds[1] : bounds[0]
            let step = bounds.count > 2 ? bounds[2] : 1
            guard step != 0, (end - start) / step <= 100_000 else { throw fail("range too long to follow") }
            return .tuple(Swift.stride(from: start, to: end, by: step).map { .int($0) })
        case "len":
            guard let value = positional.first else { throw fail("len()") }
            switch value {
            case .tuple(let items): return .int(items.count)
            case .list(let list): return .int(list.items.count)
            case .string(let text): return .int(text.count)
            default: throw fail("len of a \(value.kind)")
            }
        case "enumerate":
            guard let value = positional.first else { throw fail("enumerate()") }
            return .tuple(try interpreter.iterate(value, at: site, frame).enumerated().map { .tuple([.int($0.offset), $0.element]) })
        case "zip":
            var lists: [[SymbolicValue]] = []
            for value in positional { lists.append(try interpreter.iterate(value, at: site, frame)) }
            let count = lists.map(\.count).min() ?? 0
            return .tuple((0..<count).map { index in .tuple(lists.map { $0[index] }) })
        case "reversed":
            guard let value = positional.first else { throw fail("reversed()") }
            return .tuple(try interpreter.iterate(value, at: site, frame).reversed())
        case "list":
            guard let value = positional.first else { return .list(SymbolicList([])) }
            return .list(SymbolicList(try interpreter.iterate(value, at: site, frame)))
        case "tuple":
            guard let value = positional.first else { return .tuple([]) }
            return .tuple(try interpreter.iterate(value, at: site, frame))
        case "min", "max":
            var values = positional
            if values.count == 1 { values = try interpreter.iterate(values[0], at: site, frame) }
            let numbers = values.compactMap(Interpreter.number)
            guard !numbers.isEmpty, numbers.count == values.count else { throw fail("\(name) of values pgverify cannot order") }
            let chosen = name == "min" ? values[numbers.firstIndex(of: numbers.min()!)!] : values[numbers.firstIndex(of: numbers.max()!)!]
            return chosen
        case "int":
            guard let value = positional.first else { return .int(0) }
            if case .dim = value { return value }
            guard let x = Interpreter.number(value) else { throw fail("int of a \(value.kind)") }
            return .int(Int(x.rounded(.towardZero)))
        case "float":
            guard let value = positional.first else { return .real(0) }
            if case .string(let text) = value {
                switch text.lowercased() {
                case "-inf", "-infinity": return .real(-.infinity)
                case "inf", "infinity": return .real(.infinity)
                default: if let x = Double(text) { return .real(x) }
                }
            }
            guard let x = Interpreter.number(value) else { throw fail("float of a \(value.kind)") }
            return .real(x)
        case "bool":
            guard let value = positional.first else { return .bool(false) }
            return .bool(try interpreter.truth(value, at: site, frame))
        case "abs":
            guard let value = positional.first, let x = Interpreter.number(value) else { throw fail("abs of a non-number") }
            if case .int(let n) = value { return .int(abs(n)) }
            return .real(abs(x))
        case "getattr", "hasattr":
            guard positional.count >= 2, case .string(let attribute) = positional[1] else { throw fail("\(name) without a literal name") }
            guard case .module(let module) = positional[0] else { throw fail("\(name) of a \(positional[0].kind)") }
            let present = module.attributes[attribute] != nil || module.parameters.contains(attribute)
            if name == "hasattr" { return .bool(present) }
            if present { return try interpreter.attribute(attribute, of: module, at: site, frame) }
            if let value = try interpreter.classVariableValue(attribute, of: module.className) { return value }
            guard positional.count >= 3 else { throw fail("getattr of \(attribute), which the module does not set") }
            return interpreter.runDependent(attribute: attribute, owner: module.className, positional[2])
        case "super":
            guard let className = frame.className else { throw fail("super() outside a method") }
            return .opaque("super:" + className)
        case "print":
            return .none
        default:
            throw fail("calls \(name)(), which pgverify does not follow in model code")
        }
    }

    /// `super().__init__(...)` and `super().forward(...)`: the method of the next base that defines it.
    private static func superCall(_ name: String, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                                  _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        let parts = name.dropFirst("super.".count).split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let receiver = frame.receiver, let info = interpreter.classes[String(parts[1])] else {
            throw interpreter.fail(site, frame, "super() outside a module method")
        }
        let method = String(parts[0])
        for base in info.bases {
            let short = base.split(separator: ".").last.map(String.init) ?? base
            if interpreter.classes[short] != nil {
                if let (node, owner) = interpreter.method(method, of: short) {
                    return try interpreter.call(node, qualifiedName: owner + "." + method, className: owner, receiver: receiver,
                                                positional: positional, keywords: keywords, at: site, frame)
                }
                if let torch = interpreter.torchBase(of: short) {
                    return try torchMethod(method, torch, receiver, positional, keywords, interpreter, at: site, frame)
                }
            } else if base.hasPrefix("torch.nn.") {
                return try torchMethod(method, base, receiver, positional, keywords, interpreter, at: site, frame)
            }
        }
        if method == "__init__" { return .none }
        throw interpreter.fail(site, frame, "super().\(method) with no base that defines it")
    }

    private static func torchMethod(_ method: String, _ base: String, _ receiver: ModuleInstance, _ positional: [SymbolicValue],
                                    _ keywords: [String: SymbolicValue], _ interpreter: Interpreter, at site: PyNode,
                                    _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        switch method {
        case "__init__":
            try TorchModules.initialise(receiver, as: base, positional: positional, keywords: keywords, interpreter, at: site, frame)
            return .none
        case "forward":
            return try TorchModules.forward(receiver, positional: positional, keywords: keywords, interpreter, at: site, frame)
        default:
            throw interpreter.fail(site, frame, "super().\(method) of \(base)")
        }
    }

    /// Methods of tensors, lists, tuples and numbers.
    static func method(_ name: String, of receiver: SymbolicValue, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                       _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        func fail(_ message: String) -> ConformanceFailure { interpreter.fail(site, frame, message) }
        switch receiver {
        case .list(let list):
            switch name {
            case "append":
                guard let value = positional.first else { throw fail("append()") }
                list.items.append(value)
                return .none
            case "pop":
                guard !list.items.isEmpty else { throw fail("pop from an empty list") }
                if let index = positional.first {
                    guard case .int(let i) = index else { throw fail("pop at a \(index.kind)") }
                    let position = i < 0 ? list.items.count + i : i
                    guard list.items.indices.contains(position) else { throw fail("pop index out of range") }
                    return list.items.remove(at: position)
                }
                return list.items.removeLast()
            case "extend":
                guard let value = positional.first else { throw fail("extend()") }
                list.items += try interpreter.iterate(value, at: site, frame)
                return .none
            case "insert":
                guard positional.count == 2, case .int(let i) = positional[0] else { throw fail("insert without a constant index") }
                list.items.insert(positional[1], at: max(0, min(list.items.count, i < 0 ? list.items.count + i : i)))
                return .none
            default:
                throw fail("calls list.\(name)")
            }
        case .tensor(let id, let shape):
            switch name {
            case "size":
                if let axis = positional.first ?? keywords["dim"] {
                    guard case .int(let a) = axis, let shape, let index = TensorOps.normalizedAxis(a, rank: shape.count),
                          shape.indices.contains(index) else {
                        return .dim("size(#\(id),\(axis))")
                    }
                    return TensorOps.sizes(id, [shape[index]])[0]
                }
                guard shape != nil else { throw fail("size() of a tensor of unknown shape") }
                return .tuple(TensorOps.sizes(id, shape))
            case "dim":
                guard let shape else { throw fail("dim() of a tensor of unknown rank") }
                return .int(shape.count)
            case "reshape", "view":
                return try TensorOps.reshape(receiver, positional, interpreter, at: site, frame)
            case "transpose":
                guard positional.count == 2, case .int(let a) = positional[0], case .int(let b) = positional[1] else {
                    throw fail("transpose without two constant axes")
                }
                return try TensorOps.transpose(receiver, a, b, interpreter, at: site, frame)
            case "masked_fill_":
                return try TorchFunctions.apply("masked_fill", CallArguments(positional: [receiver] + positional, keywords: keywords),
                                                interpreter, at: site, frame)
            default:
                let base = name.hasSuffix("_") && name != "relu_" ? String(name.dropLast()) : (name == "relu_" ? "relu" : name)
                return try TorchFunctions.apply(base, CallArguments(positional: [receiver] + positional, keywords: keywords),
                                                interpreter, at: site, frame)
            }
        case .string(let text) where positional.isEmpty && ["lower", "upper", "strip"].contains(name):
            switch name {
            case "lower": return .string(text.lowercased())
            case "upper": return .string(text.uppercased())
            default: return .string(text.trimmingCharacters(in: .whitespaces))
            }
        case .opaque(let text):
            return .opaque(text + "." + name + "()")
        default:
            throw fail("calls \(name) of a \(receiver.kind)")
        }
    }
}
