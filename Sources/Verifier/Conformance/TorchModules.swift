import Foundation
import Reference

/// The torch.nn modules model code builds on (`nn.Linear`, `nn.Embedding`, `nn.RMSNorm`, …): their
/// parameters and their forward.
enum TorchModules {
    typealias Interpreter = ForwardInterpreter

    /// What `nn.Parameter(...)` evaluates to: assigned to a module attribute, it makes the attribute a
    /// parameter named by the module's path.
    static let parameterMarker = "nn.Parameter"

    static func initialise(_ instance: ModuleInstance, as base: String, positional: [SymbolicValue],
                           keywords: [String: SymbolicValue], _ interpreter: Interpreter, at site: PyNode,
                           _ frame: Interpreter.Frame) throws(ConformanceFailure) {
        let arguments = CallArguments(positional: positional, keywords: keywords)
        func flag(_ position: Int, _ name: String, _ fallback: Bool) throws(ConformanceFailure) -> Bool {
            guard let value = arguments.value(position, name) else { return fallback }
            return try interpreter.truth(value, at: site, frame)
        }
        func parameter(_ name: String) { instance.attributes[name] = .opaque(parameterMarker); instance.parameters.insert(name) }
        switch base {
        case "torch.nn.Module":
            return
        case "torch.nn.Linear":
            parameter("weight")
            if try flag(2, "bias", true) { parameter("bias") } else { instance.attributes["bias"] = SymbolicValue.none }
            instance.attributes["in_features"] = arguments.value(0, "in_features") ?? .opaque("in_features")
            instance.attributes["out_features"] = arguments.value(1, "out_features") ?? .opaque("out_features")
        case "torch.nn.Embedding":
            parameter("weight")
        case "torch.nn.RMSNorm", "torch.nn.LayerNorm":
            let defaultEps: SymbolicValue = base == "torch.nn.RMSNorm" ? .none : .real(1e-5)
            instance.attributes["eps"] = arguments.value(1, "eps") ?? defaultEps
            if try flag(2, "elementwise_affine", true) {
                parameter("weight")
                if base == "torch.nn.LayerNorm", try flag(3, "bias", true) { parameter("bias") }
            }
        case "torch.nn.Identity", "torch.nn.Dropout":
            return
        default:
            throw interpreter.fail(site, frame, "builds a \(base), which pgverify does not compare")
        }
    }

    /// `module.name` for attributes torch sets that the code did not.
    static func attribute(_ name: String, of module: ModuleInstance) -> SymbolicValue? {
        nil
    }

    static func base(of module: ModuleInstance, _ interpreter: Interpreter) -> String {
        module.className.hasPrefix("torch.nn.") ? module.className : interpreter.torchBase(of: module.className) ?? "torch.nn.Module"
    }

    static func forward(_ module: ModuleInstance, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                        _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        let base = base(of: module, interpreter)
        guard let input = positional.first else { throw interpreter.fail(site, frame, "calls \(module.className) without input") }
        if module.className == TestTimeTrainingPathCheck.adapterClass {
            return try TestTimeTrainingPathCheck.output(module, input: input, interpreter, at: site, frame)
        }
        func read(_ name: String) throws(ConformanceFailure) -> SymbolicValue {
            try interpreter.attribute(name, of: module, at: site, frame)
        }
        let normalisedShape: SymbolicValue
        if case .tensor(_, let shape) = input, let last = shape?.last {
            normalisedShape = .tuple([TensorOps.sizes(0, [last])[0]])
        } else {
            normalisedShape = .none
        }
        switch base {
        case "torch.nn.Linear":
            return try TorchFunctions.apply("linear", CallArguments(positional: [input, try read("weight"), try read("bias")], keywords: [:]),
                                            interpreter, at: site, frame)
        case "torch.nn.Embedding":
            return try TorchFunctions.apply("embedding", CallArguments(positional: [input, try read("weight")], keywords: [:]),
                                            interpreter, at: site, frame)
        case "torch.nn.RMSNorm":
            let weight: SymbolicValue = module.parameters.contains("weight") ? try read("weight") : .none
            return try TorchFunctions.apply("rms_norm", CallArguments(positional: [input, normalisedShape, weight, module.attributes["eps"] ?? .none],
                                                                      keywords: [:]), interpreter, at: site, frame)
        case "torch.nn.LayerNorm":
            let weight: SymbolicValue = module.parameters.contains("weight") ? try read("weight") : .none
            let bias: SymbolicValue = module.parameters.contains("bias") ? try read("bias") : .none
            return try TorchFunctions.apply("layer_norm", CallArguments(positional: [input, normalisedShape, weight, bias, module.attributes["eps"] ?? .real(1e-5)],
                                                                        keywords: [:]), interpreter, at: site, frame)
        case "torch.nn.Identity", "torch.nn.Dropout":
            return input
        default:
            throw interpreter.fail(site, frame, "calls a \(module.className), which has no forward pgverify can read")
        }
    }

    /// torch.nn.Module methods called on a module of the code.
    static func method(_ name: String, of module: ModuleInstance, positional: [SymbolicValue], keywords: [String: SymbolicValue],
                       _ interpreter: Interpreter, at site: PyNode, _ frame: Interpreter.Frame) throws(ConformanceFailure) -> SymbolicValue {
        switch name {
        case "register_buffer":
            guard positional.count >= 2, case .string(let buffer) = positional[0] else {
                throw interpreter.fail(site, frame, "register_buffer without a name and value")
            }
            try interpreter.setAttribute(buffer, of: module, to: positional[1])
            return .none
        case "register_parameter":
            guard positional.count >= 1, case .string(let parameter) = positional[0] else {
                throw interpreter.fail(site, frame, "register_parameter without a name")
            }
            try interpreter.setAttribute(parameter, of: module, to: .opaque(parameterMarker))
            return .none
        case "__init__":
            try initialise(module, as: base(of: module, interpreter), positional: positional, keywords: keywords, interpreter, at: site, frame)
            return .none
        default:
            throw interpreter.fail(site, frame, "calls \(module.className).\(name), which pgverify does not follow")
        }
    }
}
